//! Malformed configs and command lines, as a new user writes them, through the real binary:
//! each must fail with exit code 2 and one message naming the line, the key and what is
//! allowed, never a panic, an internal type name or a "this may be a bug" help.

use std::process::{Command, Output};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_bedrock-watch"));
    // Nothing here may reach AWS: no credentials, and any endpoint is a closed local port.
    c.env("AWS_ENDPOINT_URL", "http://127.0.0.1:9").env("AWS_EC2_METADATA_DISABLED", "true");
    c
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn validate_bytes(config: &[u8]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bw.yaml");
    std::fs::write(&path, config).unwrap();
    bin().args(["validate", "--config", path.to_str().unwrap()]).output().unwrap()
}

/// Fails with exit code 2, and stderr holds every `expected` piece and none of the internal
/// wording.
fn rejected(config: &str, expected: &[&str]) -> String {
    let out = validate_bytes(config.as_bytes());
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{config:?} was not rejected: {}{err}", text(&out.stdout));
    for e in expected {
        assert!(err.contains(e), "{config:?}: expected {e:?} in:\n{err}");
    }
    for internal in ["struct ", "u64", "u32", "u128", "f64", "panicked", "may be a bug", "bug in bedrock-watch", "invalid logical id", "used twice"] {
        assert!(!err.contains(internal), "{config:?}: internal wording {internal:?} in:\n{err}");
    }
    assert!(err.len() < 1500, "{config:?}: the message is {} bytes", err.len());
    err
}

const PRICED_AB: &str = "pricing:\n  models:\n    a.b: {input: 0.001, output: 0.002}\n    a-b: {input: 0.001, output: 0.002}\n";

#[test]
fn malformed_configs_are_rejected_naming_line_key_and_allowed_values() {
    let long_model = format!("{}\npricing:\n  models:\n    x.{}: {{input: 1, output: 1}}\n", format_args!("alerts:\n  models: [x.{}]", "m".repeat(300)), "m".repeat(300));
    let table: Vec<(String, Vec<&str>)> = vec![
        // Regions and time zones that only look right.
        ("regions: [us-east-1, eu-centrl-1]\n".into(), vec!["bw.yaml:1:", "`regions[1]`", "did you mean eu-central-1?"]),
        ("regions:\n  - us-east-3\n".into(), vec!["bw.yaml:2:", "`regions[0]`", "us-east-1"]),
        ("regions: [us-east-1, cn-north-1]\n".into(), vec!["`regions`", "one partition"]),
        ("pricing:\n  regions:\n    eu-west-9:\n      amazon.nova-pro-v1:0: {input: 1, output: 1}\n".into(), vec!["bw.yaml:3:", "pricing.regions.eu-west-9", "did you mean eu-west-"]),
        ("quotas:\n  time_zone: Europe/Berln\n".into(), vec!["bw.yaml:2:", "`quotas.time_zone`", "IANA"]),
        ("quotas:\n  time_zone: europe/berlin\n".into(), vec!["`quotas.time_zone`", "write Europe/Berlin"]),
        // YAML features a config does not use.
        ("stack_name: !Ref StackName\n".into(), vec!["bw.yaml:1:", "`stack_name`", "tagged !Ref", "not supported"]),
        ("alerts:\n  emails:\n    - !Sub '${User}@example.com'\n".into(), vec!["bw.yaml:3:", "`alerts.emails[0]`", "!Sub"]),
        ("tags:\n  Team: a\n  Env: b\n  Team: c\n".into(), vec!["bw.yaml:4:", "`tags.Team` is given twice (first on line 2)"]),
        ("project: a\nregions: [us-east-1]\nproject: b\n".into(), vec!["bw.yaml:3:", "`project` is given twice (first on line 1)"]),
        ("pricing:\n  models:\n    acme.bot: {input: 1, output: 1}\n    acme.bot: {input: 2, output: 2}\n".into(), vec!["bw.yaml:4:", "given twice"]),
        ("logging:\n\tretention_days: 30\n".into(), vec!["bw.yaml:2:", "tab"]),
        ("project: a\nstack_name: b\0c\n".into(), vec!["bw.yaml:2:", "U+0000"]),
        // Types, in words.
        ("- project: a\n".into(), vec!["expected a mapping"]),
        ("logging: 30\n".into(), vec!["bw.yaml:1:", "logging", "expected a mapping"]),
        ("alerts:\n  thresholds:\n    tokens_per_hour: 1.5\n".into(), vec!["bw.yaml:3:", "alerts.thresholds.tokens_per_hour", "expected a whole number"]),
        ("alerts:\n  thresholds:\n    tokens_per_hour: -1\n".into(), vec!["bw.yaml:3:", "expected a whole number"]),
        ("regions: us-east-1\n".into(), vec!["bw.yaml:1:", "expected a list"]),
        ("tags: [a, b]\n".into(), vec!["bw.yaml:1:", "tags", "expected a mapping"]),
        ("alerts:\n  thresholds:\n    tokens_per_hour: 99999999999999999999999\n".into(), vec!["bw.yaml:3:", "tokens_per_hour", "too large"]),
        // Values AWS rejects.
        ("tags:\n  Team: \"a\\nb\"\n".into(), vec!["bw.yaml:2:", "`tags.Team`", "\\n", "control characters"]),
        ("tags:\n  Team: \"\"\n".into(), vec!["`tags.Team`", "1-256"]),
        ("alerts:\n  emails: [\"ops@example.com\\a\"]\n".into(), vec!["`alerts.emails[0]`", "\\u{7}"]),
        ("alerts:\n  emails: [ops@@example.com]\n".into(), vec!["bw.yaml:2:", "`alerts.emails[0]`", "e-mail"]),
        ("quotas:\n  emails:\n    jane: jane@example\n".into(), vec!["bw.yaml:3:", "`quotas.emails.jane`"]),
        ("attribution:\n  tracked_principals: [\"arn:aws:sts::12:assumed-role/x/y\"]\n".into(), vec!["`attribution.tracked_principals[0]`"]),
        ("quotas:\n  identity_center:\n    instance_arn: arn:aws:sso:::instance/x\n    permission_set_arns: {}\n".into(), vec!["bw.yaml:3:", "quotas.identity_center.instance_arn"]),
        ("quotas:\n  daily_limit: 10.5\n".into(), vec!["bw.yaml:2:", "`quotas.daily_limit` is 10.5", "whole number of tokens"]),
        ("quotas:\n  daily_limit: 1000\n  monthly_limit: 10\n".into(), vec!["bw.yaml:3:", "`quotas.monthly_limit` is 10", "at least quotas.daily_limit"]),
        ("quotas:\n  overrides:\n    jane:\n      daily_limit: 5\n      monthly_limit: 1\n".into(), vec!["bw.yaml:5:", "quotas.overrides.jane.monthly_limit"]),
        ("quotas:\n  enabled: false\n  warning_percent: 150\n".into(), vec!["bw.yaml:3:", "`quotas.warning_percent`"]),
        ("quotas:\n  protected: [\"ops\\u0000\"]\n".into(), vec!["bw.yaml:2:", "`quotas.protected[0]`"]),
        ("deploy:\n  staging_prefix: \"a\\rb\"\n".into(), vec!["bw.yaml:2:", "`deploy.staging_prefix`"]),
        ("pricing:\n  models:\n    acme.bot-v1:0: {input: -1, output: 1}\n".into(), vec!["bw.yaml:3:", "`pricing.models.\"acme.bot-v1:0\".input` is -1", "0 to 1000"]),
        (
            "pricing:\n  inference_profiles:\n    us.amazon.nova-pro-v1:0: amazon.nova-pro-v1:0\n".into(),
            vec!["bw.yaml:3:", "`pricing.inference_profiles.\"us.amazon.nova-pro-v1:0\"`", "application-inference-profile ARN"],
        ),
        (
            "pricing:\n  inference_profiles:\n    arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/a1b2c3d4e5f6: acme.unknown-v1\n".into(),
            // An ARN key is longer than a key segment shows, so the message names its start (no line).
            vec!["`pricing.inference_profiles.\"arn:aws:bedrock:us-east-1:111122223333:application-inference\"", "acme.unknown-v1", "which has no price", "priced model id"],
        ),
        ("pricing:\n  service_tiers: {flex: -0.5}\n".into(), vec!["bw.yaml:2:", "`pricing.service_tiers.flex` is -0.5", "from 0 to 10"]),
        ("pricing:\n  service_tiers: {fast: 2}\n".into(), vec!["bw.yaml:2:", "fast"]),
        // Ids that used to fail in synthesis as internal errors.
        (long_model, vec!["`alerts.models[0]`", "at most"]),
        (format!("alerts:\n  models: [a.b, a-b]\n{PRICED_AB}"), vec!["bw.yaml:2:", "`alerts.models[1]`", "alerts.models[0]", "punctuation or case"]),
        ("alerts:\n  models: [\"...\"]\npricing:\n  models:\n    \"...\": {input: 1, output: 1}\n".into(), vec!["`alerts.models[0]`", "letters or digits"]),
    ];
    for (config, expected) in &table {
        rejected(config, expected);
    }
}

#[test]
fn huge_values_and_lists_get_short_messages() {
    let err = rejected(&format!("project: {}\n", "x".repeat(1_000_000)), &["`project`", "(1000000 characters)"]);
    assert!(err.len() < 600, "{err}");
    let list = vec!["m.x"; 200_000].join(", ");
    rejected(&format!("models: [{list}]\n"), &["`models`", "a list of 200000 models", "at most 500"]);
    rejected(&format!("alerts:\n  thresholds:\n    tokens_per_hour: \"{}\"\n", "9".repeat(100_000)), &["tokens_per_hour", "characters)"]);
}

#[test]
fn a_file_that_is_not_utf8_is_named_as_such() {
    let out = validate_bytes(b"project: a\nstack_name: caf\xe9\n");
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(err.contains("bw.yaml:2:") && err.contains("not UTF-8 at byte 26"), "{err}");
    assert!(!err.contains("pass an existing file"), "{err}");
}

#[test]
fn synth_writes_all_regions_or_none() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("bw.yaml");
    std::fs::write(&config, "regions: [us-east-1, us-west-2]\n").unwrap();
    let out_dir = dir.path().join("out");
    // The second region's template cannot be written: a folder is in its place.
    std::fs::create_dir_all(out_dir.join("bedrock-watch-us-west-2.yaml")).unwrap();
    let out = bin().args(["synth", "--config", config.to_str().unwrap(), "--out", out_dir.to_str().unwrap()]).output().unwrap();
    assert_ne!(out.status.code(), Some(0));
    assert!(text(&out.stderr).contains("bedrock-watch-us-west-2.yaml"), "{}", text(&out.stderr));
    assert!(!out_dir.join("bedrock-watch-us-east-1.yaml").exists(), "the first region's template was written alone");
    assert_eq!(std::fs::read_dir(&out_dir).unwrap().count(), 1, "no temporary file is left behind");
}

#[test]
fn report_arguments_get_value_errors() {
    let out = bin().args(["report", "--hours", "-1"]).output().unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("--hours") && err.contains("from 1 to"), "{err}");
    assert!(!err.contains("unexpected argument"), "{err}");

    let out = bin().args(["report", "--since", "yesterday"]).output().unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("--since `yesterday` is not an RFC 3339 time") && err.contains("2026-11-01T00:00:00Z"), "{err}");
    assert!(!err.to_lowercase().contains("parse error") && !err.contains("DateTime"), "SDK wording: {err}");
}

#[test]
fn no_credentials_at_all_is_one_line_saying_how_to_configure_them() {
    let home = tempfile::tempdir().unwrap();
    let missing = home.path().join("missing");
    let mut cmd = bin();
    for var in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"] {
        cmd.env_remove(var);
    }
    let out = cmd
        .env("HOME", home.path())
        .env("AWS_CONFIG_FILE", &missing)
        .env("AWS_SHARED_CREDENTIALS_FILE", &missing)
        .env("AWS_REGION", "us-east-1")
        .args(["report", "--hours", "1"])
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(lines[0].starts_with("error: no AWS credentials found"), "{err}");
    assert_eq!(lines.len(), 2, "one error line and one help line:\n{err}");
    for how in ["AWS_PROFILE", "--profile", "aws configure", "aws sso login"] {
        assert!(lines[1].contains(how), "{how} missing: {err}");
    }
}
