//! The identity rule and the cost arithmetic on a small set of realistic invocation-log records
//! (`tests/data/invocation-logs.jsonl`: SSO users, shared roles, an IAM user, several models,
//! an inference profile and cache tokens). Expected figures are computed by hand in comments.

use std::collections::BTreeMap;

use bedrock_watch::bedrock::identity::principal;
use bedrock_watch::bedrock::log_schema;
use bedrock_watch::bedrock::pricing::{PriceTable, Tokens};

fn records() -> Vec<serde_json::Value> {
    std::fs::read_to_string("tests/data/invocation-logs.jsonl")
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn tokens(r: &serde_json::Value) -> Tokens {
    let n = |v: &serde_json::Value| v.as_u64().unwrap_or(0);
    Tokens {
        input: n(&r["input"]["inputTokenCount"]),
        output: n(&r["output"]["outputTokenCount"]),
        cache_read: n(&r["input"]["cacheReadInputTokenCount"]),
        cache_write: n(&r["input"]["cacheWriteInputTokenCount"]),
        cache_write_1h: 0,
    }
}

/// Estimated cost per principal, rounded to 1e-9 USD.
fn cost_by_principal(sessions_are_people: bool) -> BTreeMap<String, f64> {
    let table = PriceTable::built_in();
    let mut out = BTreeMap::new();
    for r in records() {
        let who = principal(r["identity"]["arn"].as_str().unwrap(), sessions_are_people).name;
        let price = table.price(r["modelId"].as_str().unwrap(), "us-east-1").expect("every model in the fixture is priced");
        *out.entry(who).or_insert(0.0) += price.cost(&tokens(&r));
    }
    out.into_iter().map(|(k, v)| (k, (v * 1e9).round() / 1e9)).collect()
}

#[test]
fn records_use_only_schema_fields() {
    fn paths(prefix: &str, v: &serde_json::Value, out: &mut Vec<String>) {
        if let Some(m) = v.as_object() {
            for (k, x) in m {
                let p = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                if x.is_object() && p != "requestMetadata" && p != "identity" && p != "input" && p != "output" {
                    out.push(p.clone());
                }
                if x.is_object() {
                    paths(&p, x, out);
                } else {
                    out.push(p);
                }
            }
        }
    }
    for r in records() {
        let mut ps = Vec::new();
        paths("", &r, &mut ps);
        for p in ps {
            assert!(log_schema::is_field(&p), "fixture field {p} is not in the schema");
        }
    }
}

#[test]
fn identity_rule_on_the_fixture() {
    let people: Vec<String> = records().iter().map(|r| principal(r["identity"]["arn"].as_str().unwrap(), false).name).collect();
    assert_eq!(
        people,
        vec![
            "jane.doe@example.com",
            "jane.doe@example.com",
            "raj.patel@example.com",
            "li.wei@example.com",
            "support-bot-prod",
            "support-bot-prod",
            "etl-batch",
            "legacy-script",
            "raj.patel@example.com",
        ]
    );
    let sessions: Vec<String> = records().iter().map(|r| principal(r["identity"]["arn"].as_str().unwrap(), true).name).collect();
    assert_eq!(sessions[4], "support-bot-prod/i-0123456789abcdef0");
    assert_eq!(sessions[5], "support-bot-prod/i-0fedcba9876543210");
    assert_eq!(sessions[0], "jane.doe@example.com", "SSO users stay the user");
}

#[test]
fn identity_rule_matches_the_shared_expectations() {
    let expected: serde_json::Value = serde_json::from_str(&std::fs::read_to_string("tests/data/expected-principals.json").unwrap()).unwrap();
    for (key, sessions) in [("sessions_are_people_false", false), ("sessions_are_people_true", true)] {
        let want: Vec<&str> = expected[key].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
        let got: Vec<String> = records().iter().map(|r| principal(r["identity"]["arn"].as_str().unwrap(), sessions).name).collect();
        assert_eq!(got, want, "{key}");
    }
}

#[test]
fn cost_per_principal_matches_hand_computation() {
    let got = cost_by_principal(false);
    // Prices per 1,000 tokens (built-in table): Haiku 3.5 in 0.0008 out 0.004 cache read 0.00008
    // write 0.001; Sonnet 4 in 0.003 out 0.015 read 0.0003; Nova Pro in 0.0008 out 0.0032 read
    // 0.0002; Nova Lite in 0.00006 out 0.00024; Llama 3.1 8B 0.00022 both; Mistral 7B in 0.00015
    // out 0.0002.
    let expected: BTreeMap<&str, f64> = [
        // 1.2×0.0008 + 0.3×0.004 = 0.00216; 0.8×0.0008 + 0.2×0.004 + 5×0.00008 + 1×0.001 = 0.00284
        ("jane.doe@example.com", 0.005),
        // 2×0.003 + 1×0.015 = 0.021; 1×0.003 + 0.5×0.015 + 2×0.0003 = 0.0111
        ("raj.patel@example.com", 0.0321),
        // 10×0.0008 + 2×0.0032 + 4×0.0002 = 0.0152
        ("li.wei@example.com", 0.0152),
        // (50+30)×0.00006 + (10+5)×0.00024 = 0.0048 + 0.0036
        ("support-bot-prod", 0.0084),
        // 3×0.00022 + 1×0.00022
        ("etl-batch", 0.00088),
        // 1×0.00015 + 0.5×0.0002
        ("legacy-script", 0.00025),
    ]
    .into_iter()
    .collect();
    assert_eq!(got.len(), expected.len(), "{got:?}");
    for (who, want) in expected {
        let have = got[who];
        assert!((have - want).abs() < 1e-9, "{who}: {have} != {want}");
    }
}
