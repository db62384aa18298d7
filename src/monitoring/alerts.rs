//! Topics and alarms.
//!
//! The four core alarms of the design document (token usage, errors, invocation spikes,
//! latency) plus throttling rate, log-delivery failure (logs silently stopping is the worst
//! failure of a monitoring stack), an anomaly band on token usage, an hourly cost spike over the
//! trailing baseline, and a composite alarm that pages only when errors coincide with latency or
//! throttling. Account-wide alarms read every model through Metrics Insights, so new models are
//! covered without a config change; models in `alerts.models` get their own core set.
//!
//! Each alarm has a severity. With `alerts.routing` set, critical, warning and info alarms notify
//! separate topics; otherwise all notify the one alert topic.

use crate::bedrock::pricing::TokenKind;
use crate::cfn::{logical_id_fragment, CfnError, Pseudo, Sub, Template};
use crate::cloudwatch::metric::bedrock_insights_sql;
use crate::cloudwatch::{Alarm, AlarmRef, CompositeAlarm, Metric, MetricSource, Query, Rule, Stat};
use crate::config::Config;
use crate::iam::Condition;
use crate::kms::KeyRef;
use crate::logs::{LogGroupRef, MetricFilter};
use crate::sns::{Topic, TopicPolicy, TopicRef};

const HOUR: u32 = 3600;
const FIVE_MINUTES: u32 = 300;

/// Namespace of the usage metrics the stack derives from the invocation logs.
pub const USAGE_NAMESPACE: &str = "BedrockWatch/Usage";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Critical,
    Warning,
    Info,
}

/// The topic for each severity (the same topic three times when routing is off).
pub struct Topics {
    pub critical: TopicRef,
    pub warning: TopicRef,
    pub info: TopicRef,
}

impl Topics {
    pub fn for_severity(&self, s: Severity) -> &TopicRef {
        match s {
            Severity::Critical => &self.critical,
            Severity::Warning => &self.warning,
            Severity::Info => &self.info,
        }
    }

    /// Distinct topics, warning (the default alert topic) first.
    pub fn distinct(&self) -> Vec<&TopicRef> {
        let mut out = vec![&self.warning];
        for t in [&self.critical, &self.info] {
            if !out.contains(&t) {
                out.push(t);
            }
        }
        out
    }
}

pub struct Alerts {
    pub topics: Topics,
    pub alarms: Vec<AlarmRef>,
}

/// The longest logical id (`InvocationSpikeAlarm`) and alarm-name slug of the alarms each model
/// in `alerts.models` gets; config validation derives the longest model id from them, and a test
/// keeps them in step with `core_specs`.
pub const MODEL_ALARM_ID_LEN: usize = 20;
pub const MODEL_ALARM_SLUG_LEN: usize = 16;

/// Where an alarm looks: every model, or one.
enum Scope<'a> {
    AllModels,
    Model(&'a str),
}

impl Scope<'_> {
    fn query(&self, metric: &str, stat: Stat, period: u32) -> Query {
        match self {
            Scope::AllModels => Query::Insights { sql: bedrock_insights_sql(metric, stat), period },
            Scope::Model(m) => Query::Metric(Metric::bedrock(metric).model(m).stat(stat).period(period)),
        }
    }

    fn single(&self, metric: &str, stat: Stat, period: u32) -> MetricSource {
        match self {
            Scope::AllModels => MetricSource::bedrock_all_models(metric, stat, period),
            Scope::Model(m) => MetricSource::Metric(Metric::bedrock(metric).model(m).stat(stat).period(period)),
        }
    }

    fn label(&self) -> String {
        match self {
            Scope::AllModels => "all models".into(),
            Scope::Model(m) => (*m).to_owned(),
        }
    }
}

/// One alarm to build: what it watches, when it fires, how bad it is, what to check first.
struct Spec {
    id: &'static str,
    slug: &'static str,
    source: MetricSource,
    threshold: f64,
    unit: &'static str,
    severity: Severity,
    runbook: &'static str,
    evaluate: (u32, u32),
    anomaly_band: Option<f64>,
}

fn topics(template: &mut Template, config: &Config, region: &str, key: &KeyRef) -> Result<Topics, CfnError> {
    let r = &config.alerts.routing;
    let routed = !(r.critical.is_empty() && r.warning.is_empty() && r.info.is_empty());
    let topic = |template: &mut Template, id: &str, what: &str, extra: &[String]| -> Result<TopicRef, CfnError> {
        let mut t = Topic::new(id, key).display_name(format!("bedrock-watch {what} ({region})"));
        for email in config.alerts.emails.iter().chain(extra) {
            t = t.email(email.as_str());
        }
        t.build(template)
    };
    let warning = topic(template, "AlertTopic", if routed { "warnings" } else { "alerts" }, &r.warning)?;
    if !routed {
        return Ok(Topics { critical: warning.clone(), info: warning.clone(), warning });
    }
    let critical = topic(template, "CriticalAlertTopic", "critical alerts", &r.critical)?;
    let info = topic(template, "InfoAlertTopic", "information", &r.info)?;
    Ok(Topics { critical, warning, info })
}

pub fn build(template: &mut Template, config: &Config, region: &str, key: &KeyRef, log_group: &LogGroupRef) -> Result<Alerts, CfnError> {
    let topics = topics(template, config, region, key)?;
    let mut alarms = Vec::new();
    let scopes = std::iter::once(Scope::AllModels).chain(config.alerts.models.iter().map(|m| Scope::Model(m)));
    let mut core = Vec::new();
    for scope in scopes {
        core.push(core_specs(config, &scope));
    }
    let prefix = config.stack_name_for(region);
    let mut all_models_refs = Vec::new();
    for (i, specs) in core.into_iter().enumerate() {
        let scope_suffix = match i.checked_sub(1).map(|m| &config.alerts.models[m]) {
            None => (String::new(), String::new()),
            Some(m) => (logical_id_fragment(m), format!("-{m}")),
        };
        for spec in specs {
            let alarm = build_spec(template, &prefix, &scope_suffix, spec, &topics)?;
            if i == 0 {
                all_models_refs.push(alarm.clone());
            }
            alarms.push(alarm);
        }
    }
    for spec in extended_specs(template, config, region, log_group)? {
        let alarm = build_spec(template, &prefix, &(String::new(), String::new()), spec, &topics)?;
        all_models_refs.push(alarm.clone());
        alarms.push(alarm);
    }
    if config.alerts.composite {
        let by_id = |id: &str| all_models_refs.iter().find(|a| a.logical_id() == id).cloned();
        if let (Some(errors), Some(latency), Some(throttling)) = (by_id("HighErrorCountAlarm"), by_id("HighLatencyAlarm"), by_id("ThrottlingRateAlarm")) {
            CompositeAlarm::new(
                "ServiceDegradedAlarm",
                format!("{prefix}-service-degraded"),
                Rule::All(vec![Rule::Alarm(errors), Rule::Any(vec![Rule::Alarm(latency), Rule::Alarm(throttling)])]),
                "Pages when Bedrock errors coincide with high latency or throttling: several signals agree that callers are affected. Check the technical-operations dashboard (error and throttle rates by model) and the AWS Health Dashboard; consider failing over to another model or region.",
            )
            .notify(topics.for_severity(Severity::Critical))
            .build(template)?;
        }
    }
    Ok(Alerts { topics, alarms })
}

fn build_spec(template: &mut Template, prefix: &str, (id_suffix, name_suffix): &(String, String), spec: Spec, topics: &Topics) -> Result<AlarmRef, CfnError> {
    let severity = match spec.severity {
        Severity::Critical => "CRITICAL",
        Severity::Warning => "WARNING",
        Severity::Info => "INFO",
    };
    let mut alarm = Alarm::new(format!("{}{id_suffix}", spec.id), spec.source, spec.threshold)
        .alarm_name(format!("{prefix}-{}{name_suffix}", spec.slug))
        .unit(spec.unit)
        .evaluate(spec.evaluate.0, spec.evaluate.1)
        .runbook(format!("[{severity}] {}", spec.runbook))
        .notify(topics.for_severity(spec.severity));
    if let Some(b) = spec.anomaly_band {
        alarm = alarm.anomaly_band(b);
    }
    alarm.build(template)
}

fn core_specs(config: &Config, scope: &Scope<'_>) -> Vec<Spec> {
    let t = &config.alerts.thresholds;
    let label = scope.label();
    let sum_of = |a: &str, b: &str, period: u32, label: String| MetricSource::Math {
        expression: "FILL(m1, 0) + FILL(m2, 0)".into(),
        inputs: vec![("m1".into(), scope.query(a, Stat::Sum, period)), ("m2".into(), scope.query(b, Stat::Sum, period))],
        label,
        period,
    };
    vec![
        Spec {
            id: "HighTokenUsageAlarm",
            slug: "high-token-usage",
            source: sum_of("InputTokenCount", "OutputTokenCount", HOUR, format!("Input + output tokens per hour ({label})")),
            threshold: t.tokens_per_hour as f64,
            unit: "tokens",
            severity: Severity::Info,
            runbook: "Check which users and models drive the usage (Logs Insights on the invocation log group) and whether it matches planned workloads.",
            evaluate: (1, 1),
            anomaly_band: None,
        },
        Spec {
            id: "HighErrorCountAlarm",
            slug: "high-error-count",
            source: sum_of("InvocationClientErrors", "InvocationServerErrors", FIVE_MINUTES, format!("Client + server errors per 5 minutes ({label})")),
            threshold: t.errors_per_5_minutes as f64,
            unit: "errors",
            severity: Severity::Warning,
            runbook: "Client errors usually mean bad requests or missing model access; server errors point at the service: check the recent-errors table and the AWS Health Dashboard.",
            evaluate: (1, 1),
            anomaly_band: None,
        },
        Spec {
            id: "InvocationSpikeAlarm",
            slug: "invocation-spike",
            source: scope.single("Invocations", Stat::Sum, HOUR),
            threshold: t.invocations_per_hour as f64,
            unit: "invocations",
            severity: Severity::Info,
            runbook: "Check for a runaway client or retry loop: top callers in Contributor Insights, and throttles on the dashboard.",
            evaluate: (1, 1),
            anomaly_band: None,
        },
        Spec {
            id: "HighLatencyAlarm",
            slug: "high-latency",
            source: scope.single("InvocationLatency", Stat::Average, FIVE_MINUTES),
            threshold: t.average_latency_ms as f64,
            unit: "ms",
            severity: Severity::Warning,
            runbook: "Compare with output tokens per request (longer answers take longer) and with throttles; consider a faster model or provisioned throughput.",
            evaluate: (1, 1),
            anomaly_band: None,
        },
    ]
}

/// Alarms beyond the design document's four, account-wide.
fn extended_specs(template: &mut Template, config: &Config, region: &str, log_group: &LogGroupRef) -> Result<Vec<Spec>, CfnError> {
    let t = &config.alerts.thresholds;
    let all = Scope::AllModels;
    let mut specs = vec![
        Spec {
            id: "ThrottlingRateAlarm",
            slug: "throttling-rate",
            source: MetricSource::Math {
                expression: crate::cloudwatch::invocation_rates::THROTTLE_ALARM_EXPRESSION.into(),
                inputs: vec![("m1".into(), all.query("InvocationThrottles", Stat::Sum, FIVE_MINUTES)), ("m2".into(), all.query("Invocations", Stat::Sum, FIVE_MINUTES))],
                label: "Throttled share of requests, % (all models)".into(),
                period: FIVE_MINUTES,
            },
            threshold: t.throttle_rate_percent,
            unit: "%",
            severity: Severity::Warning,
            runbook: "Callers are being throttled: check the tokens-per-minute quota usage (EstimatedTPMQuotaUsage) and top callers; request a quota increase, spread load with cross-region inference, or add client backoff.",
            evaluate: (2, 3),
            anomaly_band: None,
        },
        Spec {
            id: "LogDeliveryFailureAlarm",
            slug: "log-delivery-failure",
            source: MetricSource::Math {
                expression: "FILL(m1, 0) + FILL(m2, 0) + FILL(m3, 0)".into(),
                inputs: vec![
                    ("m1".into(), Query::Metric(Metric::bedrock("ModelInvocationLogsCloudWatchDeliveryFailure").period(FIVE_MINUTES))),
                    ("m2".into(), Query::Metric(Metric::bedrock("ModelInvocationLogsS3DeliveryFailure").period(FIVE_MINUTES))),
                    ("m3".into(), Query::Metric(Metric::bedrock("ModelInvocationLargeDataS3DeliveryFailure").period(FIVE_MINUTES))),
                ],
                label: "Invocation-log delivery failures per 5 minutes".into(),
                period: FIVE_MINUTES,
            },
            threshold: t.log_delivery_failures as f64,
            unit: "failures",
            severity: Severity::Critical,
            runbook: "Bedrock cannot deliver invocation logs, so per-user figures and audit data are being lost: check the delivery role's permissions, the bucket policy and the KMS key policy, and that the log group and bucket still exist.",
            evaluate: (1, 1),
            anomaly_band: None,
        },
    ];
    // Token usage from the logs as plain metrics: anomaly detection needs a metric or math over
    // metrics, not a Metrics Insights query.
    for (metric, kind) in [("InputTokens", TokenKind::Input), ("OutputTokens", TokenKind::Output)] {
        MetricFilter::new(format!("Usage{metric}Filter"), log_group, &format!("{{ $.{} = * }}", kind.log_field()), USAGE_NAMESPACE, metric, &format!("$.{}", kind.log_field()))
            .default_value(0.0)
            .build(template)?;
    }
    specs.push(Spec {
        id: "TokenUsageAnomalyAlarm",
        slug: "token-usage-anomaly",
        source: MetricSource::Math {
            expression: "FILL(m1, 0) + FILL(m2, 0)".into(),
            inputs: vec![
                ("m1".into(), Query::Metric(Metric::new(USAGE_NAMESPACE, "InputTokens").period(HOUR))),
                ("m2".into(), Query::Metric(Metric::new(USAGE_NAMESPACE, "OutputTokens").period(HOUR))),
            ],
            label: "Tokens per hour (all models)".into(),
            period: HOUR,
        },
        threshold: 0.0,
        unit: "tokens",
        severity: Severity::Info,
        runbook: "Usage left its usual daily and weekly pattern: check top callers and models in Contributor Insights; a new workload may be legitimate, a leaked credential is not.",
        evaluate: (2, 3),
        anomaly_band: Some(t.token_anomaly_band),
    });
    if !config.cost.models.is_empty() {
        let cost = super::cost::estimated_cost(config, region, &config.cost.models, &[TokenKind::Input, TokenKind::Output], HOUR, "");
        if let MetricSource::Math { expression, inputs, .. } = cost {
            specs.push(Spec {
                id: "CostSpikeAlarm",
                slug: "cost-spike",
                source: MetricSource::Math {
                    // AVG over the alarm's evaluation range (24 hours) is the trailing baseline.
                    expression: format!("100 * ({expression}) / AVG({expression})"),
                    inputs,
                    label: format!("Hourly estimated cost, % of the trailing 24-hour average ({})", config.cost.models.join(", ")),
                    period: HOUR,
                },
                threshold: t.cost_spike_percent,
                unit: "%",
                severity: Severity::Warning,
                runbook: "Spend per hour jumped over the trailing baseline: find who and which model in the per-user cost query; check for loops and unexpected large prompts.",
                evaluate: (1, 24),
                anomaly_band: None,
            });
        }
    }
    Ok(specs)
}

/// Each topic's policy: CloudWatch alarms of this account may publish, and AWS Budgets to the
/// warning topic when the stack has a budget. (A topic policy replaces SNS's default one, so
/// CloudWatch is named explicitly; same-account IAM users keep their access through IAM.)
pub fn topic_policies(template: &mut Template, topics: &Topics, budgets: bool) -> Result<(), CfnError> {
    for (i, topic) in topics.distinct().into_iter().enumerate() {
        let id = if i == 0 { "AlertTopicPolicy".to_owned() } else { format!("{}Policy", topic.logical_id()) };
        let mut policy = TopicPolicy::new(id, topic).allow_service_publish("CloudWatchAlarmsPublish", "cloudwatch.amazonaws.com", vec![Condition::source_account()]);
        if budgets && i == 0 {
            let budgets_arn = Sub::new().text("arn:").pseudo(Pseudo::Partition).text(":budgets::").pseudo(Pseudo::AccountId).text(":*").build();
            policy = policy.allow_service_publish(
                "BudgetsPublishAlerts",
                "budgets.amazonaws.com",
                vec![Condition::source_account(), Condition::new("ArnLike", "aws:SourceArn", budgets_arn)],
            );
        }
        policy.build(template)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_alarm_limits_match_the_specs() {
        let specs = core_specs(&Config::default(), &Scope::Model("m"));
        assert!(specs.iter().all(|s| s.id.len() <= MODEL_ALARM_ID_LEN && s.slug.len() <= MODEL_ALARM_SLUG_LEN));
        assert_eq!(specs.iter().map(|s| s.id.len()).max(), Some(MODEL_ALARM_ID_LEN));
        assert_eq!(specs.iter().map(|s| s.slug.len()).max(), Some(MODEL_ALARM_SLUG_LEN));
    }
}
