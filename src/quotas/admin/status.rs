//! What `quota status` and `quota audit` print: pure rendering of what was read, so the layout
//! is tested without AWS. Usage is reckoned as quota_core `usage_of` does (tokens: input +
//! output + cache read + cache write; USD: `cost_usd`), limits as `limits_for`.

use serde_json::Value;

use super::items::{AuditEntry, Block};
use crate::config::{QuotaUnit, Quotas};

/// Usage of one counter item in the configured unit; Err names the bad attribute.
pub fn usage_of(item: Option<&Value>, unit: QuotaUnit) -> Result<f64, String> {
    let Some(item) = item else { return Ok(0.0) };
    let num = |k: &str| -> Result<f64, String> {
        match item.get(k) {
            None | Some(Value::Null) => Ok(0.0),
            Some(Value::String(s)) => s.parse::<f64>().ok().filter(|x| x.is_finite()).ok_or_else(|| format!("`{k}` is not a number: {s}")),
            Some(other) => Err(format!("`{k}` is not a number: {other}")),
        }
    };
    match unit {
        QuotaUnit::Usd => num("cost_usd"),
        QuotaUnit::Tokens => Ok(num("input_tokens")? + num("output_tokens")? + num("cache_read_tokens")? + num("cache_write_tokens")?),
    }
}

/// (daily, monthly) limit of a principal; an override's unset limit keeps the default.
pub fn limits_for(q: &Quotas, principal: &str) -> (Option<f64>, Option<f64>) {
    let o = q.overrides.get(principal);
    (o.and_then(|o| o.daily_limit).or(q.daily_limit), o.and_then(|o| o.monthly_limit).or(q.monthly_limit))
}

#[derive(Debug, Clone, PartialEq)]
pub struct PrincipalRow {
    pub name: String,
    pub day: f64,
    pub month: f64,
    pub day_limit: Option<f64>,
    pub month_limit: Option<f64>,
    pub block: Option<Block>,
    /// "config" or the operator who protected it.
    pub protected: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TeamRow {
    pub name: String,
    pub month: f64,
    pub limit: Option<f64>,
    pub members: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StatusView {
    pub unit: QuotaUnit,
    pub time_zone: String,
    pub day: String,
    pub month: String,
    pub principals: Vec<PrincipalRow>,
    pub teams: Vec<TeamRow>,
    /// Usage no principal is charged with (the bedrock-mantle endpoint); `None` when the view
    /// is narrowed to a user or team.
    pub unattributed: Option<Unattributed>,
}

/// bedrock-mantle usage in the stack's region today and this month: counted against no
/// principal and no team, because those calls are not in the invocation logs the accounting
/// function reads and their metrics carry no principal ([`crate::report::mantle`]).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Unattributed {
    pub rows: Vec<UnattributedRow>,
    /// Why the metrics could not be read (then `rows` is empty).
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct UnattributedRow {
    pub model: String,
    /// Input + output tokens.
    pub today_tokens: f64,
    pub month_tokens: f64,
    /// At the price table; `None` for a model without a price.
    pub today_usd: Option<f64>,
    pub month_usd: Option<f64>,
}

/// The rows from Mantle sums of today and this month, priced with the handlers' price table.
pub fn unattributed_rows(
    today: &std::collections::BTreeMap<String, crate::report::mantle::Figures>,
    month: &std::collections::BTreeMap<String, crate::report::mantle::Figures>,
    prices: &crate::bedrock::pricing::PriceTable,
    region: &str,
) -> Vec<UnattributedRow> {
    let models: std::collections::BTreeSet<&String> = today.keys().chain(month.keys()).collect();
    models
        .into_iter()
        .map(|m| {
            let one = |by: &std::collections::BTreeMap<String, crate::report::mantle::Figures>| {
                let r = crate::report::mantle::row(m, &by.get(m).copied().unwrap_or_default(), prices, region);
                ((r.input_tokens + r.output_tokens) as f64, r.estimated_cost_usd)
            };
            let ((today_tokens, today_usd), (month_tokens, month_usd)) = (one(today), one(month));
            UnattributedRow { model: m.clone(), today_tokens, month_tokens, today_usd, month_usd }
        })
        .collect()
}

fn render_unattributed(u: &Unattributed) -> String {
    let mut out = format!("\nUnattributed (bedrock-mantle endpoint), counted against no principal or team: {}:\n", crate::report::mantle::UNATTRIBUTED_BECAUSE);
    if let Some(e) = &u.error {
        out.push_str(&format!("could not be read: {e}\n"));
    } else if u.rows.is_empty() {
        out.push_str("none\n");
    } else {
        let usd = |v: Option<f64>| v.map_or("unpriced".to_owned(), |v| format!("{v:.4}"));
        let rows: Vec<Vec<String>> = u
            .rows
            .iter()
            .map(|r| vec![r.model.clone(), amount(r.today_tokens, QuotaUnit::Tokens), amount(r.month_tokens, QuotaUnit::Tokens), usd(r.today_usd), usd(r.month_usd)])
            .collect();
        out.push_str(&table(&["MODEL", "TODAY (TOKENS)", "THIS MONTH (TOKENS)", "TODAY (EST. USD)", "THIS MONTH (EST. USD)"], &rows));
    }
    out
}

/// `1,234,567 tokens` or `0.1234 USD`, as quota_core `fmt` without the unit.
pub fn amount(v: f64, unit: QuotaUnit) -> String {
    match unit {
        QuotaUnit::Usd => format!("{v:.4}"),
        QuotaUnit::Tokens => {
            let digits = format!("{:.0}", v.round().abs());
            let mut out = String::new();
            for (i, c) in digits.chars().enumerate() {
                if i > 0 && (digits.len() - i) % 3 == 0 {
                    out.push(',');
                }
                out.push(c);
            }
            if v.round() < 0.0 {
                out.insert(0, '-');
            }
            out
        }
    }
}

fn against(used: f64, limit: Option<f64>, unit: QuotaUnit) -> String {
    match limit {
        None => format!("{} (no limit)", amount(used, unit)),
        Some(l) if l > 0.0 => format!("{} / {} ({:.0}%)", amount(used, unit), amount(l, unit), (used / l * 100.0).floor()),
        Some(l) => format!("{} / {}", amount(used, unit), amount(l, unit)),
    }
}

/// Left-aligned columns, two spaces apart, no trailing blanks.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            s.push_str(c);
            if i + 1 < cells.len() {
                s.push_str(&" ".repeat(widths[i] - c.chars().count() + 2));
            }
        }
        s.trim_end().to_owned() + "\n"
    };
    let mut out = line(header.iter().map(|h| (*h).to_owned()).collect());
    for r in rows {
        out.push_str(&line(r.clone()));
    }
    out
}

/// The STATE column of `quota status` (also the console's Users page).
pub fn state(p: &PrincipalRow) -> String {
    let mut parts = Vec::new();
    if let Some(b) = &p.block {
        parts.push(format!("blocked until {}", b.until));
    }
    match p.protected.as_deref() {
        Some("config") => parts.push("protected (config)".into()),
        Some(by) => parts.push(format!("protected by {by}")),
        None => {}
    }
    let over = |used: f64, limit: Option<f64>| limit.is_some_and(|l| used >= l);
    if p.block.is_none() && (over(p.day, p.day_limit) || over(p.month, p.month_limit)) {
        parts.push("over limit".into());
    }
    if parts.is_empty() {
        "ok".into()
    } else {
        parts.join(", ")
    }
}

pub fn render_status(v: &StatusView) -> String {
    let unit = match v.unit {
        QuotaUnit::Tokens => "tokens",
        QuotaUnit::Usd => "estimated USD",
    };
    let mut out = format!("Usage on {} and in {} ({}), in {unit}:\n", v.day, v.month, v.time_zone);
    if v.principals.is_empty() {
        out.push_str("no usage counted and no principal blocked or protected\n");
    } else {
        let rows: Vec<Vec<String>> = v
            .principals
            .iter()
            .map(|p| vec![p.name.clone(), against(p.day, p.day_limit, v.unit), against(p.month, p.month_limit, v.unit), state(p)])
            .collect();
        out.push_str(&table(&["PRINCIPAL", "TODAY", "THIS MONTH", "STATE"], &rows));
    }
    if !v.teams.is_empty() {
        out.push_str("\nTeams:\n");
        let rows: Vec<Vec<String>> = v.teams.iter().map(|t| vec![t.name.clone(), against(t.month, t.limit, v.unit), t.members.join(", ")]).collect();
        out.push_str(&table(&["TEAM", "THIS MONTH", "MEMBERS"], &rows));
    }
    let blocks: Vec<&Block> = v.principals.iter().filter_map(|p| p.block.as_ref()).collect();
    out.push('\n');
    if blocks.is_empty() {
        out.push_str("No blocks in force.\n");
    } else {
        out.push_str("Blocks in force:\n");
        let rows: Vec<Vec<String>> =
            blocks.iter().map(|b| vec![b.principal.clone(), b.until.clone(), b.target.mechanism().to_owned(), b.blocked_by.clone(), b.reason.clone()]).collect();
        out.push_str(&table(&["PRINCIPAL", "UNTIL", "MECHANISM", "BLOCKED BY", "REASON"], &rows));
    }
    if let Some(u) = &v.unattributed {
        out.push_str(&render_unattributed(u));
    }
    out
}

/// `quota status --format json`: the same view as data, numbers in the quota unit (the
/// console's CSV export holds the same figures).
pub fn status_json(v: &StatusView) -> Value {
    let unit = match v.unit {
        QuotaUnit::Tokens => "tokens",
        QuotaUnit::Usd => "usd",
    };
    let principals: Vec<Value> = v
        .principals
        .iter()
        .map(|p| {
            serde_json::json!({
                "name": p.name, "today": p.day, "daily_limit": p.day_limit, "this_month": p.month, "monthly_limit": p.month_limit,
                "state": state(p),
                "block": p.block.as_ref().map(|b| serde_json::json!({"until": b.until, "reason": b.reason, "blocked_by": b.blocked_by, "blocked_at": b.blocked_at, "mechanism": b.target.mechanism()})),
                "protected_by": p.protected,
            })
        })
        .collect();
    let teams: Vec<Value> = v.teams.iter().map(|t| serde_json::json!({"name": t.name, "this_month": t.month, "monthly_limit": t.limit, "members": t.members})).collect();
    let unattributed = v.unattributed.as_ref().map(|u| {
        serde_json::json!({
            "source": "bedrock-mantle", "because": crate::report::mantle::UNATTRIBUTED_BECAUSE, "error": u.error,
            "models": u.rows.iter().map(|r| serde_json::json!({"model": r.model, "today_tokens": r.today_tokens, "this_month_tokens": r.month_tokens,
                "today_estimated_usd": r.today_usd, "this_month_estimated_usd": r.month_usd})).collect::<Vec<_>>(),
        })
    });
    serde_json::json!({"unit": unit, "time_zone": v.time_zone, "day": v.day, "month": v.month, "principals": principals, "teams": teams, "unattributed": unattributed})
}

/// A delay in milliseconds as an operator reads it: `850 ms`, `4.2 s`, `3 min 5 s`.
fn delay_text(ms: u64) -> String {
    match ms {
        0..1_000 => format!("{ms} ms"),
        1_000..60_000 => format!("{:.1} s", ms as f64 / 1000.0),
        _ => format!("{} min {} s", ms / 60_000, (ms % 60_000) / 1000),
    }
}

pub fn render_audit(entries: &[AuditEntry]) -> String {
    if entries.is_empty() {
        return "no audit entries\n".into();
    }
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| {
            let reason = if e.result == "failed" {
                let err = e.details.get("error").and_then(Value::as_str).unwrap_or("");
                format!("{} (error: {err})", e.reason)
            } else {
                match e.details.get("enforcement_delay_ms").and_then(Value::as_u64) {
                    // Automatic blocks say how long the over-limit call ran free: log delivery
                    // plus the function (IAM's own propagation comes after; see README Quotas).
                    Some(ms) => format!("{} (deny attached {} after the call)", e.reason, delay_text(ms)),
                    None => e.reason.clone(),
                }
            };
            vec![e.at.clone(), e.action.clone(), e.principal.clone(), e.result.clone(), e.actor.clone(), e.until.clone().unwrap_or_else(|| "-".into()), reason]
        })
        .collect();
    table(&["TIME", "ACTION", "PRINCIPAL", "RESULT", "ACTOR", "UNTIL", "REASON"], &rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn usage_counts_like_quota_core() {
        let item = json!({"input_tokens": "1000", "output_tokens": "250", "cache_read_tokens": "5", "cache_write_tokens": "0", "cost_usd": "0.001234567891"});
        assert_eq!(usage_of(Some(&item), QuotaUnit::Tokens), Ok(1255.0));
        assert_eq!(usage_of(Some(&item), QuotaUnit::Usd), Ok(0.001234567891));
        assert_eq!(usage_of(None, QuotaUnit::Tokens), Ok(0.0));
        assert!(usage_of(Some(&json!({"input_tokens": "lots"})), QuotaUnit::Tokens).unwrap_err().contains("input_tokens"));
    }

    #[test]
    fn audit_shows_the_enforcement_delay_of_automatic_blocks() {
        let entry = |details: Value| {
            AuditEntry::from_json(&json!({"pk": "AUDIT#2026-12", "sk": "2026-12-01T20:00:00.000Z#id", "action": "block",
                "principal": "bob", "actor": "automatic", "reason": "day limit reached", "result": "ok",
                "details": details.to_string()}))
        };
        let out = render_audit(&[entry(json!({"enforcement_delay_ms": 183_250})), entry(json!({"enforcement_delay_ms": 850})), entry(json!({}))]);
        assert!(out.contains("day limit reached (deny attached 3 min 3 s after the call)"), "{out}");
        assert!(out.contains("day limit reached (deny attached 850 ms after the call)"), "{out}");
        assert_eq!(out.matches("deny attached").count(), 2, "a block without a measured call claims no delay: {out}");
        assert_eq!(delay_text(4_200), "4.2 s");
    }

    #[test]
    fn overrides_keep_the_default_where_unset() {
        let mut q = Quotas { daily_limit: Some(10.0), monthly_limit: Some(100.0), ..Quotas::default() };
        q.overrides.insert("raj".into(), crate::config::QuotaOverride { daily_limit: Some(50.0), monthly_limit: None });
        assert_eq!(limits_for(&q, "raj"), (Some(50.0), Some(100.0)));
        assert_eq!(limits_for(&q, "ann"), (Some(10.0), Some(100.0)));
    }

    #[test]
    fn status_json_has_the_table_figures() {
        let v = StatusView {
            unit: QuotaUnit::Tokens,
            time_zone: "UTC".into(),
            day: "2026-12-02".into(),
            month: "2026-12".into(),
            principals: vec![PrincipalRow { name: "ann".into(), day: 150.0, month: 150.0, day_limit: Some(100.0), month_limit: None, block: None, protected: None }],
            teams: vec![TeamRow { name: "ml".into(), month: 150.0, limit: Some(1000.0), members: vec!["ann".into()] }],
            unattributed: None,
        };
        let j = status_json(&v);
        assert_eq!(j["principals"][0]["state"], "over limit");
        assert_eq!(j["principals"][0]["today"], 150.0);
        assert_eq!(j["principals"][0]["monthly_limit"], Value::Null);
        assert_eq!(j["teams"][0]["members"][0], "ann");
        assert_eq!(j["unit"], "tokens");
    }

    #[test]
    fn amounts_read_like_the_notifications() {
        assert_eq!(amount(1234567.0, QuotaUnit::Tokens), "1,234,567");
        assert_eq!(amount(999.0, QuotaUnit::Tokens), "999");
        assert_eq!(amount(0.123456, QuotaUnit::Usd), "0.1235");
    }

    #[test]
    fn mantle_usage_is_shown_as_unattributed_and_counted_against_nobody() {
        use crate::report::mantle::Figures;
        let haiku = "anthropic.claude-3-5-haiku-20241022-v1:0";
        let mut today = std::collections::BTreeMap::new();
        today.insert(haiku.to_owned(), Figures { inferences: 1.0, input_tokens: 1_000.0, output_tokens: 500.0 });
        let mut month = today.clone();
        month.insert(haiku.to_owned(), Figures { inferences: 4.0, input_tokens: 10_000.0, output_tokens: 2_000.0 });
        month.insert("openai.gpt-oss-120b".to_owned(), Figures { inferences: 1.0, input_tokens: 70.0, output_tokens: 30.0 });
        let rows = unattributed_rows(&today, &month, &crate::bedrock::pricing::PriceTable::built_in(), "us-east-1");
        assert_eq!(rows.len(), 2);
        // Haiku 3.5: 1,000 × 0.0008 + 500 × 0.004 (per 1K) = 0.0028 today; 0.008 + 0.008 this month.
        assert_eq!((rows[0].today_tokens, rows[0].month_tokens), (1_500.0, 12_000.0));
        assert!((rows[0].today_usd.unwrap() - 0.0028).abs() < 1e-12 && (rows[0].month_usd.unwrap() - 0.016).abs() < 1e-12);
        assert_eq!((rows[1].today_tokens, rows[1].today_usd, rows[1].month_usd), (0.0, None, None));
        let principal = PrincipalRow { name: "ann".into(), day: 10.0, month: 10.0, day_limit: Some(100.0), month_limit: None, block: None, protected: None };
        let v = StatusView {
            unit: QuotaUnit::Tokens,
            time_zone: "UTC".into(),
            day: "2026-12-02".into(),
            month: "2026-12".into(),
            principals: vec![principal],
            teams: vec![],
            unattributed: Some(Unattributed { rows, error: None }),
        };
        let text = render_status(&v);
        assert!(text.contains("Unattributed (bedrock-mantle endpoint), counted against no principal or team: calls through the bedrock-mantle endpoint are not in the invocation logs"), "{text}");
        assert!(text.contains("anthropic.claude-3-5-haiku-20241022-v1:0  1,500           12,000               0.0028            0.0160"), "{text}");
        assert!(text.contains("openai.gpt-oss-120b                       0               100                  unpriced          unpriced"), "{text}");
        assert!(text.contains("ann        10 / 100 (10%)  10 (no limit)  ok"), "the principal's own usage does not include Mantle: {text}");
        let j = status_json(&v);
        assert_eq!(j["unattributed"]["models"][0]["this_month_tokens"], 12_000.0);
        assert_eq!(j["unattributed"]["source"], "bedrock-mantle");
        let failed = StatusView { unattributed: Some(Unattributed { rows: vec![], error: Some("access denied on GetMetricData".into()) }), ..v };
        assert!(render_status(&failed).contains("could not be read: access denied on GetMetricData"));
    }
}
