//! Application inference profiles, service tiers and 1-hour cache writes on the shared fixture
//! `tests/data/pricing-cases.json`, which tests/python/test_pricing_cases.py asserts against the
//! Lambda handlers. Hand computation (USD per 1,000 tokens):
//! - profile → Claude Haiku 4.5 (in 0.001, out 0.005, read 0.0001, 5m write 0.00125, 1h write 0.002):
//!   1000×0.001 + 200×0.005 + 4000×0.0001 + 1000×0.00125 + 2000×0.002 = 7.65 → 0.00765, Flex × 0.5 = 0.003825
//! - Sonnet 4: 2000×0.003 + 500×0.015 = 13.5 → 0.0135, Priority × 1.75 = 0.023625
//! - Nova Pro: 10000×0.0008 + 2000×0.0032 + 4000×0.0002 = 15.2 → 0.0152
//! - gpt-oss-120b (configured 0.00015 / 0.0006): Reserved × 0 = 0; Standard 1000×0.00015 + 1000×0.0006 = 0.00075
//! - metrics: `+flex` 1,000,000×0.00015 + 100,000×0.0006 = 210 → 0.21 × 0.5 = 0.105; `+priority` × 1.75 = 0.3675;
//!   the profile ARN as a ModelId: 1000×0.001 + 1000×0.005 = 6 → 0.006

use bedrock_watch::bedrock::log_usage::Usage;
use bedrock_watch::bedrock::pricing::Tokens;
use bedrock_watch::cfn::{Map, Value};
use bedrock_watch::config::Config;

/// A literal template value as JSON (the handlers' CONFIG holds only literals here).
fn to_json(v: &Value) -> serde_json::Value {
    match v {
        Value::Bool(b) => (*b).into(),
        Value::Int(i) => (*i).into(),
        Value::Float(f) => (*f).into(),
        Value::Str(s) => s.clone().into(),
        Value::List(l) => l.iter().map(to_json).collect(),
        Value::Map(m) => m.iter().map(|(k, x)| (k.to_owned(), to_json(x))).collect::<serde_json::Map<_, _>>().into(),
        Value::Fn(_) => panic!("an intrinsic where a literal was expected"),
    }
}

fn fixture() -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string("tests/data/pricing-cases.json").unwrap()).unwrap()
}

fn config(f: &serde_json::Value) -> Config {
    let mut c = Config::default();
    c.pricing = serde_json::from_value(f["pricing"].clone()).expect("the fixture's pricing section is a valid config section");
    c
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

#[test]
fn records_read_and_price_as_the_fixture_says() {
    let f = fixture();
    let c = config(&f);
    let table = c.pricing.table();
    for case in f["records"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let u = Usage::from_record(&case["record"]);
        assert_eq!(u.tier.as_str(), case["tier"].as_str().unwrap(), "{name}");
        let t: Vec<u64> = case["tokens"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
        assert_eq!(u.tokens, Tokens { input: t[0], output: t[1], cache_read: t[2], cache_write: t[3], cache_write_1h: t[4] }, "{name}");
        let cost = table.cost(&u, "us-east-1").unwrap_or_else(|| panic!("{name}: unpriced"));
        let want = case["cost_usd"].as_f64().unwrap();
        assert!(close(cost, want), "{name}: {cost} != {want}");
    }
}

#[test]
fn metric_model_ids_with_tier_suffixes_and_profile_arns_price_as_the_fixture_says() {
    let f = fixture();
    let c = config(&f);
    let table = c.pricing.table();
    for case in f["metric_models"].as_array().unwrap() {
        let id = case["model_id"].as_str().unwrap();
        let n = |k: &str| case["tokens"][k].as_u64().unwrap();
        let tokens = Tokens { input: n("input"), output: n("output"), cache_read: n("cache_read"), cache_write: n("cache_write"), cache_write_1h: 0 };
        let cost = table.price(id, "us-east-1").unwrap_or_else(|| panic!("{id}: unpriced")).cost(&tokens);
        let want = case["cost_usd"].as_f64().unwrap();
        assert!(close(cost, want), "{id}: {cost} != {want}");
    }
}

#[test]
fn the_handlers_config_entries_are_the_fixtures() {
    let f = fixture();
    let c = config(&f);
    let json = |m: Map| to_json(&Value::Map(m));
    let prices = json(bedrock_watch::quotas::prices(&c, "us-east-1"));
    for (model, want) in f["handler_config"]["prices"].as_object().unwrap() {
        let got = &prices[model];
        for (field, v) in want.as_object().unwrap() {
            assert!(close(got[field].as_f64().unwrap(), v.as_f64().unwrap()), "{model}.{field}: {} != {v}", got[field]);
        }
    }
    assert_eq!(json(bedrock_watch::quotas::inference_profiles(&c)), f["handler_config"]["inference_profiles"]);
    let tiers = json(bedrock_watch::quotas::service_tiers(&c));
    let want = f["handler_config"]["service_tiers"].as_object().unwrap();
    assert_eq!(tiers.as_object().unwrap().len(), want.len());
    for (k, v) in want {
        assert!(close(tiers[k].as_f64().unwrap(), v.as_f64().unwrap()), "service_tiers.{k}: {} != {v}", tiers[k]);
    }
}
