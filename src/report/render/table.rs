//! `--format table`: aligned plain text for a terminal.

use super::{breakdown, by_account, empty_breakdown_note, projection_lines, scope, summary, By};
use crate::report::model::Report;

pub fn render(r: &Report, by: By) -> String {
    let mut out = String::new();
    out.push_str(&format!("Bedrock usage in {} ({}), {} to {} ({} hours)\n\n", r.region, scope(r), r.period.start, r.period.end, r.period.hours));
    let s = summary(r);
    let w = s.iter().map(|(l, _)| l.len()).max().unwrap_or(0);
    for (l, v) in &s {
        out.push_str(&format!("  {l:<w$}  {v}\n"));
    }
    if !r.accounts.is_empty() {
        let (header, rows) = by_account(r);
        out.push_str(&format!("\nBy account ({})\n", r.accounts.len()));
        out.push_str(&grid(&header, &rows));
    }
    let title = match by {
        By::Model => "By model".to_owned(),
        By::User => format!("Top users ({} of {})", r.users.rows.len(), r.users.total_users),
        By::Day => "By day and model".to_owned(),
    };
    out.push_str(&format!("\n{title}\n"));
    match empty_breakdown_note(r, by) {
        Some(note) => out.push_str(&format!("  {note}\n")),
        None => {
            let (header, rows) = breakdown(r, by);
            out.push_str(&grid(&header, &rows));
        }
    }
    if let Some((why, header, rows)) = super::mantle(r) {
        out.push_str(&format!("\n{}\n  {why}\n", super::MANTLE_TITLE));
        out.push_str(&grid(&header, &rows));
    }
    out.push_str(&format!("\nProjection for a {}-day month ({})\n", r.projection.month_days, r.projection.method));
    let p = projection_lines(r);
    let w = p.iter().map(|(l, _)| l.len()).max().unwrap_or(0);
    for (l, v) in &p {
        out.push_str(&format!("  {l:<w$}  {v}\n"));
    }
    if !r.notes.is_empty() {
        out.push_str("\nNotes\n");
        for n in &r.notes {
            out.push_str(&format!("  - {n}\n"));
        }
    }
    out
}

/// Columns sized to content; the first is left-aligned (names), the rest right-aligned (numbers).
fn grid(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, c) in row.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::from(" ");
        for (i, c) in cells.iter().enumerate() {
            let pad = widths[i] - c.chars().count();
            if i == 0 {
                s.push_str(&format!(" {c}{}", " ".repeat(pad)));
            } else {
                s.push_str(&format!("  {}{c}", " ".repeat(pad)));
            }
        }
        s.trim_end().to_owned() + "\n"
    };
    let mut out = line(header.to_vec());
    out.push_str(&line(widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>().iter().map(String::as_str).collect()));
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}
