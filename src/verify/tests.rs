//! The checks on recorded facts (tests/data/verify-facts.json: a correctly set-up account as the
//! gathering layer records it), then one broken variant per check.

use super::checks::run;
use super::facts::{ApiKey, CostTag, Facts, IamUser, LogRecord, Observed, TrailEvent};
use super::{render, Status, Verification, SCHEMA_VERSION};
use crate::config::Config;

fn config() -> Config {
    crate::config::load_file(std::path::Path::new("examples/access.yaml")).expect("examples/access.yaml")
}

fn facts() -> Facts {
    serde_json::from_str(&std::fs::read_to_string("tests/data/verify-facts.json").unwrap()).unwrap()
}

fn status_of(f: &Facts, id: &str) -> (Status, String, Option<String>) {
    let r = run(&config(), f).into_iter().find(|r| r.id == id).unwrap_or_else(|| panic!("no check {id}"));
    (r.status, r.saw, r.fix)
}

#[test]
fn a_correct_account_passes_every_check() {
    let results = run(&config(), &facts());
    let ids: Vec<&str> = results.iter().map(|r| r.id).collect();
    assert_eq!(ids, ["identity", "logging", "delivery", "cloudtrail", "tokens", "cost", "static-keys", "shared-roles", "expected-callers", "api-keys"]);
    for r in &results {
        assert_eq!(r.status, Status::Pass, "{r:?}");
    }
}

#[test]
fn identity_needs_an_identity_center_session() {
    let mut f = facts();
    f.caller_arn = "arn:aws:iam::123456789012:user/alice".into();
    let (s, saw, fix) = status_of(&f, "identity");
    assert_eq!(s, Status::Fail);
    assert!(saw.contains("user/alice") && fix.unwrap().contains("aws sso login"), "{saw}");
}

#[test]
fn logging_pointing_elsewhere_names_both_and_the_fix() {
    let mut f = facts();
    if let Observed::Seen(Some(c)) = &mut f.logging {
        c.log_group = Some("/someone/else".into());
    }
    let (s, saw, fix) = status_of(&f, "logging");
    assert_eq!(s, Status::Fail);
    assert!(saw.contains("/someone/else") && saw.contains("/aws/bedrock/modelinvocations"), "{saw}");
    assert!(fix.unwrap().contains("adopt_existing"));
    f.logging = Observed::Seen(None);
    assert_eq!(status_of(&f, "logging").0, Status::Fail);
}

#[test]
fn delivery_failures_fail_and_no_records_only_warn() {
    let mut f = facts();
    f.delivery_failures = Observed::Seen(Some(3.0));
    assert_eq!(status_of(&f, "delivery").0, Status::Fail);
    let mut f = facts();
    f.records = Observed::Seen(Vec::new());
    let (s, saw, fix) = status_of(&f, "delivery");
    assert_eq!(s, Status::Warn);
    assert!(saw.contains("no invocation-log records") && fix.unwrap().contains("expected before any call"));
}

#[test]
fn no_trail_fails_and_shared_callers_in_events_warn() {
    let mut f = facts();
    f.trails = Observed::Seen(Vec::new());
    let (s, _, fix) = status_of(&f, "cloudtrail");
    assert_eq!(s, Status::Fail);
    assert!(fix.unwrap().contains("cloudtrail.mode: trail"));
    let mut f = facts();
    f.trail_events = Observed::Seen(vec![TrailEvent { event_name: "InvokeModel".into(), caller: "arn:aws:sts::1:assumed-role/app/app".into() }]);
    assert_eq!(status_of(&f, "cloudtrail").0, Status::Warn);
    let mut f = facts();
    f.trail_events = Observed::Unavailable("LookupEvents is not offered".into());
    assert_eq!(status_of(&f, "cloudtrail").0, Status::Warn);
}

#[test]
fn with_lake_the_event_data_store_replaces_the_trails() {
    let store = "arn:aws:cloudtrail:us-east-1:123456789012:eventdatastore/EXAMPLE-f852-4e8f-8bd1-bcf6cEXAMPLE";
    let mut config = config();
    config.cloudtrail.mode = crate::config::CloudTrailMode::Lake;
    let check = |f: &Facts| run(&config, f).into_iter().find(|r| r.id == "cloudtrail").unwrap();
    // The store is found in the stack and answered: no trail is needed.
    let mut f = facts();
    f.trails = Observed::Seen(Vec::new());
    f.stack.event_data_store = Some(store.into());
    let r = check(&f);
    assert_eq!(r.status, Status::Pass, "{r:?}");
    assert!(r.saw.starts_with("CloudTrail Lake event data store EXAMPLE-f852-4e8f-8bd1-bcf6cEXAMPLE; 1 Bedrock event(s)"), "{}", r.saw);
    // The query could not run: a warning naming the two actions on the store.
    f.trail_events = Observed::Unavailable("StartQuery failed in us-east-1: AccessDeniedException".into());
    let r = check(&f);
    assert_eq!(r.status, Status::Warn);
    assert_eq!(r.fix.as_deref(), Some(format!("grant cloudtrail:StartQuery and cloudtrail:GetQueryResults on {store} to check that events carry per-user ARNs").as_str()));
    // Events without a per-user ARN.
    f.trail_events = Observed::Seen(vec![TrailEvent { event_name: "InvokeModel".into(), caller: "arn:aws:sts::1:assumed-role/shared-bedrock/app".into() }]);
    assert_eq!(check(&f).status, Status::Warn);
    // No store in the stack: deploy.
    f.stack.event_data_store = None;
    let r = check(&f);
    assert_eq!(r.status, Status::Fail);
    assert!(r.saw.contains("no event data store") && r.fix.unwrap().contains("bedrock-watch deploy"));
}

#[test]
fn unpriced_models_and_inactive_tags_fail_with_the_config_line() {
    let mut f = facts();
    f.token_metric_models = vec![("us-east-1".into(), Observed::Seen(vec!["acme.private-model-v1".into(), "amazon.nova-micro-v1:0".into(), "anthropic.claude-3-5-haiku-20241022-v1:0".into()]))];
    let (s, saw, fix) = status_of(&f, "cost");
    assert_eq!(s, Status::Fail);
    assert!(saw.contains("acme.private-model-v1"), "{saw}");
    assert!(fix.unwrap().contains("pricing.models.\"acme.private-model-v1\""));
    // An application inference profile is mapped to a model, not priced itself.
    let mut f = facts();
    f.token_metric_models = vec![("us-east-1".into(), Observed::Seen(vec!["a1b2c3d4e5f6".into()]))];
    let (s, _, fix) = status_of(&f, "cost");
    assert_eq!(s, Status::Fail);
    assert!(fix.unwrap().contains("pricing.inference_profiles.a1b2c3d4e5f6: <model id>"));
    let mut f = facts();
    f.cost_tags = Observed::Seen(vec![CostTag { key: "Project".into(), status: "Inactive".into() }]);
    let (s, saw, fix) = status_of(&f, "cost");
    assert_eq!(s, Status::Fail);
    assert!(saw.contains("Project") && saw.contains("Team"), "{saw}");
    assert!(fix.unwrap().contains("update-cost-allocation-tags-status"));
}

#[test]
fn token_metrics_missing_for_a_logged_model_fail() {
    let mut f = facts();
    f.token_metric_models = vec![("us-east-1".into(), Observed::Seen(vec!["amazon.nova-micro-v1:0".into()]))];
    let (s, saw, _) = status_of(&f, "tokens");
    assert_eq!(s, Status::Fail);
    assert!(saw.contains("anthropic.claude-3-5-haiku"), "{saw}");
}

#[test]
fn static_keys_shared_sessions_and_unexpected_callers() {
    let mut f = facts();
    if let Observed::Seen(u) = &mut f.users {
        u.push(IamUser { name: "legacy-bot".into(), arn: "arn:aws:iam::123456789012:user/legacy-bot".into(), active_access_keys: 1, bedrock_allowed: true });
    }
    let (s, saw, fix) = status_of(&f, "static-keys");
    assert_eq!(s, Status::Fail);
    assert!(saw.contains("legacy-bot") && fix.unwrap().contains("update-access-key --user-name legacy-bot"));
    let mut f = facts();
    if let Observed::Seen(r) = &mut f.records {
        for _ in 0..3 {
            r.push(LogRecord { timestamp_ms: 1796219000000, caller: "arn:aws:sts::123456789012:assumed-role/shared-bedrock/app".into(), model: "amazon.nova-micro-v1:0".into() });
        }
    }
    assert_eq!(status_of(&f, "shared-roles").0, Status::Warn);
    let (s, saw, _) = status_of(&f, "expected-callers");
    assert_eq!(s, Status::Fail);
    assert!(saw.contains("assumed-role/shared-bedrock/app"), "{saw}");
}

#[test]
fn old_or_never_expiring_api_keys_fail() {
    let mut f = facts();
    f.api_keys = Observed::Seen(vec![
        ApiKey { user: "bedrock-tool-support-bot".into(), id: "OLD".into(), status: "Active".into(), created: "2026-09-01T00:00:00Z".into(), expires: Some("2027-01-01T00:00:00Z".into()) },
        ApiKey { user: "bedrock-tool-support-bot".into(), id: "FOREVER".into(), status: "Active".into(), created: "2026-11-30T00:00:00Z".into(), expires: None },
        ApiKey { user: "bedrock-tool-support-bot".into(), id: "GONE".into(), status: "Expired".into(), created: "2020-01-01T00:00:00Z".into(), expires: None },
    ]);
    let (s, saw, _) = status_of(&f, "api-keys");
    assert_eq!(s, Status::Fail);
    assert!(saw.contains("OLD") && saw.contains("days old") && saw.contains("FOREVER of bedrock-tool-support-bot never expires") && !saw.contains("GONE"), "{saw}");
}

#[test]
fn json_is_versioned_and_the_table_prints_fixes() {
    let mut f = facts();
    f.trails = Observed::Seen(Vec::new());
    let v = Verification { schema_version: SCHEMA_VERSION, stack: "bedrock-access-us-east-1".into(), region: "us-east-1".into(), window_minutes: 60, invoke: None, results: run(&config(), &f) };
    assert_eq!(v.worst(), Status::Fail);
    let json: serde_json::Value = serde_json::from_str(&render::json(&v)).unwrap();
    assert_eq!(json["schema_version"], 1);
    assert_eq!(json["results"][3]["id"], "cloudtrail");
    assert_eq!(json["results"][3]["status"], "FAIL");
    assert!(json["results"][0].get("fix").is_none());
    let table = render::table(&v);
    assert!(table.contains("FAIL  cloudtrail") && table.contains("fix: set `cloudtrail.mode: trail`"), "{table}");
}

#[cfg(feature = "aws")]
#[test]
fn policy_documents_are_read_for_bedrock_invoke() {
    use super::gather::allows_bedrock;
    assert!(allows_bedrock(r#"{"Statement":[{"Effect":"Allow","Action":"bedrock:*","Resource":"*"}]}"#));
    assert!(allows_bedrock(r#"{"Statement":{"Effect":"Allow","Action":["s3:GetObject","Bedrock:Invoke*"],"Resource":"*"}}"#));
    assert!(allows_bedrock("%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22*%22%2C%22Resource%22%3A%22*%22%7D%5D%7D"));
    assert!(!allows_bedrock(r#"{"Statement":[{"Effect":"Deny","Action":"bedrock:*","Resource":"*"}]}"#));
    assert!(!allows_bedrock(r#"{"Statement":[{"Effect":"Allow","Action":"bedrock:ListFoundationModels","Resource":"*"}]}"#));
    let r = super::gather::parse_record(5, r#"{"identity":{"arn":"arn:aws:iam::1:user/x"},"modelId":"m"}"#).unwrap();
    assert_eq!((r.caller.as_str(), r.model.as_str(), r.timestamp_ms), ("arn:aws:iam::1:user/x", "m", 5));
}
