//! Snapshots of each builder's output and of whole stacks, kept in the top-level `snapshots/`.
//! A change to rendered output shows up here as a reviewable diff (`cargo insta review`).

use bedrock_watch::bedrock::InvocationLogging;
use bedrock_watch::cfn::{render, Format, Template};
use bedrock_watch::cloudwatch::{Alarm, Dashboard, Metric, MetricSource, Stat, Widget};
use bedrock_watch::config::{self, Config};
use bedrock_watch::iam::{Condition, PolicyDocument, Role};
use bedrock_watch::kms::Key;
use bedrock_watch::logs::{LogGroup, QueryDefinition, Retention};
use bedrock_watch::monitoring;
use bedrock_watch::s3::{Bucket, BucketPolicy};
use bedrock_watch::sns::Topic;

fn snapshot(name: &str, template: &Template) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!(name, render(template, Format::Yaml)));
}

fn key(t: &mut Template) -> bedrock_watch::kms::KeyRef {
    Key::new("Key", "test key").build(t).unwrap()
}

#[test]
fn builder_kms_key() {
    let mut t = Template::new("KMS key builder");
    Key::new("Key", "encrypts things")
        .grant("CloudWatchPublishes", bedrock_watch::iam::Principal::service("cloudwatch.amazonaws.com"), &["kms:Decrypt", "kms:GenerateDataKey"], vec![])
        .build(&mut t)
        .unwrap();
    snapshot("builder_kms_key", &t);
}

#[test]
fn builder_bucket_and_policy() {
    let mut t = Template::new("S3 bucket and policy builders");
    let k = key(&mut t);
    let bucket = Bucket::new("Logs").encryption(bedrock_watch::s3::BucketEncryption::Kms(k)).build(&mut t).unwrap();
    BucketPolicy::new("LogsPolicy", &bucket)
        .statement(bucket.grant_put_to_service("ServicePuts", "bedrock.amazonaws.com", bedrock_watch::cfn::Sub::new().text("logs/*")).condition(Condition::source_account()))
        .build(&mut t)
        .unwrap();
    snapshot("builder_bucket_and_policy", &t);
}

#[test]
fn builder_log_group_and_query() {
    let mut t = Template::new("Log group and query definition builders");
    let k = key(&mut t);
    let group = LogGroup::new("Group", Retention::days(14).unwrap()).name("/test/group").encryption_key(&k).build(&mut t).unwrap();
    QueryDefinition::new("Query", "bedrock-watch/recent", "fields @timestamp | limit 5").log_group(&group).build(&mut t).unwrap();
    snapshot("builder_log_group_and_query", &t);
}

#[test]
fn builder_role() {
    let mut t = Template::new("IAM role builder");
    let k = key(&mut t);
    let group = LogGroup::new("Group", Retention::days(30).unwrap()).name("/g").encryption_key(&k).build(&mut t).unwrap();
    Role::new("DeliveryRole")
        .assumed_by_service("bedrock.amazonaws.com", vec![Condition::source_account(), Condition::bedrock_source_arn()])
        .inline_policy("Write", PolicyDocument::new().statement(group.grant_write_stream("aws/bedrock/modelinvocations")))
        .build(&mut t)
        .unwrap();
    snapshot("builder_role", &t);
}

#[test]
fn builder_topic_and_alarms() {
    let mut t = Template::new("SNS topic and CloudWatch alarm builders");
    let k = key(&mut t);
    let topic = Topic::new("Topic", &k).email("ops@example.com").build(&mut t).unwrap();
    Alarm::new("Latency", MetricSource::Metric(Metric::bedrock("InvocationLatency").stat(Stat::Percentile(99.0)).model("amazon.nova-pro-v1:0")), 5000.0)
        .unit("ms")
        .evaluate(2, 3)
        .notify(&topic)
        .build(&mut t)
        .unwrap();
    Alarm::new("Tokens", MetricSource::bedrock_all_models("InputTokenCount", Stat::Sum, 3600), 1000.0).notify(&topic).build(&mut t).unwrap();
    snapshot("builder_topic_and_alarms", &t);
}

#[test]
fn builder_dashboard() {
    let mut t = Template::new("Dashboard builder");
    Dashboard::new("Dash", "Test")
        .widget(Widget::text("# Title"))
        .widget(Widget::graph("Invocations", vec![MetricSource::Metric(Metric::bedrock("Invocations"))]).threshold_line("limit", 10.0))
        .widget(Widget::single_value("Latency", vec![MetricSource::bedrock_all_models("InvocationLatency", Stat::Average, 300)]))
        .widget(Widget::logs("Recent", vec![bedrock_watch::cfn::Value::str("/aws/bedrock/modelinvocations")], "fields @timestamp | limit 5"))
        .build(&mut t)
        .unwrap();
    snapshot("builder_dashboard", &t);
}

#[test]
fn builder_invocation_logging() {
    let mut t = Template::new("Bedrock invocation-logging custom resource");
    let k = key(&mut t);
    let group = LogGroup::new("Group", Retention::days(30).unwrap()).name("/g").encryption_key(&k).build(&mut t).unwrap();
    let bucket = Bucket::new("Bucket").build(&mut t).unwrap();
    let role = Role::new("Role").assumed_by_service("bedrock.amazonaws.com", vec![]).build(&mut t).unwrap();
    InvocationLogging::new("Logging", &group, &role, &bucket, &k).build(&mut t).unwrap();
    // The handler source is tested on its own (tests/python); keep the snapshot on the wiring.
    if let Some(f) = t.resource_mut("LoggingHandler") {
        f.properties.insert("Code", bedrock_watch::cfn::Map::new().with("ZipFile", "<logging_config_handler.py>"));
    }
    snapshot("builder_invocation_logging", &t);
}

#[test]
fn stack_default() {
    let config = Config::default();
    snapshot("stack_default", &monitoring::build(&config, "us-east-1").unwrap());
}

#[test]
fn stack_multi_region_secondary() {
    let text = std::fs::read_to_string("examples/multi-region.yaml").unwrap();
    let config = config::parse(&text, "examples/multi-region.yaml").unwrap();
    snapshot("stack_multi_region_secondary", &monitoring::build(&config, "us-east-1").unwrap());
}

#[test]
fn builder_insight_rule_and_metric_filter() {
    use bedrock_watch::cloudwatch::{Aggregate, InsightRule};
    use bedrock_watch::logs::MetricFilter;
    let mut t = Template::new("Contributor Insights rule and metric filter builders");
    let group = LogGroup::new("Group", Retention::days(30).unwrap()).name("/aws/bedrock/modelinvocations").build(&mut t).unwrap();
    InsightRule::new("TopCallers", "top-callers", &["$.identity.arn"], Aggregate::Sum).value_of("$.input.inputTokenCount").log_group(group.name()).build(&mut t).unwrap();
    MetricFilter::new("Tracked", &group, "{ ($.identity.arn = \"arn:aws:sts::1:assumed-role/r/s\") }", "BedrockWatch/Attribution", "InputTokens", "$.input.inputTokenCount")
        .dimension("Principal", "$.identity.arn")
        .build(&mut t)
        .unwrap();
    snapshot("builder_insight_rule_and_metric_filter", &t);
}

#[test]
fn builder_budget_trail_and_event_data_store() {
    use bedrock_watch::budgets::budget::NotificationKind;
    use bedrock_watch::budgets::Budget;
    use bedrock_watch::cloudtrail::{EventDataStore, Trail};
    let mut t = Template::new("Budget, trail and event data store builders");
    let k = key(&mut t);
    let topic = Topic::new("Topic", &k).build(&mut t).unwrap();
    Budget::monthly("Budget", "bedrock-monthly", "Amazon Bedrock", 1000.0)
        .notify_at(NotificationKind::Actual, 80.0)
        .notify_at(NotificationKind::Forecasted, 100.0)
        .topic(&topic)
        .emails(&["finops@example.com".to_owned()])
        .build(&mut t)
        .unwrap();
    Trail::new("Trail", "audit", bedrock_watch::cfn::Value::str("existing-audit-bucket"), &k).prefix("cloudtrail").build(&mut t).unwrap();
    EventDataStore::new("Lake", "audit-lake", 90).build(&mut t).unwrap();
    snapshot("builder_budget_trail_and_event_data_store", &t);
}

#[test]
fn stack_attribution_and_cost() {
    let text = std::fs::read_to_string("examples/attribution-and-cost.yaml").unwrap();
    let config = config::parse(&text, "examples/attribution-and-cost.yaml").unwrap();
    let mut t = monitoring::build(&config, "us-east-1").unwrap();
    // The handler source is tested on its own (tests/python) and already in stack_default.
    if let Some(f) = t.resource_mut("InvocationLoggingHandler") {
        f.properties.insert("Code", bedrock_watch::cfn::Map::new().with("ZipFile", "<logging_config_handler.py>"));
    }
    snapshot("stack_attribution_and_cost", &t);
}

/// Each dashboard body of the default stack, as the JSON CloudWatch receives.
#[test]
fn dashboard_bodies() {
    let t = monitoring::build(&Config::default(), "us-east-1").unwrap();
    let mut names = Vec::new();
    for (id, d) in t.resources_of_type("AWS::CloudWatch::Dashboard") {
        let body = match d.properties.get("DashboardBody").unwrap() {
            bedrock_watch::cfn::Value::Fn(f) => match f.as_ref() {
                bedrock_watch::cfn::Intrinsic::Sub { template, .. } => template.clone(),
                other => panic!("{other:?}"),
            },
            bedrock_watch::cfn::Value::Str(s) => s.clone(),
            other => panic!("{other:?}"),
        };
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path("../snapshots");
        settings.set_prepend_module_to_snapshot(false);
        let name = format!("dashboard_body_{}", id.trim_end_matches("Dashboard").to_lowercase());
        settings.bind(|| insta::assert_snapshot!(name.clone(), body));
        names.push(name);
    }
    assert_eq!(names.len(), 4, "{names:?}");
}

#[test]
fn stack_quotas() {
    let text = std::fs::read_to_string("examples/quotas.yaml").unwrap();
    let config = config::parse(&text, "examples/quotas.yaml").unwrap();
    let mut t = monitoring::build(&config, "eu-central-1").unwrap();
    // Handler sources are tested on their own (tests/python); keep the snapshot on the wiring.
    for id in ["InvocationLoggingHandler", "QuotaAccountingFunction", "QuotaResetFunction"] {
        if let Some(f) = t.resource_mut(id) {
            f.properties.insert("Code", bedrock_watch::cfn::Map::new().with("ZipFile", format!("<{id} source>")));
        }
    }
    // Only the quota pieces: the rest of the stack is covered by stack_default.
    t.resources.retain(|(id, r)| id.starts_with("Quota") || r.resource_type == "AWS::Lambda::Permission");
    t.outputs.clear();
    snapshot("stack_quotas", &t);
}

#[test]
fn stack_scheduled_reports() {
    let text = std::fs::read_to_string("examples/scheduled-reports.yaml").unwrap();
    let config = config::parse(&text, "examples/scheduled-reports.yaml").unwrap();
    let mut t = monitoring::build(&config, "us-east-1").unwrap();
    // The handler source and its generated CONFIG are pinned by the shared fixture and tested
    // in tests/python; keep the snapshot on the wiring (function, role, log group, schedule).
    if let Some(f) = t.resource_mut("ScheduledReportFunction") {
        f.properties.insert("Code", bedrock_watch::cfn::Map::new().with("ZipFile", "<ScheduledReportFunction source>"));
    }
    t.resources.retain(|(id, _)| id.starts_with("ScheduledReport"));
    t.outputs.clear();
    snapshot("stack_scheduled_reports", &t);
}

/// The `quota status` table for a fixed state: a blocked user, a protected one, one over its
/// limit, a team, in tokens.
#[test]
fn quota_status_table() {
    use bedrock_watch::config::QuotaUnit;
    use bedrock_watch::quotas::admin::items::Block;
    use bedrock_watch::quotas::admin::policy::Target;
    use bedrock_watch::quotas::admin::status::{render_status, PrincipalRow, StatusView, TeamRow, Unattributed, UnattributedRow};
    let row = |name: &str, day: f64, month: f64| PrincipalRow { name: name.into(), day, month, day_limit: Some(2_000_000.0), month_limit: Some(30_000_000.0), block: None, protected: None };
    let mut alice = row("alice", 2_150_000.0, 9_400_000.0);
    alice.block = Some(Block {
        principal: "alice".into(),
        arn: "arn:aws:iam::123456789012:user/alice".into(),
        until: "2026-12-01T23:00:00Z".into(),
        reason: "day limit 2,000,000 tokens reached on 2026-12-01: 2,150,000 tokens used".into(),
        blocked_by: "automatic".into(),
        blocked_at: "2026-12-01T14:02:11Z".into(),
        target: Target::UserPolicy { user_name: "alice".into() },
    });
    let mut admin = row("ops-admin@example.com", 2_500_000.0, 2_500_000.0);
    admin.protected = Some("config".into());
    let mut raj = row("raj.patel@example.com", 4_100_000.0, 12_000_000.0);
    raj.day_limit = Some(5_000_000.0);
    let bot = PrincipalRow { month_limit: None, ..row("support-bot-prod/support-bot", 2_000_000.0, 31_000_000.0) };
    let view = StatusView {
        unit: QuotaUnit::Tokens,
        time_zone: "Europe/Berlin".into(),
        day: "2026-12-01".into(),
        month: "2026-12".into(),
        principals: vec![alice, admin, raj, bot],
        teams: vec![TeamRow { name: "support".into(), month: 31_000_000.0, limit: Some(100_000_000.0), members: vec!["support-bot-prod/support-bot".into(), "jane.doe@example.com".into()] }],
        unattributed: Some(Unattributed {
            rows: vec![UnattributedRow {
                model: "anthropic.claude-3-5-haiku-20241022-v1:0".into(),
                today_tokens: 42_000.0,
                month_tokens: 310_000.0,
                today_usd: Some(0.0672),
                month_usd: Some(0.496),
            }],
            error: None,
        }),
    };
    text_snapshot("quota_status_table", &render_status(&view));
}

fn text_snapshot(name: &str, text: &str) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!(name, text));
}

/// `bedrock-watch graph` of the default stack: the README's sample comes from here.
#[test]
fn graph_default_stack() {
    let t = monitoring::build(&Config::default(), "us-east-1").unwrap();
    text_snapshot("graph_default_stack", &bedrock_watch::cfn::graph::Graph::of(&t).to_mermaid());
}

/// `bedrock-watch preview` (SVG) of the default operations dashboard.
#[test]
fn preview_operations_svg() {
    let t = monitoring::build(&Config::default(), "us-east-1").unwrap();
    let files = bedrock_watch::preview::render("bedrock-watch-us-east-1", &t, bedrock_watch::preview::Format::Svg).unwrap();
    let ops = files.iter().find(|f| f.file_name == "bedrock-watch-us-east-1.BedrockUsageMonitoring.svg").expect("operations preview");
    text_snapshot("preview_operations_svg", &ops.content);
}

/// The monitoring account's organization dashboard (two rollout regions), as the JSON
/// CloudWatch receives: one line per linked account from Metrics Insights `GROUP BY AWS.AccountId`.
#[test]
fn dashboard_body_organization() {
    let mut t = Template::new("organization dashboard");
    bedrock_watch::monitoring::org_dashboard::dashboard(&["us-east-1".to_owned(), "eu-west-1".to_owned()]).build(&mut t).unwrap();
    let r = t.resource("OrganizationDashboard").unwrap();
    let body = bedrock_watch::cloudwatch::dashboard::body_text(&r.properties).unwrap().to_owned();
    text_snapshot("dashboard_body_organization", &body);
}
