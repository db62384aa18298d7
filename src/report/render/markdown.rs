//! `--format markdown`: GitHub-flavoured markdown to paste into a ticket.

use super::{breakdown, by_account, empty_breakdown_note, projection_lines, scope, summary, By};
use crate::report::model::Report;

/// Pipes and newlines would break a table cell.
pub fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = format!("| {} |\n", header.iter().map(|h| cell(h)).collect::<Vec<_>>().join(" | "));
    out.push_str(&format!("|{}\n", header.iter().enumerate().map(|(i, _)| if i == 0 { "---|" } else { "---:|" }).collect::<String>()));
    for r in rows {
        out.push_str(&format!("| {} |\n", r.iter().map(|c| cell(c)).collect::<Vec<_>>().join(" | ")));
    }
    out
}

pub fn render(r: &Report, by: By) -> String {
    // A stack's report keeps its title; a report of linked accounts says which.
    let what = if r.account.is_none() && r.accounts.is_empty() { r.stack_name.clone() } else { scope(r) };
    let mut out = format!("## Bedrock usage report: {} ({what})\n\n", r.region);
    out.push_str(&format!("Period: **{}** to **{}** ({} hours). Generated {}.\n\n", r.period.start, r.period.end, r.period.hours, r.generated_at));
    let s: Vec<Vec<String>> = summary(r).into_iter().map(|(l, v)| vec![l.to_owned(), v]).collect();
    out.push_str(&table(&["Total", "Value"], &s));
    if !r.accounts.is_empty() {
        let (h, rows) = by_account(r);
        out.push_str(&format!("\n### By account ({})\n\n", r.accounts.len()));
        out.push_str(&table(&h, &rows));
    }
    let title = match by {
        By::Model => "### By model".to_owned(),
        By::User => format!("### Top users ({} of {})", r.users.rows.len(), r.users.total_users),
        By::Day => "### By day and model".to_owned(),
    };
    out.push_str(&format!("\n{title}\n\n"));
    match empty_breakdown_note(r, by) {
        Some(n) => out.push_str(&format!("_{}_\n", cell(&n))),
        None => {
            let (h, rows) = breakdown(r, by);
            out.push_str(&table(&h, &rows));
        }
    }
    if let Some((why, header, rows)) = super::mantle(r) {
        out.push_str(&format!("\n### {}\n\n{}\n\n", super::MANTLE_TITLE, cell(&why)));
        out.push_str(&table(&header, &rows));
    }
    out.push_str(&format!("\n### Projection for a {}-day month\n\n{}.\n\n", r.projection.month_days, cell(&r.projection.method)));
    let p: Vec<Vec<String>> = projection_lines(r).into_iter().map(|(l, v)| vec![l.to_owned(), v]).collect();
    out.push_str(&table(&["Projected", "Value"], &p));
    if !r.notes.is_empty() {
        out.push_str("\n### Notes\n\n");
        for n in &r.notes {
            out.push_str(&format!("- {}\n", cell(n)));
        }
    }
    out
}
