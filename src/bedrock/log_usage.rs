//! What one invocation-log record says about price: the model, the service tier and the token
//! counts, with cache writes split by lifetime. The quota function (src/quotas/quota_core.py,
//! `record_pricing`) reads records the same way; tests/data/pricing-cases.json pins both.
//!
//! Where each part comes from:
//! - tokens: `input.inputTokenCount`, `output.outputTokenCount`, `input.cacheReadInputTokenCount`,
//!   `input.cacheWriteInputTokenCount` (the documented record fields, aws-facts.md).
//! - 1-hour cache writes: the Converse response's `usage.cacheDetails` ("Detailed breakdown of cache
//!   writes by TTL", entries `{ttl: "5m" | "1h", inputTokens}`,
//!   https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_TokenUsage.html) as logged
//!   in `output.outputBodyJson`. The record itself has one cache-write count; without the body
//!   (text delivery off, or InvokeModel) every write counts as a 5-minute write.
//! - tier: `serviceTier.type` of the logged Converse response, else of the logged request
//!   (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ServiceTier.html), else a
//!   `+flex`/`+priority` suffix of `modelId`, else Standard. InvokeModel sets the tier in a header
//!   that the record does not carry: such calls count as Standard.
//!
//! Logs Insights reads the same two facts with [`insights_commands`]: `parse` with regular
//! expressions on the raw record (`@message`), not the discovered JSON fields, because Logs
//! Insights discovers at most 200 fields of a JSON event
//! (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CWL_QuerySyntax-Parse.html) and a
//! logged conversation passes that long before `output.outputBodyJson`. A prompt cannot fake the
//! patterns: inside a JSON string every `"` is escaped, and each pattern needs an unescaped one.

use serde_json::Value;

use super::pricing::Tokens;
use super::service_tier::{split_tier_suffix, ServiceTier};

/// The priced facts of one call, or of a sum of calls of one model on one tier.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Usage {
    pub model: String,
    pub tier: ServiceTier,
    pub tokens: Tokens,
}

fn count(v: &Value) -> u64 {
    match v {
        Value::Number(n) => n.as_u64().or_else(|| n.as_f64().filter(|f| f.is_finite() && *f > 0.0).map(|f| f as u64)).unwrap_or(0),
        _ => 0,
    }
}

/// The tier named by a logged body's `serviceTier.type`.
fn body_tier(body: &Value) -> Option<ServiceTier> {
    body.get("serviceTier").and_then(|t| t.get("type")).and_then(Value::as_str).and_then(ServiceTier::parse)
}

/// 1-hour cache writes in a logged Converse response body.
fn one_hour_writes(body: &Value) -> u64 {
    let Some(details) = body.get("usage").and_then(|u| u.get("cacheDetails")).and_then(Value::as_array) else { return 0 };
    details.iter().filter(|d| d.get("ttl").and_then(Value::as_str) == Some("1h")).map(|d| count(d.get("inputTokens").unwrap_or(&Value::Null))).sum()
}

/// The Logs Insights field [`insights_commands`] leaves the tier in: `default`, `flex`,
/// `priority` or `reserved` (lower case; `default` when the record names none).
pub const INSIGHTS_TIER_FIELD: &str = "service_tier";
/// The Logs Insights field holding a record's 1-hour cache writes (0 when its body says none).
pub const INSIGHTS_HOUR_WRITES_FIELD: &str = "cache_write_1h";

/// The tier of the last `"serviceTier": {"type": ...}` of the record: the greedy `.*` skips the
/// request's to reach the response's, which the record logs after it (the precedence of
/// [`Usage::from_record`]).
pub const TIER_PATTERN: &str = r#".*"serviceTier":[ ]*[{][ ]*"type":[ ]*"(?<logged_tier>[A-Za-z]+)""#;
/// The `inputTokens` of the `cacheDetails` entry whose `ttl` is `1h`, in either key order;
/// `[^{}]*` keeps each match inside one entry.
pub const HOUR_WRITES_PATTERNS: [&str; 2] = [
    r#""ttl":[ ]*"1h"[^{}]*"inputTokens":[ ]*(?<hour_writes_a>[0-9]+)"#,
    r#""inputTokens":[ ]*(?<hour_writes_b>[0-9]+)[^{}]*"ttl":[ ]*"1h""#,
];

/// Logs Insights commands that set [`INSIGHTS_TIER_FIELD`] and [`INSIGHTS_HOUR_WRITES_FIELD`] on
/// every record. "If a log event doesn't match the specified pattern, you still see it in the
/// results, but without the extracted fields" (CWL_QuerySyntax-Parse.html), so no record is
/// dropped and `coalesce` gives the default. Put them before any command that prices a record.
pub fn insights_commands() -> String {
    let [a, b] = HOUR_WRITES_PATTERNS;
    format!(
        "parse @message /{TIER_PATTERN}/\n| parse @message /{a}/\n| parse @message /{b}/\n| fields tolower(coalesce(logged_tier, \"default\")) as {INSIGHTS_TIER_FIELD}, coalesce(hour_writes_a, hour_writes_b, 0) as {INSIGHTS_HOUR_WRITES_FIELD}"
    )
}

impl Usage {
    /// Reads an invocation-log record; missing or malformed parts count as zero / Standard.
    pub fn from_record(record: &Value) -> Usage {
        let input = record.get("input").unwrap_or(&Value::Null);
        let output = record.get("output").unwrap_or(&Value::Null);
        let field = |obj: &Value, k: &str| count(obj.get(k).unwrap_or(&Value::Null));
        let model = record.get("modelId").and_then(Value::as_str).unwrap_or("").to_owned();
        let out_body = output.get("outputBodyJson").unwrap_or(&Value::Null);
        let in_body = input.get("inputBodyJson").unwrap_or(&Value::Null);
        let tier = body_tier(out_body).or_else(|| body_tier(in_body)).or_else(|| split_tier_suffix(&model).1).unwrap_or_default();
        let writes = field(input, "cacheWriteInputTokenCount");
        let hour = one_hour_writes(out_body);
        // The record's count is all writes; a body that says more 1-hour writes than that wins.
        let total = writes.max(hour);
        let tokens = Tokens {
            input: field(input, "inputTokenCount"),
            output: field(output, "outputTokenCount"),
            cache_read: field(input, "cacheReadInputTokenCount"),
            cache_write: total - hour,
            cache_write_1h: hour,
        };
        Usage { model, tier, tokens }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_tier_and_cache_lifetimes_from_the_logged_bodies() {
        let r = json!({
            "modelId": "anthropic.claude-haiku-4-5-20251001-v1:0",
            "input": {"inputTokenCount": 10, "cacheWriteInputTokenCount": 3000, "cacheReadInputTokenCount": 7,
                      "inputBodyJson": {"serviceTier": {"type": "priority"}}},
            "output": {"outputTokenCount": 5, "outputBodyJson": {"serviceTier": {"type": "flex"},
                       "usage": {"cacheDetails": [{"ttl": "1h", "inputTokens": 2000}, {"ttl": "5m", "inputTokens": 1000}]}}}
        });
        let u = Usage::from_record(&r);
        assert_eq!(u.tier, ServiceTier::Flex, "the response's tier is the one that served the call");
        assert_eq!(u.tokens, Tokens { input: 10, output: 5, cache_read: 7, cache_write: 1000, cache_write_1h: 2000 });
    }

    #[test]
    fn falls_back_to_the_request_the_model_suffix_and_standard() {
        let req = json!({"modelId": "m", "input": {"inputBodyJson": {"serviceTier": {"type": "priority"}}}});
        assert_eq!(Usage::from_record(&req).tier, ServiceTier::Priority);
        assert_eq!(Usage::from_record(&json!({"modelId": "m+flex"})).tier, ServiceTier::Flex);
        let plain = Usage::from_record(&json!({"modelId": "m", "input": {"inputTokenCount": 4, "cacheWriteInputTokenCount": 9}}));
        assert_eq!((plain.tier, plain.tokens.cache_write, plain.tokens.cache_write_1h), (ServiceTier::Standard, 9, 0));
        let junk = Usage::from_record(&json!({"input": {"inputTokenCount": -3}, "output": "x"}));
        assert_eq!(junk, Usage::default());
    }

    /// What Logs Insights does with [`insights_commands`] on one raw record: the tier and the
    /// 1-hour writes the patterns extract, with the commands' defaults.
    pub(crate) fn insights_reading(message: &str) -> (String, u64) {
        let capture = |pattern: &str, name: &str| regex_lite::Regex::new(pattern).unwrap().captures(message).and_then(|c| c.name(name).map(|m| m.as_str().to_owned()));
        let tier = capture(TIER_PATTERN, "logged_tier").map_or_else(|| "default".to_owned(), |t| t.to_lowercase());
        let hour = capture(HOUR_WRITES_PATTERNS[0], "hour_writes_a").or_else(|| capture(HOUR_WRITES_PATTERNS[1], "hour_writes_b")).map_or(0, |h| h.parse().unwrap());
        (tier, hour)
    }

    #[test]
    fn insights_patterns_read_what_from_record_reads() {
        let response_wins = r#"{"input":{"inputBodyJson":{"serviceTier":{"type":"priority"}}},"output":{"outputBodyJson":{"serviceTier": {"type": "flex"}}}}"#;
        assert_eq!(insights_reading(response_wins).0, "flex");
        // Key order inside a cacheDetails entry does not matter; a 5-minute entry is not read.
        let ttl_first = r#"{"output":{"outputBodyJson":{"usage":{"inputTokens":10,"cacheDetails":[{"ttl":"5m","inputTokens":1000},{"ttl":"1h","inputTokens":2000}]}}}}"#;
        let tokens_first = r#"{"output":{"outputBodyJson":{"usage":{"cacheDetails":[{"inputTokens":1000,"ttl":"5m"},{"inputTokens":2000,"ttl":"1h"}],"inputTokens":10}}}}"#;
        assert_eq!(insights_reading(ttl_first), ("default".to_owned(), 2000));
        assert_eq!(insights_reading(tokens_first), ("default".to_owned(), 2000));
        // A request's 1-hour cache point names no tokens, and a prompt quoting the fields is escaped JSON.
        let prompt = json!({"input": {"inputBodyJson": {"messages": [{"content": [{"text": "\"serviceTier\":{\"type\":\"flex\"} {\"ttl\":\"1h\",\"inputTokens\":99}"}, {"cachePoint": {"type": "default", "ttl": "1h"}}]}]}}});
        assert_eq!(insights_reading(&prompt.to_string()), ("default".to_owned(), 0));
        assert_eq!(Usage::from_record(&prompt).tier, ServiceTier::Standard);
        // Upper case is lowered, as ServiceTier::parse does.
        assert_eq!(insights_reading(r#"{"serviceTier":{"type":"PRIORITY"}}"#).0, "priority");
    }

    #[test]
    fn insights_commands_read_and_price_the_shared_fixture_like_the_quota_function() {
        let f: Value = serde_json::from_str(&std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/pricing-cases.json")).unwrap()).unwrap();
        let mut config = crate::config::Config::default();
        config.pricing = serde_json::from_value(f["pricing"].clone()).unwrap();
        let table = config.pricing.table();
        // Every model of the table, and the mapped profile by its id (as `priced_models` adds it).
        let mut refs: Vec<&str> = table.model_ids().collect();
        refs.extend(config.pricing.inference_profiles.keys().map(|k| crate::bedrock::inference_profile::match_id(k)));
        let expr = table.insights_cost_expression(&refs, "us-east-1");
        let commands = insights_commands();
        for pattern in [TIER_PATTERN, HOUR_WRITES_PATTERNS[0], HOUR_WRITES_PATTERNS[1]] {
            assert!(commands.contains(&format!("parse @message /{pattern}/")), "{commands}");
        }
        for case in f["records"].as_array().unwrap() {
            let name = case["name"].as_str().unwrap();
            let (tier, hour) = insights_reading(&case["record"].to_string());
            let want = Usage::from_record(&case["record"]);
            assert_eq!(ServiceTier::parse(&tier), Some(want.tier), "{name}");
            assert_eq!(hour, want.tokens.cache_write_1h, "{name}");
            let model = case["record"]["modelId"].as_str().unwrap();
            let got = crate::bedrock::pricing::cost_expression_tests::evaluate_cost_on(&expr, model, &tier, &want.tokens);
            let cost = case["cost_usd"].as_f64().unwrap();
            assert!((got - cost).abs() < 1e-12, "{name}: the query prices {got}, the quota function {cost}\n{expr}");
        }
    }
}
