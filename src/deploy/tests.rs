//! The deploy, diff and destroy flows against the scripted fake: the account states and API
//! failures the emulator cannot produce.

use super::client::*;
use super::destroy::{destroy, DestroyOutcome, DestroyRequest};
use super::diff::{diff, DiffRequest};
use super::fake::{event, service_error, Fake, FakePurge};
use super::flow::{deploy, DeployOutcome, DeployRequest};
use super::progress::Display;
use super::{DeployError, NoPrompt, Prompt, Waiting};

const BODY: &str = "Resources:\n  Key:\n    Type: AWS::KMS::Key\n    DeletionPolicy: Retain\n  LogBucket:\n    Type: AWS::S3::Bucket\n    DeletionPolicy: Retain\n  LogGroup:\n    Type: AWS::Logs::LogGroup\n    DeletionPolicy: Retain\n  Role:\n    Type: AWS::IAM::Role\nOutputs:\n  LogBucketName:\n    Value: !Ref LogBucket\n";

fn waiting() -> Waiting {
    Waiting { poll: std::time::Duration::ZERO, ctrl_c: false, max_polls: 50 }
}

fn request() -> DeployRequest {
    DeployRequest {
        stack: "s".into(),
        region: "eu-west-1".into(),
        body: BODY.into(),
        findings: 0,
        parameters: vec![],
        tags: vec![("Team".into(), "ml".into())],
        staging_bucket: None,
        staging_prefix: "p".into(),
        yes: false,
        execute: true,
        change_set_name: "bedrock-watch-1".into(),
        display: Display::Events,
        waiting: waiting(),
    }
}

fn add(id: &str, ty: &str) -> ResourceChange {
    ResourceChange { action: Action::Add, logical_id: id.into(), resource_type: ty.into(), replacement: Replacement::False }
}

fn ready_change_set(fake: &Fake, changes: Vec<ResourceChange>) {
    *fake.change_set.borrow_mut() = ChangeSetInfo { status: "CREATE_COMPLETE".into(), status_reason: None, changes };
}

fn no_change(fake: &Fake) {
    *fake.change_set.borrow_mut() = ChangeSetInfo { status: "FAILED".into(), status_reason: Some("The submitted information didn't contain changes. Submit different information to create a change set.".into()), changes: vec![] };
}

fn run(fake: &Fake, req: &DeployRequest, prompt: &mut dyn Prompt) -> (Result<DeployOutcome, DeployError>, String) {
    let mut out = Vec::new();
    let rt = crate::aws::runtime().unwrap();
    let result = rt.block_on(deploy(fake, req, prompt, &mut out));
    (result, String::from_utf8(out).unwrap())
}

struct Yes;
impl Prompt for Yes {
    fn confirm(&mut self, _: &str) -> bool {
        true
    }
    fn text(&mut self, _: &str) -> Option<String> {
        None
    }
}

#[test]
fn a_fresh_create_streams_events_and_derives_outputs() {
    let fake = Fake::default();
    ready_change_set(&fake, vec![add("LogBucket", "AWS::S3::Bucket")]);
    *fake.on_execute.borrow_mut() = (
        vec!["CREATE_IN_PROGRESS".into(), "CREATE_COMPLETE".into()],
        vec![event("e1", "LogBucket", "AWS::S3::Bucket", "CREATE_IN_PROGRESS", None), event("e2", "LogBucket", "AWS::S3::Bucket", "CREATE_COMPLETE", None)],
    );
    *fake.resources.borrow_mut() = vec![StackResource { logical_id: "LogBucket".into(), physical_id: "my-logs".into(), resource_type: "AWS::S3::Bucket".into() }];
    let (result, out) = run(&fake, &request(), &mut NoPrompt);
    assert_eq!(result.unwrap(), DeployOutcome::Deployed { outputs: vec![("LogBucketName".into(), "my-logs".into())] });
    let r = &fake.requests.borrow()[0];
    assert_eq!((r.kind, r.capabilities.clone()), (ChangeSetKind::Create, vec!["CAPABILITY_IAM".to_owned()]));
    assert!(matches!(r.template, TemplateSource::Body(_)));
    assert_eq!(r.tags, vec![("Team".to_owned(), "ml".to_owned())]);
    let first = out.find("CREATE_IN_PROGRESS").unwrap();
    assert!(out[first..].contains("CREATE_COMPLETE") && out.contains("AWS::S3::Bucket                    LogBucket"), "{out}");
    assert!(out.contains("LogBucketName = my-logs"), "{out}");
}

#[test]
fn a_failed_create_reports_the_first_failing_resource_and_the_rollback() {
    let fake = Fake::default();
    ready_change_set(&fake, vec![add("LogBucket", "AWS::S3::Bucket"), add("Role", "AWS::IAM::Role")]);
    *fake.on_execute.borrow_mut() = (
        vec!["CREATE_IN_PROGRESS".into(), "ROLLBACK_IN_PROGRESS".into(), "ROLLBACK_COMPLETE".into()],
        vec![
            event("e1", "s", "AWS::CloudFormation::Stack", "CREATE_IN_PROGRESS", Some("User Initiated")),
            event("e2", "LogBucket", "AWS::S3::Bucket", "CREATE_FAILED", Some("my-logs already exists")),
            event("e3", "Role", "AWS::IAM::Role", "CREATE_FAILED", Some("Resource creation cancelled")),
            event("e4", "s", "AWS::CloudFormation::Stack", "ROLLBACK_COMPLETE", None),
        ],
    );
    let (result, out) = run(&fake, &request(), &mut NoPrompt);
    match result {
        Err(e @ DeployError::Failed { .. }) => {
            let text = e.to_string();
            assert!(text.contains("LogBucket (AWS::S3::Bucket): my-logs already exists"), "{text}");
            assert!(!text.contains("Resource creation cancelled"), "{text}");
            assert!(text.contains("rolled back"), "{text}");
        }
        other => panic!("{other:?}\n{out}"),
    }
}

#[test]
fn rollback_complete_needs_confirmation_then_deletes_and_recreates() {
    let fake = Fake::with_stack("ROLLBACK_COMPLETE");
    ready_change_set(&fake, vec![add("Role", "AWS::IAM::Role")]);
    let (result, out) = run(&fake, &request(), &mut NoPrompt);
    let err = result.unwrap_err();
    assert!(matches!(&err, DeployError::Stuck { status, .. } if status == "ROLLBACK_COMPLETE"), "{err:?}");
    assert!(err.help().contains("--yes"), "{}", err.help());
    assert!(out.contains("first create failed"), "{out}");
    assert_eq!(fake.count("DeleteStack"), 0);

    *fake.on_delete.borrow_mut() = (vec!["DELETE_IN_PROGRESS".into(), "GONE".into()], vec![]);
    *fake.on_execute.borrow_mut() = (vec!["CREATE_COMPLETE".into()], vec![]);
    let (result, _) = run(&fake, &DeployRequest { yes: true, ..request() }, &mut NoPrompt);
    assert!(matches!(result, Ok(DeployOutcome::Deployed { .. })), "{result:?}");
    assert_eq!(fake.count("DeleteStack"), 1);
    assert_eq!(fake.requests.borrow()[0].kind, ChangeSetKind::Create);
}

#[test]
fn update_rollback_failed_explains_continue_update_rollback() {
    let fake = Fake::with_stack("UPDATE_ROLLBACK_FAILED");
    let (result, _) = run(&fake, &request(), &mut Yes);
    let err = result.unwrap_err();
    assert!(err.to_string().contains("UPDATE_ROLLBACK_FAILED"), "{err}");
    assert!(err.help().contains("aws cloudformation continue-update-rollback --stack-name s"), "{}", err.help());
    assert_eq!(fake.count("CreateChangeSet"), 0);
}

#[test]
fn a_stack_in_progress_is_waited_for_then_updated() {
    let fake = Fake::with_stack("UPDATE_IN_PROGRESS");
    fake.script.borrow_mut().extend(["UPDATE_IN_PROGRESS".to_owned(), "UPDATE_IN_PROGRESS".to_owned(), "UPDATE_COMPLETE".to_owned()]);
    no_change(&fake);
    let (result, out) = run(&fake, &request(), &mut NoPrompt);
    assert_eq!(result.unwrap(), DeployOutcome::UpToDate);
    assert!(out.contains("another operation is running (UPDATE_IN_PROGRESS); waiting"), "{out}");
    assert_eq!(fake.requests.borrow()[0].kind, ChangeSetKind::Update);
    assert!(fake.count("DescribeStacks") >= 4);
}

#[test]
fn a_change_set_without_changes_is_up_to_date_and_deleted() {
    let fake = Fake::with_stack("UPDATE_COMPLETE");
    no_change(&fake);
    let (result, out) = run(&fake, &request(), &mut NoPrompt);
    assert_eq!(result.unwrap(), DeployOutcome::UpToDate);
    assert!(out.contains("s: up to date"), "{out}");
    assert_eq!((fake.count("DeleteChangeSet"), fake.count("ExecuteChangeSet")), (1, 0));
}

#[test]
fn replacing_a_data_store_needs_confirmation_others_do_not() {
    let replace = |id: &str, ty: &str| ResourceChange { action: Action::Modify, logical_id: id.into(), resource_type: ty.into(), replacement: Replacement::True };
    let fake = Fake::with_stack("UPDATE_COMPLETE");
    ready_change_set(&fake, vec![replace("LogBucket", "AWS::S3::Bucket")]);
    let (result, out) = run(&fake, &request(), &mut NoPrompt);
    assert!(matches!(result, Err(DeployError::NotConfirmed { ref ids, .. }) if ids == &["LogBucket".to_owned()]), "{result:?}");
    assert!(out.contains("REPLACED  !! data store"), "{out}");
    assert_eq!(fake.count("ExecuteChangeSet"), 0);

    *fake.on_execute.borrow_mut() = (vec!["UPDATE_COMPLETE".into()], vec![]);
    let (result, _) = run(&fake, &request(), &mut Yes);
    assert!(result.is_ok(), "{result:?}");
    assert_eq!(fake.count("ExecuteChangeSet"), 1);

    let fake = Fake::with_stack("UPDATE_COMPLETE");
    ready_change_set(&fake, vec![replace("Role", "AWS::IAM::Role")]);
    *fake.on_execute.borrow_mut() = (vec!["UPDATE_COMPLETE".into()], vec![]);
    let (result, _) = run(&fake, &request(), &mut NoPrompt);
    assert!(result.is_ok(), "a role replacement needs no confirmation: {result:?}");
}

#[test]
fn no_execute_leaves_the_change_set_and_says_how_to_run_it() {
    let fake = Fake::with_stack("UPDATE_COMPLETE");
    ready_change_set(&fake, vec![add("Role", "AWS::IAM::Role")]);
    let (result, out) = run(&fake, &DeployRequest { execute: false, ..request() }, &mut NoPrompt);
    assert_eq!(result.unwrap(), DeployOutcome::Prepared { change_set: "bedrock-watch-1".into() });
    assert!(out.contains("aws cloudformation execute-change-set --stack-name s --change-set-name bedrock-watch-1 --region eu-west-1"), "{out}");
    assert_eq!((fake.count("ExecuteChangeSet"), fake.count("DeleteChangeSet")), (0, 0));
}

#[test]
fn expired_credentials_and_throttling_surface_with_help() {
    let fake = Fake::default();
    *fake.fail.borrow_mut() = Some(("CreateChangeSet", service_error("ExpiredToken", "The security token included in the request is expired")));
    let err = run(&fake, &request(), &mut NoPrompt).0.unwrap_err();
    assert!(matches!(err, DeployError::Aws(crate::aws::AwsError::Expired { .. })), "{err:?}");
    assert!(err.help().contains("aws sso login --profile dev"), "{}", err.help());

    let fake = Fake::default();
    *fake.fail.borrow_mut() = Some(("DescribeStacks", service_error("Throttling", "Rate exceeded")));
    let err = run(&fake, &request(), &mut NoPrompt).0.unwrap_err();
    assert!(err.to_string().contains("still throttled after 5 attempts"), "{err}");
    assert!(err.help().contains("rate limit"), "{}", err.help());
}

#[test]
fn large_templates_need_a_staging_bucket_and_go_by_url() {
    let big = format!("{BODY}Metadata:\n  Padding: {}\n", "x".repeat(52_000));
    let fake = Fake::default();
    let err = run(&fake, &DeployRequest { body: big.clone(), ..request() }, &mut NoPrompt).0.unwrap_err();
    assert!(matches!(err, DeployError::NeedsStaging { .. }), "{err:?}");
    assert!(err.help().contains("--staging-bucket") && err.help().contains("deploy.staging_prefix"), "{}", err.help());
    assert_eq!(fake.count("CreateChangeSet"), 0);

    no_change(&fake);
    let (result, out) = run(&fake, &DeployRequest { body: big, staging_bucket: Some("stage".into()), ..request() }, &mut NoPrompt);
    assert_eq!(result.unwrap(), DeployOutcome::UpToDate);
    assert_eq!(fake.uploads.borrow()[0].0, "stage");
    assert!(matches!(&fake.requests.borrow()[0].template, TemplateSource::Url(u) if u.starts_with("https://s3.eu-west-1.amazonaws.com/stage/p/s-")));
    assert!(out.contains("staged the template"), "{out}");
}

#[test]
fn findings_stop_the_deploy_before_any_call() {
    let fake = Fake::default();
    let err = run(&fake, &DeployRequest { findings: 2, ..request() }, &mut NoPrompt).0.unwrap_err();
    assert!(matches!(err, DeployError::Findings { count: 2, .. }));
    assert!(fake.calls.borrow().is_empty());
}

fn destroy_request(purge: bool, confirmed: &[&str]) -> DestroyRequest {
    DestroyRequest { stack: "s".into(), region: "eu-west-1".into(), yes: true, purge, confirmed_buckets: confirmed.iter().map(|s| s.to_string()).collect(), display: Display::Events, waiting: waiting() }
}

fn deployed() -> Fake {
    let fake = Fake::with_stack("UPDATE_COMPLETE");
    *fake.template.borrow_mut() = BODY.into();
    let res = |l: &str, p: &str| StackResource { logical_id: l.into(), physical_id: p.into(), resource_type: String::new() };
    *fake.resources.borrow_mut() = vec![res("Key", "k-1"), res("LogBucket", "my-logs"), res("LogGroup", "/aws/bedrock/x"), res("Role", "s-Role-1")];
    *fake.on_delete.borrow_mut() = (vec!["DELETE_IN_PROGRESS".into(), "GONE".into()], vec![]);
    fake
}

fn run_destroy(fake: &Fake, purger: &FakePurge, req: &DestroyRequest) -> (Result<DestroyOutcome, DeployError>, String) {
    let mut out = Vec::new();
    let result = crate::aws::runtime().unwrap().block_on(destroy(fake, purger, req, &mut NoPrompt, &mut out));
    (result, String::from_utf8(out).unwrap())
}

#[test]
fn destroy_lists_what_it_kept_and_how_to_remove_it() {
    let fake = deployed();
    let (result, out) = run_destroy(&fake, &FakePurge::default(), &destroy_request(false, &[]));
    let DestroyOutcome::Destroyed { kept, purged } = result.unwrap() else { panic!() };
    assert!(purged.is_empty());
    // Data first, the key last; the role is not retained.
    assert_eq!(kept.iter().map(|k| k.physical_id.as_str()).collect::<Vec<_>>(), ["my-logs", "/aws/bedrock/x", "k-1"]);
    assert!(out.contains("aws logs delete-log-group --log-group-name /aws/bedrock/x --region eu-west-1"), "{out}");
    assert!(out.contains("aws kms schedule-key-deletion --key-id k-1 --pending-window-in-days 7"), "{out}");
}

#[test]
fn destroy_without_yes_on_no_terminal_deletes_nothing() {
    let fake = deployed();
    let err = run_destroy(&fake, &FakePurge::default(), &DestroyRequest { yes: false, ..destroy_request(false, &[]) }).0.unwrap_err();
    assert!(err.help().contains("--yes"), "{}", err.help());
    assert_eq!(fake.count("DeleteStack"), 0);
}

#[test]
fn purge_needs_the_bucket_name_then_removes_data_before_the_key() {
    let fake = deployed();
    let purger = FakePurge::default();
    let err = run_destroy(&fake, &purger, &destroy_request(true, &["other"])).0.unwrap_err();
    assert!(matches!(err, DeployError::PurgeNotConfirmed { ref expected, .. } if expected == "my-logs"), "{err:?}");
    assert_eq!(fake.count("DeleteStack"), 0);
    assert!(purger.calls.borrow().is_empty());

    let (result, out) = run_destroy(&fake, &purger, &destroy_request(true, &["my-logs"]));
    let DestroyOutcome::Destroyed { kept, purged } = result.unwrap() else { panic!() };
    assert!(kept.is_empty());
    assert_eq!(purged.len(), 3);
    assert_eq!(*purger.calls.borrow(), ["bucket my-logs", "log-group /aws/bedrock/x", "key k-1"]);
    assert!(out.contains("minimum 7-day waiting period"), "{out}");
}

#[test]
fn destroying_a_missing_stack_is_fine() {
    let (result, out) = run_destroy(&Fake::default(), &FakePurge::default(), &destroy_request(false, &[]));
    assert_eq!(result.unwrap(), DestroyOutcome::NoStack);
    assert!(out.contains("no such stack"), "{out}");
}

fn diff_request(body: &str) -> DiffRequest {
    DiffRequest { stack: "s".into(), region: "eu-west-1".into(), body: body.into(), parameters: vec![], tags: vec![], staging_bucket: None, staging_prefix: "p".into(), change_set_name: "d".into(), waiting: waiting() }
}

fn run_diff(fake: &Fake, body: &str) -> (bool, String) {
    let mut out = Vec::new();
    let changed = crate::aws::runtime().unwrap().block_on(diff(fake, &diff_request(body), &mut out)).unwrap();
    (changed, String::from_utf8(out).unwrap())
}

#[test]
fn diff_in_each_state() {
    let (changed, out) = run_diff(&Fake::default(), BODY);
    assert!(changed);
    assert!(out.contains("+ add    AWS::S3::Bucket      LogBucket"), "{out}");

    let fake = deployed();
    no_change(&fake);
    let (changed, out) = run_diff(&fake, BODY);
    assert!(!changed, "{out}");
    assert!(out.contains("identical to the deployed one"), "{out}");
    assert_eq!(fake.count("DeleteChangeSet"), 1);

    let fake = deployed();
    ready_change_set(&fake, vec![ResourceChange { action: Action::Modify, logical_id: "LogGroup".into(), resource_type: "AWS::Logs::LogGroup".into(), replacement: Replacement::False }]);
    let changed_body = BODY.replace("  Role:\n", "  Role:\n    Metadata: {x: 1}\n");
    let (changed, out) = run_diff(&fake, &changed_body);
    assert!(changed);
    assert!(out.contains("+    Metadata: {x: 1}"), "{out}");
    assert!(out.contains("~ modify AWS::Logs::LogGroup  LogGroup"), "{out}");
    assert_eq!((fake.count("DeleteChangeSet"), fake.count("ExecuteChangeSet")), (1, 0));
}

#[test]
fn giving_up_waiting_leaves_the_stack_going_and_says_how_to_watch_it() {
    let fake = Fake::default();
    ready_change_set(&fake, vec![add("Role", "AWS::IAM::Role")]);
    // The stack never settles within the allowed polls.
    *fake.on_execute.borrow_mut() = (vec!["CREATE_IN_PROGRESS".into()], vec![]);
    let err = run(&fake, &DeployRequest { waiting: Waiting { max_polls: 3, ..waiting() }, ..request() }, &mut NoPrompt).0.unwrap_err();
    assert!(matches!(err, DeployError::Interrupted { .. }), "{err:?}");
    assert!(err.to_string().contains("keeps going in CloudFormation"), "{err}");
    assert!(err.help().contains("bedrock-watch watch --stack-name s --region eu-west-1"), "{}", err.help());
    assert_eq!(fake.count("DeleteStack"), 0);
}
