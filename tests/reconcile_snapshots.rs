//! Snapshots of `report --reconcile`'s table and markdown for the fixed reconciliation in
//! tests/data/reconcile.json (the committed CUR fixture against fixture logs, kept current by
//! the `report::reconcile::tests` unit test), in `snapshots/`.

use bedrock_watch::report::reconcile::render::{render, Format};
use bedrock_watch::report::reconcile::Reconciliation;

fn fixture() -> Reconciliation {
    Reconciliation::from_json(&std::fs::read_to_string("tests/data/reconcile.json").unwrap()).unwrap()
}

fn snapshot(name: &str, text: String) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!(name, text));
}

#[test]
fn reconcile_table() {
    snapshot("reconcile_table", render(&fixture(), Format::Table));
}

#[test]
fn reconcile_markdown() {
    snapshot("reconcile_markdown", render(&fixture(), Format::Markdown));
}

#[test]
fn reconcile_json_re_renders_byte_for_byte() {
    assert_eq!(render(&fixture(), Format::Json), std::fs::read_to_string("tests/data/reconcile.json").unwrap());
}
