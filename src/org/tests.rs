//! The engine against the scripted fake: what the emulator cannot show (operations that run
//! for several polls, failed accounts with reasons, service-managed exclusions and OU removal).

use super::client::{InstanceInfo, OperationInfo, OperationResult};
use super::engine::{self, Home};
use super::fake::Fake;
use super::plan::{self, AccountFilter};
use super::OrgError;
use crate::config::{self, Config};
use crate::deploy::Waiting;

fn config(yaml: &str) -> Config {
    config::parse(&format!("alerts:\n  composite: false\ndeploy:\n  staging_bucket: staging\n{yaml}"), "org.yaml").unwrap()
}

fn self_managed() -> Config {
    config("organization:\n  permission_model: self_managed\n  targets:\n    accounts: ['111111111111', '222222222222', '333333333333']\n    exclude_accounts: ['333333333333']\n")
}

fn home() -> Home {
    Home { region: "us-east-1".into(), waiting: Waiting { poll: std::time::Duration::ZERO, ctrl_c: false, max_polls: 50 } }
}

fn instance(account: &str, region: &str, ou: Option<&str>) -> InstanceInfo {
    InstanceInfo { account: account.into(), region: region.into(), status: "CURRENT".into(), detailed_status: Some("SUCCEEDED".into()), reason: None, organizational_unit: ou.map(str::to_owned) }
}

fn run<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
}

#[test]
fn the_plan_has_one_stack_set_per_region_with_the_synthesized_template() {
    let c = config("regions: [us-east-1, eu-west-1]\norganization:\n  targets:\n    organizational_units: [ou-ab12-abcdefgh]\n    exclude_accounts: ['444444444444']\n");
    let r = plan::plan(&c).unwrap();
    let names: Vec<&str> = r.stack_sets.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["bedrock-watch-us-east-1", "bedrock-watch-eu-west-1"]);
    let synthesized = crate::synth::synthesize(&c, crate::cfn::Format::Yaml).unwrap();
    assert_eq!(r.stack_sets[0].template.content, synthesized[0].content, "without a sink the member template is exactly synth's");
    assert_eq!(r.stack_sets[0].capabilities, ["CAPABILITY_IAM"]);
    assert!(r.stack_sets[0].retained.iter().any(|(id, ty)| id == "LogBucket" && ty == "AWS::S3::Bucket"));
    assert_eq!(r.targets.account_filter, Some(AccountFilter::Difference));
    assert_eq!(r.excluded(), ["444444444444"]);
    assert_eq!(r.call_as, "SELF");
    assert_eq!(r.auto_deployment, Some((true, false)));
}

#[test]
fn a_sink_adds_the_link_to_that_regions_members_only() {
    let c = config("regions: [us-east-1, eu-west-1]\norganization:\n  targets:\n    organizational_units: [r-ab12]\n  monitoring_account: '999999999999'\n  monitoring_sinks:\n    eu-west-1: arn:aws:oam:eu-west-1:999999999999:sink/abc-123\n");
    let r = plan::plan(&c).unwrap();
    assert!(!r.stack_sets[0].template.content.contains("AWS::Oam::Link"));
    assert!(r.stack_sets[1].template.content.contains("AWS::Oam::Link"));
    assert!(r.stack_sets[1].template.content.contains("arn:aws:oam:eu-west-1:999999999999:sink/abc-123"));
}

#[test]
fn a_first_deploy_creates_the_set_then_the_instances_and_ends_with_the_table() {
    let f = Fake::default();
    *f.results.borrow_mut() = vec![OperationResult { account: "111111111111".into(), region: "us-east-1".into(), status: "SUCCEEDED".into(), reason: None }];
    let r = plan::plan(&self_managed()).unwrap();
    let mut out = Vec::new();
    *f.instances.borrow_mut() = vec![];
    let rows = run(engine::deploy(&f, &r, &home(), &mut out)).unwrap();
    let calls = f.calls.borrow().clone();
    assert!(calls[0].starts_with("PutObject staging/bedrock-watch/templates/bedrock-watch-us-east-1-"), "{calls:?}");
    assert_eq!(calls[1], "CreateStackSet bedrock-watch-us-east-1 SelfManaged");
    assert_eq!(calls[2], r#"CreateStackInstances bedrock-watch-us-east-1 ous=[] accounts=["111111111111", "222222222222"] filter=None ["us-east-1"]"#);
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("bedrock-watch-us-east-1 111111111111 us-east-1: SUCCEEDED"), "{text}");
    assert!(text.contains("0 instance(s)\nSTACK SET  ACCOUNT  REGION  STATUS  REASON"), "{text}");
    assert!(rows.is_empty());
}

#[test]
fn a_removed_account_is_deleted_and_an_unchanged_template_is_not_updated() {
    let f = Fake::default();
    let r = plan::plan(&self_managed()).unwrap();
    *f.stack_set.borrow_mut() = Some(super::client::StackSetInfo { name: r.stack_sets[0].name.clone(), status: "ACTIVE".into(), template_body: r.stack_sets[0].template.content.clone() });
    *f.instances.borrow_mut() = vec![instance("111111111111", "us-east-1", None), instance("222222222222", "us-east-1", None), instance("333333333333", "us-east-1", None)];
    let mut out = Vec::new();
    let rows = run(engine::deploy(&f, &r, &home(), &mut out)).unwrap();
    assert_eq!(*f.calls.borrow(), [r#"DeleteStackInstances bedrock-watch-us-east-1 ous=[] accounts=["333333333333"] filter=None ["us-east-1"]"#]);
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("template unchanged"), "{text}");
    assert_eq!(rows.iter().map(|r| r.account.as_str()).collect::<Vec<_>>(), ["111111111111", "222222222222"]);
    assert!(text.contains("111111111111  us-east-1  CURRENT (SUCCEEDED)  -"), "{text}");
}

#[test]
fn a_failed_operation_names_the_accounts_and_still_prints_the_table() {
    let f = Fake::default();
    let r = plan::plan(&self_managed()).unwrap();
    let running = OperationInfo { action: "CREATE".into(), status: "RUNNING".into(), reason: None };
    let failed = OperationInfo { action: "CREATE".into(), status: "FAILED".into(), reason: Some("Failure tolerance exceeded".into()) };
    *f.operation_script.borrow_mut() = [running.clone(), running, failed].into();
    *f.results.borrow_mut() = vec![OperationResult {
        account: "222222222222".into(),
        region: "us-east-1".into(),
        status: "FAILED".into(),
        reason: Some("Account 222222222222 should have 'AWSCloudFormationStackSetExecutionRole' role with trust relationship".into()),
    }];
    *f.instances.borrow_mut() = vec![InstanceInfo { reason: Some("execution role missing".into()), status: "OUTDATED".into(), detailed_status: Some("FAILED".into()), ..instance("222222222222", "us-east-1", None) }];
    let mut out = Vec::new();
    let err = run(engine::deploy(&f, &r, &home(), &mut out)).unwrap_err();
    assert!(matches!(&err, OrgError::OperationFailed { status, .. } if status == "FAILED"), "{err:?}");
    let text = String::from_utf8(out).unwrap();
    assert_eq!(text.matches("222222222222 us-east-1: FAILED").count(), 1, "a status is printed once, when it changes: {text}");
    assert!(text.contains("OUTDATED (FAILED)  execution role missing"), "{text}");
    assert!(err.help().contains("list-stack-set-operation-results"));
}

#[test]
fn service_managed_exclusions_and_dropped_ous_delete_only_those_instances() {
    let c = config("organization:\n  targets:\n    organizational_units: [ou-ab12-abcdefgh]\n    exclude_accounts: ['222222222222']\n");
    let r = plan::plan(&c).unwrap();
    let current = [instance("111111111111", "us-east-1", Some("ou-ab12-abcdefgh")), instance("222222222222", "us-east-1", Some("ou-ab12-abcdefgh")), instance("333333333333", "us-east-1", Some("ou-ab12-zzzzzzzz"))];
    let (create, delete) = engine::instance_changes(&r, "us-east-1", &current);
    assert_eq!(create.unwrap().account_filter, Some(AccountFilter::Difference));
    assert_eq!(delete.len(), 2);
    assert_eq!(delete[0].organizational_units, ["ou-ab12-zzzzzzzz"]);
    assert_eq!((delete[1].accounts.as_slice(), delete[1].account_filter), (["222222222222".to_owned()].as_slice(), Some(AccountFilter::Intersection)));
}

#[test]
fn destroy_deletes_instances_then_the_set_and_says_what_was_kept_where() {
    let f = Fake::default();
    let r = plan::plan(&self_managed()).unwrap();
    *f.stack_set.borrow_mut() = Some(super::client::StackSetInfo { name: r.stack_sets[0].name.clone(), status: "ACTIVE".into(), template_body: String::new() });
    *f.instances.borrow_mut() = vec![instance("111111111111", "us-east-1", None)];
    let mut out = Vec::new();
    let kept = run(engine::destroy(&f, &r, &home(), &mut out)).unwrap();
    assert_eq!(f.calls.borrow()[1], "DeleteStackSet bedrock-watch-us-east-1");
    assert_eq!(kept.len(), 1);
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("kept in account 111111111111 us-east-1"), "{text}");
    assert!(text.contains("LogBucket (AWS::S3::Bucket): bedrock-watch-logs-111111111111-us-east-1"), "{text}");
    assert!(text.contains("InvocationLogGroup (AWS::Logs::LogGroup): /aws/bedrock/modelinvocations"), "{text}");
}

#[test]
fn diff_of_a_missing_set_shows_everything_and_of_a_current_one_nothing() {
    let f = Fake::default();
    let r = plan::plan(&self_managed()).unwrap();
    let mut out = Vec::new();
    assert!(run(engine::diff(&f, &r, &mut out)).unwrap());
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("no such stack set; org deploy would create it") && text.contains("+AWSTemplateFormatVersion"), "{text}");
    *f.stack_set.borrow_mut() = Some(super::client::StackSetInfo { name: r.stack_sets[0].name.clone(), status: "ACTIVE".into(), template_body: r.stack_sets[0].template.content.clone() });
    *f.instances.borrow_mut() = vec![instance("111111111111", "us-east-1", None), instance("222222222222", "us-east-1", None)];
    let mut out = Vec::new();
    assert!(!run(engine::diff(&f, &r, &mut out)).unwrap());
    assert!(String::from_utf8(out).unwrap().contains("no changes"));
}

#[test]
fn a_missing_section_is_a_clear_error() {
    let err = plan::plan(&Config::default()).unwrap_err();
    assert!(matches!(err, OrgError::NotConfigured));
    assert!(err.help().contains("organization:"));
}

#[test]
fn quotas_warn_past_the_deployment_speed_and_refuse_what_cannot_fit() {
    let accounts: Vec<String> = (0..150).map(|i| format!("'{:012}'", 100_000_000_000u64 + i)).collect();
    let c = config(&format!("organization:\n  permission_model: self_managed\n  max_concurrent_percentage: 100\n  targets:\n    accounts: [{}]\n", accounts.join(", ")));
    let mut r = plan::plan(&c).unwrap();
    assert!(r.quotas.warnings.iter().any(|w| w.starts_with("organization.max_concurrent_percentage: 100% of 150 accounts is 150 at once") && w.contains("at most 100")), "{:?}", r.quotas.warnings);
    assert!(r.quotas.usage.iter().any(|u| u.contains("150 of the 100000 instances")), "{:?}", r.quotas.usage);
    assert!(plan::describe(&r).contains("warning: organization.max_concurrent_percentage"));

    // Beyond what the plan can be given through config in a test: the checks on the rollout.
    r.targets.accounts = (0..100_001).map(|i| format!("{i:012}")).collect();
    r.stack_sets[0].template.content = "x".repeat(1_000_001);
    let q = super::quotas::check(&r);
    let keys: Vec<&str> = q.exceeded.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(keys, ["the member template of bedrock-watch-us-east-1 (models, dashboards.*, alerts.per_model)", "organization.targets.accounts"]);
    let err = OrgError::QuotaExceeded { exceeded: q.exceeded };
    assert!(err.to_string().contains("at most 100000 stack instances per stack set"), "{err}");
}

#[test]
fn a_large_template_without_a_staging_bucket_is_planned_with_a_warning() {
    let c = config::parse("alerts:\n  composite: false\norganization:\n  permission_model: self_managed\n  targets:\n    accounts: ['111111111111']\n", "org.yaml").unwrap();
    let r = plan::plan(&c).unwrap();
    assert!(r.quotas.warnings.iter().any(|w| w.contains("over the 51200") && w.contains("deploy.staging_bucket")), "{:?}", r.quotas.warnings);
}

/// Each region has its own stack set (member templates name their region), so
/// `region_concurrency` is honoured across them: `parallel` follows both regions' operations
/// side by side, `sequential` finishes one region before starting the next.
#[test]
fn region_concurrency_decides_whether_the_regions_stack_sets_run_side_by_side() {
    let polls_for = |concurrency: &str| {
        let c = config(&format!(
            "regions: [us-east-1, eu-west-1]\norganization:\n  permission_model: self_managed\n  region_concurrency: {concurrency}\n  targets:\n    accounts: ['111111111111']\n"
        ));
        let r = plan::plan(&c).unwrap();
        let f = Fake::default();
        let running = OperationInfo { action: "CREATE".into(), status: "RUNNING".into(), reason: None };
        let done = OperationInfo { action: "CREATE".into(), status: "SUCCEEDED".into(), reason: None };
        *f.operation_script.borrow_mut() = [running.clone(), running.clone(), running.clone(), running, done].into();
        let mut h = home();
        h.waiting.poll = std::time::Duration::from_millis(2);
        let mut out = Vec::new();
        run(engine::deploy(&f, &r, &h, &mut out)).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("bedrock-watch-us-east-1: created the stack set"), "{text}");
        let polls = f.polls.borrow().clone();
        polls
    };
    let (east, west) = ("bedrock-watch-us-east-1", "bedrock-watch-eu-west-1");
    let parallel = polls_for("parallel");
    assert_eq!(&parallel[..2], [east, west], "both regions' first operations are followed before either ends: {parallel:?}");
    let sequential = polls_for("sequential");
    let first_west = sequential.iter().position(|p| p == west).unwrap();
    assert!(sequential[..first_west].iter().all(|p| p == east) && sequential[first_west..].iter().all(|p| p == west), "one region after the other: {sequential:?}");
    assert!(first_west >= 4, "us-east-1's operation ran its course first: {sequential:?}");
}
