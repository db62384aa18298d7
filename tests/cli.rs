//! The binary as a user runs it: exit codes, messages, and the committed templates.

use std::path::Path;
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_bedrock-watch"))
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn committed_templates_match_the_default_and_every_example() {
    let out = run(&["synth", "--check"]);
    assert!(out.status.success(), "default: {}{}", text(&out.stdout), text(&out.stderr));
    let mut examples = 0;
    for entry in std::fs::read_dir("examples").unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("yaml") {
            continue;
        }
        examples += 1;
        let out = run(&["synth", "--check", "--config", path.to_str().unwrap()]);
        assert!(out.status.success(), "{} is stale: {}{}", path.display(), text(&out.stdout), text(&out.stderr));
    }
    assert!(examples >= 2, "expected example configs in examples/");
}

#[test]
fn check_names_stale_and_missing_files_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let out = run(&["synth", "--check", "--out", d]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("bedrock-watch-us-east-1.yaml is missing"), "{}", text(&out.stdout));

    let out = run(&["synth", "--out", d]);
    assert!(out.status.success());
    let file = dir.path().join("bedrock-watch-us-east-1.yaml");
    assert!(std::fs::read_to_string(&file).unwrap().starts_with("AWSTemplateFormatVersion"));
    assert!(run(&["synth", "--check", "--out", d]).status.success());

    std::fs::write(&file, "edited by hand\n").unwrap();
    let out = run(&["synth", "--check", "--out", d]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("differs"), "{}", text(&out.stdout));
}

#[test]
fn check_prints_a_cut_unified_diff_and_names_leftover_regions() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    assert!(run(&["synth", "--out", d]).status.success());
    let file = dir.path().join("bedrock-watch-us-east-1.yaml");
    let template = std::fs::read_to_string(&file).unwrap();
    let edited = template.replacen("AWSTemplateFormatVersion", "AWSTemplateFormatVersion-edited", 1);
    std::fs::write(&file, &edited).unwrap();
    std::fs::write(dir.path().join("bedrock-watch-eu-west-1.yaml"), "from a region the config dropped\n").unwrap();
    std::fs::write(dir.path().join("notes.yaml"), "not a template\n").unwrap();

    let out = run(&["synth", "--check", "--out", d]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    let header = format!("--- a/{}\n+++ b/{}\n", file.display(), file.display());
    assert!(stdout.contains(&header), "{stdout}");
    assert!(stdout.contains("\n-AWSTemplateFormatVersion-edited:") && stdout.contains("\n+AWSTemplateFormatVersion:"), "{stdout}");
    assert!(stdout.contains("bedrock-watch-eu-west-1.yaml is obsolete"), "{stdout}");
    assert!(!stdout.contains("notes.yaml"), "{stdout}");

    // A change all over the file: the diff is cut to 60 lines, with a note saying so.
    std::fs::write(&file, template.replace(": ", ":  ")).unwrap();
    let stdout = text(&run(&["synth", "--check", "--out", d]).stdout);
    let diff_lines = stdout.lines().skip_while(|l| !l.starts_with("--- a/")).take_while(|l| !l.starts_with("… ")).count();
    assert_eq!(diff_lines, 60, "{stdout}");
    assert!(stdout.contains("more diff line(s) not shown"), "{stdout}");
}

#[test]
fn json_format_writes_parseable_json() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&["synth", "--format", "json", "--out", dir.path().to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("bedrock-watch-us-east-1.json")).unwrap()).unwrap();
    assert_eq!(json["Resources"]["InvocationLogging"]["Type"], "Custom::BedrockInvocationLogging");
}

#[test]
fn bad_config_exits_2_naming_key_value_allowed_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.yaml");
    std::fs::write(&cfg, "regions: [us-east-1]\nlogging:\n  retention_days: 45\n").unwrap();
    let out = run(&["synth", "--config", cfg.to_str().unwrap(), "--out", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("c.yaml:3"), "{err}");
    assert!(err.contains("logging.retention_days") && err.contains("45") && err.contains("allowed: 1, 3, 5"), "{err}");
    assert!(err.contains("help:"), "{err}");
    assert!(!Path::new(&dir.path().join("bedrock-watch-us-east-1.yaml")).exists(), "nothing written on error");
}

#[test]
fn unknown_key_and_missing_file_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.yaml");
    std::fs::write(&cfg, "alerts:\n  email: [a@b.co]\n").unwrap();
    let out = run(&["validate", "--config", cfg.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("unknown field `email`, expected one of `emails`, `thresholds`, `models`"), "{}", text(&out.stderr));

    let out = run(&["validate", "--config", "/nonexistent/bw.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("cannot read config file /nonexistent/bw.yaml"), "{}", text(&out.stderr));
}

#[test]
fn validate_lists_the_declared_exceptions() {
    let out = run(&["validate"]);
    assert!(out.status.success());
    let s = text(&out.stdout);
    assert!(s.contains("bedrock:PutModelInvocationLoggingConfiguration"), "{s}");
    assert!(s.contains("reason:"), "{s}");
    assert!(s.contains("ok: 1 stack(s) pass the least-privilege"), "{s}");
}

#[test]
fn validate_lists_the_rule_pack_deviations_with_reasons_and_resources() {
    let out = run(&["validate"]);
    assert!(out.status.success());
    let s = text(&out.stdout);
    assert!(s.contains("Declared deviations from the checkov and cfn-guard rule packs"), "{s}");
    let d = bedrock_watch::deviations::ACCESS_LOG_BUCKET_NOT_LOGGED;
    let expected = format!("  - {}: CKV_AWS_18, s3_bucket_logging_enabled_check\n    reason: {}\n    bedrock-watch-us-east-1: AccessLogBucket\n", d.name(), d.reason());
    assert!(s.contains(&expected), "{s}");
    assert!(s.contains("    bedrock-watch-us-east-1: BedrockLoggingRole, InvocationLoggingHandlerRole\n"), "{s}");
}

#[test]
fn schema_describes_every_section() {
    let out = run(&["schema"]);
    assert!(out.status.success());
    let schema: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in ["logging", "bucket", "alerts", "dashboard", "regions", "models", "tags"] {
        assert!(schema["properties"].get(key).is_some(), "schema lacks {key}");
    }
    assert_eq!(schema["additionalProperties"], false);
}

#[test]
fn quota_track_and_untracked_usage_errors_exit_2_before_any_aws_call() {
    let out = run(&["quota", "track"]);
    assert_eq!(out.status.code(), Some(2), "a user or --all-untracked is required");
    assert!(text(&out.stderr).contains("required arguments were not provided"), "{}", text(&out.stderr));
    let out = run(&["quota", "status", "--untracked", "--user", "alice"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("cannot be used with"), "{}", text(&out.stderr));
    let out = run(&["validate"]);
    let s = text(&out.stdout);
    assert!(s.contains("iam-list-users: iam:ListUsers") && s.contains("quota-tracked-iam-users: iam:ListUserTags, iam:ListServiceSpecificCredentials, iam:GetUser, iam:TagUser"), "{s}");
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(run(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(run(&["synth", "--format", "xml"]).status.code(), Some(2));
}

#[test]
fn preview_writes_one_file_per_dashboard_and_rejects_bad_input_with_2() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("pics");
    let out = run(&["preview", "--format", "html", "--out", d.to_str().unwrap()]);
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
    let mut names: Vec<String> = std::fs::read_dir(&d).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    assert_eq!(
        names,
        ["BedrockCostAndUsage", "BedrockManagement", "BedrockSecurity", "BedrockUsageMonitoring"].map(|n| format!("bedrock-watch-us-east-1.{n}.html"))
    );
    assert_eq!(text(&out.stdout).lines().filter(|l| l.starts_with("wrote ")).count(), 4);

    let out = run(&["preview", "--config", "no/such/file.yaml", "--out", d.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("help: "), "{}", text(&out.stderr));
    let out = run(&["preview", "--format", "png"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}

#[test]
fn graph_prints_mermaid_and_names_the_configured_regions_on_a_bad_one() {
    let out = run(&["graph"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("flowchart LR\n") && stdout.contains("n_HighLatencyAlarm -->|Ref| n_AlertTopic"), "{stdout}");
    let out = run(&["graph", "--region", "mars-north-1"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("`mars-north-1` has no stack") && stderr.contains("help: pass one of the configured regions: us-east-1"), "{stderr}");
}

#[test]
fn prices_lists_sources_and_check_fails_on_old_or_undated_prices() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("p.yaml");
    std::fs::write(
        &cfg,
        "regions: [us-east-1]\npricing:\n  models:\n    acme.old-v1: {input: 0.001, output: 0.002, as_of: 2024-01-31}\n    acme.undated-v1: {input: 0.001, output: 0.002}\n",
    )
    .unwrap();
    let cfg = cfg.to_str().unwrap();

    let out = run(&["prices", "--config", cfg]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    let old = table.lines().find(|l| l.starts_with("acme.old-v1")).expect("override listed");
    assert!(old.contains("2024-01-31") && old.contains("config: pricing.models"), "{old}");
    assert!(table.lines().any(|l| l.starts_with("acme.undated-v1") && l.contains("undated")), "{table}");
    assert!(table.contains("built-in: https://aws.amazon.com/bedrock/pricing/"), "{table}");

    // Dated more than 1,000 days ago (2024-01-31), so it is stale on any day this test runs.
    let out = run(&["prices", "--config", cfg, "--check", "--max-age-days", "1000"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let check = text(&out.stdout);
    assert!(check.contains("2 of ") && check.contains("acme.old-v1 (us-east-1, config: pricing.models): as of 2024-01-31"), "{check}");
    assert!(check.contains("acme.undated-v1 (us-east-1, config: pricing.models): no as_of date"), "{check}");

    // Without the two overrides every price is dated; a limit of 100 years passes.
    let out = run(&["prices", "--check", "--max-age-days", "36500"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let json = run(&["prices", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(doc["schema"], "bedrock-watch/prices@1");
    assert!(doc["prices"]["rows"].as_array().unwrap().iter().all(|r| r["as_of"].is_string()));

    // The new columns, the tier multipliers and the profile mapping, in text and JSON.
    assert!(table.lines().nth(1).unwrap().contains("CACHE WRITE 5M") && table.lines().nth(1).unwrap().contains("CACHE WRITE 1H"), "{table}");
    let haiku = table.lines().find(|l| l.starts_with("anthropic.claude-3-5-haiku-20241022-v1:0")).unwrap();
    assert!(haiku.contains("0.001000") && haiku.contains("0.001600"), "5m = 1.25 x input, 1h = 2 x input: {haiku}");
    assert!(table.contains("STANDARD") && table.contains("FLEX") && table.contains("PRIORITY"), "{table}");
    assert!(table.contains("Application inference profiles: none mapped"), "{table}");
    let profiles = dir.path().join("q.yaml");
    std::fs::write(
        &profiles,
        "regions: [us-east-1]\npricing:\n  inference_profiles:\n    a1b2c3d4e5f6: amazon.nova-pro-v1:0\n  service_tiers: {flex: 0.6, as_of: 2026-12-01}\n",
    )
    .unwrap();
    let out = run(&["prices", "--config", profiles.to_str().unwrap()]);
    let table = text(&out.stdout);
    assert!(table.lines().any(|l| l.starts_with("a1b2c3d4e5f6") && l.contains("amazon.nova-pro-v1:0")), "{table}");
    assert!(table.lines().any(|l| l.starts_with("1 ") && l.contains("0.6") && l.contains("1.75") && l.contains("2026-12-01") && l.contains("config: pricing.service_tiers")), "{table}");
    let json = run(&["prices", "--config", profiles.to_str().unwrap(), "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(doc["prices"]["inference_profiles"]["a1b2c3d4e5f6"], "amazon.nova-pro-v1:0");
    assert_eq!(doc["prices"]["service_tiers"]["flex"], 0.6);
    let undated = dir.path().join("r.yaml");
    std::fs::write(&undated, "regions: [us-east-1]\npricing:\n  service_tiers: {priority: 2}\n").unwrap();
    let out = run(&["prices", "--config", undated.to_str().unwrap(), "--check", "--max-age-days", "36500"]);
    assert_eq!(out.status.code(), Some(1), "configured multipliers without as_of are undated");
    assert!(text(&out.stdout).contains("service tier multipliers (us-east-1, config: pricing.service_tiers): no as_of date"), "{}", text(&out.stdout));

    let out = run(&["prices", "--region", "ap-south-2"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--region ap-south-2 is not one of the config's regions"), "{}", text(&out.stderr));
}

/// `report --reconcile` without AWS: the schema, a saved reconciliation re-rendered with its
/// exit code (1: rows drift), and flags refused before any call.
#[test]
fn reconcile_schema_from_json_and_flag_errors() {
    let out = run(&["report", "--reconcile", "--schema"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let schema: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(schema["$id"], "https://bedrock-watch.dev/schemas/bedrock-watch/reconcile/v1.json");
    let out = run(&["report", "--reconcile", "--from-json", "tests/data/reconcile.json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), bedrock_watch::report::reconcile::render::render(
        &bedrock_watch::report::reconcile::Reconciliation::from_json(&std::fs::read_to_string("tests/data/reconcile.json").unwrap()).unwrap(),
        bedrock_watch::report::reconcile::render::Format::Table,
    ));
    let out = run(&["report", "--reconcile", "--from-json", "tests/data/report.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("is not a bedrock-watch reconciliation"), "{}", text(&out.stderr));
    let out = run(&["report", "--month", "2026-11"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--reconcile"), "{}", text(&out.stderr));
    let out = run(&["report", "--reconcile", "--drift-threshold", "-5"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("is not a percentage from 0 to 1000"), "{}", text(&out.stderr));
    let out = run(&["report", "--reconcile", "--month", "2026-13"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--month `2026-13` is not a month: write YYYY-MM"), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("help: reconcile a closed period"), "{}", text(&out.stderr));
}
