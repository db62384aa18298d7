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
}
