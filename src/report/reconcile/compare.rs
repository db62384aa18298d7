//! Billed against estimated, per principal and model, and the drift rules. Pure: the billed
//! side is [`Billed`], the estimated side the same per-principal, per-model sums `report` reads
//! from Logs Insights, priced with the same table; the output is the rows of the
//! reconciliation.
//!
//! Models meet by key ([`billed::model_key_of_id`]): the bill names a model by a billing name
//! in its usage type (`Claude3.5Haiku`) or an inference-profile ARN, the logs by its id, so both
//! sides are reduced to the model's words and numbers. Versions the bill does not tell apart
//! (two releases of one model) share a row.

use std::collections::{BTreeMap, BTreeSet};

use super::billed::{self, Billed, NO_PRINCIPAL};
use super::model::{Reason, Row, Totals};
use crate::bedrock::pricing::{base_model_id, PriceTable, Tokens};
use crate::bedrock::service_tier::split_tier_suffix;
use crate::report::insights::PrincipalModelSums;

/// What the rules need besides the two sides.
#[derive(Debug, Clone)]
pub struct Settings {
    pub region: String,
    pub drift_threshold_percent: f64,
    pub min_difference_usd: f64,
    /// Prices are judged stale against this day (the last day of the period).
    pub price_date: jiff::civil::Date,
    pub max_age_days: u32,
}

#[derive(Debug, Default)]
struct Logged {
    /// Model id as logged → calls and tokens.
    by_id: BTreeMap<String, (u64, Tokens)>,
}

fn add(a: &mut Tokens, b: &Tokens) {
    a.input += b.input;
    a.output += b.output;
    a.cache_read += b.cache_read;
    a.cache_write += b.cache_write;
    a.cache_write_1h += b.cache_write_1h;
}

/// The rows, sorted by principal, model and mantle.
pub fn rows(billed: &Billed, logged: &PrincipalModelSums, prices: &PriceTable, s: &Settings) -> Vec<Row> {
    // Logged usage by (principal, model key).
    let mut logs: BTreeMap<(String, String), Logged> = BTreeMap::new();
    for (principal, models) in logged {
        for (id, (calls, t)) in models {
            let e = logs.entry((principal.clone(), billed::model_key_of_id(id))).or_default().by_id.entry(id.clone()).or_default();
            e.0 += calls;
            add(&mut e.1, t);
        }
    }
    let logged_principals: BTreeSet<&str> = logged.iter().filter(|(_, m)| m.values().any(|(c, t)| *c > 0 || *t != Tokens::default())).map(|(p, _)| p.as_str()).collect();
    let mut keys: BTreeSet<(String, String, bool)> = billed.groups.keys().map(|k| (k.principal.clone(), k.model_key.clone(), k.mantle)).collect();
    keys.extend(logs.keys().map(|(p, k)| (p.clone(), k.clone(), false)));
    let table_ids: Vec<&str> = prices.model_ids().collect();
    let price_rows = prices.rows(&s.region);
    let empty = Logged::default();

    let mut out: Vec<Row> = keys
        .into_iter()
        .map(|(principal, key, mantle)| {
            let b = billed.groups.get(&billed::BilledKey { principal: principal.clone(), model_key: key.clone(), mantle });
            // Mantle usage is never in the invocation logs: its row has only the billed side.
            let l = if mantle { &empty } else { logs.get(&(principal.clone(), key.clone())).unwrap_or(&empty) };
            let mut row = Row { principal: principal.clone(), mantle, ..Row::default() };
            let mut unpriced = BTreeSet::new();
            let mut ids = BTreeSet::new();
            let mut stale = Vec::new();
            for (id, (calls, t)) in &l.by_id {
                row.logged_calls += calls;
                row.logged_input_tokens += t.input;
                row.logged_output_tokens += t.output;
                row.logged_cache_read_tokens += t.cache_read;
                row.logged_cache_write_tokens += t.cache_write + t.cache_write_1h;
                // Rows of one model on several tiers (`<model>+flex`) are one model on the bill.
                let base = base_model_id(split_tier_suffix(id).0).to_owned();
                match prices.price(id, &s.region) {
                    Some(p) => {
                        row.estimated_usd += p.cost(t);
                        if let Some(pr) = price_rows.iter().find(|r| r.model == *id || r.model == base) {
                            stale.extend(pr.staleness(s.price_date, s.max_age_days));
                        }
                    }
                    None => {
                        unpriced.insert(base.clone());
                    }
                }
                ids.insert(base);
            }
            if let Some(b) = b {
                row.billed_usd = b.cost_usd;
                row.billed_usage_names = b.usage_names.iter().cloned().collect();
            }
            row.model = label(&ids, b, &key, &table_ids);
            row.unpriced_models = unpriced.into_iter().collect();
            row.difference_usd = row.estimated_usd - row.billed_usd;
            row.drift_percent = (row.billed_usd > 0.0).then(|| row.difference_usd / row.billed_usd * 100.0);
            row.drifting = row.difference_usd.abs() >= s.min_difference_usd
                && match row.drift_percent {
                    Some(d) => d.abs() > s.drift_threshold_percent,
                    None => row.difference_usd > 0.0,
                };
            if row.drifting {
                let (reason, detail) = explain(&row, logged_principals.contains(principal.as_str()), &stale, billed, s);
                row.reason = Some(reason);
                row.detail = Some(detail);
            }
            row
        })
        .collect();
    out.sort_by(|a, b| (&a.principal, &a.model, a.mantle).cmp(&(&b.principal, &b.model, b.mantle)));
    out
}

/// The row's model: the logged ids, else the ids of the bill's resource ARNs, else the one
/// priced model with the same key, else the bill's names.
fn label(logged_ids: &BTreeSet<String>, b: Option<&billed::BilledGroup>, key: &str, table_ids: &[&str]) -> String {
    if !logged_ids.is_empty() {
        return logged_ids.iter().cloned().collect::<Vec<_>>().join(" + ");
    }
    if let Some(b) = b {
        if !b.model_ids.is_empty() {
            return b.model_ids.iter().cloned().collect::<Vec<_>>().join(" + ");
        }
        let same: Vec<&&str> = table_ids.iter().filter(|id| billed::model_key_of_id(id) == key).collect();
        if let [one] = same.as_slice() {
            return (**one).to_owned();
        }
        return b.usage_names.iter().cloned().collect::<Vec<_>>().join(" + ");
    }
    key.to_owned()
}

/// The reason of a drifting row, checked in this order: traffic the logs cannot have, a model
/// without a price, an old price, and what is left.
fn explain(row: &Row, principal_logged: bool, stale: &[String], billed: &Billed, s: &Settings) -> (Reason, String) {
    let logged_nothing = row.logged_calls == 0 && row.logged_input_tokens + row.logged_output_tokens + row.logged_cache_read_tokens + row.logged_cache_write_tokens == 0;
    if row.billed_usd > 0.0 && logged_nothing {
        let why = if row.mantle {
            "billed through bedrock-mantle (its Responses, Chat Completions and Messages APIs), which model invocation logging does not capture".to_owned()
        } else if row.principal == NO_PRINCIPAL {
            "the bill names no IAM principal for this usage (for example usage before the export included IAM principal data)".to_owned()
        } else if !principal_logged {
            format!("no invocation-log records of this principal in {}: its calls are missing from this log group (made in another region, through bedrock-mantle, or while invocation logging was off)", s.region)
        } else {
            format!("the principal's invocation logs in {} have no calls of this model (made in another region, through another endpoint, or while invocation logging was off)", s.region)
        };
        return (Reason::UntrackedTraffic, why);
    }
    if !row.unpriced_models.is_empty() {
        return (Reason::MissingPrice, format!("no price for {} in {}: its tokens are not in the estimate; add it under pricing.models (or pricing.regions.{})", row.unpriced_models.join(", "), s.region, s.region));
    }
    if !stale.is_empty() {
        return (Reason::StalePrice, format!("{}; update the price (https://aws.amazon.com/bedrock/pricing/) with a new as_of", stale.join("; ")));
    }
    let detail = if row.billed_usd == 0.0 {
        let unmatched: BTreeSet<&str> = billed
            .groups
            .iter()
            .filter(|(k, _)| k.principal == row.principal)
            .flat_map(|(_, g)| g.usage_names.iter().map(String::as_str))
            .collect();
        let names = if unmatched.is_empty() { String::new() } else { format!(" (this principal's billed model names: {})", unmatched.into_iter().collect::<Vec<_>>().join(", ")) };
        format!("logged but not billed: the export has no line for this principal and model; IAM principal data starts when the export was created, or the bill names the model differently{names}")
    } else if row.difference_usd < 0.0 {
        "billed more than the logged tokens cost at the price table: calls the logs miss, a pricier tier (priority, long context) or a price rise".to_owned()
    } else {
        "billed less than the logged tokens cost at the price table: a discount or private price not in pricing.discount_percent, a cheaper tier (flex, batch) or a price cut".to_owned()
    };
    (Reason::Unexplained, detail)
}

/// Sums over the rows.
pub fn totals(rows: &[Row]) -> Totals {
    let billed_usd: f64 = rows.iter().map(|r| r.billed_usd).sum();
    let estimated_usd: f64 = rows.iter().map(|r| r.estimated_usd).sum();
    let difference_usd = estimated_usd - billed_usd;
    Totals {
        billed_usd,
        estimated_usd,
        difference_usd,
        drift_percent: (billed_usd > 0.0).then(|| difference_usd / billed_usd * 100.0),
        rows: rows.len(),
        drifting_rows: rows.iter().filter(|r| r.drifting).count(),
    }
}
