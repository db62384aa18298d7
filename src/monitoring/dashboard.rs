//! The operations dashboard of the design document, in the primary region, with a section per
//! region: invocations, tokens by model, latency (average and p99), errors and throttles, the
//! alarms, and the most recent invocations from the logs.

use crate::cfn::{CfnError, Template, Value};
use crate::cloudwatch::dashboard::bedrock_per_model;
use crate::cloudwatch::{AlarmRef, Dashboard, DashboardRef, Metric, MetricSource, Stat, Widget};
use crate::bedrock::pricing::TokenKind;
use crate::config::Config;

use super::dashboard_common::too_many_models;

const PERIOD: u32 = 300;

/// One line per listed model, or every model through SEARCH when none are listed or more than
/// the dashboards draw one by one.
fn by_model(config: &Config, metric: &str, stat: Stat, region: &str) -> Vec<MetricSource> {
    if config.models.is_empty() || too_many_models(config) {
        vec![bedrock_per_model(metric, stat, PERIOD)]
    } else {
        config
            .models
            .iter()
            .map(|m| MetricSource::Metric(Metric::bedrock(metric).model(m).stat(stat).period(PERIOD).label(format!("{m} {}", stat.name())).region(region)))
            .collect()
    }
}

/// Recent records without an output token count: the calls that failed or were rejected.
pub const RECENT_ERRORS_QUERY: &str = "fields @timestamp, identity.arn, modelId, operation, requestId\n| filter not ispresent(output.outputTokenCount)\n| sort @timestamp desc\n| limit 20";

/// Success, client-error, server-error and throttle rates over every model, in percent.
fn rates() -> Vec<MetricSource> {
    use crate::cloudwatch::metric::bedrock_sum_all_models as all;
    let inputs = || {
        vec![
            ("i".to_owned(), all("Invocations", Stat::Sum, PERIOD)),
            ("c".to_owned(), all("InvocationClientErrors", Stat::Sum, PERIOD)),
            ("s".to_owned(), all("InvocationServerErrors", Stat::Sum, PERIOD)),
            ("t".to_owned(), all("InvocationThrottles", Stat::Sum, PERIOD)),
        ]
    };
    use crate::cloudwatch::invocation_rates::{CLIENT_ERROR_PERCENT, SERVER_ERROR_PERCENT, SUCCESS_PERCENT, THROTTLED_PERCENT};
    [SUCCESS_PERCENT, CLIENT_ERROR_PERCENT, SERVER_ERROR_PERCENT, THROTTLED_PERCENT]
    .into_iter()
    .map(|(expression, label)| MetricSource::Math { expression: expression.to_owned(), inputs: inputs(), label: label.to_owned(), period: PERIOD })
    .collect()
}

/// Bedrock's own counts of invocation-log deliveries, by destination.
fn delivery_health() -> Vec<MetricSource> {
    [
        "ModelInvocationLogsCloudWatchDeliverySuccess",
        "ModelInvocationLogsCloudWatchDeliveryFailure",
        "ModelInvocationLogsS3DeliverySuccess",
        "ModelInvocationLogsS3DeliveryFailure",
        "ModelInvocationLargeDataS3DeliverySuccess",
        "ModelInvocationLargeDataS3DeliveryFailure",
    ]
    .into_iter()
    .map(|m| MetricSource::Metric(Metric::bedrock(m).stat(Stat::Sum).period(PERIOD)))
    .collect()
}

/// The query of the recent-invocations table: who called which model with how many tokens.
pub fn recent_invocations_query(limit: u32) -> String {
    format!(
        "fields @timestamp, identity.arn, modelId, operation, input.inputTokenCount, output.outputTokenCount\n| sort @timestamp desc\n| limit {limit}"
    )
}

/// One widget for several related series when they fit, else one widget per series group:
/// a widget holds at most 500 metrics.
fn graphs(title: String, y_label: &str, groups: Vec<(&str, Vec<MetricSource>)>) -> Vec<Widget> {
    let total: usize = groups.iter().map(|(_, s)| s.len()).sum();
    if total <= crate::cloudwatch::dashboard::MAX_METRICS_PER_WIDGET {
        let sources = groups.into_iter().flat_map(|(_, s)| s).collect();
        return vec![Widget::graph(title, sources).y_label(y_label)];
    }
    groups.into_iter().map(|(part, sources)| Widget::graph(format!("{title}: {part}"), sources).y_label(y_label)).collect()
}

pub fn widgets_for_region(config: &Config, region: &str, single_region: bool, log_group: Value) -> Vec<Widget> {
    let title = |t: &str| if single_region { t.to_owned() } else { format!("{t} ({region})") };
    let series = |metric: &str, stat: Stat| by_model(config, metric, stat, region);
    let mut widgets = Vec::new();
    if !single_region {
        widgets.push(Widget::text(format!("## {region}")).size(24, 1));
    }
    widgets.extend(graphs(title("Invocations"), "Invocations / 5 min", vec![("invocations", series("Invocations", Stat::Sum))]));
    widgets.extend(graphs(
        title("Input and output tokens by model"),
        "Tokens / 5 min",
        vec![("input", series("InputTokenCount", Stat::Sum)), ("output", series("OutputTokenCount", Stat::Sum))],
    ));
    widgets.push(Widget::graph(title("Success, client-error, server-error and throttle rates"), rates()).y_label("% of requests"));
    let latency_target = config.alerts.thresholds.average_latency_ms as f64;
    widgets.extend(
        graphs(
            title("Latency: average, p50, p90 and p99"),
            "Milliseconds",
            vec![
                ("average", series("InvocationLatency", Stat::Average)),
                ("p50", series("InvocationLatency", Stat::Percentile(50.0))),
                ("p90", series("InvocationLatency", Stat::Percentile(90.0))),
                ("p99", series("InvocationLatency", Stat::Percentile(99.0))),
            ],
        )
        .into_iter()
        .map(|w| w.threshold_line("High-latency alarm", latency_target)),
    );
    widgets.extend(
        graphs(
            title("Client errors, server errors and throttles"),
            "Count / 5 min",
            vec![
                ("client errors", series("InvocationClientErrors", Stat::Sum)),
                ("server errors", series("InvocationServerErrors", Stat::Sum)),
                ("throttles", series("InvocationThrottles", Stat::Sum)),
            ],
        )
        .into_iter()
        .map(Widget::stacked),
    );
    if !config.models.is_empty() && !too_many_models(config) {
        let sources = config
            .models
            .iter()
            .map(|m| super::cost::estimated_cost(config, region, std::slice::from_ref(m), &TokenKind::ALL, 3600, &format!("{m} (USD)")))
            .collect();
        widgets.push(Widget::graph(title("Estimated cost per hour by model"), sources).stacked().y_label("USD / hour").size(24, 6));
    }
    widgets.extend(graphs(title("Time to first token (streaming)"), "Milliseconds", vec![("average", series("TimeToFirstToken", Stat::Average))]));
    widgets.push(super::dashboard_common::mantle_tokens(title("Unattributed (Mantle): bedrock-mantle tokens by model"), PERIOD, "5 min"));
    widgets.push(Widget::graph(title("Invocation-log delivery"), delivery_health()).y_label("Deliveries / 5 min"));
    widgets.push(Widget::logs(title("Recent invocations"), vec![log_group.clone()], recent_invocations_query(config.dashboard.recent_invocations)));
    widgets.push(Widget::logs(title("Recent calls without output (failed or rejected)"), vec![log_group], RECENT_ERRORS_QUERY));
    widgets.into_iter().map(|w| w.in_region(region)).collect()
}

pub fn build(template: &mut Template, config: &Config, log_group: Value, alarms: &[AlarmRef]) -> Result<DashboardRef, CfnError> {
    let primary = config.primary_region();
    let single = config.regions.len() == 1;
    let intro = format!(
        "# Bedrock usage: {}\nInvocations, tokens, latency and errors of Amazon Bedrock in {}, from the `AWS/Bedrock` metrics and the invocation log group `{}`. Alarms notify the alert topic of each region's stack.",
        config.project,
        config.regions.join(", "),
        config.logging.log_group_name
    );
    let title = format!("Bedrock technical operations: {}", config.project);
    let mut dashboard = Dashboard::new("OperationsDashboard", config.dashboard.name.as_str())
        .widget(super::dashboard_common::header(config, &config.dashboard.name, &title, intro.split_once('\n').map_or("", |(_, rest)| rest)))
        .widget(Widget::alarm_status(format!("Alarms ({primary})"), alarms.iter().map(AlarmRef::arn).collect()).in_region(primary));
    for region in &config.regions {
        // Other regions' log groups have the same configured name; only the primary's is a
        // resource of this stack.
        let group = if region == primary { log_group.clone() } else { Value::str(config.logging.log_group_name.as_str()) };
        for w in widgets_for_region(config, region, single, group) {
            dashboard = dashboard.widget(w);
        }
    }
    dashboard.build(template)
}
