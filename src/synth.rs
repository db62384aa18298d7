//! Synthesis as a library function: config in, rendered and checked templates out. The CLI's
//! `synth` and `validate`, the tests and the benchmarks all go through here.

use std::path::{Path, PathBuf};

use crate::cfn::validate::{size_error, size_warning, validate};
use crate::cfn::{render, CfnError, Format};
use crate::checks::{self, Finding};
use crate::config::Config;
use crate::monitoring;

/// One stack's rendered template with what the checks found.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub stack_name: String,
    pub region: String,
    pub file_name: String,
    pub content: String,
    /// Things to know that do not stop synthesis (e.g. the template must be staged in S3).
    pub warnings: Vec<String>,
    /// Check failures; a template with findings is never written.
    pub findings: Vec<Finding>,
}

#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    #[error("stack {stack}: {source}")]
    Build { stack: String, source: CfnError },
    #[error("stack {stack}: the template is not valid CloudFormation:\n{}", problems.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
    Invalid { stack: String, problems: Vec<CfnError> },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
}

/// Builds, validates, checks and renders every stack of `config`.
pub fn synthesize(config: &Config, format: Format) -> Result<Vec<Rendered>, SynthError> {
    let stacks = monitoring::stacks(config).map_err(|source| SynthError::Build { stack: config.stack_name.clone(), source })?;
    stacks.into_iter().map(|stack| render_stack(stack, config, format)).collect()
}

/// Validates, checks and renders one built stack (also the member stacks `org` adds to).
pub fn render_stack(stack: monitoring::Stack, config: &Config, format: Format) -> Result<Rendered, SynthError> {
    let problems = validate(&stack.template);
    if !problems.is_empty() {
        return Err(SynthError::Invalid { stack: stack.name, problems });
    }
    let content = render(&stack.template, format);
    if let Some(e) = size_error(&content) {
        return Err(SynthError::Invalid { stack: stack.name, problems: vec![e] });
    }
    let warnings = size_warning(&content).into_iter().collect();
    let findings = checks::run(&stack.template, config, stack.region == config.primary_region());
    Ok(Rendered {
        file_name: format!("{}.{}", stack.name, format.extension()),
        stack_name: stack.name,
        region: stack.region,
        content,
        warnings,
        findings,
    })
}

/// Writes each template into `dir` (created if missing) and returns the paths. Callers refuse
/// to write templates with findings before calling this.
pub fn write(rendered: &[Rendered], dir: &Path) -> Result<Vec<PathBuf>, SynthError> {
    std::fs::create_dir_all(dir).map_err(|source| SynthError::Write { path: dir.to_owned(), source })?;
    rendered
        .iter()
        .map(|r| {
            let path = dir.join(&r.file_name);
            // Leave an identical file alone so its modification time only changes with content.
            if file_holds(&path, &r.content) != Some(true) {
                std::fs::write(&path, &r.content).map_err(|source| SynthError::Write { path: path.clone(), source })?;
            }
            Ok(path)
        })
        .collect()
}

/// Whether the file at `path` holds exactly `content` (`None`: it cannot be read). Compared a
/// block at a time, so checking a template never allocates a copy of it.
fn file_holds(path: &Path, content: &str) -> Option<bool> {
    use std::io::Read;
    let mut file = std::fs::File::open(path).ok()?;
    if file.metadata().ok()?.len() != content.len() as u64 {
        return Some(false);
    }
    let mut expected = content.as_bytes();
    let mut block = [0u8; 16 * 1024];
    loop {
        let n = match file.read(&mut block) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return None,
        };
        if n == 0 {
            return Some(expected.is_empty());
        }
        if n > expected.len() || block[..n] != expected[..n] {
            return Some(false);
        }
        expected = &expected[n..];
    }
}

/// Why a file in the output folder is not what synthesis would write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stale {
    Missing(PathBuf),
    Differs(PathBuf),
}

impl std::fmt::Display for Stale {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stale::Missing(p) => write!(f, "{} is missing", p.display()),
            Stale::Differs(p) => write!(f, "{} differs from what synth would write", p.display()),
        }
    }
}

/// The files in `dir` that do not match `rendered` (for `synth --check` in CI).
pub fn stale(rendered: &[Rendered], dir: &Path) -> Vec<Stale> {
    rendered
        .iter()
        .filter_map(|r| {
            let path = dir.join(&r.file_name);
            match file_holds(&path, &r.content) {
                None => Some(Stale::Missing(path)),
                Some(false) => Some(Stale::Differs(path)),
                Some(true) => None,
            }
        })
        .collect()
}
