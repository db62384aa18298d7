//! The AWS side of `--invoke`: the Converse call, one look at each trace, and the wall clock.

use std::time::Duration;

use aws_sdk_cloudwatch::primitives::DateTime;

use super::{cloudtrail_trace, describe, find, lake_trace, log_trace, Call, Trace, MAX_TOKENS, PROMPT};
use crate::aws::{Aws, AwsError};
use crate::bedrock::pricing::Tokens;
use crate::config::{CloudTrailMode, Config};
use crate::verify::facts::{Facts, Observed};
use crate::verify::follow::{self, Clock, Context, Plan, Poll, Probe, Progress, Signal};
use crate::verify::{lake, CheckResult, InvokeSummary};

/// Pages of FilterLogEvents read per look: the filter pattern already narrows to this caller or
/// this request id.
const MAX_LOG_PAGES: usize = 5;
/// Traces are looked for from this long before the call started (clock skew between here and AWS).
const SKEW_MS: i64 = 60_000;

/// The one call: a fixed one-line prompt, at most [`MAX_TOKENS`] output tokens.
pub async fn converse(aws: &Aws, model: &str, caller: &str, started_ms: i64) -> Result<Call, AwsError> {
    use aws_sdk_bedrockruntime::operation::RequestId;
    use aws_sdk_bedrockruntime::types::{ContentBlock, ConversationRole, InferenceConfiguration, Message};
    let client = aws_sdk_bedrockruntime::Client::new(&aws.config);
    let message = Message::builder().role(ConversationRole::User).content(ContentBlock::Text(PROMPT.into())).build().map_err(|e| AwsError::Service {
        operation: "Converse",
        region: aws.region.clone(),
        code: "ClientError".into(),
        message: e.to_string(),
    })?;
    let resp = client
        .converse()
        .model_id(model)
        .messages(message)
        .inference_config(InferenceConfiguration::builder().max_tokens(MAX_TOKENS).build())
        .send()
        .await
        .map_err(|e| aws.error("Converse", e))?;
    let usage = resp.usage();
    let count = |n: Option<i32>| n.map_or(0, |v| v.max(0) as u64);
    Ok(Call {
        model: model.to_owned(),
        caller: caller.to_owned(),
        request_id: resp.request_id().map(str::to_owned),
        tokens: Tokens { input: count(usage.map(|u| u.input_tokens())), output: count(usage.map(|u| u.output_tokens())), ..Tokens::default() },
        latency_ms: resp.metrics().map(|m| m.latency_ms()),
        started_ms,
    })
}

fn minute(ms: i64) -> i64 {
    ms - ms.rem_euclid(60_000)
}

/// Sum of `AWS/Bedrock` Invocations for `model` from the minute of `start_ms` to the minute
/// after `now_ms`.
pub async fn invocations(aws: &Aws, model: &str, start_ms: i64, now_ms: i64) -> Result<f64, AwsError> {
    use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat};
    let metric = Metric::builder().namespace("AWS/Bedrock").metric_name("Invocations").dimensions(Dimension::builder().name("ModelId").value(model).build()).build();
    let stat = MetricStat::builder().metric(metric).period(60).stat("Sum").build();
    let resp = aws
        .cloudwatch()
        .get_metric_data()
        .start_time(DateTime::from_millis(minute(start_ms)))
        .end_time(DateTime::from_millis(minute(now_ms) + 120_000))
        .metric_data_queries(MetricDataQuery::builder().id("invocations").metric_stat(stat).return_data(true).build())
        .send()
        .await
        .map_err(|e| aws.error("GetMetricData", e))?;
    // fold from +0: an empty f64 sum is -0, which would print as "-0".
    Ok(resp.metric_data_results().iter().flat_map(|r| r.values().iter().copied()).fold(0.0, |a, b| a + b))
}

/// Where the CloudTrail event is looked for.
#[derive(Debug, Clone, PartialEq)]
pub enum CloudTrailSource {
    /// LookupEvents: the region's event history (any trail, or none).
    History,
    /// The stack's event data store; the query in flight, if any.
    Lake { arn: String, query: Option<String> },
}

/// Looks at the three traces of one call through the SDK.
pub struct AwsProbe<'a> {
    pub aws: &'a Aws,
    pub call: Call,
    pub log_group: String,
    /// Invocations just before the call (Err: the metric could not be read).
    pub baseline: Result<f64, String>,
    pub cloudtrail: CloudTrailSource,
}

impl AwsProbe<'_> {
    fn since(&self) -> i64 {
        self.call.started_ms - SKEW_MS
    }

    /// A failed look: a throttled one is tried again next round, anything else stops the signal.
    fn failed(e: AwsError, fix: String) -> Poll {
        match e {
            AwsError::Throttled { .. } => Poll::NotYet,
            e => Poll::Unavailable { why: crate::verify::short(&e.to_string()), fix },
        }
    }

    async fn logs(&self) -> Poll {
        let pattern = match &self.call.request_id {
            Some(id) => format!("{{ ($.requestId = \"{id}\") || ($.identity.arn = \"{}\") }}", self.call.caller),
            None => format!("{{ $.identity.arn = \"{}\" }}", self.call.caller),
        };
        let mut traces: Vec<Trace> = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_LOG_PAGES {
            let resp = match self.aws.logs().filter_log_events().log_group_name(&self.log_group).start_time(self.since()).filter_pattern(&pattern).set_next_token(token.take()).send().await {
                Ok(r) => r,
                Err(e) => return Self::failed(self.aws.error("FilterLogEvents", e), format!("grant the caller logs:FilterLogEvents on the log group {}", self.log_group)),
            };
            traces.extend(resp.events().iter().filter_map(|e| e.message().and_then(log_trace)));
            token = resp.next_token().map(str::to_owned);
            if token.is_none() {
                break;
            }
        }
        match find(&traces, &self.call) {
            Some((t, how)) => Poll::Seen(format!("invocation-log record in {}: {}", self.log_group, describe(t, how))),
            None => Poll::NotYet,
        }
    }

    async fn metrics(&self, now_ms: i64) -> Poll {
        let grant = "grant the caller cloudwatch:GetMetricData".to_owned();
        let baseline = match &self.baseline {
            Ok(b) => *b,
            Err(why) => return Poll::Unavailable { why: why.clone(), fix: grant },
        };
        match invocations(self.aws, &self.call.model, self.call.started_ms, now_ms).await {
            Ok(sum) if sum > baseline => Poll::Seen(format!("AWS/Bedrock Invocations for {} rose from {baseline} to {sum} since the call's minute", self.call.model)),
            Ok(_) => Poll::NotYet,
            Err(e) => Self::failed(e, grant),
        }
    }

    async fn history(&self) -> Poll {
        use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};
        let grant = "grant the caller cloudtrail:LookupEvents".to_owned();
        let ct = aws_sdk_cloudtrail::Client::new(&self.aws.config);
        let Ok(attribute) = LookupAttribute::builder().attribute_key(LookupAttributeKey::EventName).attribute_value("Converse").build() else {
            return Poll::Unavailable { why: "cannot build the LookupEvents filter".into(), fix: grant };
        };
        let resp = match ct.lookup_events().lookup_attributes(attribute).start_time(DateTime::from_millis(self.since())).max_results(50).send().await {
            Ok(r) => r,
            Err(e) => return Self::failed(self.aws.error("LookupEvents", e), grant),
        };
        let traces: Vec<Trace> = resp.events().iter().filter_map(|e| e.cloud_trail_event().and_then(cloudtrail_trace)).collect();
        match find(&traces, &self.call) {
            Some((t, how)) => Poll::Seen(format!("Converse event in the CloudTrail event history: {}", describe(t, how))),
            None => Poll::NotYet,
        }
    }

    /// One step of a Lake query per look: start it, then read it until it finishes; a finished
    /// query without the event is started again at the next look.
    async fn lake(&mut self) -> Poll {
        let CloudTrailSource::Lake { arn, query } = &mut self.cloudtrail else { return Poll::NotYet };
        let grant = format!("grant the caller cloudtrail:StartQuery and cloudtrail:GetQueryResults on {arn}");
        let home = lake::in_store_region(self.aws, arn);
        let Some(id) = query.clone() else {
            let sql = lake::converse_events_sql(arn, self.call.started_ms - SKEW_MS);
            return match lake::start(&home, &sql).await {
                Ok(id) => {
                    *query = Some(id);
                    Poll::NotYet
                }
                Err(e) => Self::failed(e, grant),
            };
        };
        match lake::results(&home, &id).await {
            Ok(lake::QueryState::Pending) => Poll::NotYet,
            Ok(lake::QueryState::Failed(why)) => Poll::Unavailable { why, fix: grant },
            Ok(lake::QueryState::Finished(rows)) => {
                *query = None;
                let traces: Vec<Trace> = rows.iter().map(lake_trace).collect();
                match find(&traces, &self.call) {
                    Some((t, how)) => Poll::Seen(format!("CloudTrail Lake event data store {}: {}", lake::store_id(arn), describe(t, how))),
                    None => Poll::NotYet,
                }
            }
            Err(e) => Self::failed(e, grant),
        }
    }
}

impl Probe for AwsProbe<'_> {
    async fn poll(&mut self, signal: Signal, now_ms: i64) -> Poll {
        match signal {
            Signal::Logs => self.logs().await,
            Signal::Metrics => self.metrics(now_ms).await,
            Signal::Cloudtrail if matches!(self.cloudtrail, CloudTrailSource::Lake { .. }) => self.lake().await,
            Signal::Cloudtrail => self.history().await,
        }
    }
}

/// The wall clock; Ctrl-C ends the wait (what arrived so far is still reported).
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        crate::verify::gather::now_ms()
    }

    async fn sleep(&mut self, d: Duration) -> bool {
        tokio::select! {
            _ = tokio::time::sleep(d) => true,
            _ = tokio::signal::ctrl_c() => false,
        }
    }
}

/// What `--invoke` was asked.
#[derive(Debug, Clone)]
pub struct Request {
    pub model: String,
    pub deadline: Duration,
    pub poll: Duration,
}

/// Makes the call and follows it: the `invoke` line, then one line per trace.
pub async fn run<C: Clock>(aws: &Aws, config: &Config, facts: &Facts, req: &Request, clock: &mut C, progress: &mut dyn Progress) -> (InvokeSummary, Vec<CheckResult>) {
    let started = clock.now_ms();
    let baseline = invocations(aws, &req.model, started, started).await.map_err(|e| crate::verify::short(&e.to_string()));
    let call = converse(aws, &req.model, &facts.caller_arn, started).await;
    let mut summary = InvokeSummary {
        model: req.model.clone(),
        request_id: None,
        input_tokens: None,
        output_tokens: None,
        deadline_seconds: req.deadline.as_secs(),
        poll_seconds: req.poll.as_secs(),
    };
    let mut results = vec![super::call_result(&call, &req.model, &aws.region, &config.pricing.table())];
    let Ok(call) = call else { return (summary, results) };
    summary.request_id = call.request_id.clone();
    summary.input_tokens = Some(call.tokens.input);
    summary.output_tokens = Some(call.tokens.output);
    let (cloudtrail, cloudtrail_source) = match &facts.stack.event_data_store {
        Some(arn) if config.cloudtrail.mode == CloudTrailMode::Lake => {
            (CloudTrailSource::Lake { arn: arn.clone(), query: None }, format!("CloudTrail Lake event data store {}", lake::store_id(arn)))
        }
        _ => (CloudTrailSource::History, history_label(facts)),
    };
    let context = Context { region: aws.region.clone(), model: req.model.clone(), log_group: facts.stack.log_group.clone(), cloudtrail_source };
    let plan = Plan { invoked_at_ms: clock.now_ms(), deadline: req.deadline, poll: req.poll };
    let mut probe = AwsProbe { aws, call, log_group: facts.stack.log_group.clone(), baseline, cloudtrail };
    let followed = follow::follow(&plan, &mut probe, clock, progress).await;
    results.extend(follow::results(&followed, req.deadline, &context));
    (summary, results)
}

/// `the CloudTrail event history (trail org-trail)`: LookupEvents reads the region's history,
/// which a logging trail also delivers.
fn history_label(facts: &Facts) -> String {
    let trails: Vec<&str> = match &facts.trails {
        Observed::Seen(t) => t.iter().filter(|t| t.logging != Some(false)).map(|t| t.name.as_str()).collect(),
        Observed::Unavailable(_) => Vec::new(),
    };
    if trails.is_empty() {
        format!("the CloudTrail event history of {}", facts.region)
    } else {
        format!("the CloudTrail event history of {} (trail {})", facts.region, trails.join(", "))
    }
}
