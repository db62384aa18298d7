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
