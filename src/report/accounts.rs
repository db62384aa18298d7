//! `report --account ID` and `report --org`: the report read in the organization's monitoring
//! account over the member accounts linked to it (CloudWatch cross-account observability), no
//! stack needed there.
//!
//! - Accounts and models: ListMetrics with `IncludeLinkedAccounts` answers each metric with its
//!   `OwningAccounts` entry, so one paged call names every (account, model) with Bedrock
//!   traffic; `OwningAccount` narrows it to the one account of `--account`. This reads the
//!   accounts that have figures to report (not every linked account: ListMetrics returns
//!   metrics with data in the last two weeks), without the OAM API (and its SDK crate).
//! - Figures: the same GetMetricData queries as a stack's report, each with `AccountId`.
//! - Per-user figures: the saved per-user query over the accounts' invocation log groups,
//!   named by ARN (a monitoring account must name another account's log group by ARN), at most
//!   50 per StartQuery.

use std::collections::{BTreeMap, BTreeSet};

use crate::bedrock::pricing::PriceTable;

use super::metrics::{by_model, Fetched, MetricQuery};
use super::model::AccountRow;
use super::{assemble, Request};

/// Which linked accounts a report covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// `--account ID`: one account.
    Account(String),
    /// `--org`: every linked account with Bedrock metrics, summed, with a row per account.
    Org,
}

impl Scope {
    /// The account ListMetrics is narrowed to.
    pub fn only(&self) -> Option<&str> {
        match self {
            Scope::Account(a) => Some(a),
            Scope::Org => None,
        }
    }
}

/// `--account`'s value: exactly 12 digits.
pub fn parse_account(text: &str) -> Result<String, String> {
    let t = text.trim();
    if crate::config::organization::is_account_id(t) {
        Ok(t.to_owned())
    } else {
        Err(format!("`{}` is not an account id: --account takes the 12-digit id of an account linked to this monitoring account (quote it to keep leading zeros)", crate::config::values::shorten(text)))
    }
}

/// The (account, model) pairs in scope, sorted and once each: an API that ignored
/// `OwningAccount` cannot widen `--account` to other accounts.
pub fn pairs_in_scope(mut pairs: Vec<(String, String)>, only: Option<&str>) -> Vec<(String, String)> {
    if let Some(a) = only {
        pairs.retain(|(acct, _)| acct == a);
    }
    pairs.sort();
    pairs.dedup();
    pairs
}

/// Adds the config's `models` for every account in scope (a listed model without recent
/// metrics is still read, as in a stack's report).
pub fn with_configured_models(mut pairs: Vec<(String, String)>, models: &[String], only: Option<&str>) -> Vec<(String, String)> {
    let mut accounts: BTreeSet<String> = pairs.iter().map(|(a, _)| a.clone()).collect();
    if let Some(a) = only {
        accounts.insert(a.to_owned());
    }
    for a in &accounts {
        for m in models {
            pairs.push((a.clone(), m.clone()));
        }
    }
    pairs_in_scope(pairs, only)
}

/// The queries' account: `None` for the caller's own (it needs no `AccountId`).
pub fn query_pairs(pairs: &[(String, String)], own: &str) -> Vec<(Option<String>, String)> {
    pairs.iter().map(|(a, m)| ((a != own).then(|| a.clone()), m.clone())).collect()
}

/// How StartQuery names an account's invocation log group from the monitoring account: by
/// name in the caller's own account, else by ARN (without a trailing `*`).
pub fn log_group_identifier(region: &str, account: &str, own: &str, log_group: &str) -> String {
    if account == own {
        log_group.to_owned()
    } else {
        format!("arn:aws:logs:{region}:{account}:log-group:{log_group}")
    }
}

/// One row per account, from the same fetched figures as the totals, ranked by estimated
/// cost then invocations then id. Each account's figures go through [`assemble`], so a row and
/// a one-account report compute cost and latency the same way.
pub fn account_rows(region: &str, req: &Request, queries: &[MetricQuery], fetched: &Fetched, own: &str, prices: &PriceTable) -> Vec<AccountRow> {
    let mut per: BTreeMap<String, Vec<MetricQuery>> = BTreeMap::new();
    for q in queries {
        per.entry(q.account.clone().unwrap_or_else(|| own.to_owned())).or_default().push(q.clone());
    }
    let mut rows: Vec<AccountRow> = per
        .into_iter()
        .map(|(account_id, qs)| {
            let figures = by_model(&qs, fetched);
            let r = assemble(region, "", None, req, &figures, Err(String::new()), prices);
            AccountRow {
                account_id,
                invocations: r.totals.invocations,
                input_tokens: r.totals.input_tokens,
                output_tokens: r.totals.output_tokens,
                cache_read_tokens: r.totals.cache_read_tokens,
                cache_write_tokens: r.totals.cache_write_tokens,
                estimated_cost_usd: r.totals.estimated_cost_usd,
                unpriced_models: r.totals.unpriced_models,
                average_latency_ms: r.performance.average_latency_ms,
                errors: r.performance.errors,
                throttles: r.performance.throttles,
            }
        })
        .collect();
    rows.sort_by(|a, b| b.estimated_cost_usd.total_cmp(&a.estimated_cost_usd).then(b.invocations.cmp(&a.invocations)).then(a.account_id.cmp(&b.account_id)));
    rows
}

/// Reads the linked accounts' metrics and logs from the monitoring account in `aws.region`.
#[cfg(feature = "aws")]
pub async fn generate(aws: &crate::aws::Aws, config: &crate::config::Config, req: &Request, scope: &Scope, progress: &mut dyn super::Progress) -> Result<super::Report, super::ReportError> {
    use super::{insights, metrics, ReportError};
    let region = aws.region.clone();
    progress.step("reading the caller's account (GetCallerIdentity)");
    let identity = aws.sts().get_caller_identity().send().await.map_err(|e| ReportError::Aws(aws.error("GetCallerIdentity", e)))?;
    let own = identity.account().unwrap_or_default().to_owned();
    let api = metrics::SdkMetrics { aws, client: aws.cloudwatch() };
    progress.step("listing Bedrock models of the linked accounts (ListMetrics IncludeLinkedAccounts)");
    let found = metrics::MetricsApi::list_model_accounts(&api, scope.only(), &own).await?;
    let pairs = with_configured_models(found, &config.models, scope.only());
    if pairs.is_empty() {
        return Err(ReportError::NoLinkedMetrics { region, account: scope.only().map(str::to_owned) });
    }
    let queries = metrics::queries_for_accounts(&query_pairs(&pairs, &own), &req.period);
    let fetched = metrics::fetch(&api, &queries, &req.period, |i, n| progress.step(&format!("reading metrics: GetMetricData call {i} of {n} ({} queries)", queries.len()))).await?;
    let figures = by_model(&queries, &fetched);

    let accounts: BTreeSet<&str> = pairs.iter().map(|(a, _)| a.as_str()).collect();
    let log_group = &config.logging.log_group_name;
    let identifiers: Vec<String> = accounts.iter().map(|a| log_group_identifier(&region, a, &own, log_group)).collect();
    progress.step(&format!("running the per-user Logs Insights query on {} account(s)' {log_group}", identifiers.len()));
    let logs = insights::SdkLogs { aws, client: aws.logs() };
    let prices = config.pricing.table();
    let users = match insights::user_query(config, &region) {
        Ok(q) => match insights::run_across(&logs, &identifiers, &req.period, &q).await {
            Ok((rows, truncated)) => {
                let mut u = insights::parse(&rows, &prices, &region);
                u.truncated |= truncated;
                Ok(u)
            }
            Err(e @ ReportError::Aws(_)) => Err(format!("per-user figures unavailable: {e}; help: {}", e.help())),
            Err(e) => Err(format!("per-user figures unavailable: {e}")),
        },
        Err(e) => Err(format!("per-user figures unavailable: {e}")),
    };
    let base = config.organization.as_ref().and_then(|o| o.stack_set_name.clone()).unwrap_or_else(|| config.stack_name.clone());
    let mut report = assemble(&region, &format!("{base}-{region}"), Some(log_group.clone()), req, &figures, users, &prices);
    report.notes.extend(fetched.messages.iter().map(|m| format!("CloudWatch: {m}")));
    match scope {
        Scope::Account(a) => report.account = Some(a.clone()),
        Scope::Org => {
            report.accounts = account_rows(&region, req, &queries, &fetched, &own, &prices);
            report.notes.push(format!(
                "read in account {own} over the accounts linked to it that have Bedrock metrics in {region} (ListMetrics lists metrics with data in the last two weeks)"
            ));
        }
    }
    report.schema = report.schema_for().to_owned();
    if report.totals.invocations == 0 && report.users.rows.is_empty() {
        return Err(ReportError::NoData { region, start: report.period.start, end: report.period.end });
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::metrics::{queries_for_accounts, Measure};
    use crate::report::Period;

    const A: &str = "111111111111";
    const B: &str = "222222222222";
    const OWN: &str = "999999999999";
    const HAIKU: &str = "anthropic.claude-3-5-haiku-20241022-v1:0";
    const SONNET: &str = "anthropic.claude-sonnet-4-20250514-v1:0";

    #[test]
    fn the_account_flag_takes_twelve_digits_and_names_itself() {
        assert_eq!(parse_account(" 012345678901 ").unwrap(), "012345678901");
        for bad in ["12345678901", "1234567890123", "12345678901a", "", "arn:aws:iam::111111111111:root"] {
            let e = parse_account(bad).unwrap_err();
            assert!(e.contains("--account") && e.contains("12-digit"), "{e}");
        }
    }

    #[test]
    fn pairs_are_narrowed_to_the_account_even_if_the_api_ignored_the_filter() {
        let found = vec![(B.into(), HAIKU.into()), (A.into(), SONNET.into()), (A.into(), SONNET.into())];
        assert_eq!(pairs_in_scope(found.clone(), Some(A)), vec![(A.to_owned(), SONNET.to_owned())]);
        assert_eq!(pairs_in_scope(found, None).len(), 2);
        let with = with_configured_models(vec![(A.into(), SONNET.into())], &[HAIKU.to_owned()], None);
        assert_eq!(with, vec![(A.to_owned(), HAIKU.to_owned()), (A.to_owned(), SONNET.to_owned())]);
        // An account with no metrics still gets the listed models when asked for by name.
        assert_eq!(with_configured_models(vec![], &[HAIKU.to_owned()], Some(B)), vec![(B.to_owned(), HAIKU.to_owned())]);
        assert!(with_configured_models(vec![], &[HAIKU.to_owned()], None).is_empty());
    }

    #[test]
    fn another_accounts_log_group_is_named_by_arn() {
        assert_eq!(log_group_identifier("eu-west-1", A, OWN, "/aws/bedrock/modelinvocations"), "arn:aws:logs:eu-west-1:111111111111:log-group:/aws/bedrock/modelinvocations");
        assert_eq!(log_group_identifier("eu-west-1", OWN, OWN, "/aws/bedrock/modelinvocations"), "/aws/bedrock/modelinvocations");
        assert_eq!(query_pairs(&[(OWN.into(), HAIKU.into()), (A.into(), HAIKU.into())], OWN), vec![(None, HAIKU.to_owned()), (Some(A.to_owned()), HAIKU.to_owned())]);
    }

    /// Two accounts: A calls Haiku 10 times (10,000 in, 2,000 out), B Sonnet 4 times
    /// (4,000 in, 1,000 out); the rows and the totals come from the same datapoints.
    #[test]
    fn rows_per_account_sum_to_the_totals_and_rank_by_cost() {
        let day = 1_794_960_000;
        let period = Period { start: day, end: day + 86_400 };
        let queries = queries_for_accounts(&[(Some(A.into()), HAIKU.into()), (Some(B.into()), SONNET.into())], &period);
        assert!(queries.iter().all(|q| q.account.is_some()));
        let mut fetched = Fetched::default();
        let value = |q: &MetricQuery| match (q.account.as_deref(), q.measure) {
            (Some(A), Measure::Invocations) => 10.0,
            (Some(A), Measure::InputTokens) => 10_000.0,
            (Some(A), Measure::OutputTokens) => 2_000.0,
            (Some(B), Measure::Invocations) => 4.0,
            (Some(B), Measure::InputTokens) => 4_000.0,
            (Some(B), Measure::OutputTokens) => 1_000.0,
            (Some(B), Measure::ServerErrors) => 1.0,
            _ => 0.0,
        };
        for q in &queries {
            fetched.points.insert(q.id.clone(), vec![(day, value(q))]);
        }
        let req = Request { period, top_users: 10, now: day + 86_400 };
        let prices = PriceTable::built_in();
        let rows = account_rows("us-east-1", &req, &queries, &fetched, OWN, &prices);
        let ids: Vec<&str> = rows.iter().map(|r| r.account_id.as_str()).collect();
        // Sonnet 4: 4,000 × $0.003 + 1,000 × $0.015 per 1K = $0.027; Haiku 3.5: 10,000 × $0.0008
        // + 2,000 × $0.004 = $0.016.
        assert_eq!(ids, [B, A]);
        assert!((rows[0].estimated_cost_usd - 0.027).abs() < 1e-12, "{}", rows[0].estimated_cost_usd);
        assert!((rows[1].estimated_cost_usd - 0.016).abs() < 1e-12, "{}", rows[1].estimated_cost_usd);
        assert_eq!((rows[0].invocations, rows[0].errors, rows[1].invocations, rows[1].errors), (4, 1, 10, 0));
        let total = assemble("us-east-1", "s", None, &req, &by_model(&queries, &fetched), Err(String::new()), &prices);
        assert_eq!(total.totals.invocations, rows.iter().map(|r| r.invocations).sum::<u64>());
        assert!((total.totals.estimated_cost_usd - rows.iter().map(|r| r.estimated_cost_usd).sum::<f64>()).abs() < 1e-12);
    }

    #[test]
    fn one_model_in_two_accounts_is_summed_and_its_p99_is_the_higher() {
        let period = Period { start: 0, end: 3600 };
        let queries = queries_for_accounts(&[(Some(A.into()), HAIKU.into()), (Some(B.into()), HAIKU.into())], &period);
        let mut fetched = Fetched::default();
        for q in &queries {
            let v = match (q.account.as_deref(), q.measure) {
                (_, Measure::Invocations) => 3.0,
                (Some(A), Measure::LatencyP99) => 900.0,
                (Some(B), Measure::LatencyP99) => 1_200.0,
                _ => 0.0,
            };
            fetched.points.insert(q.id.clone(), vec![(0, v)]);
        }
        let figs = by_model(&queries, &fetched);
        assert_eq!(figs[HAIKU].total(Measure::Invocations), 6.0);
        assert_eq!(figs[HAIKU].p99, Some(1_200.0));
    }
}
