//! `bedrock-watch report`: usage, estimated cost and performance of Bedrock for a period, read
//! from a deployed stack's region: `AWS/Bedrock` metrics for totals, models and performance,
//! Logs Insights on the stack's invocation log group for per-user figures.
//!
//! [`generate`] talks to AWS; [`assemble`] turns fetched figures into a [`Report`] without I/O,
//! so the arithmetic is unit-tested; `render` prints it in four formats. Only the fetching
//! ([`generate`], `stack`, the `Sdk*` clients) needs the `aws` feature; `--from-json` re-renders
//! without it.

pub mod accounts;
pub mod insights;
pub mod mantle;
pub mod metrics;
pub mod model;
pub mod period;
pub mod profiles;
pub mod projection;
pub mod reconcile;
pub mod render;
#[cfg(feature = "aws")]
pub mod stack;

use std::collections::BTreeMap;

#[cfg(feature = "aws")]
use crate::aws::Aws;
use crate::aws::AwsError;
use crate::bedrock::pricing::{PriceTable, Tokens};
#[cfg(feature = "aws")]
use crate::config::Config;

pub use model::{Report, SCHEMA_ID};
use metrics::{Measure, ModelFigures};
pub use period::Period;

/// Everything that can stop a report, each with a `help` line.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{0}")]
    Period(String),
    #[error(transparent)]
    Aws(AwsError),
    #[error("stack `{stack}` does not exist in {region}")]
    StackNotFound { stack: String, region: String },
    #[error("stack `{stack}` has no invocation log group (no InvocationLogGroupName output, no InvocationLogGroup resource)")]
    NoLogGroup { stack: String },
    #[error("no Bedrock metrics in {region}: the AWS/Bedrock namespace has no Invocations by ModelId")]
    NoBedrockMetrics { region: String },
    #[error("no Bedrock metrics of {} in {region}: ListMetrics in this account names no linked account's AWS/Bedrock Invocations", account.as_deref().map_or_else(|| "any linked account".to_owned(), |a| format!("account {a}")))]
    NoLinkedMetrics { region: String, account: Option<String> },
    #[error("no Bedrock invocations in {region} between {start} and {end}")]
    NoData { region: String, start: String, end: String },
    #[error("the per-user query is {length} characters, over Logs Insights' 10,000")]
    QueryTooLong { length: usize },
    #[error("Logs Insights query {query_id} ended: {status}")]
    QueryEnded { query_id: String, status: String },
    #[error("{0}")]
    Internal(String),
}

impl ReportError {
    pub fn help(&self) -> String {
        match self {
            ReportError::Period(_) => "use --hours N, or --since/--until with times like 2026-11-01T00:00:00Z".into(),
            ReportError::Aws(AwsError::AccessDenied { .. }) => {
                "the report needs cloudformation:DescribeStacks, cloudformation:DescribeStackResources, cloudwatch:ListMetrics, cloudwatch:GetMetricData, logs:StartQuery and logs:GetQueryResults (and bedrock:GetInferenceProfile on application inference profiles the config does not map)".into()
            }
            ReportError::Aws(e) => e.help(),
            ReportError::StackNotFound { .. } => "deploy it first (`bedrock-watch deploy`), or pass the --region and --config of the deployed stack".into(),
            ReportError::NoLogGroup { .. } => "redeploy the stack with this version of bedrock-watch (`bedrock-watch deploy`)".into(),
            ReportError::NoBedrockMetrics { .. } => "check --region: Bedrock publishes metrics only in regions where models were invoked; or list models under `models` in the config".into(),
            ReportError::NoLinkedMetrics { .. } => "run --account/--org in the monitoring account (organization.monitoring_account) with the --region of a sink, after `org deploy` linked the members (organization.monitoring_sinks); or list models under `models`".into(),
            ReportError::NoData { .. } => "widen the period (--hours, --since) or check --region; metrics appear a few minutes after the calls".into(),
            ReportError::QueryTooLong { .. } => "list fewer models under `models` or `pricing.models`: each priced model adds to the query".into(),
            ReportError::QueryEnded { .. } => "run the report again; if it keeps failing, shorten the period".into(),
            ReportError::Internal(_) => "this is a bug in bedrock-watch; please report it".into(),
        }
    }
}

/// What the caller asks for.
#[derive(Debug, Clone)]
pub struct Request {
    pub period: Period,
    /// Users listed in the report (ranked by cost).
    pub top_users: usize,
    /// When the report is generated (epoch seconds): part of the output, so tests fix it.
    pub now: i64,
}

/// Progress lines (shown only on a terminal by the CLI).
pub trait Progress {
    fn step(&mut self, what: &str);
}

impl<F: FnMut(&str)> Progress for F {
    fn step(&mut self, what: &str) {
        self(what)
    }
}

/// Reads metrics and logs of the stack in `aws.region` and assembles the report.
#[cfg(feature = "aws")]
pub async fn generate(aws: &Aws, config: &Config, req: &Request, progress: &mut dyn Progress) -> Result<Report, ReportError> {
    let stack_name = config.stack_name_for(&aws.region);
    progress.step(&format!("finding stack {stack_name}"));
    let log_group = stack::invocation_log_group(aws, &stack_name).await?;

    let api = metrics::SdkMetrics { aws, client: aws.cloudwatch() };
    progress.step("listing Bedrock models with metrics");
    let mut models = metrics::MetricsApi::list_model_ids(&api).await?;
    models.extend(config.models.iter().cloned());
    models.sort();
    models.dedup();
    progress.step("reading bedrock-mantle usage (AWS/BedrockMantle)");
    let mantle_api = mantle::SdkMantle { aws, client: aws.cloudwatch() };
    let mantle_usage = mantle::read(&mantle_api, req.period.start, req.period.end).await;
    if models.is_empty() && !mantle_usage.as_ref().is_ok_and(|m| !m.is_empty()) {
        return Err(ReportError::NoBedrockMetrics { region: aws.region.clone() });
    }
    let queries = metrics::queries_for(&models, &req.period);
    let fetched = metrics::fetch(&api, &queries, &req.period, |i, n| progress.step(&format!("reading metrics: GetMetricData call {i} of {n} ({} queries)", queries.len()))).await?;
    let figures = metrics::by_model(&queries, &fetched);

    progress.step(&format!("running the per-user Logs Insights query on {log_group}"));
    let logs = insights::SdkLogs { aws, client: aws.logs() };
    let rows = match insights::user_query(config, &aws.region) {
        Ok(q) => match insights::run(&logs, &log_group, &req.period, &q).await {
            Ok(rows) => Ok(rows),
            // Per-user figures are a part of the report; without logs access the metrics still stand.
            Err(e @ ReportError::Aws(_)) => Err(format!("per-user figures unavailable: {e}; help: {}", e.help())),
            Err(e) => Err(format!("per-user figures unavailable: {e}")),
        },
        Err(e) => Err(format!("per-user figures unavailable: {e}")),
    };
    // Application inference profiles the config does not map: ask Bedrock which model they use.
    let seen = figures.keys().map(String::as_str).chain(rows.iter().flatten().flatten().filter(|(f, _)| f == "modelId").map(|(_, v)| v.as_str()));
    let unmapped = profiles::unmapped(seen, &config.pricing.inference_profiles);
    let (resolved, mut profile_notes) = if unmapped.is_empty() {
        (BTreeMap::new(), Vec::new())
    } else {
        progress.step(&format!("resolving {} application inference profile(s) with GetInferenceProfile", unmapped.len()));
        profiles::resolve(aws, &unmapped).await
    };
    let (mapping, mapping_note) = profiles::merge(&config.pricing.inference_profiles, &resolved);
    let prices = config.pricing.table().with_profiles(&mapping);
    let users = rows.map(|rows| insights::parse(&rows, &prices, &aws.region));
    let mut report = assemble(&aws.region, &stack_name, Some(log_group), req, &figures, users, &prices);
    report.notes.extend(mapping_note);
    report.notes.append(&mut profile_notes);
    report.notes.extend(fetched.messages.into_iter().map(|m| format!("CloudWatch: {m}")));
    add_mantle(&mut report, mantle_usage.map_err(|e| e.to_string()), &prices, &aws.region);
    if report.totals.invocations == 0 && report.users.rows.is_empty() && report.mantle.is_none() {
        return Err(ReportError::NoData { region: aws.region.clone(), start: report.period.start, end: report.period.end });
    }
    Ok(report)
}

/// The Mantle section of `report` (and of the scheduled report, which mirrors this), or the
/// note saying why it could not be read: Mantle usage is a part of the report, and the runtime
/// figures still stand without it.
pub fn add_mantle(report: &mut Report, mantle: Result<BTreeMap<String, mantle::Figures>, String>, prices: &PriceTable, region: &str) {
    match mantle {
        Ok(by_model) => report.mantle = mantle::section(&by_model, prices, region),
        Err(e) => report.notes.push(format!("bedrock-mantle usage unavailable: {e}")),
    }
    if let Some(m) = report.mantle.as_ref().filter(|m| !m.unpriced_models.is_empty()) {
        report.notes.push(format!("no price for the bedrock-mantle model(s) {}: their tokens are not in the unattributed cost", m.unpriced_models.join(", ")));
    }
}

fn count(v: f64) -> u64 {
    v.max(0.0).round() as u64
}

/// Builds the report from per-model metric figures and the per-user query's outcome.
pub fn assemble(
    region: &str,
    stack_name: &str,
    log_group: Option<String>,
    req: &Request,
    figures: &BTreeMap<String, ModelFigures>,
    users: Result<insights::UserFigures, String>,
    prices: &PriceTable,
) -> Report {
    let mut totals = model::Totals::default();
    let mut perf = model::Performance::default();
    let (mut latency_sum, mut latency_count) = (0.0, 0.0);
    let mut models = Vec::new();
    let mut days = Vec::new();
    for (id, f) in figures {
        let tokens = Tokens {
            input: count(f.total(Measure::InputTokens)),
            output: count(f.total(Measure::OutputTokens)),
            cache_read: count(f.total(Measure::CacheReadTokens)),
            cache_write: count(f.total(Measure::CacheWriteTokens)),
            // CloudWatch has one cache-write metric: every write is priced as a 5-minute write.
            cache_write_1h: 0,
        };
        let price = prices.price(id, region);
        let cost = price.map(|p| p.cost(&tokens));
        let (ls, lc) = (f.total(Measure::LatencySum), f.total(Measure::LatencyCount));
        let row = model::ModelRow {
            model_id: id.clone(),
            invocations: count(f.total(Measure::Invocations)),
            input_tokens: tokens.input,
            output_tokens: tokens.output,
            cache_read_tokens: tokens.cache_read,
            cache_write_tokens: tokens.cache_write,
            estimated_cost_usd: cost,
            average_latency_ms: (lc > 0.0).then(|| ls / lc),
            p99_latency_ms: f.p99,
            errors: count(f.total(Measure::ClientErrors) + f.total(Measure::ServerErrors)),
            throttles: count(f.total(Measure::Throttles)),
        };
        latency_sum += ls;
        latency_count += lc;
        totals.invocations += row.invocations;
        totals.input_tokens += row.input_tokens;
        totals.output_tokens += row.output_tokens;
        totals.cache_read_tokens += row.cache_read_tokens;
        totals.cache_write_tokens += row.cache_write_tokens;
        match cost {
            Some(c) => totals.estimated_cost_usd += c,
            None => totals.unpriced_models.push(id.clone()),
        }
        perf.client_errors += count(f.total(Measure::ClientErrors));
        perf.server_errors += count(f.total(Measure::ServerErrors));
        perf.throttles += row.throttles;
        if let Some(p) = f.p99 {
            perf.p99_latency_ms = Some(perf.p99_latency_ms.map_or(p, |q: f64| q.max(p)));
        }
        for (date, d) in &f.days {
            let get = |m: Measure| count(d.get(&m).copied().unwrap_or(0.0));
            let t = Tokens { input: get(Measure::InputTokens), output: get(Measure::OutputTokens), cache_read: get(Measure::CacheReadTokens), cache_write: get(Measure::CacheWriteTokens), cache_write_1h: 0 };
            days.push(model::DayRow {
                date: date.clone(),
                model_id: id.clone(),
                invocations: get(Measure::Invocations),
                input_tokens: t.input,
                output_tokens: t.output,
                estimated_cost_usd: price.map(|p| p.cost(&t)),
            });
        }
        models.push(row);
    }
    days.sort_by(|a, b| (&a.date, &a.model_id).cmp(&(&b.date, &b.model_id)));
    perf.errors = perf.client_errors + perf.server_errors;
    perf.average_latency_ms = (latency_count > 0.0).then(|| latency_sum / latency_count);
    perf.error_rate_percent = crate::cloudwatch::invocation_rates::error_rate_percent(totals.invocations, perf.errors);

    let mut notes = Vec::new();
    if !totals.unpriced_models.is_empty() {
        notes.push(format!("no price for {}: their tokens are not in the estimated cost; add them under `pricing.models`", totals.unpriced_models.join(", ")));
    }
    if totals.invocations > 0 && models.iter().all(|m| m.p99_latency_ms.is_none()) {
        notes.push("CloudWatch returned no p99 latency for the period".into());
    }
    let users = match users {
        Ok(u) => {
            notes.extend(untiered_calls_note(figures, &u));
            if u.truncated {
                notes.push(format!("Logs Insights returned its maximum of {} rows: some users may be missing; shorten the period", insights::MAX_ROWS));
            }
            if u.ignored_rows > 0 {
                notes.push(format!("{} Logs Insights result row(s) had no `principal` field and were ignored", u.ignored_rows));
            }
            let total_users = u.rows.len();
            let mut rows = u.rows;
            rows.truncate(req.top_users);
            model::Users { available: true, note: None, truncated: u.truncated, rows, total_users }
        }
        Err(note) => {
            notes.push(note.clone());
            model::Users { available: false, note: Some(note), ..model::Users::default() }
        }
    };
    let projection = projection::project(&totals, req.period.days());
    Report {
        schema: SCHEMA_ID.to_owned(),
        generated_at: period::rfc3339(req.now),
        region: region.to_owned(),
        stack_name: stack_name.to_owned(),
        log_group,
        period: model::PeriodInfo { start: period::rfc3339(req.period.start), end: period::rfc3339(req.period.end), hours: req.period.hours() },
        totals,
        performance: perf,
        models,
        days,
        users,
        projection,
        notes,
        mantle: None,
        account: None,
        accounts: Vec::new(),
    }
}

/// Flex and Priority calls the metrics count (`<model>+flex` series) but the invocation logs do
/// not name a tier for: InvokeModel sends the tier in a request header the record does not
/// keep, and a record without bodies keeps neither. The per-user figures price those calls at
/// Standard; the per-model figures, from the metrics, do not. `None` when the logs account for
/// every such call, or returned too many rows to tell.
fn untiered_calls_note(figures: &BTreeMap<String, ModelFigures>, users: &insights::UserFigures) -> Option<String> {
    use crate::bedrock::service_tier::{split_tier_suffix, ServiceTier};
    if users.truncated {
        return None;
    }
    let missing: Vec<String> = [ServiceTier::Flex, ServiceTier::Priority]
        .into_iter()
        .filter_map(|tier| {
            let metered: u64 = figures.iter().filter(|(id, _)| split_tier_suffix(id).1 == Some(tier)).map(|(_, f)| count(f.total(Measure::Invocations))).sum();
            let logged = users.tier_calls.get(&tier).copied().unwrap_or(0);
            let name = match tier {
                ServiceTier::Flex => "Flex",
                _ => "Priority",
            };
            (metered > logged).then(|| format!("{} {name}", metered - logged))
        })
        .collect();
    (!missing.is_empty()).then(|| {
        format!(
            "{} call(s) in the AWS/Bedrock metrics have no service tier in the invocation logs (InvokeModel sends the tier in a header the logs do not keep): the per-user costs price them at Standard, the per-model costs at their tier",
            missing.join(" and ")
        )
    })
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod scheduled_fixture_tests;
#[cfg(all(test, feature = "aws"))]
mod recorded_tests;
