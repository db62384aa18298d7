//! Scheduled reports (`reports.schedule`): a Python function that an EventBridge Scheduler
//! schedule runs in the configured time zone, which builds the report of `bedrock-watch report`
//! for the period that just ended and sends a summary to the alert topic or through SES.
//!
//! One pricing and identity implementation: the function cannot call Rust, so the Rust side
//! generates what decides the figures into the function's `CONFIG` — the price table in effect
//! in the region (`quotas::prices`, as the quota functions get it) and the per-user Logs Insights
//! query with its identity rule (`attribution::per_user_report_query`, the text the CLI runs).
//! The arithmetic is the same on both sides, pinned by the shared fixture
//! `tests/data/scheduled-report.json` (src/report/scheduled_fixture_tests.rs and
//! tests/python/test_scheduled_report.py).
//!
//! Pure synthesis: no AWS SDK here.

use crate::cfn::render::embedded_json;
use crate::cfn::{CfnError, Map, Pseudo, Sub, Template, Value};
use crate::config::reports::{Frequency, ReportSchedule};
use crate::config::Config;
use crate::iam::actions::{CLOUDWATCH_METRIC_READS, KMS_USE_KEY, LOGS_QUERY_RESULTS, LOGS_START_QUERY, SES_SEND_EMAIL, SNS_PUBLISH};
use crate::iam::policy::MONITORING_READ_API;
use crate::iam::Statement;
use crate::kms::KeyRef;
use crate::lambda::{Function, FunctionRef};
use crate::logs::{LogGroupRef, Retention};
use crate::scheduler::Schedule;
use crate::sns::TopicRef;
use crate::sqs::DeadLetterQueue;

pub const HANDLER_SOURCE: &str = include_str!("report_handler.py");
pub const FUNCTION_ID: &str = "ScheduledReportFunction";
pub const SCHEDULE_ID: &str = "ScheduledReportSchedule";

/// What decides the figures and the message, as literal values: the part of `CONFIG` the shared
/// fixture pins (the stack's names and ARNs are added by [`handler_config`]).
pub fn settings(config: &Config, region: &str, s: &ReportSchedule) -> Result<Map, CfnError> {
    let query = crate::monitoring::attribution::per_user_report_query(config, region)
        .map_err(|len| CfnError::invalid("scheduled_reports", format!("the per-user query is {len} characters, over Logs Insights' 10,000; list fewer models under `pricing.models`")))?;
    let (sender, recipients) = match &s.ses {
        Some(ses) => (ses.sender.as_str(), ses.recipients.iter().map(String::as_str).collect()),
        // No null in template values: an empty sender means "the alert topic".
        None => ("", Vec::new()),
    };
    Ok(Map::new()
        .with("region", region)
        .with("frequency", s.frequency.as_str())
        .with("time_zone", s.time_zone.as_str())
        .with("top_users", s.top_users as u64)
        .with("top_models", s.top_models as u64)
        .with("include", Value::list(s.include.iter().map(|x| x.as_str())))
        .with("models", Value::list(config.models.iter().map(String::as_str)))
        .with("prices", crate::quotas::prices(config, region))
        .with("inference_profiles", crate::quotas::inference_profiles(config))
        .with("service_tiers", crate::quotas::service_tiers(config))
        .with("query", query)
        .with("mantle_unattributed_because", crate::report::mantle::UNATTRIBUTED_BECAUSE)
        .with("ses_sender", sender)
        .with("ses_recipients", Value::list(recipients)))
}

/// The function's `CONFIG`: [`settings`] plus the stack's topic, log group and name.
pub fn handler_config(settings: Map, topic: &TopicRef, log_group: &LogGroupRef) -> Value {
    settings.with("topic_arn", topic.arn()).with("log_group", log_group.name()).with("stack_name", Value::pseudo(Pseudo::StackName)).into()
}

/// The inline source: the generated `CONFIG`, then the handler.
pub fn handler_source(config: &Value) -> Value {
    Sub::new().text("import json\n\nCONFIG = json.loads(r\"\"\"").splice(&embedded_json(config)).text("\"\"\")\n\n").text(HANDLER_SOURCE).build()
}

/// EventBridge's six-field cron for the schedule: every day, on the weekday, or on the 1st.
pub fn cron(s: &ReportSchedule) -> String {
    let (hour, minute) = crate::config::reports::parse_time(&s.time).unwrap_or((8, 0));
    match s.frequency {
        Frequency::Daily => format!("{minute} {hour} * * ? *"),
        Frequency::Weekly => format!("{minute} {hour} ? * {} *", s.weekday),
        Frequency::Monthly => format!("{minute} {hour} 1 * ? *"),
    }
}

/// The name of the function's log group (the stack key must be allowed to encrypt it).
pub fn log_group_name() -> Value {
    Function::log_group_name(FUNCTION_ID)
}

pub fn build(template: &mut Template, config: &Config, region: &str, key: &KeyRef, topic: &TopicRef, log_group: &LogGroupRef) -> Result<Option<FunctionRef>, CfnError> {
    let Some(s) = &config.reports.schedule else { return Ok(None) };
    // Invoked asynchronously by EventBridge Scheduler: a run that fails every retry is parked
    // in the queue (and alarmed), not dropped.
    let prefix = config.stack_name_for(region);
    let dlq = DeadLetterQueue::new("ScheduledReportDeadLetterQueue", format!("{prefix}-report-dlq"), key, format!("{prefix}-report-dlq-not-empty"), topic).build(template)?;
    let handler_config = handler_config(settings(config, region, s)?, topic, log_group);
    let mut f = Function::python(
        FUNCTION_ID,
        format!("bedrock-watch: the {} usage report (same figures as `bedrock-watch report`), sent at {} {}", s.frequency.as_str(), s.time, s.time_zone),
        handler_source(&handler_config),
    )
    // Logs Insights over a month of logs can take minutes; the handler stops polling at 10.
    .timeout(900)
    .memory(256)
    .log_retention(Retention::days(config.logging.retention_days)?)
    .log_encryption_key(key)
    .permit(Statement::on_any_resource(&MONITORING_READ_API, CLOUDWATCH_METRIC_READS))
    .permit(Statement::allow(LOGS_START_QUERY, vec![log_group.arn()]))
    .permit(Statement::on_any_resource(&MONITORING_READ_API, LOGS_QUERY_RESULTS))
    .permit(Statement::allow(KMS_USE_KEY, vec![key.arn()]))
    .dead_letter_queue(&dlq);
    f = match &s.ses {
        None => f.permit(Statement::allow(SNS_PUBLISH, vec![topic.arn()])),
        Some(ses) => {
            let identity = Sub::new()
                .text("arn:")
                .pseudo(Pseudo::Partition)
                .text(":ses:")
                .pseudo(Pseudo::Region)
                .text(":")
                .pseudo(Pseudo::AccountId)
                .text(&format!(":identity/{}", ses.identity()))
                .build();
            f.permit(Statement::allow(SES_SEND_EMAIL, vec![identity]))
        }
    };
    let function = f.build(template)?;
    Schedule::cron(SCHEDULE_ID, &cron(s), &s.time_zone, &function, format!("Send the bedrock-watch {} usage report at {} {}", s.frequency.as_str(), s.time, s.time_zone))
        .build(template)?;
    Ok(Some(function))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::reports::{Reports, SesDelivery};

    fn with(schedule: ReportSchedule) -> Config {
        Config { reports: Reports { schedule: Some(schedule) }, ..Config::default() }
    }

    #[test]
    fn cron_per_frequency() {
        let s = |frequency, time: &str| ReportSchedule { frequency, time: time.into(), weekday: "FRI".into(), ..ReportSchedule::default() };
        assert_eq!(cron(&s(Frequency::Daily, "08:05")), "5 8 * * ? *");
        assert_eq!(cron(&s(Frequency::Weekly, "17:30")), "30 17 ? * FRI *");
        assert_eq!(cron(&s(Frequency::Monthly, "00:00")), "0 0 1 * ? *");
    }

    fn resources(config: &Config) -> Template {
        crate::monitoring::build(config, "us-east-1").unwrap()
    }

    #[test]
    fn off_by_default_adds_nothing() {
        let t = resources(&Config::default());
        assert!(t.resources.iter().all(|(id, _)| !id.starts_with("ScheduledReport")));
    }

    fn policy_json(t: &Template) -> serde_json::Value {
        let role = t.resources.iter().find(|(id, _)| id == "ScheduledReportFunctionRole").map(|(_, r)| r).expect("role");
        serde_json::from_str(&crate::cfn::render::value_to_json(&Value::Map(role.properties.clone()))).unwrap()
    }

    #[test]
    fn schedule_function_and_least_privilege_grants() {
        let t = resources(&with(ReportSchedule { time_zone: "Europe/Berlin".into(), ..ReportSchedule::default() }));
        let schedule = t.resources.iter().find(|(id, _)| id == SCHEDULE_ID).map(|(_, r)| r).expect("schedule");
        let props: serde_json::Value = serde_json::from_str(&crate::cfn::render::value_to_json(&Value::Map(schedule.properties.clone()))).unwrap();
        assert_eq!(props["ScheduleExpression"], "cron(0 8 * * ? *)");
        assert_eq!(props["ScheduleExpressionTimezone"], "Europe/Berlin");
        let policy = policy_json(&t).to_string();
        for action in ["cloudwatch:GetMetricData", "cloudwatch:ListMetrics", "logs:StartQuery", "logs:GetQueryResults", "sns:Publish"] {
            assert!(policy.contains(action), "{action} missing: {policy}");
        }
        assert!(!policy.contains("ses:"), "SES is granted only when configured");
        let c = with(ReportSchedule::default());
        let findings = crate::checks::run(&resources(&c), &c, true);
        assert!(findings.is_empty(), "{:?}", findings.iter().map(ToString::to_string).collect::<Vec<_>>());
    }

    #[test]
    fn ses_is_scoped_to_the_identity_and_replaces_the_topic() {
        let ses = SesDelivery { sender: "reports@example.com".into(), identity: Some("example.com".into()), recipients: vec!["finops@example.com".into()] };
        let c = with(ReportSchedule { ses: Some(ses), ..ReportSchedule::default() });
        let policy = policy_json(&resources(&c)).to_string();
        assert!(policy.contains("ses:SendEmail") && policy.contains(":identity/example.com"), "{policy}");
        assert!(!policy.contains("sns:Publish"), "{policy}");
        let s = settings(&c, "us-east-1", c.reports.schedule.as_ref().unwrap()).unwrap();
        let json: serde_json::Value = serde_json::from_str(&match embedded_json(&s.into()) {
            Value::Str(text) => text,
            other => panic!("settings hold no references: {other:?}"),
        })
        .unwrap();
        assert_eq!(json["ses_sender"], "reports@example.com");
        assert_eq!(json["ses_recipients"], serde_json::json!(["finops@example.com"]));
    }
}
