//! `--format json`: the [`Report`] as its versioned schema, pretty-printed.

use crate::report::model::Report;

pub fn render(report: &Report) -> String {
    let mut s = serde_json::to_string_pretty(report).unwrap_or_default();
    s.push('\n');
    s
}
