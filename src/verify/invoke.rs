//! `verify --invoke MODEL`: one tiny Converse call as the caller, then its three traces followed
//! through [`super::follow`]: the invocation-log record in the stack's log group (found by the
//! call's request id), the `AWS/Bedrock` Invocations metric of the model rising above what it
//! was just before the call, and the Converse management event in CloudTrail (event history, or
//! the stack's CloudTrail Lake event data store with `cloudtrail.mode: lake`) by the caller.
//!
//! The call costs a few tokens: a one-line prompt and at most [`MAX_TOKENS`] output tokens.
//!
//! The matching of a trace to the call and the result line of the call are plain functions;
//! the SDK calls (feature `aws`) sit in `sdk` below.

use std::time::Duration;

use super::CheckResult;
use crate::aws::AwsError;
use crate::bedrock::pricing::{PriceTable, Tokens};

/// The prompt: a short fixed text, so the call costs a handful of input tokens.
pub const PROMPT: &str = "Reply with the single word OK.";
/// Output tokens at most: enough for "OK", little enough to cost nothing worth mentioning.
pub const MAX_TOKENS: i32 = 10;

/// The limits of `--deadline` and `--poll`.
pub const DEADLINE_RANGE: std::ops::RangeInclusive<u64> = 60..=3600;
pub const POLL_RANGE: std::ops::RangeInclusive<u64> = 5..=300;

/// The call as made.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub model: String,
    /// The caller's ARN (`GetCallerIdentity`): the identity its traces must carry.
    pub caller: String,
    /// The request id AWS answered with (`x-amzn-RequestId`).
    pub request_id: Option<String>,
    pub tokens: Tokens,
    /// The model's latency as Bedrock reported it.
    pub latency_ms: Option<i64>,
    /// When the call started, in milliseconds since the epoch: traces are looked for from here.
    pub started_ms: i64,
}

/// One call as a trace shows it (a log record, a CloudTrail event).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Trace {
    pub request_id: Option<String>,
    pub caller: String,
    /// As the trace names it (log records may carry the model's ARN).
    pub model: String,
    pub operation: String,
}

/// How a trace was tied to the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Match {
    /// Same request id: exactly this call.
    RequestId,
    /// No trace carried the request id, but one Converse of this caller and model since the
    /// call did (a trace whose id differs, or that has none): most likely this call.
    CallerAndModel,
}

/// `arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-micro-v1:0` -> `amazon.nova-micro-v1:0`.
fn model_name(m: &str) -> &str {
    m.rsplit('/').next().unwrap_or(m)
}

/// The trace of `call` among `traces`: by request id first, else by caller, model and operation.
pub fn find<'a>(traces: &'a [Trace], call: &Call) -> Option<(&'a Trace, Match)> {
    if let Some(id) = &call.request_id {
        if let Some(t) = traces.iter().find(|t| t.request_id.as_deref() == Some(id.as_str())) {
            return Some((t, Match::RequestId));
        }
    }
    traces
        .iter()
        .find(|t| t.caller == call.caller && model_name(&t.model) == model_name(&call.model) && t.operation == "Converse")
        .map(|t| (t, Match::CallerAndModel))
}

/// What the result line says about a found trace.
pub fn describe(t: &Trace, how: Match) -> String {
    let id = t.request_id.as_deref().unwrap_or("-");
    match how {
        Match::RequestId => format!("request {id} by {}", t.caller),
        Match::CallerAndModel => format!("a Converse of {} by {} (request id {id}, not the call's: matched by caller and model)", model_name(&t.model), t.caller),
    }
}

/// Reads one invocation-log record as a trace.
pub fn log_trace(message: &str) -> Option<Trace> {
    let v: serde_json::Value = serde_json::from_str(message).ok()?;
    let s = |p: &str| v.pointer(p).and_then(|x| x.as_str()).map(str::to_owned);
    Some(Trace { request_id: s("/requestId"), caller: s("/identity/arn")?, model: s("/modelId").unwrap_or_default(), operation: s("/operation").unwrap_or_default() })
}

/// Reads one CloudTrail event document (`CloudTrailEvent` of LookupEvents) as a trace.
pub fn cloudtrail_trace(document: &str) -> Option<Trace> {
    let v: serde_json::Value = serde_json::from_str(document).ok()?;
    let s = |p: &str| v.pointer(p).and_then(|x| x.as_str()).map(str::to_owned);
    if s("/eventSource").as_deref() != Some("bedrock.amazonaws.com") {
        return None;
    }
    Some(Trace {
        request_id: s("/requestID"),
        caller: s("/userIdentity/arn").unwrap_or_default(),
        model: s("/requestParameters/modelId").unwrap_or_default(),
        operation: s("/eventName").unwrap_or_default(),
    })
}

/// Reads one row of the Lake query [`super::lake::converse_events_sql`] as a trace.
pub fn lake_trace(row: &super::lake::Row) -> Trace {
    let g = |k: &str| row.get(k).cloned().unwrap_or_default();
    Trace { request_id: row.get("request_id").filter(|v| !v.is_empty()).cloned(), caller: g("caller"), model: g("model"), operation: g("event_name") }
}

/// The result line of the call: PASS with what it cost, or FAIL with the fix for the error.
pub fn call_result(call: &Result<Call, AwsError>, model: &str, region: &str, prices: &PriceTable) -> CheckResult {
    match call {
        Ok(c) => {
            let cost = prices.price(model, region).map(|p| format!(", estimated ${:.6}", p.cost(&c.tokens))).unwrap_or_default();
            let latency = c.latency_ms.map(|l| format!(" in {l} ms")).unwrap_or_default();
            CheckResult::pass(
                "invoke",
                format!(
                    "Converse {model} as {}{latency}: request {}, {} input + {} output tokens{cost}",
                    c.caller,
                    c.request_id.as_deref().unwrap_or("(no request id)"),
                    c.tokens.input,
                    c.tokens.output
                ),
            )
        }
        Err(e) => call_failed(e, model, region),
    }
}

/// The fix for a failed Converse call, by what AWS answered.
pub fn call_failed(e: &AwsError, model: &str, region: &str) -> CheckResult {
    let saw = format!("could not call {model}: {}", super::short(&e.to_string()));
    let code = match e {
        AwsError::Service { code, .. } => code.as_str(),
        _ => "",
    };
    let fix = match e {
        AwsError::AccessDenied { .. } => format!(
            "grant the caller bedrock:InvokeModel on arn:aws:bedrock:{region}::foundation-model/{} (and on the inference profile's ARN when MODEL is a profile such as us.<model>), and make sure the model is enabled for the account in {region} (Bedrock console > Model access)",
            model_name(model)
        ),
        AwsError::Throttled { .. } => "the account's quota for this model is exhausted right now: wait a minute and run again (`bedrock-watch quota` shows the quotas)".into(),
        _ if code == "ResourceNotFoundException" || code == "ValidationException" => format!(
            "check the model id: `aws bedrock list-foundation-models --region {region}` lists the models of the region; models that are only served through an inference profile are called as `us.<model id>` (or eu., apac.)"
        ),
        _ if matches!(code, "ModelNotReadyException" | "ModelTimeoutException" | "ServiceUnavailableException" | "InternalServerException" | "ModelErrorException") => {
            "a temporary failure of the model: run again in a minute".into()
        }
        other => other.help(),
    };
    CheckResult::fail("invoke", saw, fix)
}

/// `10m`, `90s`, `1h`, or plain seconds, within `range` (seconds); the error names the flag.
pub fn parse_duration(flag: &str, text: &str, range: &std::ops::RangeInclusive<u64>) -> Result<Duration, String> {
    let t = text.trim();
    let (number, unit) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&t[..i], c),
        _ => (t, 's'),
    };
    let factor = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        _ => 0,
    };
    let seconds = number.parse::<u64>().ok().filter(|_| factor > 0).map(|n| n.saturating_mul(factor));
    match seconds {
        Some(s) if range.contains(&s) => Ok(Duration::from_secs(s)),
        _ => Err(format!(
            "--{flag} `{text}` must be a duration from {} to {} (for example 90s, 10m, 1h)",
            super::follow::duration_text(*range.start() as i64 * 1000),
            super::follow::duration_text(*range.end() as i64 * 1000)
        )),
    }
}

#[cfg(feature = "aws")]
mod sdk;
#[cfg(feature = "aws")]
pub use sdk::*;

#[cfg(test)]
#[path = "invoke_tests.rs"]
mod tests;
