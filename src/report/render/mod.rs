//! The report's four renderings. Each is a pure function of the [`Report`], so a saved JSON
//! report re-renders identically (`--from-json`) and the output is snapshot-tested.

pub mod html;
pub mod json;
pub mod markdown;
pub mod table;

use super::model::Report;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Markdown,
    Html,
}

/// The breakdown the table and markdown show besides totals (JSON and HTML hold all three).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    Model,
    User,
    Day,
}

pub fn render(report: &Report, format: Format, by: By) -> String {
    match format {
        Format::Table => table::render(report, by),
        Format::Json => json::render(report),
        Format::Markdown => markdown::render(report, by),
        Format::Html => html::render(report),
    }
}

/// `1,234,567`.
pub fn int(v: u64) -> String {
    let s = v.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `$12.3456`: four decimals, since a day of a cheap model costs fractions of a cent.
pub fn usd(v: f64) -> String {
    format!("${v:.4}")
}

pub fn opt_usd(v: Option<f64>) -> String {
    v.map_or_else(|| "n/a".to_owned(), usd)
}

pub fn ms(v: Option<f64>) -> String {
    v.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.0} ms"))
}

pub fn percent(v: Option<f64>) -> String {
    v.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.2}%"))
}

/// What the report covers, for titles: the stack, or the linked account(s) it was read from.
pub fn scope(report: &Report) -> String {
    match (&report.account, report.accounts.len()) {
        (Some(a), _) => format!("account {a}, stack set {}", report.stack_name),
        (None, n) if n > 0 => format!("{n} linked account(s), stack set {}", report.stack_name),
        _ => format!("stack {}", report.stack_name),
    }
}

/// `report --org`'s table by account: (header, rows), shared by table and markdown.
pub fn by_account(report: &Report) -> (Vec<&'static str>, Vec<Vec<String>>) {
    let rows = report
        .accounts
        .iter()
        .map(|a| {
            let cost = if a.unpriced_models.is_empty() { usd(a.estimated_cost_usd) } else { format!("{} (+ {} unpriced)", usd(a.estimated_cost_usd), a.unpriced_models.len()) };
            vec![a.account_id.clone(), int(a.invocations), int(a.input_tokens), int(a.output_tokens), int(a.cache_read_tokens), int(a.cache_write_tokens), cost, ms(a.average_latency_ms), int(a.errors), int(a.throttles)]
        })
        .collect();
    (vec!["Account", "Invocations", "Input tokens", "Output tokens", "Cache read", "Cache write", "Est. cost", "Avg latency", "Errors", "Throttles"], rows)
}

/// Rows of one breakdown as cells: (header, rows), shared by table and markdown.
pub fn breakdown(report: &Report, by: By) -> (Vec<&'static str>, Vec<Vec<String>>) {
    match by {
        By::Model => (
            vec!["Model", "Invocations", "Input tokens", "Output tokens", "Cache read", "Cache write", "Est. cost", "Avg latency", "p99 latency", "Errors", "Throttles"],
            report
                .models
                .iter()
                .map(|m| {
                    vec![
                        m.model_id.clone(),
                        int(m.invocations),
                        int(m.input_tokens),
                        int(m.output_tokens),
                        int(m.cache_read_tokens),
                        int(m.cache_write_tokens),
                        opt_usd(m.estimated_cost_usd),
                        ms(m.average_latency_ms),
                        ms(m.p99_latency_ms),
                        int(m.errors),
                        int(m.throttles),
                    ]
                })
                .collect(),
        ),
        By::User => (
            vec!["User", "Calls", "Input tokens", "Output tokens", "Cache read", "Cache write", "Est. cost"],
            report
                .users
                .rows
                .iter()
                .map(|u| {
                    let mut cost = usd(u.estimated_cost_usd);
                    if !u.unpriced_models.is_empty() {
                        cost.push_str(" + unpriced");
                    }
                    vec![u.principal.clone(), int(u.calls), int(u.input_tokens), int(u.output_tokens), int(u.cache_read_tokens), int(u.cache_write_tokens), cost]
                })
                .collect(),
        ),
        By::Day => (
            vec!["Day (UTC)", "Model", "Invocations", "Input tokens", "Output tokens", "Est. cost"],
            report
                .days
                .iter()
                .map(|d| vec![d.date.clone(), d.model_id.clone(), int(d.invocations), int(d.input_tokens), int(d.output_tokens), opt_usd(d.estimated_cost_usd)])
                .collect(),
        ),
    }
}

/// Summary lines (label, value) shared by table and markdown.
pub fn summary(r: &Report) -> Vec<(&'static str, String)> {
    let t = &r.totals;
    let p = &r.performance;
    vec![
        ("Invocations", int(t.invocations)),
        ("Input tokens", int(t.input_tokens)),
        ("Output tokens", int(t.output_tokens)),
        ("Cache read tokens", int(t.cache_read_tokens)),
        ("Cache write tokens", int(t.cache_write_tokens)),
        ("Estimated cost", usd(t.estimated_cost_usd)),
        ("Average latency", ms(p.average_latency_ms)),
        ("p99 latency (highest per model)", ms(p.p99_latency_ms)),
        ("Errors (client + server)", format!("{} ({} + {})", int(p.errors), int(p.client_errors), int(p.server_errors))),
        ("Error rate", percent(p.error_rate_percent)),
        ("Throttles", int(p.throttles)),
    ]
}

pub fn projection_lines(r: &Report) -> Vec<(&'static str, String)> {
    let p = &r.projection;
    vec![
        ("Invocations", int(p.invocations)),
        ("Input tokens", int(p.input_tokens)),
        ("Output tokens", int(p.output_tokens)),
        ("Estimated cost", usd(p.estimated_cost_usd)),
    ]
}

pub fn empty_breakdown_note(r: &Report, by: By) -> Option<String> {
    match by {
        By::User if !r.users.available => Some(r.users.note.clone().unwrap_or_else(|| "per-user figures unavailable".into())),
        By::User if r.users.rows.is_empty() => Some("no per-user records in the invocation log group for this period".into()),
        By::Model if r.models.is_empty() => Some("no model has metrics in this period".into()),
        By::Day if r.days.is_empty() => Some("no daily data in this period".into()),
        _ => None,
    }
}

/// Title of the bedrock-mantle section in every rendering.
pub const MANTLE_TITLE: &str = "Unattributed (Mantle): the bedrock-mantle endpoint, by model";

/// The bedrock-mantle section as (why unattributed, header, rows with a total row), shared by
/// table, markdown and HTML; `None` when the report has no Mantle usage.
pub fn mantle(r: &Report) -> Option<(String, Vec<&'static str>, Vec<Vec<String>>)> {
    let m = r.mantle.as_ref()?;
    let mut rows: Vec<Vec<String>> =
        m.models.iter().map(|x| vec![x.model.clone(), int(x.inferences), int(x.input_tokens), int(x.output_tokens), opt_usd(x.estimated_cost_usd)]).collect();
    let mut cost = usd(m.estimated_cost_usd);
    if !m.unpriced_models.is_empty() {
        cost.push_str(" + unpriced");
    }
    rows.push(vec!["unattributed (Mantle) total".into(), int(m.inferences), int(m.input_tokens), int(m.output_tokens), cost]);
    Some((format!("Not attributed to any user: {}.", m.unattributed_because), vec!["Model", "Inferences", "Input tokens", "Output tokens", "Est. cost"], rows))
}
