//! Snapshots of `report`'s table and markdown output for the fixed report in
//! tests/data/report.json (kept current by the `report::tests` unit test), and of
//! `report --reconcile`'s for the fixed reconciliation in tests/data/reconcile.json (the
//! committed CUR fixture against fixture logs, kept current by `report::reconcile::tests`), in
//! `snapshots/`.

use bedrock_watch::report::render::{render, By, Format};
use bedrock_watch::report::reconcile::render as reconcile;
use bedrock_watch::report::reconcile::Reconciliation;
use bedrock_watch::report::Report;

fn fixture() -> Report {
    Report::from_json(&std::fs::read_to_string("tests/data/report.json").unwrap()).unwrap()
}

fn snapshot(name: &str, text: String) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!(name, text));
}

#[test]
fn report_table_by_model() {
    snapshot("report_table_by_model", render(&fixture(), Format::Table, By::Model));
}

#[test]
fn report_table_by_user() {
    snapshot("report_table_by_user", render(&fixture(), Format::Table, By::User));
}

#[test]
fn report_markdown_by_day() {
    snapshot("report_markdown_by_day", render(&fixture(), Format::Markdown, By::Day));
}

fn reconciliation() -> Reconciliation {
    Reconciliation::from_json(&std::fs::read_to_string("tests/data/reconcile.json").unwrap()).unwrap()
}

#[test]
fn reconcile_table() {
    snapshot("reconcile_table", reconcile::render(&reconciliation(), reconcile::Format::Table));
}

#[test]
fn reconcile_markdown() {
    snapshot("reconcile_markdown", reconcile::render(&reconciliation(), reconcile::Format::Markdown));
}

#[test]
fn reconcile_json_re_renders_byte_for_byte() {
    assert_eq!(reconcile::render(&reconciliation(), reconcile::Format::Json), std::fs::read_to_string("tests/data/reconcile.json").unwrap());
}

/// `report --org`: the fixture as two linked accounts (schema v2), in markdown: the table by
/// account after the totals; the JSON round-trips through `--from-json`.
#[test]
fn report_markdown_by_account() {
    use bedrock_watch::report::model::{AccountRow, SCHEMA_ID_ACCOUNTS};
    let mut r = fixture();
    r.schema = SCHEMA_ID_ACCOUNTS.to_owned();
    r.stack_name = "bedrock-org-us-east-1".into();
    r.accounts = vec![
        AccountRow { account_id: "222222222222".into(), invocations: 4, input_tokens: 4_000, output_tokens: 1_000, estimated_cost_usd: 0.027, average_latency_ms: Some(3_000.0), errors: 1, ..AccountRow::default() },
        AccountRow {
            account_id: "111111111111".into(),
            invocations: 15,
            input_tokens: 15_000,
            output_tokens: 3_000,
            cache_read_tokens: 10_000,
            estimated_cost_usd: 0.0248,
            unpriced_models: vec!["custom.unknown-model".into()],
            average_latency_ms: Some(1_000.0),
            errors: 1,
            throttles: 2,
            ..AccountRow::default()
        },
    ];
    let json = render(&r, Format::Json, By::Model);
    assert_eq!(Report::from_json(&json).unwrap(), r);
    let v1 = json.replace(SCHEMA_ID_ACCOUNTS, "bedrock-watch/report/v1");
    assert!(Report::from_json(&v1).unwrap_err().contains("v2"), "a v1 document cannot carry accounts");
    snapshot("report_markdown_by_account", render(&r, Format::Markdown, By::Model));
}
