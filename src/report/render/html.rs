//! `--format html`: one self-contained file (inline CSS, inline SVG charts, no script, no
//! network) that opens in any browser and can be attached to a ticket or an e-mail.

use std::collections::BTreeMap;

use super::{breakdown, int, projection_lines, summary, usd, By};
use crate::report::model::Report;

const PALETTE: [&str; 8] = ["#2f6fdf", "#e8762c", "#2ca05a", "#c43d3d", "#8459c2", "#8c564b", "#d65fb8", "#6b7280"];

pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = String::from("<table><thead><tr>");
    for h in header {
        out.push_str(&format!("<th>{}</th>", esc(h)));
    }
    out.push_str("</tr></thead><tbody>");
    for r in rows {
        out.push_str("<tr>");
        for c in r {
            out.push_str(&format!("<td>{}</td>", esc(c)));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>\n");
    out
}

/// A stacked bar chart: one bar per category (day), one segment per series (model). Also drawn
/// by the console (`serve`), so both show consumption the same way.
pub fn stacked_bars(id: &str, title: &str, categories: &[String], series: &[(String, Vec<f64>)], fmt: impl Fn(f64) -> String) -> String {
    let (w, h, left, bottom, top) = (720.0, 260.0, 80.0, 40.0, 20.0);
    let plot_h = h - bottom - top;
    let totals: Vec<f64> = (0..categories.len()).map(|i| series.iter().map(|(_, v)| v[i]).sum()).collect();
    let max = totals.iter().copied().fold(0.0, f64::max);
    let scale = if max > 0.0 { plot_h / max } else { 0.0 };
    let n = categories.len().max(1) as f64;
    let slot = (w - left - 10.0) / n;
    let bar = (slot * 0.7).max(2.0);
    let mut svg = format!(
        "<figure class=\"chart\" id=\"{id}\"><figcaption>{}</figcaption><svg role=\"img\" aria-label=\"{}\" viewBox=\"0 0 {w} {}\" width=\"{w}\" height=\"{}\">",
        esc(title),
        esc(title),
        h + 20.0 * ((series.len() as f64 / 4.0).ceil()),
        h + 20.0 * ((series.len() as f64 / 4.0).ceil())
    );
    svg.push_str(&format!("<title>{}</title>", esc(title)));
    svg.push_str(&format!("<line x1=\"{left}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#999\"/>", h - bottom, w - 10.0, h - bottom));
    svg.push_str(&format!("<text x=\"{}\" y=\"{}\" text-anchor=\"end\" class=\"axis\">{}</text>", left - 6.0, top + 4.0, esc(&fmt(max))));
    svg.push_str(&format!("<text x=\"{}\" y=\"{}\" text-anchor=\"end\" class=\"axis\">0</text>", left - 6.0, h - bottom));
    for (i, cat) in categories.iter().enumerate() {
        let x = left + slot * i as f64 + (slot - bar) / 2.0;
        let mut y = h - bottom;
        for (s, (name, values)) in series.iter().enumerate() {
            let v = values[i];
            if v <= 0.0 {
                continue;
            }
            let bh = v * scale;
            y -= bh;
            svg.push_str(&format!(
                "<rect class=\"bar\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{bar:.1}\" height=\"{bh:.1}\" fill=\"{}\"><title>{} {}: {}</title></rect>",
                PALETTE[s % PALETTE.len()],
                esc(cat),
                esc(name),
                esc(&fmt(v))
            ));
        }
        svg.push_str(&format!("<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\" class=\"axis\">{}</text>", x + bar / 2.0, h - bottom + 16.0, esc(cat)));
    }
    for (s, (name, _)) in series.iter().enumerate() {
        let (col, row) = (s % 4, s / 4);
        let (lx, ly) = (left + col as f64 * 160.0, h + row as f64 * 20.0);
        svg.push_str(&format!(
            "<rect x=\"{lx}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{}\"/><text x=\"{}\" y=\"{}\" class=\"legend\">{}</text>",
            ly - 9.0,
            PALETTE[s % PALETTE.len()],
            lx + 14.0,
            ly,
            esc(&short(name))
        ));
    }
    svg.push_str("</svg></figure>\n");
    svg
}

/// Model ids are long; the legend keeps their distinctive middle part.
fn short(id: &str) -> String {
    let id = crate::bedrock::pricing::base_model_id(id);
    let id = id.split_once('.').map_or(id, |(_, rest)| rest);
    let s: String = id.chars().take(24).collect();
    if s.len() < id.len() {
        format!("{s}…")
    } else {
        s
    }
}

/// (days, per-model series) of one day-row value.
pub fn per_day(r: &Report, value: impl Fn(&crate::report::model::DayRow) -> f64) -> (Vec<String>, Vec<(String, Vec<f64>)>) {
    let days: Vec<String> = r.days.iter().map(|d| d.date.clone()).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
    let mut by_model: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for d in &r.days {
        let i = days.iter().position(|x| *x == d.date).unwrap_or(0);
        by_model.entry(d.model_id.clone()).or_insert_with(|| vec![0.0; days.len()])[i] += value(d);
    }
    (days, by_model.into_iter().collect())
}

const CSS: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2rem auto;max-width:980px;color:#1f2937;background:#fff}\
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #e5e7eb;padding-bottom:.3rem}\
table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}th,td{padding:.3rem .7rem;border-bottom:1px solid #e5e7eb;text-align:right}\
th:first-child,td:first-child{text-align:left}th{background:#f3f4f6}.kpis{display:flex;flex-wrap:wrap;gap:.8rem}\
.kpi{border:1px solid #e5e7eb;border-radius:6px;padding:.6rem 1rem;min-width:140px}.kpi b{display:block;font-size:1.3rem}\
.chart figcaption{font-weight:600;margin:.5rem 0}.axis,.legend{font-size:11px;fill:#4b5563}.note{color:#92400e}";

pub fn render(r: &Report) -> String {
    let mut out = String::from("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    let title = format!("Bedrock usage report: {} ({} to {})", r.region, r.period.start, r.period.end);
    out.push_str(&format!("<title>{}</title><style>{CSS}</style></head><body>\n", esc(&title)));
    out.push_str(&format!("<h1>{}</h1>\n<p>Stack <code>{}</code>, {} hours, generated {}.</p>\n", esc(&title), esc(&r.stack_name), r.period.hours, esc(&r.generated_at)));
    out.push_str("<div class=\"kpis\">");
    for (label, value) in [
        ("Invocations", int(r.totals.invocations)),
        ("Tokens (in + out)", int(r.totals.input_tokens + r.totals.output_tokens)),
        ("Estimated cost", usd(r.totals.estimated_cost_usd)),
        ("Projected month", usd(r.projection.estimated_cost_usd)),
    ] {
        out.push_str(&format!("<div class=\"kpi\">{}<b>{}</b></div>", esc(label), esc(&value)));
    }
    out.push_str("</div>\n<h2>Totals and performance</h2>\n");
    let s: Vec<Vec<String>> = summary(r).into_iter().map(|(l, v)| vec![l.to_owned(), v]).collect();
    out.push_str(&table(&["Total", "Value"], &s));
    if let Some(a) = &r.account {
        out.push_str(&format!("<p>Account <code>{}</code>, read in the monitoring account.</p>\n", esc(a)));
    }
    if !r.accounts.is_empty() {
        let (h, rows) = super::by_account(r);
        out.push_str(&format!("<h2>By account ({})</h2>\n", r.accounts.len()));
        out.push_str(&table(&h, &rows));
    }

    out.push_str("<h2>Per day</h2>\n");
    if r.days.is_empty() {
        out.push_str("<p>No daily data in this period.</p>\n");
    } else {
        let (days, tokens) = per_day(r, |d| (d.input_tokens + d.output_tokens) as f64);
        out.push_str(&stacked_bars("tokens-per-day", "Tokens per day (input + output), by model", &days, &tokens, |v| int(v.round() as u64)));
        let (days, cost) = per_day(r, |d| d.estimated_cost_usd.unwrap_or(0.0));
        out.push_str(&stacked_bars("cost-per-day", "Estimated cost per day (USD), by model", &days, &cost, usd));
    }
    out.push_str("<h2>Per model</h2>\n");
    if !r.models.is_empty() {
        let names: Vec<String> = r.models.iter().map(|m| short(&m.model_id)).collect();
        let tokens = vec![("input + output tokens".to_owned(), r.models.iter().map(|m| (m.input_tokens + m.output_tokens) as f64).collect())];
        out.push_str(&stacked_bars("tokens-per-model", "Tokens per model", &names, &tokens, |v| int(v.round() as u64)));
        let cost = vec![("estimated cost".to_owned(), r.models.iter().map(|m| m.estimated_cost_usd.unwrap_or(0.0)).collect())];
        out.push_str(&stacked_bars("cost-per-model", "Estimated cost per model (USD)", &names, &cost, usd));
    }
    let (h, rows) = breakdown(r, By::Model);
    out.push_str(&table(&h, &rows));
    out.push_str(&format!("<h2>Top users ({} of {})</h2>\n", r.users.rows.len(), r.users.total_users));
    if let Some(n) = super::empty_breakdown_note(r, By::User) {
        out.push_str(&format!("<p class=\"note\">{}</p>\n", esc(&n)));
    } else {
        let (h, rows) = breakdown(r, By::User);
        out.push_str(&table(&h, &rows));
    }
    if let Some((why, header, rows)) = super::mantle(r) {
        out.push_str(&format!("<h2>{}</h2>\n<p class=\"note\">{}</p>\n", esc(super::MANTLE_TITLE), esc(&why)));
        out.push_str(&table(&header, &rows));
    }
    out.push_str(&format!("<h2>Projection for a {}-day month</h2>\n<p>{}.</p>\n", r.projection.month_days, esc(&r.projection.method)));
    let p: Vec<Vec<String>> = projection_lines(r).into_iter().map(|(l, v)| vec![l.to_owned(), v]).collect();
    out.push_str(&table(&["Projected", "Value"], &p));
    if !r.notes.is_empty() {
        out.push_str("<h2>Notes</h2>\n<ul>");
        for n in &r.notes {
            out.push_str(&format!("<li class=\"note\">{}</li>", esc(n)));
        }
        out.push_str("</ul>\n");
    }
    out.push_str("</body></html>\n");
    out
}
