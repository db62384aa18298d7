//! The report's arithmetic on hand-made figures, and the fixture the snapshot and browser tests
//! render (tests/data/report.json; regenerate with BW_WRITE_REPORT_FIXTURE=1).

use super::insights::UserFigures;
use super::metrics::{Measure, ModelFigures};
use super::model::UserRow;
use super::*;
use crate::bedrock::service_tier::ServiceTier;

const HAIKU: &str = "anthropic.claude-3-5-haiku-20241022-v1:0";
const SONNET: &str = "anthropic.claude-sonnet-4-20250514-v1:0";
/// 2026-11-18T00:00:00Z.
const DAY1: i64 = 1_794_960_000;

fn figures(days: &[(&str, &[(Measure, f64)])], p99: Option<f64>) -> ModelFigures {
    let mut f = ModelFigures { p99, ..ModelFigures::default() };
    for (date, values) in days {
        for (m, v) in *values {
            *f.totals.entry(*m).or_default() += v;
            *f.days.entry((*date).to_owned()).or_default().entry(*m).or_default() += v;
        }
    }
    f
}

pub fn fixture() -> Report {
    use Measure::*;
    let mut figs = BTreeMap::new();
    figs.insert(
        HAIKU.to_owned(),
        figures(
            &[
                ("2026-11-18", &[(Invocations, 10.0), (InputTokens, 10_000.0), (OutputTokens, 2_000.0), (LatencySum, 9_000.0), (LatencyCount, 10.0), (ClientErrors, 1.0), (Throttles, 2.0)]),
                ("2026-11-19", &[(Invocations, 5.0), (InputTokens, 5_000.0), (OutputTokens, 1_000.0), (CacheReadTokens, 10_000.0), (LatencySum, 6_000.0), (LatencyCount, 5.0)]),
            ],
            Some(2_500.0),
        ),
    );
    figs.insert(
        SONNET.to_owned(),
        figures(&[("2026-11-18", &[(Invocations, 4.0), (InputTokens, 4_000.0), (OutputTokens, 1_000.0), (LatencySum, 12_000.0), (LatencyCount, 4.0), (ServerErrors, 1.0)])], Some(4_000.0)),
    );
    let users = UserFigures {
        rows: vec![
            UserRow { principal: "raj.patel@example.com".into(), calls: 4, input_tokens: 4_000, output_tokens: 1_000, estimated_cost_usd: 0.027, ..UserRow::default() },
            UserRow { principal: "jane.doe@example.com".into(), calls: 15, input_tokens: 15_000, output_tokens: 3_000, cache_read_tokens: 10_000, estimated_cost_usd: 0.0248, ..UserRow::default() },
            UserRow { principal: "chatbot-prod".into(), calls: 1, input_tokens: 10, output_tokens: 10, estimated_cost_usd: 0.0, ..UserRow::default() },
        ],
        truncated: false,
        ignored_rows: 0,
        tier_calls: BTreeMap::new(),
    };
    let req = Request { period: Period { start: DAY1, end: DAY1 + 2 * 86_400 }, top_users: 2, now: DAY1 + 2 * 86_400 + 300 };
    assemble("us-east-1", "bedrock-watch-us-east-1", Some("/aws/bedrock/modelinvocations".into()), &req, &figs, Ok(users), &PriceTable::built_in())
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn totals_costs_and_performance_by_hand() {
    let r = fixture();
    assert_eq!(period::utc_date(DAY1), "2026-11-18");
    let t = &r.totals;
    assert_eq!((t.invocations, t.input_tokens, t.output_tokens, t.cache_read_tokens, t.cache_write_tokens), (19, 19_000, 4_000, 10_000, 0));
    // Haiku 3.5: 15,000 in × $0.0008 + 3,000 out × $0.004 + 10,000 reads × $0.00008 (per 1K)
    // = 0.012 + 0.012 + 0.0008; Sonnet 4: 4,000 × $0.003 + 1,000 × $0.015 = 0.012 + 0.015.
    assert!(close(r.models[0].estimated_cost_usd.unwrap(), 0.0248));
    assert!(close(r.models[1].estimated_cost_usd.unwrap(), 0.027));
    assert!(close(t.estimated_cost_usd, 0.0518));
    let p = &r.performance;
    // (9,000 + 6,000 + 12,000) ms over 19 calls.
    assert!(close(p.average_latency_ms.unwrap(), 27_000.0 / 19.0));
    assert_eq!(r.models[0].average_latency_ms, Some(1_000.0));
    assert_eq!(p.p99_latency_ms, Some(4_000.0));
    assert_eq!((p.client_errors, p.server_errors, p.errors, p.throttles), (1, 1, 2, 2));
    assert!(close(p.error_rate_percent.unwrap(), 200.0 / 19.0));
    // Days: 2026-11-18 has both models, 2026-11-19 only Haiku.
    let days: Vec<(&str, &str, u64)> = r.days.iter().map(|d| (d.date.as_str(), d.model_id.as_str(), d.invocations)).collect();
    assert_eq!(days, vec![("2026-11-18", HAIKU, 10), ("2026-11-18", SONNET, 4), ("2026-11-19", HAIKU, 5)]);
    assert!(close(r.days[2].estimated_cost_usd.unwrap(), 0.004 + 0.004 + 0.0008));
    // 48 hours: ×15 for 30 days.
    assert_eq!((r.projection.invocations, r.projection.input_tokens, r.projection.output_tokens), (285, 285_000, 60_000));
    assert!(close(r.projection.estimated_cost_usd, 0.777));
    assert_eq!(r.projection.based_on_days, 2.0);
    // Top 2 of 3 users.
    assert_eq!((r.users.rows.len(), r.users.total_users), (2, 3));
    assert!(r.notes.is_empty(), "{:?}", r.notes);
}

#[test]
fn unpriced_models_unavailable_users_and_missing_p99_are_noted() {
    let mut figs = BTreeMap::new();
    figs.insert("custom.model".to_owned(), figures(&[("2026-11-18", &[(Measure::Invocations, 3.0), (Measure::InputTokens, 30.0)])], None));
    let req = Request { period: Period { start: DAY1, end: DAY1 + 3600 }, top_users: 10, now: DAY1 + 3600 };
    let r = assemble("us-east-1", "s", None, &req, &figs, Err("per-user figures unavailable: access denied".into()), &PriceTable::built_in());
    assert_eq!(r.totals.unpriced_models, vec!["custom.model"]);
    assert_eq!(r.models[0].estimated_cost_usd, None);
    assert!(!r.users.available);
    assert!(r.notes.iter().any(|n| n.contains("no price for custom.model")), "{:?}", r.notes);
    assert!(r.notes.iter().any(|n| n.contains("no p99")));
    assert!(r.notes.iter().any(|n| n.contains("access denied")));
    let table = render::render(&r, render::Format::Table, render::By::User);
    assert!(table.contains("per-user figures unavailable: access denied"), "{table}");
}

#[test]
fn json_round_trips_and_follows_the_schema() {
    let r = fixture();
    let json = render::render(&r, render::Format::Json, render::By::Model);
    let back = Report::from_json(&json).unwrap();
    assert_eq!(back, r);
    assert!(json.contains("\"schema\": \"bedrock-watch/report/v1\""));
    let wrong = json.replace("bedrock-watch/report/v1", "bedrock-watch/report/v0");
    assert!(Report::from_json(&wrong).unwrap_err().contains("v0"));
    let schema: serde_json::Value = serde_json::from_str(&model::schema()).unwrap();
    let props = schema["properties"].as_object().unwrap();
    for key in ["schema", "period", "totals", "performance", "models", "days", "users", "projection", "notes"] {
        assert!(props.contains_key(key), "schema lacks {key}");
    }
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/report.json");
    if std::env::var_os("BW_WRITE_REPORT_FIXTURE").is_some() {
        std::fs::write(path, &json).unwrap();
    }
    assert_eq!(std::fs::read_to_string(path).unwrap(), json, "tests/data/report.json is stale: rerun with BW_WRITE_REPORT_FIXTURE=1");
}

#[test]
fn html_is_self_contained_with_charts() {
    let html = render::render(&fixture(), render::Format::Html, render::By::Model);
    for id in ["tokens-per-day", "cost-per-day", "tokens-per-model", "cost-per-model"] {
        assert!(html.contains(&format!("id=\"{id}\"")), "{id}");
    }
    assert_eq!(html.matches("<svg").count(), 4);
    assert!(!html.contains("<script") && !html.contains("http://") && !html.contains("https://") && !html.contains("<link"), "external reference in the HTML");
    // Five segments: 2 models on day 1, 1 on day 2 (tokens), and the same for cost.
    assert_eq!(html.matches("class=\"bar\"").count(), 3 + 3 + 2 + 2);
}

#[test]
fn mantle_usage_is_its_own_unattributed_section_in_every_format() {
    let mut r = fixture();
    let mut by = BTreeMap::new();
    by.insert(HAIKU.to_owned(), mantle::Figures { inferences: 2.0, input_tokens: 5_000.0, output_tokens: 1_000.0 });
    by.insert("openai.gpt-oss-120b".to_owned(), mantle::Figures { inferences: 1.0, input_tokens: 100.0, output_tokens: 50.0 });
    r.mantle = mantle::section(&by, &PriceTable::built_in(), "us-east-1");
    let totals_before = fixture().totals;
    assert_eq!(r.totals, totals_before, "Mantle usage is not folded into the runtime totals");
    let table = render::render(&r, render::Format::Table, render::By::Model);
    assert!(table.contains("Unattributed (Mantle): the bedrock-mantle endpoint, by model"), "{table}");
    assert!(table.contains("Not attributed to any user: calls through the bedrock-mantle endpoint"), "{table}");
    // Haiku 3.5: 5,000 in × $0.0008 + 1,000 out × $0.004 = $0.0080; the unknown model is unpriced.
    assert!(table.contains(&format!("  {HAIKU}           2         5,000          1,000             $0.0080\n")), "{table}");
    assert!(table.contains("  unattributed (Mantle) total                        3         5,100          1,050  $0.0080 + unpriced\n"), "{table}");
    let md = render::render(&r, render::Format::Markdown, render::By::Model);
    assert!(md.contains("### Unattributed (Mantle)") && md.contains("| openai.gpt-oss-120b | 1 | 100 | 50 | n/a |"), "{md}");
    let html = render::render(&r, render::Format::Html, render::By::Model);
    assert!(html.contains("<h2>Unattributed (Mantle): the bedrock-mantle endpoint, by model</h2>"), "{html}");
    let json = render::render(&r, render::Format::Json, render::By::Model);
    assert_eq!(Report::from_json(&json).unwrap(), r);
    assert!(json.contains("\"unattributed_because\""));
    // Without Mantle usage nothing changes: no key in the JSON, no section.
    let plain = render::render(&fixture(), render::Format::Json, render::By::Model);
    assert!(!plain.contains("mantle"), "{plain}");
    assert!(!render::render(&fixture(), render::Format::Table, render::By::Model).contains("Mantle"));
}

#[test]
fn flex_and_priority_calls_the_logs_do_not_name_are_counted_in_a_note() {
    let mut figs = BTreeMap::new();
    let f = |n: f64| figures(&[("2026-11-18", &[(Measure::Invocations, n), (Measure::InputTokens, 100.0 * n)])], Some(1.0));
    figs.insert(format!("{HAIKU}+flex"), f(5.0));
    figs.insert(format!("{SONNET}+priority"), f(2.0));
    figs.insert(SONNET.to_owned(), f(9.0));
    let req = Request { period: Period { start: DAY1, end: DAY1 + 3600 }, top_users: 10, now: DAY1 + 3600 };
    let users = |flex: u64, priority: u64, truncated: bool| {
        Ok(UserFigures { tier_calls: [(ServiceTier::Flex, flex), (ServiceTier::Priority, priority)].into(), truncated, ..UserFigures::default() })
    };
    let note = |u| assemble("us-east-1", "s", None, &req, &figs, u, &PriceTable::built_in()).notes.into_iter().find(|n| n.contains("no service tier"));
    // 5 Flex calls metered, 3 logged with their tier; both Priority calls logged.
    let n = note(users(3, 2, false)).expect("a note");
    assert!(n.starts_with("2 Flex call(s) in the AWS/Bedrock metrics"), "{n}");
    assert!(!n.contains("Priority"), "{n}");
    assert!(note(users(0, 0, false)).unwrap().starts_with("5 Flex and 2 Priority call(s)"));
    assert_eq!(note(users(5, 2, false)), None, "every tiered call is in the logs");
    assert_eq!(note(users(0, 0, true)), None, "a truncated result cannot tell");
}
