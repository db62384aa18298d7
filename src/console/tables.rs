//! The console's tables as data: one [`Table`] is rendered both as HTML (formatted, with
//! links) and as CSV (raw numbers, no markup), so an export always holds what the page shows.
//! Everything here is pure: rows come from what `quota status`, `quota audit` and `report`
//! read.

use std::collections::BTreeMap;

use crate::config::{QuotaUnit, Quotas};
use crate::quotas::admin::items::AuditEntry;
use crate::quotas::admin::status::{self, PrincipalRow, StatusView};
use crate::report::model::Report;

/// Rows per page of every paginated table.
pub const PAGE_SIZE: usize = 50;

#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    /// An amount in the quota unit; None: no limit.
    Amount(Option<f64>),
    /// A principal, linked to its details page.
    Principal(String),
    /// Several principals (team members).
    Principals(Vec<String>),
}

impl Cell {
    /// The CSV value: raw numbers (as `quota status --format json` has them), names joined by `; `.
    pub fn raw(&self) -> String {
        match self {
            Cell::Text(s) | Cell::Principal(s) => s.clone(),
            Cell::Amount(None) => String::new(),
            Cell::Amount(Some(v)) => number(*v),
            Cell::Principals(p) => p.join("; "),
        }
    }
}

/// A number as JSON would print it, without a trailing `.0` on whole numbers.
pub fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub header: Vec<&'static str>,
    pub rows: Vec<Vec<Cell>>,
    pub unit: QuotaUnit,
}

impl Table {
    pub fn csv(&self) -> String {
        let rows: Vec<Vec<String>> = self.rows.iter().map(|r| r.iter().map(Cell::raw).collect()).collect();
        super::csv::document(&self.header, &rows)
    }

    /// Rows of page `page` (1-based, clamped to the last page) and the page count.
    pub fn page(&self, page: usize) -> (Table, Pages) {
        let pages = self.rows.len().div_ceil(PAGE_SIZE).max(1);
        let current = page.clamp(1, pages);
        let start = (current - 1) * PAGE_SIZE;
        let rows = self.rows.iter().skip(start).take(PAGE_SIZE).cloned().collect();
        (Table { header: self.header.clone(), rows, unit: self.unit }, Pages { current, count: pages, total_rows: self.rows.len() })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pages {
    pub current: usize,
    pub count: usize,
    pub total_rows: usize,
}

/// What the Users page lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserFilter {
    /// Substring of the principal's name (case-insensitive).
    pub name: String,
    /// Only members of this team.
    pub team: Option<String>,
    /// `blocked`, `over` (over a limit), `protected`, or everything.
    pub state: Option<String>,
    /// `name` (default), `today` or `month` (largest first).
    pub sort: Option<String>,
}

/// Teams of each principal, from `quotas.teams`.
pub fn teams_of(q: &Quotas) -> BTreeMap<&str, Vec<&str>> {
    let mut out: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (team, spec) in &q.teams {
        for m in &spec.members {
            out.entry(m.as_str()).or_default().push(team.as_str());
        }
    }
    out
}

fn over(p: &PrincipalRow) -> bool {
    let over = |used: f64, limit: Option<f64>| limit.is_some_and(|l| used >= l);
    over(p.day, p.day_limit) || over(p.month, p.month_limit)
}

/// Day resolution is what the counters keep: a call today shows in today's item.
fn last_active(p: &PrincipalRow) -> &'static str {
    if p.day > 0.0 {
        "today"
    } else if p.month > 0.0 {
        "this month"
    } else {
        "not this month"
    }
}

pub const USER_HEADER: [&str; 8] = ["principal", "teams", "today", "daily_limit", "this_month", "monthly_limit", "state", "last_active"];

pub fn users(view: &StatusView, q: &Quotas, f: &UserFilter) -> Table {
    let teams = teams_of(q);
    let needle = f.name.to_lowercase();
    let mut rows: Vec<&PrincipalRow> = view
        .principals
        .iter()
        .filter(|p| needle.is_empty() || p.name.to_lowercase().contains(&needle))
        .filter(|p| f.team.as_ref().is_none_or(|t| teams.get(p.name.as_str()).is_some_and(|ts| ts.contains(&t.as_str()))))
        .filter(|p| match f.state.as_deref() {
            Some("blocked") => p.block.is_some(),
            Some("over") => over(p),
            Some("protected") => p.protected.is_some(),
            _ => true,
        })
        .collect();
    match f.sort.as_deref() {
        Some("today") => rows.sort_by(|a, b| b.day.total_cmp(&a.day).then_with(|| a.name.cmp(&b.name))),
        Some("month") => rows.sort_by(|a, b| b.month.total_cmp(&a.month).then_with(|| a.name.cmp(&b.name))),
        _ => {}
    }
    let rows = rows
        .into_iter()
        .map(|p| {
            vec![
                Cell::Principal(p.name.clone()),
                Cell::Text(teams.get(p.name.as_str()).map(|t| t.join("; ")).unwrap_or_default()),
                Cell::Amount(Some(p.day)),
                Cell::Amount(p.day_limit),
                Cell::Amount(Some(p.month)),
                Cell::Amount(p.month_limit),
                Cell::Text(status::state(p)),
                Cell::Text(last_active(p).into()),
            ]
        })
        .collect();
    Table { header: USER_HEADER.to_vec(), rows, unit: view.unit }
}

pub fn teams(view: &StatusView) -> Table {
    let rows = view
        .teams
        .iter()
        .map(|t| {
            let used = match t.limit {
                Some(l) if l > 0.0 => format!("{:.0}%", (t.month / l * 100.0).floor()),
                _ => String::new(),
            };
            vec![Cell::Text(t.name.clone()), Cell::Principals(t.members.clone()), Cell::Amount(Some(t.month)), Cell::Amount(t.limit), Cell::Text(used)]
        })
        .collect();
    Table { header: vec!["team", "members", "this_month", "monthly_limit", "used"], rows, unit: view.unit }
}

pub fn blocks(view: &StatusView) -> Table {
    let rows = view
        .principals
        .iter()
        .filter_map(|p| p.block.as_ref())
        .map(|b| {
            vec![
                Cell::Principal(b.principal.clone()),
                Cell::Text(b.until.clone()),
                Cell::Text(b.target.mechanism().into()),
                Cell::Text(b.blocked_by.clone()),
                Cell::Text(b.blocked_at.clone()),
                Cell::Text(b.reason.clone()),
            ]
        })
        .collect();
    Table { header: vec!["principal", "until", "mechanism", "blocked_by", "blocked_at", "reason"], rows, unit: view.unit }
}

pub fn protected(view: &StatusView) -> Table {
    let rows = view.principals.iter().filter_map(|p| p.protected.as_ref().map(|by| vec![Cell::Principal(p.name.clone()), Cell::Text(by.clone())])).collect();
    Table { header: vec!["principal", "protected_by"], rows, unit: view.unit }
}

/// The audit trail, newest first (`quota audit` prints oldest first; a page shows what just
/// happened at the top).
pub fn audit(entries: &[AuditEntry], unit: QuotaUnit, principal: Option<&str>) -> Table {
    let rows = entries
        .iter()
        .rev()
        .filter(|e| principal.is_none_or(|p| e.principal == p))
        .map(|e| {
            let reason = if e.result == "failed" {
                format!("{} (error: {})", e.reason, e.details.get("error").and_then(serde_json::Value::as_str).unwrap_or(""))
            } else {
                e.reason.clone()
            };
            vec![
                Cell::Text(e.at.clone()),
                Cell::Text(e.action.clone()),
                Cell::Principal(e.principal.clone()),
                Cell::Text(e.result.clone()),
                Cell::Text(e.actor.clone()),
                Cell::Text(e.until.clone().unwrap_or_default()),
                Cell::Text(reason),
            ]
        })
        .collect();
    Table { header: vec!["time", "action", "principal", "result", "actor", "until", "reason"], rows, unit }
}

/// One principal's daily counters: (day, usage in the unit, calls).
pub fn days(rows: &[(String, f64, f64)], unit: QuotaUnit) -> Table {
    let rows = rows.iter().map(|(d, used, calls)| vec![Cell::Text(d.clone()), Cell::Amount(Some(*used)), Cell::Text(number(*calls))]).collect();
    Table { header: vec!["day", "usage", "calls"], rows, unit }
}

/// Which breakdown of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    User,
    Model,
    Day,
}

impl By {
    pub fn parse(s: Option<&str>) -> By {
        match s {
            Some("model") => By::Model,
            Some("day") => By::Day,
            _ => By::User,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            By::User => "user",
            By::Model => "model",
            By::Day => "day",
        }
    }
}

fn opt(v: Option<f64>) -> String {
    v.map(number).unwrap_or_default()
}

/// A report breakdown with raw figures, the same rows as `report --by` (the page shows them
/// formatted by the report's own renderer). `user` keeps one principal's row.
pub fn report(r: &Report, by: By, user: Option<&str>) -> (Vec<&'static str>, Vec<Vec<String>>) {
    let n = |v: u64| v.to_string();
    match by {
        By::User => (
            vec!["principal", "calls", "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "estimated_cost_usd", "unpriced_models"],
            r.users
                .rows
                .iter()
                .filter(|u| user.is_none_or(|p| u.principal == p))
                .map(|u| {
                    vec![
                        u.principal.clone(),
                        n(u.calls),
                        n(u.input_tokens),
                        n(u.output_tokens),
                        n(u.cache_read_tokens),
                        n(u.cache_write_tokens),
                        number(u.estimated_cost_usd),
                        u.unpriced_models.join("; "),
                    ]
                })
                .collect(),
        ),
        By::Model => (
            vec!["model_id", "invocations", "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "estimated_cost_usd", "average_latency_ms", "errors", "throttles"],
            r.models
                .iter()
                .map(|m| {
                    vec![
                        m.model_id.clone(),
                        n(m.invocations),
                        n(m.input_tokens),
                        n(m.output_tokens),
                        n(m.cache_read_tokens),
                        n(m.cache_write_tokens),
                        opt(m.estimated_cost_usd),
                        opt(m.average_latency_ms),
                        n(m.errors),
                        n(m.throttles),
                    ]
                })
                .collect(),
        ),
        By::Day => (
            vec!["date", "model_id", "invocations", "input_tokens", "output_tokens", "estimated_cost_usd"],
            r.days.iter().map(|d| vec![d.date.clone(), d.model_id.clone(), n(d.invocations), n(d.input_tokens), n(d.output_tokens), opt(d.estimated_cost_usd)]).collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Team;

    fn row(name: &str, day: f64, month: f64) -> PrincipalRow {
        PrincipalRow { name: name.into(), day, month, day_limit: Some(100.0), month_limit: None, block: None, protected: None }
    }

    fn view(principals: Vec<PrincipalRow>) -> StatusView {
        StatusView { unit: QuotaUnit::Tokens, time_zone: "UTC".into(), day: "2026-12-02".into(), month: "2026-12".into(), principals, teams: vec![], unattributed: None }
    }

    #[test]
    fn users_filter_sort_and_export_raw_numbers() {
        let mut q = Quotas::default();
        q.teams.insert("ml".into(), Team { members: vec!["bob".into()], monthly_limit: Some(10.0) });
        let v = view(vec![row("alice", 0.0, 5.0), row("bob", 150.0, 150.0), row("carol", 1.5, 1.5)]);
        let all = users(&v, &q, &UserFilter::default());
        assert_eq!(all.rows.len(), 3);
        let over = users(&v, &q, &UserFilter { state: Some("over".into()), ..UserFilter::default() });
        assert_eq!(over.rows.iter().map(|r| r[0].raw()).collect::<Vec<_>>(), ["bob"]);
        let ml = users(&v, &q, &UserFilter { team: Some("ml".into()), ..UserFilter::default() });
        assert_eq!(ml.rows.len(), 1);
        let by_month = users(&v, &q, &UserFilter { sort: Some("month".into()), ..UserFilter::default() });
        assert_eq!(by_month.rows.iter().map(|r| r[0].raw()).collect::<Vec<_>>(), ["bob", "alice", "carol"]);
        let csv = all.csv();
        assert!(csv.starts_with("principal,teams,today,daily_limit,this_month,monthly_limit,state,last_active\r\n"));
        assert!(csv.contains("\r\nbob,ml,150,100,150,,over limit,today\r\n"), "{csv}");
        assert!(csv.contains("\r\ncarol,,1.5,100,1.5,,ok,today\r\n"), "{csv}");
        assert!(csv.contains("\r\nalice,,0,100,5,,ok,this month\r\n"), "{csv}");
    }

    #[test]
    fn pages_clamp_and_count() {
        let v = view((0..120).map(|i| row(&format!("u{i:03}"), 0.0, 0.0)).collect());
        let t = users(&v, &Quotas::default(), &UserFilter::default());
        let (p3, pages) = t.page(3);
        assert_eq!(pages, Pages { current: 3, count: 3, total_rows: 120 });
        assert_eq!(p3.rows.len(), 20);
        assert_eq!(p3.rows[0][0].raw(), "u100");
        assert_eq!(t.page(99).1.current, 3);
        assert_eq!(t.page(0).1.current, 1);
    }

    #[test]
    fn numbers_print_like_json() {
        assert_eq!(number(1500.0), "1500");
        assert_eq!(number(0.25), "0.25");
        assert_eq!(number(0.0), "0");
    }
}
