//! The security dashboard: failed and throttled calls by model, the top callers, calls from
//! identities outside the expected patterns, and, with a CloudTrail log group, the Bedrock
//! calls CloudTrail recorded as failed (access denied among them).

use crate::cfn::Value;
use crate::cloudwatch::dashboard::bedrock_per_model;
use crate::cloudwatch::{Dashboard, Stat, Widget};
use crate::config::{CloudTrailMode, Config};

use super::dashboard_common::header;

/// Logs Insights: calls whose caller ARN matches none of the expected patterns.
pub fn unexpected_identities_query(patterns: &[String]) -> String {
    let filter = if patterns.is_empty() {
        String::new()
    } else {
        let tests: Vec<String> = patterns.iter().map(|p| format!("identity.arn like \"{p}\"")).collect();
        format!("| filter not ({})\n", tests.join(" or "))
    };
    format!("fields @timestamp, identity.arn, modelId\n{filter}| stats count(*) as calls, min(@timestamp) as first_call, max(@timestamp) as last_call by identity.arn, modelId\n| sort calls desc\n| limit 50")
}

/// Logs Insights on the CloudTrail log group: failed Bedrock calls, newest first.
pub const FAILED_CALLS_QUERY: &str = "fields @timestamp, userIdentity.arn, eventName, errorCode, errorMessage, sourceIPAddress\n| filter eventSource = \"bedrock.amazonaws.com\" and ispresent(errorCode)\n| sort @timestamp desc\n| limit 50";

pub fn dashboard(config: &Config, log_group: &Value) -> Dashboard {
    let s = &config.dashboards.security;
    let expected = if s.expected_identity_patterns.is_empty() { "any identity".to_owned() } else { s.expected_identity_patterns.join(", ") };
    let mut d = Dashboard::new("SecurityDashboard", s.name.as_str()).widget(header(
        config,
        &s.name,
        &format!("Bedrock for security: {}", config.project),
        &format!("Failed and throttled calls, who calls most, and calls from identities other than the expected ({expected})."),
    ));
    let primary = config.primary_region();
    for region in &config.regions {
        let title = |t: &str| if config.regions.len() == 1 { t.to_owned() } else { format!("{t} ({region})") };
        let group = if region == primary { log_group.clone() } else { Value::str(config.logging.log_group_name.as_str()) };
        let mut widgets = vec![
            Widget::graph(title("Client errors by model"), vec![bedrock_per_model("InvocationClientErrors", Stat::Sum, 300)]).y_label("Errors / 5 min"),
            Widget::graph(title("Throttles by model"), vec![bedrock_per_model("InvocationThrottles", Stat::Sum, 300)]).y_label("Throttles / 5 min"),
        ];
        if config.attribution.enabled {
            let rule = Value::str(format!("{}-top-callers-invocations", config.stack_name_for(region)));
            widgets.push(Widget::top_contributors(title("Top callers by invocations"), rule, 10).size(24, 6));
        }
        widgets.push(Widget::logs(title("Calls from unexpected identities"), vec![group], unexpected_identities_query(&s.expected_identity_patterns)));
        for w in widgets {
            d = d.widget(w.in_region(region));
        }
    }
    let trail_logs = config.cloudtrail.mode == CloudTrailMode::Trail && config.cloudtrail.cloudwatch_logs;
    d = if trail_logs {
        d.widget(Widget::logs("Failed Bedrock calls recorded by CloudTrail", vec![Value::str(super::audit::trail_log_group_name(config))], FAILED_CALLS_QUERY).in_region(primary))
    } else {
        d.widget(Widget::text("Failed and access-denied calls from CloudTrail appear here with `cloudtrail.mode: trail` and `cloudtrail.cloudwatch_logs: true`.").size(24, 2))
    };
    d
}
