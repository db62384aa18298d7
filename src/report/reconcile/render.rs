//! The reconciliation's renderings (table, markdown, json), pure functions of the
//! [`Reconciliation`], so a saved JSON re-renders identically and the table is snapshot-tested.

use super::model::{Reconciliation, Row};
use crate::report::render::{int, markdown::cell, usd};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Markdown,
    Json,
}

pub fn render(r: &Reconciliation, format: Format) -> String {
    match format {
        Format::Table => table(r),
        Format::Markdown => markdown(r),
        Format::Json => {
            let mut s = serde_json::to_string_pretty(r).unwrap_or_default();
            s.push('\n');
            s
        }
    }
}

/// `+$0.0050`, `-$0.0180`: a difference reads better with its sign in front.
pub fn signed_usd(v: f64) -> String {
    let v = if v.abs() < 0.000_05 { 0.0 } else { v };
    if v < 0.0 {
        format!("-{}", usd(-v))
    } else {
        format!("+{}", usd(v))
    }
}

fn percent(v: Option<f64>) -> String {
    v.map_or_else(|| "n/a".to_owned(), |v| format!("{v:+.2}%"))
}

fn model(r: &Row) -> String {
    if r.mantle {
        format!("{} (mantle)", r.model)
    } else {
        r.model.clone()
    }
}

fn status(r: &Row) -> String {
    match (r.drifting, r.reason) {
        (true, Some(reason)) => format!("DRIFT: {}", reason.label()),
        (true, None) => "DRIFT".into(),
        (false, _) => "ok".into(),
    }
}

const HEADER: [&str; 7] = ["Principal", "Model", "Billed", "Estimated", "Difference", "Drift", "Status"];
/// Columns aligned left (names); the others are numbers, aligned right.
const LEFT: [bool; 7] = [true, true, false, false, false, false, true];

fn cells(r: &Row) -> Vec<String> {
    let mut est = usd(r.estimated_usd);
    if !r.unpriced_models.is_empty() {
        est.push_str(" + unpriced");
    }
    vec![r.principal.clone(), model(r), usd(r.billed_usd), est, signed_usd(r.difference_usd), percent(r.drift_percent), status(r)]
}

fn summary(r: &Reconciliation) -> Vec<(&'static str, String)> {
    let t = &r.totals;
    vec![
        ("Billed", usd(t.billed_usd)),
        ("Estimated from logs", usd(t.estimated_usd)),
        ("Difference", format!("{} ({})", signed_usd(t.difference_usd), percent(t.drift_percent))),
        ("Drifting rows", format!("{} of {} (over {}% of the billed cost and at least {})", t.drifting_rows, t.rows, r.drift_threshold_percent, usd(r.min_difference_usd))),
    ]
}

fn sources(r: &Reconciliation) -> String {
    let e = &r.export;
    format!(
        "Billed: CUR 2.0 export `{}` in s3://{} (billing period {}, {} data file(s), {} lines). Estimated: invocation logs in {} at the price table.",
        e.export_name,
        e.bucket,
        e.billing_periods.join(", "),
        int(e.data_files as u64),
        int(e.lines_read as u64),
        r.log_group
    )
}

fn reasons(r: &Reconciliation) -> Vec<String> {
    r.rows
        .iter()
        .filter(|row| row.drifting)
        .map(|row| format!("{} / {}: {}: {}", row.principal, model(row), row.reason.map_or("drift", |x| x.label()), row.detail.as_deref().unwrap_or("")))
        .collect()
}

fn not_compared(r: &Reconciliation) -> Vec<String> {
    r.not_compared.iter().map(|n| format!("{}: {} line(s), {}", n.what, int(n.lines as u64), usd(n.cost_usd))).collect()
}

fn table(r: &Reconciliation) -> String {
    let mut out = format!("Billed vs estimated Bedrock cost in {} (stack {}), {} to {}\n", r.region, r.stack_name, r.period.start, r.period.end);
    out.push_str(&sources(r));
    out.push_str("\n\n");
    let s = summary(r);
    let w = s.iter().map(|(l, _)| l.len()).max().unwrap_or(0);
    for (l, v) in &s {
        out.push_str(&format!("  {l:<w$}  {v}\n"));
    }
    out.push_str("\nBy principal and model\n");
    if r.rows.is_empty() {
        out.push_str("  nothing billed or logged in this period\n");
    } else {
        let rows: Vec<Vec<String>> = r.rows.iter().map(cells).collect();
        out.push_str(&grid(&rows));
    }
    for (title, lines) in [("Drifting rows", reasons(r)), ("Not compared", not_compared(r)), ("Notes", r.notes.clone())] {
        if !lines.is_empty() {
            out.push_str(&format!("\n{title}\n"));
            for l in lines {
                out.push_str(&format!("  - {l}\n"));
            }
        }
    }
    out
}

fn grid(rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = HEADER.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, c) in row.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let mut s = String::from(" ");
        for (i, c) in cells.iter().enumerate() {
            let pad = " ".repeat(widths[i] - c.chars().count());
            if LEFT[i] {
                s.push_str(&format!(" {c}{pad} "));
            } else {
                s.push_str(&format!(" {pad}{c} "));
            }
        }
        s.trim_end().to_owned() + "\n"
    };
    let mut out = line(&HEADER.map(str::to_owned));
    out.push_str(&line(&widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>()));
    for row in rows {
        out.push_str(&line(row));
    }
    out
}

fn markdown(r: &Reconciliation) -> String {
    let mut out = format!("## Billed vs estimated Bedrock cost: {} ({})\n\n", r.region, r.stack_name);
    out.push_str(&format!("Period: **{}** to **{}**. Generated {}.\n\n{}\n\n", r.period.start, r.period.end, r.generated_at, cell(&sources(r))));
    out.push_str("| Total | Value |\n|---|---:|\n");
    for (l, v) in summary(r) {
        out.push_str(&format!("| {l} | {} |\n", cell(&v)));
    }
    out.push_str("\n### By principal and model\n\n");
    if r.rows.is_empty() {
        out.push_str("_nothing billed or logged in this period_\n");
    } else {
        out.push_str(&format!("| {} |\n|", HEADER.join(" | ")));
        for left in LEFT {
            out.push_str(if left { "---|" } else { "---:|" });
        }
        out.push('\n');
        for row in &r.rows {
            out.push_str(&format!("| {} |\n", cells(row).iter().map(|c| cell(c)).collect::<Vec<_>>().join(" | ")));
        }
    }
    for (title, lines) in [("Drifting rows", reasons(r)), ("Not compared", not_compared(r)), ("Notes", r.notes.clone())] {
        if !lines.is_empty() {
            out.push_str(&format!("\n### {title}\n\n"));
            for l in lines {
                out.push_str(&format!("- {}\n", cell(&l)));
            }
        }
    }
    out
}
