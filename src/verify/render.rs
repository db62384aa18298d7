//! The verification as a table for people and as versioned JSON for CI.

use super::follow::duration_text;
use super::{Status, Verification};

/// One line per check (`STATUS  check  what was seen`), each failure or warning followed by its fix.
pub fn table(v: &Verification) -> String {
    let width = v.results.iter().map(|r| r.id.len()).max().unwrap_or(0);
    let mut out = format!("verify {} in {} (window: last {} minutes)\n", v.stack, v.region, v.window_minutes);
    if let Some(i) = &v.invoke {
        out.push_str(&format!(
            "invoke {}: one Converse call of a few tokens, followed for up to {} (a look every {})\n",
            i.model,
            duration_text(i.deadline_seconds as i64 * 1000),
            duration_text(i.poll_seconds as i64 * 1000)
        ));
    }
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

/// `{"schema_version": 1, "stack", "region", "window_minutes", "invoke"?, "results": [{"id", "status", "saw", "fix"?, "delay_seconds"?}]}`;
/// `invoke` (`--invoke`) is `{"model", "request_id", "input_tokens", "output_tokens", "deadline_seconds", "poll_seconds"}`.
pub fn json(v: &Verification) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}
