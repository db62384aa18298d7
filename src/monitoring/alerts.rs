//! The alert topic and the four core alarms of the design document: token usage, errors,
//! invocation spikes and latency. Account-wide alarms read every model through Metrics Insights,
//! so new models are covered without a config change; models listed in `alerts.models` get their
//! own set as well.

use crate::cfn::{logical_id_fragment, CfnError, Template};
use crate::cloudwatch::{Alarm, AlarmRef, Metric, MetricSource, Query, Stat};
use crate::config::Config;
use crate::kms::KeyRef;
use crate::cfn::{Pseudo, Sub};
use crate::iam::Condition;
use crate::sns::{Topic, TopicPolicy, TopicRef};

const HOUR: u32 = 3600;
const FIVE_MINUTES: u32 = 300;

pub struct Alerts {
    pub topic: TopicRef,
    pub alarms: Vec<AlarmRef>,
}

/// Where an alarm looks: every model, or one.
enum Scope<'a> {
    AllModels,
    Model(&'a str),
}

impl Scope<'_> {
    fn query(&self, metric: &str, stat: Stat, period: u32) -> Query {
        match self {
            Scope::AllModels => Query::Insights { sql: crate::cloudwatch::metric::bedrock_insights_sql(metric, stat), period },
            Scope::Model(m) => Query::Metric(Metric::bedrock(metric).model(m).stat(stat).period(period)),
        }
    }

    fn single(&self, metric: &str, stat: Stat, period: u32) -> MetricSource {
        match self {
            Scope::AllModels => MetricSource::bedrock_all_models(metric, stat, period),
            Scope::Model(m) => MetricSource::Metric(Metric::bedrock(metric).model(m).stat(stat).period(period)),
        }
    }

    fn id_suffix(&self) -> String {
        match self {
            Scope::AllModels => String::new(),
            Scope::Model(m) => logical_id_fragment(m),
        }
    }

    fn name_suffix(&self) -> String {
        match self {
            Scope::AllModels => String::new(),
            Scope::Model(m) => format!("-{m}"),
        }
    }

    fn label(&self) -> String {
        match self {
            Scope::AllModels => "all models".into(),
            Scope::Model(m) => (*m).to_owned(),
        }
    }
}

pub fn build(template: &mut Template, config: &Config, region: &str, key: &KeyRef) -> Result<Alerts, CfnError> {
    let mut topic = Topic::new("AlertTopic", key).display_name(format!("bedrock-watch alerts ({region})"));
    for email in &config.alerts.emails {
        topic = topic.email(email.as_str());
    }
    let topic = topic.build(template)?;

    let mut alarms = Vec::new();
    let scopes = std::iter::once(Scope::AllModels).chain(config.alerts.models.iter().map(|m| Scope::Model(m)));
    for scope in scopes {
        alarms.extend(core_alarms(template, config, region, &topic, &scope)?);
    }
    Ok(Alerts { topic, alarms })
}

fn core_alarms(template: &mut Template, config: &Config, region: &str, topic: &TopicRef, scope: &Scope<'_>) -> Result<Vec<AlarmRef>, CfnError> {
    let t = &config.alerts.thresholds;
    let prefix = config.stack_name_for(region);
    let name = |what: &str| format!("{prefix}-{what}{}", scope.name_suffix());
    let id = |what: &str| format!("{what}Alarm{}", scope.id_suffix());
    let label = scope.label();

    let tokens = MetricSource::Math {
        expression: "FILL(m1, 0) + FILL(m2, 0)".into(),
        inputs: vec![
            ("m1".into(), scope.query("InputTokenCount", Stat::Sum, HOUR)),
            ("m2".into(), scope.query("OutputTokenCount", Stat::Sum, HOUR)),
        ],
        label: format!("Input + output tokens per hour ({label})"),
        period: HOUR,
    };
    let errors = MetricSource::Math {
        expression: "FILL(m1, 0) + FILL(m2, 0)".into(),
        inputs: vec![
            ("m1".into(), scope.query("InvocationClientErrors", Stat::Sum, FIVE_MINUTES)),
            ("m2".into(), scope.query("InvocationServerErrors", Stat::Sum, FIVE_MINUTES)),
        ],
        label: format!("Client + server errors per 5 minutes ({label})"),
        period: FIVE_MINUTES,
    };
    let specs = [
        (
            "HighTokenUsage",
            "high-token-usage",
            tokens,
            t.tokens_per_hour,
            "tokens",
            "Check which users and models drive the usage (Logs Insights on the invocation log group) and whether it matches planned workloads.",
        ),
        (
            "HighErrorCount",
            "high-error-count",
            errors,
            t.errors_per_5_minutes,
            "errors",
            "Client errors usually mean bad requests or missing model access; server errors point at the service: check the recent-invocations table and the AWS Health Dashboard.",
        ),
        (
            "InvocationSpike",
            "invocation-spike",
            scope.single("Invocations", Stat::Sum, HOUR),
            t.invocations_per_hour,
            "invocations",
            "Check for a runaway client or retry loop: top callers in the invocation logs, and throttles on the dashboard.",
        ),
        (
            "HighLatency",
            "high-latency",
            scope.single("InvocationLatency", Stat::Average, FIVE_MINUTES),
            t.average_latency_ms,
            "ms",
            "Compare with output tokens per request (longer answers take longer) and with throttles; consider a faster model or provisioned throughput.",
        ),
    ];
    specs
        .into_iter()
        .map(|(what, slug, source, threshold, unit, runbook)| {
            Alarm::new(id(what), source, threshold as f64)
                .alarm_name(name(slug))
                .unit(unit)
                .runbook(runbook)
                .notify(topic)
                .build(template)
        })
        .collect()
}

/// The topic's policy: CloudWatch alarms of this account may publish, and AWS Budgets when the
/// stack has a budget. (A topic policy replaces SNS's default one, so CloudWatch is named
/// explicitly; same-account IAM users keep their access through IAM.)
pub fn topic_policy(template: &mut Template, topic: &TopicRef, budgets: bool) -> Result<(), CfnError> {
    let mut policy = TopicPolicy::new("AlertTopicPolicy", topic).allow_service_publish("CloudWatchAlarmsPublish", "cloudwatch.amazonaws.com", vec![Condition::source_account()]);
    if budgets {
        let budgets_arn = Sub::new().text("arn:").pseudo(Pseudo::Partition).text(":budgets::").pseudo(Pseudo::AccountId).text(":*").build();
        policy = policy.allow_service_publish(
            "BudgetsPublishAlerts",
            "budgets.amazonaws.com",
            vec![Condition::source_account(), Condition::new("ArnLike", "aws:SourceArn", budgets_arn)],
        );
    }
    policy.build(template)?;
    Ok(())
}
