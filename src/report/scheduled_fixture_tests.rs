//! The Rust side of tests/data/scheduled-report.json: from the recorded ListMetrics,
//! GetMetricData and Logs Insights results, the report `bedrock-watch report` assembles, the
//! queries it sends and the settings synthesized into the scheduled-report function. The Python
//! side (tests/python/test_scheduled_report.py) runs the function's code on the same inputs and
//! must produce the same report. Regenerate with BW_WRITE_SCHEDULED_REPORT_FIXTURE=1 and review
//! the diff.

use serde_json::{json, Value};

use super::metrics::{self, Fetched};
use super::*;

const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/scheduled-report.json");

fn fixture() -> Value {
    serde_json::from_str(&std::fs::read_to_string(PATH).expect("fixture exists")).expect("fixture is JSON")
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_owned()).collect()
}

#[test]
fn the_scheduled_report_fixture_is_what_rust_computes() {
    let mut f = fixture();
    let config = crate::config::load_file(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/scheduled-reports.yaml"))).unwrap();
    let region = f["region"].as_str().unwrap().to_owned();
    let schedule = config.reports.schedule.clone().expect("the example has a schedule");
    assert_eq!(config.stack_name_for(&region), f["stack_name"]);
    assert_eq!(config.logging.log_group_name, f["log_group"]);

    // What the function is given: literal JSON (no references), exactly as synthesized.
    let settings = match crate::cfn::render::embedded_json(&crate::scheduled_reports::settings(&config, &region, &schedule).unwrap().into()) {
        crate::cfn::Value::Str(text) => serde_json::from_str::<Value>(&text).unwrap(),
        other => panic!("settings hold references: {other:?}"),
    };

    let p = &f["period"];
    let period = Period { start: p["start"].as_i64().unwrap(), end: p["end"].as_i64().unwrap() };
    let mut models = strings(&f["list_metrics"]);
    models.extend(config.models.iter().cloned());
    models.sort();
    models.dedup();
    let queries = metrics::queries_for(&models, &period);
    let mut fetched = Fetched::default();
    for q in &queries {
        let recorded = f["metric_data"].as_array().unwrap().iter().find(|m| m["model_id"] == q.model_id && m["metric"] == q.measure.metric() && m["stat"] == q.measure.stat());
        if let Some(m) = recorded {
            let points = m["points"].as_array().unwrap().iter().map(|pt| (pt[0].as_i64().unwrap(), pt[1].as_f64().unwrap())).collect();
            fetched.points.insert(q.id.clone(), points);
        }
    }
    let figures = metrics::by_model(&queries, &fetched);
    let rows: Vec<Vec<(String, String)>> = f["insights_rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row.as_array().unwrap().iter().map(|kv| (kv[0].as_str().unwrap().to_owned(), kv[1].as_str().unwrap().to_owned())).collect())
        .collect();
    let prices = config.pricing.table();
    let users = insights::parse(&rows, &prices, &region);
    let req = Request { period, top_users: schedule.top_users, now: p["now"].as_i64().unwrap() };
    let mut report = assemble(&region, &config.stack_name_for(&region), Some(config.logging.log_group_name.clone()), &req, &figures, Ok(users), &prices);
    // bedrock-mantle: the model-level series ListMetrics named, their recorded sums, and what
    // `mantle::read` keeps (models with usage).
    let dimension_sets = f["mantle_list_metrics"].as_array().unwrap().iter().map(|set| {
        set.as_array().unwrap().iter().map(|d| (d[0].as_str().unwrap().to_owned(), d[1].as_str().unwrap().to_owned())).collect::<Vec<_>>()
    });
    let mut mantle_usage = BTreeMap::new();
    for model in mantle::model_level(dimension_sets) {
        let sum = |metric: &str| f["mantle_sums"][&model][metric].as_array().map_or(0.0, |v| v.iter().map(|x| x.as_f64().unwrap()).sum());
        let figures = mantle::Figures { inferences: sum(mantle::INFERENCES), input_tokens: sum(mantle::TOTAL_INPUT_TOKENS), output_tokens: sum(mantle::TOTAL_OUTPUT_TOKENS) };
        if figures != mantle::Figures::default() {
            mantle_usage.insert(model, figures);
        }
    }
    add_mantle(&mut report, Ok(mantle_usage), &prices, &region);

    let queries_json: Vec<Value> = queries
        .iter()
        .map(|q| json!({"id": q.id, "model_id": q.model_id, "metric": q.measure.metric(), "stat": q.measure.stat(), "period": q.period_seconds}))
        .collect();
    let report_json = serde_json::to_value(&report).unwrap();
    if std::env::var_os("BW_WRITE_SCHEDULED_REPORT_FIXTURE").is_some() {
        f["settings"] = settings.clone();
        f["queries"] = Value::Array(queries_json.clone());
        f["report"] = report_json.clone();
        std::fs::write(PATH, serde_json::to_string_pretty(&f).unwrap() + "\n").unwrap();
    }
    let stale = "tests/data/scheduled-report.json is stale: rerun with BW_WRITE_SCHEDULED_REPORT_FIXTURE=1 and review the diff";
    assert_eq!(f["settings"], settings, "{stale}");
    assert_eq!(f["queries"], Value::Array(queries_json), "{stale}");
    assert_eq!(f["report"], report_json, "{stale}");
    // The fixture exercises what can differ between the two sides: rounding half away from
    // zero (2.5 invocations), an inference-profile id priced by its base model, an unpriced
    // model, a discount, the top-N cut with a tie broken by name, an ignored row, p99.
    assert_eq!(report.models.iter().find(|m| m.model_id == "custom.unpriced-model").unwrap().invocations, 3);
    assert!(report.models.iter().any(|m| m.model_id.starts_with("us.") && m.estimated_cost_usd.is_some()));
    assert_eq!(report.totals.unpriced_models, vec!["custom.unpriced-model"]);
    assert_eq!((report.users.rows.len(), report.users.total_users), (5, 6));
    let ranked: Vec<&str> = report.users.rows.iter().map(|u| u.principal.as_str()).collect();
    assert_eq!(ranked, ["jane.doe@example.com", "raj.patel@example.com", "ops-admin", "alice", "bob"], "support-bot (unpriced, cost 0) is cut");
    assert!(report.notes.iter().any(|n| n.contains("1 Logs Insights result row(s) had no `principal`")), "{:?}", report.notes);
    assert_eq!(report.performance.p99_latency_ms, Some(4000.0));
    assert_eq!(settings["prices"]["anthropic.claude-3-5-haiku-20241022-v1:0"]["input"], json!(0.0008 * 0.9));
    // Tiers and cache lifetimes: ops-admin's 2 Flex calls (of the 5 the metrics count) and
    // jane's 2,000 1-hour writes are priced as logged; the other 3 Flex calls are noted.
    assert!(report.notes.iter().any(|n| n.starts_with("3 Flex call(s) in the AWS/Bedrock metrics have no service tier")), "{:?}", report.notes);
    let jane = &report.users.rows[0];
    assert_eq!((jane.principal.as_str(), jane.cache_write_tokens), ("jane.doe@example.com", 3_000));
    // Mantle: only the model-level series, the idle model dropped, the unknown one unpriced.
    let m = report.mantle.as_ref().expect("the fixture has Mantle usage");
    assert_eq!(m.models.iter().map(|r| r.model.as_str()).collect::<Vec<_>>(), ["anthropic.claude-haiku-4-5-20251001-v1:0", "openai.gpt-oss-120b"]);
    assert_eq!((m.inferences, m.input_tokens, m.unpriced_models.clone()), (9, 61_500, vec!["openai.gpt-oss-120b".to_owned()]));
    assert_eq!(settings["mantle_unattributed_because"], mantle::UNATTRIBUTED_BECAUSE);
}
