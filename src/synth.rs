//! Synthesis as a library function: config in, rendered and checked templates out. The CLI's
//! `synth` and `validate`, the tests and the benchmarks all go through here.

use std::path::{Path, PathBuf};

use crate::cfn::validate::{size_error, size_warning, validate};
use crate::cfn::{render, CfnError, Deviation, Format};
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
    /// Each resource's deliberate deviations from common rule packs, in template order.
    pub deviations: Vec<ResourceDeviation>,
}

/// One deliberate deviation of one resource (see `crate::deviations`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceDeviation {
    pub logical_id: String,
    pub resource_type: String,
    pub deviation: Deviation,
}

/// A deviation with the resources of each stack that carry it: what `validate` prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviationUse {
    pub deviation: Deviation,
    /// (stack name, logical ids), stacks in the order given.
    pub stacks: Vec<(String, Vec<String>)>,
}

/// Groups the deviations of all rendered stacks by deviation, in the order of
/// `crate::deviations::ALL` (deviations outside it follow in order of appearance).
pub fn deviation_uses(rendered: &[Rendered]) -> Vec<DeviationUse> {
    let mut uses: Vec<DeviationUse> = crate::deviations::ALL.iter().map(|d| DeviationUse { deviation: **d, stacks: Vec::new() }).collect();
    for r in rendered {
        for rd in &r.deviations {
            let i = match uses.iter().position(|u| u.deviation == rd.deviation) {
                Some(i) => i,
                None => {
                    uses.push(DeviationUse { deviation: rd.deviation, stacks: Vec::new() });
                    uses.len() - 1
                }
            };
            let stacks = &mut uses[i].stacks;
            match stacks.iter_mut().find(|(s, _)| *s == r.stack_name) {
                Some((_, ids)) => ids.push(rd.logical_id.clone()),
                None => stacks.push((r.stack_name.clone(), vec![rd.logical_id.clone()])),
            }
        }
    }
    uses.retain(|u| !u.stacks.is_empty());
    uses
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
    let deviations = stack
        .template
        .resources
        .iter()
        .flat_map(|(id, r)| r.deviations.iter().map(move |d| ResourceDeviation { logical_id: id.clone(), resource_type: r.resource_type.clone(), deviation: *d }))
        .collect();
    Ok(Rendered {
        file_name: format!("{}.{}", stack.name, format.extension()),
        stack_name: stack.name,
        region: stack.region,
        content,
        warnings,
        findings,
        deviations,
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
    /// Synthesis would create it.
    Missing(PathBuf),
    /// Synthesis would change it: `diff` is the unified diff from the file to the new content.
    Differs { path: PathBuf, diff: String },
    /// A template of this config's stack name for a region the config no longer has: synthesis
    /// leaves it behind, so it has to be deleted by hand.
    Obsolete(PathBuf),
}

impl std::fmt::Display for Stale {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stale::Missing(p) => write!(f, "{} is missing (synth would create it)", p.display()),
            Stale::Differs { path, .. } => write!(f, "{} differs from what synth would write", path.display()),
            Stale::Obsolete(p) => write!(f, "{} is obsolete: the config has no stack for it any more (delete the file)", p.display()),
        }
    }
}

/// The files in `dir` that do not match `rendered` (for `synth --check` in CI), in the order
/// of `rendered`, then the obsolete files by name.
pub fn stale(rendered: &[Rendered], dir: &Path) -> Vec<Stale> {
    let mut found: Vec<Stale> = rendered
        .iter()
        .filter_map(|r| {
            let path = dir.join(&r.file_name);
            match file_holds(&path, &r.content) {
                None => Some(Stale::Missing(path)),
                Some(false) => {
                    let old = std::fs::read(&path).unwrap_or_default();
                    let diff = unified_diff(&String::from_utf8_lossy(&old), &r.content, &format!("a/{}", path.display()), &format!("b/{}", path.display()));
                    Some(Stale::Differs { path, diff })
                }
                Some(true) => None,
            }
        })
        .collect();
    found.extend(obsolete(rendered, dir).into_iter().map(Stale::Obsolete));
    found
}

/// Files named like the templates of `rendered` (`<stack_name>-<region>.<ext>`, the region
/// shaped like an AWS region) that synthesis does not write: left over from a removed region.
/// Other files in the folder (other configs' stacks, READMEs) are never named.
fn obsolete(rendered: &[Rendered], dir: &Path) -> Vec<PathBuf> {
    let Some(first) = rendered.first() else { return Vec::new() };
    let Some(base) = first.stack_name.strip_suffix(first.region.as_str()) else { return Vec::new() };
    let Some((_, ext)) = first.file_name.rsplit_once('.') else { return Vec::new() };
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| {
            let region = name.strip_prefix(base).and_then(|rest| rest.strip_suffix(ext)).and_then(|rest| rest.strip_suffix('.'));
            region.is_some_and(looks_like_region) && !rendered.iter().any(|r| &r.file_name == name)
        })
        .collect();
    names.sort();
    names.into_iter().map(|n| dir.join(n)).collect()
}

/// `us-east-1`, `cn-northwest-1`, `us-gov-west-1`, `us-isob-east-1`: a two-letter area, a
/// direction (after `gov`/`iso*` for the separate partitions), a number. Strict enough that
/// `eu-us-east-1` (stack `s-eu` in us-east-1 next to stack `s`) is not taken for a region.
fn looks_like_region(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    let word = |w: &str| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase());
    let number = |w: &str| !w.is_empty() && w.bytes().all(|b| b.is_ascii_digit());
    match parts.as_slice() {
        [area, direction, n] => area.len() == 2 && word(area) && word(direction) && number(n),
        [area, partition, direction, n] => {
            area.len() == 2 && word(area) && (partition.starts_with("gov") || partition.starts_with("iso")) && word(partition) && word(direction) && number(n)
        }
        _ => false,
    }
}

/// The unified diff (3 lines of context) from `old` to `new` (empty when equal).
pub fn unified_diff(old: &str, new: &str, old_name: &str, new_name: &str) -> String {
    if old == new {
        return String::new();
    }
    similar::TextDiff::from_lines(old, new).unified_diff().context_radius(3).header(old_name, new_name).to_string()
}

/// The first `max_lines` lines of `text`, and how many lines were left out.
pub fn first_lines(text: &str, max_lines: usize) -> (&str, usize) {
    let total = text.lines().count();
    if total <= max_lines {
        return (text, 0);
    }
    let end = text.match_indices('\n').nth(max_lines - 1).map_or(text.len(), |(i, _)| i + 1);
    (&text[..end], total - max_lines)
}

#[cfg(test)]
mod check_tests {
    use super::*;

    fn rendered(stack_name: &str, region: &str, content: &str) -> Rendered {
        Rendered { stack_name: stack_name.into(), region: region.into(), file_name: format!("{stack_name}.yaml"), content: content.into(), warnings: vec![], findings: vec![], deviations: vec![] }
    }

    #[test]
    fn stale_files_carry_a_diff_and_leftover_regions_are_obsolete() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("s-us-east-1.yaml"), "a\nb\nc\n").unwrap();
        std::fs::write(d.join("s-eu-west-1.yaml"), "left over\n").unwrap();
        // Not this config's: another stack name, another format, not a region, not a template.
        for other in ["s-eu-us-east-1.yaml", "s-us-east-1.json", "s-notes.yaml", "other-us-east-1.yaml", "README.md"] {
            std::fs::write(d.join(other), "x\n").unwrap();
        }
        let r = [rendered("s-us-east-1", "us-east-1", "a\nB\nc\n"), rendered("s-us-west-2", "us-west-2", "new\n")];
        let found = stale(&r, d);
        assert_eq!(found.len(), 3, "{found:?}");
        let Stale::Differs { path, diff } = &found[0] else { panic!("{found:?}") };
        assert_eq!(path, &d.join("s-us-east-1.yaml"));
        assert!(diff.contains("-b\n+B\n") && diff.contains("@@ -1,3 +1,3 @@"), "{diff}");
        assert!(diff.starts_with(&format!("--- a/{}", path.display())), "{diff}");
        assert_eq!(found[1], Stale::Missing(d.join("s-us-west-2.yaml")));
        assert_eq!(found[2], Stale::Obsolete(d.join("s-eu-west-1.yaml")));
        assert!(found[2].to_string().contains("delete the file"));
    }

    #[test]
    fn regions_are_recognised_by_shape() {
        for yes in ["us-east-1", "us-gov-west-1", "ap-southeast-5", "eu-central-2", "us-isob-east-1", "cn-northwest-1"] {
            assert!(looks_like_region(yes), "{yes}");
        }
        for no in ["east-1", "us-east", "US-east-1", "us--1", "eu-us-east-1", "prod-us-east-1", "us-east-1a", "notes", ""] {
            assert!(!looks_like_region(no), "{no}");
        }
    }

    #[test]
    fn first_lines_cuts_and_counts() {
        assert_eq!(first_lines("a\nb\nc\n", 5), ("a\nb\nc\n", 0));
        assert_eq!(first_lines("a\nb\nc\n", 2), ("a\nb\n", 1));
        assert_eq!(first_lines("a\nb\nc", 1), ("a\n", 2));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(file_name: &str, content: &str) -> Rendered {
        Rendered { stack_name: file_name.into(), region: "us-east-1".into(), file_name: file_name.into(), content: content.into(), warnings: vec![], findings: vec![], deviations: vec![] }
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
