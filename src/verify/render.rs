//! The verification as a table for people and as versioned JSON for CI.

use super::{Status, Verification};

/// One line per check (`STATUS  check  what was seen`), each failure or warning followed by its fix.
pub fn table(v: &Verification) -> String {
    let width = v.results.iter().map(|r| r.id.len()).max().unwrap_or(0);
    let mut out = format!("verify {} in {} (window: last {} minutes)\n", v.stack, v.region, v.window_minutes);
    for r in &v.results {
        out.push_str(&format!("{}  {:width$}  {}\n", r.status.label(), r.id, r.saw));
        if let Some(fix) = &r.fix {
            out.push_str(&format!("      {:width$}  fix: {fix}\n", ""));
        }
    }
    let count = |s: Status| v.results.iter().filter(|r| r.status == s).count();
    out.push_str(&format!("{} passed, {} warnings, {} failed\n", count(Status::Pass), count(Status::Warn), count(Status::Fail)));
    out
}

/// `{"schema_version": 1, "stack": ..., "region": ..., "window_minutes": ..., "results": [{"id", "status", "saw", "fix"?}]}`.
pub fn json(v: &Verification) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}
