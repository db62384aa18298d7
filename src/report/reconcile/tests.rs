//! The drift rules on hand-made figures, each reason on its own; and the whole pure pipeline on
//! the committed CUR fixture (tests/data/cur/), which writes the JSON the snapshot tests render
//! (tests/data/reconcile.json; regenerate with BW_WRITE_RECONCILE_FIXTURE=1).

use std::collections::BTreeMap;

use super::billed::{Billed, CurLine, Scope, NOT_TOKENS, NOT_USAGE, NO_PRINCIPAL, OTHER_REGIONS};
use super::model::Reason;
use super::*;
use crate::bedrock::pricing::{Price, PriceTable, Tokens};

const ACCOUNT: &str = "123456789012";
/// 2026-11-01T00:00:00Z and 2026-12-01T00:00:00Z.
const NOV: Period = Period { start: 1_793_491_200, end: 1_796_083_200 };
/// 2026-12-07T00:00:00Z: the month is closed, but AWS may still revise it.
const NOW: i64 = 1_796_601_600;
const SONNET: &str = "anthropic.claude-sonnet-4-20250514-v1:0";
const HAIKU: &str = "anthropic.claude-3-5-haiku-20241022-v1:0";

fn scope() -> Scope {
    Scope { region: "us-east-1".into(), account: Some(ACCOUNT.into()), period: NOV, sessions_are_people: false }
}

fn req(threshold: f64) -> Request {
    Request { period: NOV, drift_threshold_percent: threshold, min_difference_usd: DEFAULT_MIN_DIFFERENCE_USD, now: NOW }
}

fn line(principal: &str, usage_type: &str, cost: f64) -> CurLine {
    CurLine { usage_start: Some(NOV.start + 3600), ..super::billed::tests::line(principal, usage_type, cost) }
}

fn billed(lines: &[CurLine]) -> Billed {
    let mut b = Billed::default();
    for l in lines {
        b.add(l, &scope());
    }
    b
}

fn logged(entries: &[(&str, &str, u64, u64, u64)]) -> crate::report::insights::PrincipalModelSums {
    let mut m: crate::report::insights::PrincipalModelSums = BTreeMap::new();
    for (p, model, calls, input, output) in entries {
        m.entry((*p).to_owned()).or_default().insert((*model).to_owned(), (*calls, Tokens { input: *input, output: *output, ..Tokens::default() }));
    }
    m
}

fn sources<'a>(b: &'a Billed, l: &'a crate::report::insights::PrincipalModelSums, ignored_log_rows: usize) -> Sources<'a> {
    Sources {
        region: "us-east-1",
        stack_name: "bedrock-watch-us-east-1",
        log_group: "/aws/bedrock/modelinvocations",
        bucket: "bedrock-watch-us-east-1-curexportbucket-abc123",
        export_name: "bedrock-watch-cur2",
        data_files: 1,
        billed: b,
        logged: l,
        logs_truncated: false,
        ignored_log_rows,
    }
}

fn reconcile_with(b: &Billed, l: &crate::report::insights::PrincipalModelSums, prices: &PriceTable, threshold: f64) -> Reconciliation {
    assemble(&sources(b, l, 0), &req(threshold), prices, 180).unwrap()
}

const RAJ: &str = "arn:aws:iam::123456789012:user/raj";

#[test]
fn matching_figures_do_not_drift_and_the_threshold_is_strict() {
    // Sonnet 4 at $0.003 / $0.015 per 1K: 2,000 in + 1,000 out = $0.021.
    let l = logged(&[("raj", SONNET, 2, 2000, 1000)]);
    let t = PriceTable::built_in();
    let exact = reconcile_with(&billed(&[line(RAJ, "USE1-ClaudeSonnet4-input-tokens", 0.006), line(RAJ, "USE1-ClaudeSonnet4-output-tokens", 0.015)]), &l, &t, 10.0);
    assert_eq!(exact.rows.len(), 1);
    let r = &exact.rows[0];
    assert_eq!((r.principal.as_str(), r.model.as_str(), r.logged_calls), ("raj", SONNET, 2));
    assert!((r.billed_usd - 0.021).abs() < 1e-12 && (r.estimated_usd - 0.021).abs() < 1e-12);
    assert!(!r.drifting && r.reason.is_none() && !exact.drifts());
    // Billed $0.1, estimated $0.021: -79 %, well over 10 %.
    let over = reconcile_with(&billed(&[line(RAJ, "USE1-ClaudeSonnet4-input-tokens", 0.1)]), &l, &t, 10.0);
    assert!(over.rows[0].drifting && over.drifts());
    assert!((over.rows[0].drift_percent.unwrap() + 79.0).abs() < 1e-9);
    // The same row under a threshold of 80 % does not drift.
    assert!(!reconcile_with(&billed(&[line(RAJ, "USE1-ClaudeSonnet4-input-tokens", 0.1)]), &l, &t, 80.0).drifts());
}

#[test]
fn differences_under_a_cent_are_not_drift() {
    // Billed $0.0105 vs estimated $0.021: +100 %, but only $0.0105 apart... which is over a cent.
    let l = logged(&[("raj", SONNET, 2, 2000, 1000)]);
    let t = PriceTable::built_in();
    assert!(reconcile_with(&billed(&[line(RAJ, "USE1-ClaudeSonnet4-input-tokens", 0.0105)]), &l, &t, 10.0).drifts());
    // Billed $0.0125: +68 %, $0.0085 apart: under the cent floor.
    assert!(!reconcile_with(&billed(&[line(RAJ, "USE1-ClaudeSonnet4-input-tokens", 0.0125)]), &l, &t, 10.0).drifts());
}

#[test]
fn billed_without_logs_is_untracked_traffic_with_the_likely_cause() {
    let t = PriceTable::built_in();
    let bot = "arn:aws:iam::123456789012:user/bedrock-watch/bedrock-tool-support-bot";
    let b = billed(&[
        line(bot, "USE1-NovaMicro-input-tokens", 0.5),
        line(RAJ, "USE1-GPT-OSS-120B-mantle-input-tokens-standard", 0.2),
        line("", "USE1-NovaMicro-output-tokens", 0.3),
        line(RAJ, "USE1-NovaLite-input-tokens", 0.4),
    ]);
    let l = logged(&[("raj", SONNET, 1, 1000, 0)]);
    let r = reconcile_with(&b, &l, &t, 10.0);
    let by = |p: &str, m: &str| r.rows.iter().find(|x| x.principal == p && x.model == m).unwrap_or_else(|| panic!("{p} {m}: {:#?}", r.rows));
    let api_key = by("bedrock-tool-support-bot", "amazon.nova-micro-v1:0");
    assert_eq!(api_key.reason, Some(Reason::UntrackedTraffic));
    assert!(api_key.detail.as_deref().unwrap().contains("no invocation-log records of this principal"), "{:?}", api_key.detail);
    let mantle = by("raj", "GPT-OSS-120B");
    assert!(mantle.mantle);
    assert_eq!(mantle.reason, Some(Reason::UntrackedTraffic));
    assert!(mantle.detail.as_deref().unwrap().contains("bedrock-mantle"));
    let nobody = by(NO_PRINCIPAL, "amazon.nova-micro-v1:0");
    assert!(nobody.detail.as_deref().unwrap().contains("names no IAM principal"));
    let other_model = by("raj", "amazon.nova-lite-v1:0");
    assert_eq!(other_model.reason, Some(Reason::UntrackedTraffic));
    assert!(other_model.detail.as_deref().unwrap().contains("have no calls of this model"));
}

#[test]
fn a_logged_model_without_price_is_a_missing_price() {
    let l = logged(&[("chatbot-prod", "meta.llama3-2-1b-instruct-v1:0", 10, 200_000, 300_000)]);
    let b = billed(&[line("arn:aws:sts::123456789012:assumed-role/chatbot-prod/i-1", "USE1-Llama3.2-1B-Instruct-input-tokens", 0.05)]);
    let r = reconcile_with(&b, &l, &PriceTable::built_in(), 10.0);
    let row = &r.rows[0];
    assert_eq!((row.model.as_str(), row.estimated_usd, row.reason), ("meta.llama3-2-1b-instruct-v1:0", 0.0, Some(Reason::MissingPrice)));
    assert_eq!(row.unpriced_models, vec!["meta.llama3-2-1b-instruct-v1:0"]);
    assert!(row.detail.as_deref().unwrap().contains("pricing.models"));
}

fn stale_sonnet() -> BTreeMap<String, Price> {
    let mut o = BTreeMap::new();
    o.insert(SONNET.to_owned(), Price { input: 0.003, output: 0.015, cache_read: Some(0.0003), cache_write: Some(0.00375), cache_write_1h: None, as_of: Some(jiff::civil::date(2025, 1, 1)) });
    o
}

#[test]
fn an_old_price_is_a_stale_price_and_a_fresh_one_is_unexplained() {
    let l = logged(&[("raj", SONNET, 2, 2000, 1000)]);
    let b = billed(&[line(RAJ, "USE1-ClaudeSonnet4-input-tokens", 0.039)]);
    let overrides = stale_sonnet();
    let none = BTreeMap::new();
    let stale = reconcile_with(&b, &l, &PriceTable::new(&overrides, &none, 0.0), 10.0);
    assert_eq!(stale.rows[0].reason, Some(Reason::StalePrice));
    let d = stale.rows[0].detail.clone().unwrap();
    // Judged on the period's last day (2026-11-30): 698 days after 2025-01-01.
    assert!(d.contains("as of 2025-01-01") && d.contains("698 days old (limit 180)"), "{d}");
    let fresh = reconcile_with(&b, &l, &PriceTable::built_in(), 10.0);
    assert_eq!(fresh.rows[0].reason, Some(Reason::Unexplained));
    assert!(fresh.rows[0].detail.as_deref().unwrap().starts_with("billed more than the logged tokens cost"));
    let cheaper = reconcile_with(&billed(&[line(RAJ, "USE1-ClaudeSonnet4-input-tokens", 0.005)]), &l, &PriceTable::built_in(), 10.0);
    assert!(cheaper.rows[0].detail.as_deref().unwrap().starts_with("billed less"));
}

#[test]
fn logged_but_not_billed_names_what_the_bill_has() {
    let l = logged(&[("raj", "amazon.nova-pro-v1:0", 5, 100_000, 0)]);
    let b = billed(&[line(RAJ, "USE1-ClaudeSonnet4-input-tokens", 0.0)]);
    let r = reconcile_with(&b, &l, &PriceTable::built_in(), 10.0);
    let row = r.rows.iter().find(|x| x.model == "amazon.nova-pro-v1:0").unwrap();
    assert!((row.estimated_usd - 0.08).abs() < 1e-12);
    assert_eq!((row.drift_percent, row.reason), (None, Some(Reason::Unexplained)));
    let d = row.detail.as_deref().unwrap();
    assert!(d.starts_with("logged but not billed") && d.contains("ClaudeSonnet4"), "{d}");
}

#[test]
fn a_bill_in_another_currency_is_refused() {
    let mut l = line(RAJ, "USE1-ClaudeSonnet4-input-tokens", 1.0);
    l.currency = "EUR".into();
    let (b, logged) = (billed(&[l]), BTreeMap::new());
    let src = sources(&b, &logged, 0);
    let e = assemble(&src, &req(10.0), &PriceTable::built_in(), 180).unwrap_err();
    assert!(matches!(e, ReconcileError::Currency { ref currencies } if currencies == "EUR"), "{e:?}");
}

/// The Logs Insights rows `report`'s per-user query returns for the fixture's month.
fn fixture_log_rows() -> Vec<Vec<(String, String)>> {
    let row = |p: &str, model: &str, day: &str, calls: u64, input: u64, output: u64, read: u64| crate::report::insights::tests::row_on(day, p, model, calls, input, output, read, 0);
    vec![
        row("jane.doe@example.com", "us.anthropic.claude-3-5-haiku-20241022-v1:0", "2026-11-03", 2, 3000, 600, 0),
        row("jane.doe@example.com", "us.anthropic.claude-3-5-haiku-20241022-v1:0", "2026-11-04", 1, 1000, 400, 10_000),
        row("jane.doe@example.com", "amazon.nova-pro-v1:0", "2026-11-05", 5, 100_000, 0, 0),
        row("raj", SONNET, "2026-11-05", 2, 2000, 1000, 0),
        row("chatbot-prod", "meta.llama3-2-1b-instruct-v1:0", "2026-11-06", 10, 200_000, 300_000, 0),
        row("ci-runner", "amazon.nova-micro-v1:0", "2026-11-08", 1, 3000, 0, 0),
        vec![("@message".to_owned(), "not a stats row".to_owned())],
    ]
}

/// The fixture export against the fixture logs, through every pure step `fetch` takes.
#[cfg(feature = "aws")]
pub fn fixture() -> Reconciliation {
    let bytes = super::cur::tests::gzip(&super::cur::tests::fixture_csv());
    let mut b = Billed::default();
    super::cur::read_csv_gz(&bytes, |l| b.add(&l, &scope())).unwrap();
    let (logged, ignored) = crate::report::insights::sum_by_principal_and_model(&fixture_log_rows());
    let overrides = stale_sonnet();
    let none = BTreeMap::new();
    let src = sources(&b, &logged, ignored);
    assemble(&src, &req(10.0), &PriceTable::new(&overrides, &none, 0.0), 180).unwrap()
}

#[cfg(feature = "aws")]
#[test]
fn the_fixture_export_reconciles_row_by_row() {
    let r = fixture();
    let got: Vec<(&str, &str, bool, Option<Reason>)> = r.rows.iter().map(|x| (x.principal.as_str(), x.model.as_str(), x.drifting, x.reason)).collect();
    assert_eq!(
        got,
        vec![
            (NO_PRINCIPAL, "amazon.nova-micro-v1:0", true, Some(Reason::UntrackedTraffic)),
            ("bedrock-tool-support-bot", "amazon.nova-micro-v1:0", true, Some(Reason::UntrackedTraffic)),
            ("chatbot-prod", "meta.llama3-2-1b-instruct-v1:0", true, Some(Reason::MissingPrice)),
            ("ci-runner", "amazon.nova-micro-v1:0", false, None),
            ("jane.doe@example.com", "amazon.nova-pro-v1:0", true, Some(Reason::Unexplained)),
            ("jane.doe@example.com", HAIKU, false, None),
            ("raj", "GPT-OSS-120B", true, Some(Reason::UntrackedTraffic)),
            ("raj", SONNET, true, Some(Reason::StalePrice)),
        ]
    );
    let cost = |p: &str, m: &str| r.rows.iter().find(|x| x.principal == p && x.model == m).map(|x| (x.billed_usd, x.estimated_usd)).unwrap();
    // Haiku 3.5: 4,000 in × 0.0008 + 1,000 out × 0.004 + 10,000 cache reads × 0.00008 (per 1K) = $0.008, billed the same.
    let (b, e) = cost("jane.doe@example.com", HAIKU);
    assert!((b - 0.008).abs() < 1e-12 && (e - 0.008).abs() < 1e-12, "{b} {e}");
    // ci-runner: 3,000 Nova Micro input tokens × $0.000035 = $0.000105 against $0.00009 billed:
    // +16.7 %, but under a cent.
    let ci = r.rows.iter().find(|x| x.principal == "ci-runner").unwrap();
    assert!((ci.drift_percent.unwrap() - 16.666_666_666).abs() < 1e-6);
    let (b, e) = cost("raj", SONNET);
    assert!((b - 0.039).abs() < 1e-12 && (e - 0.021).abs() < 1e-12);
    assert!((r.totals.billed_usd - 0.58709).abs() < 1e-9, "{}", r.totals.billed_usd);
    assert!((r.totals.estimated_usd - 0.109105).abs() < 1e-9, "{}", r.totals.estimated_usd);
    assert_eq!((r.totals.rows, r.totals.drifting_rows), (8, 6));
    let nc: Vec<(&str, usize)> = r.not_compared.iter().map(|n| (n.what.as_str(), n.lines)).collect();
    assert_eq!(nc, vec![(NOT_TOKENS, 1), (NOT_USAGE, 1), (OTHER_REGIONS, 1)]);
    assert_eq!((r.export.lines_read, r.export.billing_periods.clone()), (16, vec!["2026-11".to_owned()]));
    assert_eq!(
        r.notes,
        vec![
            "AWS may still revise this billing period until 2026-12-15T00:00:00Z: run again after it for final figures".to_owned(),
            "1 Logs Insights result row(s) had no `principal` field and were ignored".to_owned(),
        ]
    );

    let json = render::render(&r, render::Format::Json);
    assert_eq!(Reconciliation::from_json(&json).unwrap(), r);
    let schema: serde_json::Value = serde_json::from_str(&model::schema()).unwrap();
    for key in ["schema", "period", "export", "totals", "rows", "not_compared", "notes"] {
        assert!(schema["properties"].get(key).is_some(), "schema lacks {key}");
    }
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/reconcile.json");
    if std::env::var_os("BW_WRITE_RECONCILE_FIXTURE").is_some() {
        std::fs::write(path, &json).unwrap();
    }
    assert_eq!(std::fs::read_to_string(path).unwrap(), json, "tests/data/reconcile.json is stale: rerun with BW_WRITE_RECONCILE_FIXTURE=1");
}

#[test]
fn another_schema_version_is_refused() {
    let e = Reconciliation::from_json(r#"{"schema":"bedrock-watch/reconcile/v0"}"#).unwrap_err();
    assert!(e.contains("missing field") || e.contains("reads `bedrock-watch/reconcile/v1`"), "{e}");
}

#[test]
fn one_model_logged_on_several_tiers_is_one_billed_row_priced_per_tier() {
    // Sonnet 4 at $0.003 / $0.015 per 1K: Standard 2,000 in + 1,000 out = $0.021; the same on
    // Flex (× 0.5) = $0.0105; billed $0.0315 for both.
    let l = logged(&[("raj", SONNET, 2, 2000, 1000), ("raj", &format!("{SONNET}+flex"), 1, 2000, 1000)]);
    let r = reconcile_with(&billed(&[line(RAJ, "USE1-ClaudeSonnet4-input-tokens", 0.009), line(RAJ, "USE1-ClaudeSonnet4-output-tokens", 0.0225)]), &l, &PriceTable::built_in(), 10.0);
    assert_eq!(r.rows.len(), 1, "{:?}", r.rows);
    let row = &r.rows[0];
    assert_eq!((row.model.as_str(), row.logged_calls, row.logged_input_tokens), (SONNET, 3, 4000), "the tier is not a model");
    assert!((row.estimated_usd - 0.0315).abs() < 1e-12, "{}", row.estimated_usd);
    assert!(!row.drifting);
}
