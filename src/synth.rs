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
///
/// All or nothing: every changed template is first written to a temporary file beside its
/// target, and only when all of them are written are they renamed into place (a rename within
/// a folder is atomic). When any write fails (disk full, permissions), the temporary files are
/// removed and no template in `dir` has changed.
pub fn write(rendered: &[Rendered], dir: &Path) -> Result<Vec<PathBuf>, SynthError> {
    std::fs::create_dir_all(dir).map_err(|source| SynthError::Write { path: dir.to_owned(), source })?;
    let paths: Vec<PathBuf> = rendered.iter().map(|r| dir.join(&r.file_name)).collect();
    // A rename onto a folder fails after earlier renames succeeded: refuse before writing.
    if let Some(path) = paths.iter().find(|p| p.symlink_metadata().is_ok_and(|m| !m.is_file())) {
        return Err(SynthError::Write { path: path.clone(), source: std::io::Error::other("a folder or other non-file is in the way") });
    }
    // Leave an identical file alone so its modification time only changes with content.
    let changed: Vec<(&Rendered, &PathBuf)> = rendered.iter().zip(&paths).filter(|(r, path)| file_holds(path, &r.content) != Some(true)).collect();
    let mut staged: Vec<(PathBuf, &PathBuf)> = Vec::with_capacity(changed.len());
    let cleanup = |staged: &[(PathBuf, &PathBuf)]| {
        for (tmp, _) in staged {
            let _ = std::fs::remove_file(tmp);
        }
    };
    for (r, path) in changed {
        let tmp = temp_path(path);
        if let Err(source) = std::fs::write(&tmp, &r.content) {
            let _ = std::fs::remove_file(&tmp);
            cleanup(&staged);
            return Err(SynthError::Write { path: path.clone(), source });
        }
        staged.push((tmp, path));
    }
    for (i, (tmp, path)) in staged.iter().enumerate() {
        if let Err(source) = std::fs::rename(tmp, path) {
            cleanup(&staged[i..]);
            return Err(SynthError::Write { path: (*path).clone(), source });
        }
    }
    Ok(paths)
}

/// `.<name>.tmp-<pid>` beside `path`: hidden, and unique per process so that two runs never
/// write the same temporary file.
fn temp_path(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(file_name: &str, content: &str) -> Rendered {
        Rendered { stack_name: file_name.into(), region: "us-east-1".into(), file_name: file_name.into(), content: content.into(), warnings: vec![], findings: vec![] }
    }

    #[test]
    fn a_failed_write_leaves_every_template_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.yaml"), "old a").unwrap();
        // The second template's temporary file cannot be created: a folder has its name.
        std::fs::create_dir(temp_path(&dir.path().join("b.yaml"))).unwrap();
        let err = write(&[rendered("a.yaml", "new a"), rendered("b.yaml", "new b")], dir.path()).unwrap_err();
        assert!(err.to_string().contains("b.yaml"), "{err}");
        assert_eq!(std::fs::read_to_string(dir.path().join("a.yaml")).unwrap(), "old a");
        assert!(!dir.path().join("b.yaml").exists());
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        assert!(!left.iter().any(|n| n.starts_with(".a.yaml.tmp")), "{left:?}");
    }

    #[test]
    fn writes_every_template_when_nothing_fails() {
        let dir = tempfile::tempdir().unwrap();
        let paths = write(&[rendered("a.yaml", "A"), rendered("b.yaml", "B")], dir.path()).unwrap();
        assert_eq!(paths.len(), 2);
        assert_eq!(std::fs::read_to_string(&paths[1]).unwrap(), "B");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2, "no temporary file is left");
    }
}
