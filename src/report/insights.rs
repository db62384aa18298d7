//! Per-user figures from Logs Insights on the invocation log group: start the saved per-user
//! query of the stack (same text, same identity rule), poll with backoff until it ends, fetch,
//! and price the tokens per user and model with the shared price table.
//!
//! Logs Insights returns at most 10,000 rows; the report says when it got that many, since
//! users may then be missing.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::bedrock::log_usage::INSIGHTS_TIER_FIELD;
use crate::bedrock::pricing::{PriceTable, Tokens};
use crate::bedrock::service_tier::{split_tier_suffix, with_tier_suffix, ServiceTier};
use crate::config::Config;
use crate::monitoring::attribution;

use super::model::UserRow;
use super::period::Period;
use super::ReportError;

/// Logs Insights' maximum number of result rows.
pub const MAX_ROWS: usize = attribution::MAX_QUERY_ROWS;
/// A query running longer than this is abandoned (Logs Insights itself times out at 60 minutes).
pub const POLL_LIMIT: Duration = Duration::from_secs(15 * 60);

/// The per-user query: the stack's saved "tokens and estimated cost per user, model and day"
/// query, with the row limit raised to the maximum (shared with the scheduled report).
pub fn user_query(config: &Config, region: &str) -> Result<String, ReportError> {
    attribution::per_user_report_query(config, region).map_err(|length| ReportError::QueryTooLong { length })
}

/// Where a query is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Scheduled,
    Running,
    Complete,
    Failed,
    Cancelled,
    Timeout,
    Unknown,
}

impl Status {
    pub fn finished(self) -> bool {
        !matches!(self, Status::Scheduled | Status::Running)
    }
}

/// One GetQueryResults answer: rows of (field, value).
#[derive(Debug, Clone, PartialEq)]
pub struct Results {
    pub status: Status,
    pub rows: Vec<Vec<(String, String)>>,
}

#[allow(async_fn_in_trait)]
pub trait LogsApi {
    async fn start_query(&self, log_group: &str, period: &Period, query: &str) -> Result<String, ReportError>;
    /// One query over several log groups, named by name or (another account's, from a
    /// monitoring account) ARN: StartQuery `logGroupIdentifiers`, at most [`MAX_LOG_GROUPS_PER_QUERY`].
    async fn start_query_identifiers(&self, identifiers: &[String], period: &Period, query: &str) -> Result<String, ReportError>;
    async fn get_query_results(&self, query_id: &str) -> Result<Results, ReportError>;
}

/// Wait before poll `attempt` (0-based): 0.5 s doubling to at most 5 s.
pub fn backoff(attempt: u32) -> Duration {
    Duration::from_millis((500u64 << attempt.min(4)).min(5_000))
}

/// Log groups one StartQuery names at most (`logGroupIdentifiers`).
pub const MAX_LOG_GROUPS_PER_QUERY: usize = 50;

/// Starts the query and polls until it finishes; an unsuccessful end is an error naming it.
pub async fn run<A: LogsApi>(api: &A, log_group: &str, period: &Period, query: &str) -> Result<Vec<Vec<(String, String)>>, ReportError> {
    let id = api.start_query(log_group, period, query).await?;
    wait(api, id).await
}

/// The query over every log group of `identifiers`, [`MAX_LOG_GROUPS_PER_QUERY`] per query,
/// one after another (Logs Insights runs a limited number of queries at once); the rows of all
/// and whether any query returned its maximum of rows.
pub async fn run_across<A: LogsApi>(api: &A, identifiers: &[String], period: &Period, query: &str) -> Result<(Vec<Vec<(String, String)>>, bool), ReportError> {
    let mut rows = Vec::new();
    let mut truncated = false;
    for batch in identifiers.chunks(MAX_LOG_GROUPS_PER_QUERY) {
        let id = api.start_query_identifiers(batch, period, query).await?;
        let got = wait(api, id).await?;
        truncated |= got.len() >= MAX_ROWS;
        rows.extend(got);
    }
    Ok((rows, truncated))
}

async fn wait<A: LogsApi>(api: &A, id: String) -> Result<Vec<Vec<(String, String)>>, ReportError> {
    let mut waited = Duration::ZERO;
    for attempt in 0.. {
        let r = api.get_query_results(&id).await?;
        if r.status == Status::Complete {
            return Ok(r.rows);
        }
        if r.status.finished() {
            return Err(ReportError::QueryEnded { query_id: id, status: format!("{:?}", r.status) });
        }
        let wait = backoff(attempt);
        if waited + wait > POLL_LIMIT {
            return Err(ReportError::QueryEnded { query_id: id, status: "still running after 15 minutes".into() });
        }
        tokio::time::sleep(wait).await;
        waited += wait;
    }
    unreachable!()
}

/// Per-user figures from the query rows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserFigures {
    pub rows: Vec<UserRow>,
    pub truncated: bool,
    /// Rows without a `principal` field (not produced by this query's `stats`).
    pub ignored_rows: usize,
    /// Calls per tier as the logs name it (Standard: no tier logged).
    pub tier_calls: BTreeMap<ServiceTier, u64>,
}

/// Calls and tokens per principal, then per model id as logged with the tier that served the
/// calls as a suffix ([`with_tier_suffix`]: `<model>+flex`; Standard calls keep the bare id), so
/// [`PriceTable::price`] prices each on its tier.
pub type PrincipalModelSums = BTreeMap<String, BTreeMap<String, (u64, Tokens)>>;

/// Sums the query rows per principal, model and tier (the days added up); the second value
/// counts rows without a `principal` field. Shared by [`parse`] and `report --reconcile`, so
/// both read the logs the same way. `cache_write_tokens` is every write and
/// `cache_write_1h_tokens` the 1-hour ones among them; a row without the tier column (a query
/// saved by an older version) is Standard.
pub fn sum_by_principal_and_model(rows: &[Vec<(String, String)>]) -> (PrincipalModelSums, usize) {
    let mut per = PrincipalModelSums::new();
    let mut ignored_rows = 0;
    for row in rows {
        let get = |k: &str| row.iter().find(|(f, _)| f == k).map(|(_, v)| v.as_str());
        let Some(principal) = get("principal") else {
            ignored_rows += 1;
            continue;
        };
        let num = |k: &str| get(k).and_then(|v| v.parse::<f64>().ok()).map_or(0, |v| v.max(0.0).round() as u64);
        let tier = get(INSIGHTS_TIER_FIELD).and_then(ServiceTier::parse).unwrap_or_default();
        let model = with_tier_suffix(get("modelId").unwrap_or("unknown"), tier);
        let e = per.entry(principal.to_owned()).or_default().entry(model).or_default();
        let (writes, hour) = (num("cache_write_tokens"), num("cache_write_1h_tokens"));
        e.0 += num("calls");
        e.1.input += num("input_tokens");
        e.1.output += num("output_tokens");
        e.1.cache_read += num("cache_read_tokens");
        e.1.cache_write += writes.saturating_sub(hour);
        e.1.cache_write_1h += hour;
    }
    (per, ignored_rows)
}

/// Sums rows per principal and model, prices each model's tokens, and ranks users by cost,
/// then tokens, then name.
pub fn parse(rows: &[Vec<(String, String)>], prices: &PriceTable, region: &str) -> UserFigures {
    let (per, ignored_rows) = sum_by_principal_and_model(rows);
    let mut tier_calls = BTreeMap::new();
    let mut users: Vec<UserRow> = per
        .into_iter()
        .map(|(principal, models)| {
            let mut u = UserRow { principal, ..UserRow::default() };
            for (model, (calls, t)) in models {
                u.calls += calls;
                u.input_tokens += t.input;
                u.output_tokens += t.output;
                u.cache_read_tokens += t.cache_read;
                u.cache_write_tokens += t.cache_write + t.cache_write_1h;
                let (bare, tier) = split_tier_suffix(&model);
                *tier_calls.entry(tier.unwrap_or_default()).or_insert(0) += calls;
                match prices.price(&model, region) {
                    Some(p) => u.estimated_cost_usd += p.cost(&t),
                    None if !u.unpriced_models.iter().any(|m| m == bare) => u.unpriced_models.push(bare.to_owned()),
                    None => {}
                }
            }
            u
        })
        .collect();
    users.sort_by(|a, b| {
        b.estimated_cost_usd
            .total_cmp(&a.estimated_cost_usd)
            .then((b.input_tokens + b.output_tokens).cmp(&(a.input_tokens + a.output_tokens)))
            .then(a.principal.cmp(&b.principal))
    });
    UserFigures { rows: users, truncated: rows.len() >= MAX_ROWS, ignored_rows, tier_calls }
}

/// The AWS SDK's CloudWatch Logs client.
#[cfg(feature = "aws")]
pub struct SdkLogs<'a> {
    pub aws: &'a crate::aws::Aws,
    pub client: aws_sdk_cloudwatchlogs::Client,
}

#[cfg(feature = "aws")]
impl LogsApi for SdkLogs<'_> {
    async fn start_query(&self, log_group: &str, period: &Period, query: &str) -> Result<String, ReportError> {
        self.start_query_identifiers(&[log_group.to_owned()], period, query).await
    }

    async fn start_query_identifiers(&self, identifiers: &[String], period: &Period, query: &str) -> Result<String, ReportError> {
        // Names alone (the caller's own log groups) go as logGroupNames, which every
        // implementation takes; any ARN needs logGroupIdentifiers.
        let (names, arns) = if identifiers.iter().any(|i| i.starts_with("arn:")) { (None, Some(identifiers.to_vec())) } else { (Some(identifiers.to_vec()), None) };
        let resp = self
            .client
            .start_query()
            .set_log_group_names(names)
            .set_log_group_identifiers(arns)
            .start_time(period.start)
            .end_time(period.end - 1)
            .query_string(query)
            .limit(MAX_ROWS as i32)
            .send()
            .await
            .map_err(|e| ReportError::Aws(self.aws.error("StartQuery", e)))?;
        resp.query_id().map(str::to_owned).ok_or_else(|| ReportError::Internal("StartQuery returned no query id".into()))
    }

    async fn get_query_results(&self, query_id: &str) -> Result<Results, ReportError> {
        use aws_sdk_cloudwatchlogs::types::QueryStatus;
        let resp = self.client.get_query_results().query_id(query_id).send().await.map_err(|e| ReportError::Aws(self.aws.error("GetQueryResults", e)))?;
        let status = match resp.status() {
            Some(QueryStatus::Scheduled) => Status::Scheduled,
            Some(QueryStatus::Running) => Status::Running,
            Some(QueryStatus::Complete) => Status::Complete,
            Some(QueryStatus::Failed) => Status::Failed,
            Some(QueryStatus::Cancelled) => Status::Cancelled,
            Some(QueryStatus::Timeout) => Status::Timeout,
            _ => Status::Unknown,
        };
        let rows = resp
            .results()
            .iter()
            .map(|row| row.iter().filter_map(|f| Some((f.field()?.to_owned(), f.value()?.to_owned()))).collect())
            .collect();
        Ok(Results { status, rows })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::cell::RefCell;

    fn row(principal: &str, model: &str, calls: u64, input: u64, output: u64, read: u64, write: u64) -> Vec<(String, String)> {
        row_on("2026-11-20", principal, model, calls, input, output, read, write)
    }

    /// One result row of the per-user query, for `day` (`YYYY-MM-DD`); shared with the
    /// reconcile tests.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn row_on(day: &str, principal: &str, model: &str, calls: u64, input: u64, output: u64, read: u64, write: u64) -> Vec<(String, String)> {
        [
            ("principal", principal.to_owned()),
            ("modelId", model.to_owned()),
            ("day", format!("{day} 00:00:00.000")),
            ("calls", calls.to_string()),
            ("input_tokens", input.to_string()),
            ("output_tokens", output.to_string()),
            ("cache_read_tokens", read.to_string()),
            ("cache_write_tokens", write.to_string()),
            ("estimated_cost_usd", "0.1".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    #[test]
    fn cost_per_user_by_hand() {
        let t = PriceTable::built_in();
        let rows = vec![
            // jane: Haiku 3.5 ($0.0008 in, $0.004 out, reads $0.00008, writes $0.001 per 1K):
            // 2,000 in → 0.0016; 500 out → 0.002; 5,000 reads → 0.0004; 1,000 writes → 0.001.
            row("jane.doe@example.com", "anthropic.claude-3-5-haiku-20241022-v1:0", 1, 1200, 300, 0, 0),
            row("jane.doe@example.com", "us.anthropic.claude-3-5-haiku-20241022-v1:0", 1, 800, 200, 5000, 1000),
            // raj: Sonnet 4 ($0.003 in, $0.015 out): 2,000 in → 0.006; 1,000 out → 0.015.
            row("raj.patel@example.com", "anthropic.claude-sonnet-4-20250514-v1:0", 2, 2000, 1000, 0, 0),
            // bot: an unpriced model: no cost, named.
            row("chatbot", "custom.unknown-model", 7, 99_999, 1, 0, 0),
            vec![("@message".to_owned(), "not a stats row".to_owned())],
        ];
        let f = parse(&rows, &t, "us-east-1");
        assert_eq!(f.ignored_rows, 1);
        assert!(!f.truncated);
        let names: Vec<&str> = f.rows.iter().map(|u| u.principal.as_str()).collect();
        assert_eq!(names, vec!["raj.patel@example.com", "jane.doe@example.com", "chatbot"]);
        assert!((f.rows[0].estimated_cost_usd - 0.021).abs() < 1e-12, "{}", f.rows[0].estimated_cost_usd);
        assert!((f.rows[1].estimated_cost_usd - 0.005).abs() < 1e-12, "{}", f.rows[1].estimated_cost_usd);
        assert_eq!((f.rows[1].calls, f.rows[1].input_tokens, f.rows[1].output_tokens, f.rows[1].cache_read_tokens, f.rows[1].cache_write_tokens), (2, 2000, 500, 5000, 1000));
        assert_eq!(f.rows[2].estimated_cost_usd, 0.0);
        assert_eq!(f.rows[2].unpriced_models, vec!["custom.unknown-model"]);
    }

    #[test]
    fn each_tier_and_cache_lifetime_is_priced_as_the_logs_name_it() {
        let t = PriceTable::built_in();
        let with = |mut r: Vec<(String, String)>, extra: &[(&str, &str)]| {
            r.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
            r
        };
        let nova = "amazon.nova-pro-v1:0";
        let haiku = "anthropic.claude-haiku-4-5-20251001-v1:0";
        let rows = vec![
            // Nova Pro ($0.0008 in, $0.0032 out): Flex × 0.5, Priority × 1.75, `default` is Standard.
            with(row("ana", nova, 2, 10_000, 1_000, 0, 0), &[("service_tier", "flex")]),
            with(row("ana", nova, 1, 10_000, 1_000, 0, 0), &[("service_tier", "priority")]),
            with(row("ana", nova, 1, 10_000, 1_000, 0, 0), &[("service_tier", "default")]),
            // Haiku 4.5 ($0.001 in; 5-minute writes $0.00125, 1-hour $0.002): 3,000 writes, 2,000 of them 1-hour.
            with(row("ben", haiku, 1, 0, 0, 0, 3_000), &[("service_tier", "default"), ("cache_write_1h_tokens", "2000")]),
        ];
        let f = parse(&rows, &t, "us-east-1");
        let ana = f.rows.iter().find(|u| u.principal == "ana").unwrap();
        // Standard 10,000 × 0.0008 + 1,000 × 0.0032 = 0.0112 per row: × (0.5 + 1.75 + 1).
        assert!((ana.estimated_cost_usd - 0.0112 * 3.25).abs() < 1e-12, "{}", ana.estimated_cost_usd);
        assert_eq!(ana.calls, 4);
        let ben = f.rows.iter().find(|u| u.principal == "ben").unwrap();
        assert!((ben.estimated_cost_usd - (1_000.0 * 0.00125 + 2_000.0 * 0.002) / 1000.0).abs() < 1e-12, "{}", ben.estimated_cost_usd);
        assert_eq!(ben.cache_write_tokens, 3_000, "the user's writes are both lifetimes");
        assert_eq!(f.tier_calls.get(&ServiceTier::Flex), Some(&2));
        assert_eq!(f.tier_calls.get(&ServiceTier::Priority), Some(&1));
        assert_eq!(f.tier_calls.get(&ServiceTier::Standard), Some(&2));
        let (sums, _) = sum_by_principal_and_model(&rows);
        assert_eq!(sums["ana"].keys().collect::<Vec<_>>(), vec![nova, "amazon.nova-pro-v1:0+flex", "amazon.nova-pro-v1:0+priority"]);
        assert_eq!((sums["ben"][haiku].1.cache_write, sums["ben"][haiku].1.cache_write_1h), (1_000, 2_000));
    }

    #[test]
    fn ten_thousand_rows_are_reported_as_truncated() {
        let rows: Vec<_> = (0..MAX_ROWS).map(|i| row(&format!("u{i}"), "amazon.nova-micro-v1:0", 1, 1, 1, 0, 0)).collect();
        let f = parse(&rows, &PriceTable::built_in(), "us-east-1");
        assert!(f.truncated);
        assert_eq!(f.rows.len(), MAX_ROWS);
        assert!(!parse(&rows[1..], &PriceTable::built_in(), "us-east-1").truncated);
    }

    #[test]
    fn the_query_is_the_saved_one_with_the_row_limit() {
        let c = Config::default();
        let q = user_query(&c, "us-east-1").unwrap();
        assert!(q.contains("as principal"), "{q}");
        assert!(q.contains("by principal, modelId, service_tier"), "{q}");
        assert!(q.starts_with(&crate::bedrock::log_usage::insights_commands()), "tier and 1-hour writes are read first: {q}");
        assert!(q.ends_with("| limit 10000"));
        assert!(q.len() <= attribution::MAX_QUERY_LENGTH);
        for f in crate::bedrock::log_schema::dotted_references(&q) {
            assert!(crate::bedrock::log_schema::is_field(&f), "{f} is not an invocation-log field");
        }
    }

    #[test]
    fn backoff_doubles_to_five_seconds() {
        let w: Vec<u64> = (0..7).map(|a| backoff(a).as_millis() as u64).collect();
        assert_eq!(w, vec![500, 1000, 2000, 4000, 5000, 5000, 5000]);
    }

    struct FakeLogs {
        statuses: RefCell<Vec<Status>>,
        polls: RefCell<usize>,
        batches: RefCell<Vec<usize>>,
    }

    impl LogsApi for FakeLogs {
        async fn start_query(&self, _: &str, _: &Period, _: &str) -> Result<String, ReportError> {
            Ok("qid".into())
        }
        async fn start_query_identifiers(&self, ids: &[String], _: &Period, _: &str) -> Result<String, ReportError> {
            assert!(ids.len() <= MAX_LOG_GROUPS_PER_QUERY, "{} log groups in one query", ids.len());
            self.batches.borrow_mut().push(ids.len());
            Ok("qid".into())
        }
        async fn get_query_results(&self, id: &str) -> Result<Results, ReportError> {
            assert_eq!(id, "qid");
            *self.polls.borrow_mut() += 1;
            let status = self.statuses.borrow_mut().remove(0);
            Ok(Results { status, rows: vec![row("a", "m", 1, 1, 1, 0, 0)] })
        }
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
    }

    #[test]
    fn polls_until_complete_and_reports_failures() {
        let p = Period { start: 0, end: 3600 };
        let fake = FakeLogs { statuses: RefCell::new(vec![Status::Scheduled, Status::Running, Status::Complete]), polls: RefCell::new(0), batches: RefCell::new(vec![]) };
        let rows = block_on(run(&fake, "g", &p, "q")).unwrap();
        assert_eq!((rows.len(), *fake.polls.borrow()), (1, 3));
        let failed = FakeLogs { statuses: RefCell::new(vec![Status::Running, Status::Failed]), polls: RefCell::new(0), batches: RefCell::new(vec![]) };
        let e = block_on(run(&failed, "g", &p, "q")).unwrap_err().to_string();
        assert!(e.contains("Failed"), "{e}");
    }

    #[test]
    fn a_query_across_accounts_names_at_most_fifty_log_groups_each() {
        let p = Period { start: 0, end: 3600 };
        let fake = FakeLogs { statuses: RefCell::new(vec![Status::Complete; 3]), polls: RefCell::new(0), batches: RefCell::new(vec![]) };
        let ids: Vec<String> = (0..120).map(|i| format!("arn:aws:logs:us-east-1:{:012}:log-group:/aws/bedrock/modelinvocations", i)).collect();
        let (rows, truncated) = block_on(run_across(&fake, &ids, &p, "q")).unwrap();
        assert_eq!(*fake.batches.borrow(), vec![50, 50, 20]);
        assert_eq!((rows.len(), truncated), (3, false));
    }
}
