//! Review pictures: each dashboard of a stack drawn as a self-contained SVG or HTML file, so a
//! pull request shows what the dashboards will look like without deploying them.
//!
//! The pictures are drawn from the finished template's `AWS::CloudWatch::Dashboard` resources —
//! the very body CloudWatch will receive, positions included — not from the builders, so what a
//! reviewer sees cannot drift from what deploys. Output is deterministic (no dates, template
//! order) so a regenerated preview only changes when the dashboard does.

pub mod escape;
pub mod html;
pub mod layout;
pub mod model;
pub mod svg;

use std::path::{Path, PathBuf};

use crate::cfn::Template;

pub use model::{dashboards, DashboardView, WidgetBox, WidgetType};

/// Why a preview could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PreviewError {
    #[error("dashboard {logical_id}: the DashboardBody is missing or not a string")]
    NoBody { logical_id: String },
    #[error("dashboard {logical_id}: the body is not valid JSON: {source}")]
    BadBody { logical_id: String, source: serde_json::Error },
    #[error("dashboard {logical_id}, widget {index}: {reason}")]
    BadWidget { logical_id: String, index: usize, reason: String },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
}

/// The file kind of a preview.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A standalone SVG image (renders inline in GitHub and in any browser).
    Svg,
    /// An HTML page with the SVG inline and inline CSS: opens offline in any browser.
    Html,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Svg => "svg",
            Format::Html => "html",
        }
    }
}

/// One rendered preview.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviewFile {
    /// `<stack>.<dashboard name>.<ext>`: unique per stack and dashboard, safe as a file name
    /// (both names are restricted to letters, digits, `-` and `_`).
    pub file_name: String,
    pub dashboard: String,
    pub widgets: usize,
    pub content: String,
}

/// Every dashboard of `template` (the stack named `stack_name`) rendered in `format`; empty when
/// the stack has no dashboards.
pub fn render(stack_name: &str, template: &Template, format: Format) -> Result<Vec<PreviewFile>, PreviewError> {
    Ok(dashboards(template)?
        .iter()
        .map(|d| PreviewFile {
            file_name: format!("{stack_name}.{}.{}", d.name, format.extension()),
            dashboard: d.name.clone(),
            widgets: d.widgets.len(),
            content: match format {
                Format::Svg => svg::document(d),
                Format::Html => html::document(d, stack_name),
            },
        })
        .collect())
}

/// Writes the files into `dir` (created if missing) and returns their paths.
pub fn write(files: &[PreviewFile], dir: &Path) -> Result<Vec<PathBuf>, PreviewError> {
    std::fs::create_dir_all(dir).map_err(|source| PreviewError::Write { path: dir.to_owned(), source })?;
    files
        .iter()
        .map(|f| {
            let path = dir.join(&f.file_name);
            std::fs::write(&path, &f.content).map_err(|source| PreviewError::Write { path: path.clone(), source })?;
            Ok(path)
        })
        .collect()
}
