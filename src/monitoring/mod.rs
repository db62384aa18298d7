//! The Bedrock monitoring stack: composes the service builders into one template per region.
//!
//! This module decides *what* the stack contains and how the pieces are wired; it never writes
//! raw resource properties (the builders do). Each file is one concern: encryption, storage,
//! delivery, alerts, dashboard.

pub mod access;
pub mod alerts;
pub mod attribution;
pub mod audit;
pub mod cost;
pub mod cost_dashboard;
pub mod dashboard;
pub mod dashboard_common;
pub mod delivery;
pub mod encryption;
pub mod management_dashboard;
pub mod org_dashboard;
pub mod security_dashboard;
pub mod storage;

use crate::cfn::{CfnError, Map, Output, Template, Value};
use crate::config::Config;
use crate::lambda::function::Function;

/// One synthesized stack.
#[derive(Debug, Clone, PartialEq)]
pub struct Stack {
    pub name: String,
    pub region: String,
    pub template: Template,
}

/// Resource types that accept `Tags` as a list of Key/Value pairs.
const TAGGABLE: &[&str] = &[
    "AWS::S3::Bucket",
    "AWS::SQS::Queue",
    "AWS::IAM::Role",
    "AWS::Logs::LogGroup",
    "AWS::SNS::Topic",
    "AWS::KMS::Key",
    "AWS::Lambda::Function",
    "AWS::CloudWatch::Alarm",
    "AWS::CloudWatch::InsightRule",
    "AWS::CloudTrail::Trail",
    "AWS::CloudTrail::EventDataStore",
    "AWS::DynamoDB::Table",
];

/// Every stack the configuration asks for, primary region first.
pub fn stacks(config: &Config) -> Result<Vec<Stack>, CfnError> {
    config
        .regions
        .iter()
        .map(|region| Ok(Stack { name: config.stack_name_for(region), region: region.clone(), template: build(config, region)? }))
        .collect()
}

/// The template of one region's stack.
pub fn build(config: &Config, region: &str) -> Result<Template, CfnError> {
    let primary = region == config.primary_region();
    let mut t = Template::new(format!(
        "bedrock-watch: Amazon Bedrock invocation logging, alarms{} for {} in {region}",
        if primary && config.dashboard.enabled { " and dashboard" } else { "" },
        config.project
    ));
    let mut log_groups = vec![Value::str(config.logging.log_group_name.as_str()), Function::log_group_name("InvocationLoggingHandler")];
    if primary && config.cloudtrail.mode == crate::config::CloudTrailMode::Trail && config.cloudtrail.cloudwatch_logs {
        log_groups.push(Value::str(audit::trail_log_group_name(config)));
    }
    if config.reports.schedule.is_some() {
        log_groups.push(crate::scheduled_reports::log_group_name());
    }
    let key = encryption::stack_key(&mut t, config, primary, &log_groups)?;
    let storage = storage::build(&mut t, config, &key)?;
    let delivery = delivery::build(&mut t, config, &storage, &key)?;
    let mut alerts = alerts::build(&mut t, config, region, &key, &storage.log_group)?;
    let with_budget = primary && config.cost.monthly_budget_usd.is_some();
    alerts::topic_policies(&mut t, &alerts.topics, with_budget)?;
    alerts.alarms.extend(cost::alarms(&mut t, config, region, &alerts.topics.warning)?);
    if with_budget {
        cost::budget(&mut t, config, &alerts.topics.warning)?;
    }
    let cost_expression = if config.attribution.enabled { attribution::cost_expression(config, region) } else { String::new() };
    attribution::build(&mut t, config, region, &storage.log_group, &cost_expression)?;
    if config.quotas.enabled {
        crate::quotas::build(&mut t, config, region, &key, &alerts.topics.warning, &storage.log_group)?;
    }
    crate::scheduled_reports::build(&mut t, config, region, &key, &alerts.topics.info, &storage.log_group)?;
    crate::bcm_data_exports::build(&mut t, config, region)?;
    if primary {
        let d = &config.dashboards;
        let log_group = storage.log_group.name();
        if d.management.enabled {
            management_dashboard::dashboard(config).build(&mut t)?;
        }
        if d.security.enabled {
            security_dashboard::dashboard(config, &log_group).build(&mut t)?;
        }
        if d.cost.enabled {
            cost_dashboard::dashboard(config, &log_group, &cost_expression).build(&mut t)?;
        }
    }
    if primary {
        audit::build(&mut t, config, &key)?;
    }
    let dashboard = if primary && config.dashboard.enabled {
        Some(dashboard::build(&mut t, config, storage.log_group.name(), &alerts.alarms)?)
    } else {
        None
    };
    if primary {
        let dashboards: Vec<String> = t.resources_of_type("AWS::CloudWatch::Dashboard").map(|(id, _)| id.to_owned()).collect();
        access::build(&mut t, config, &storage.log_group, &dashboards)?;
    }
    // Last of the resources: every bucket built above logs its requests.
    crate::s3::access_logs::enable(&mut t)?;

    let mut outputs = vec![
        ("LogBucketName", "S3 bucket with invocation logs and large payloads (retained on stack deletion)", storage.bucket.name()),
        ("InvocationLogGroupName", "CloudWatch Logs group with invocation logs (retained on stack deletion)", storage.log_group.name()),
        ("AlertTopicArn", "SNS topic the alarms notify (warnings, when alerts are routed by severity)", alerts.topics.warning.arn()),
        ("DeliveryRoleArn", "Role Bedrock assumes to deliver invocation logs", delivery.role.arn()),
        ("EncryptionKeyArn", "KMS key encrypting logs, bucket and topic (retained on stack deletion)", key.arn()),
    ];
    if let Some(d) = &dashboard {
        outputs.insert(0, ("DashboardUrl", "Operations dashboard", d.url()));
    }
    if alerts.topics.critical != alerts.topics.warning {
        outputs.push(("CriticalAlertTopicArn", "SNS topic of critical alarms", alerts.topics.critical.arn()));
        outputs.push(("InfoAlertTopicArn", "SNS topic of informational alarms", alerts.topics.info.arn()));
    }
    for (name, description, value) in outputs {
        t.add_output(name, Output { description: Some(description.to_owned()), value, export_name: None })?;
    }
    apply_tags(&mut t, config);
    Ok(t)
}

/// Tags every taggable resource with the configured tags plus `ManagedBy: bedrock-watch`, sorted
/// by key so output is stable.
fn apply_tags(t: &mut Template, config: &Config) {
    let mut tags: Vec<(&str, &str)> = config.tags.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    if !config.tags.contains_key("ManagedBy") {
        tags.push(("ManagedBy", "bedrock-watch"));
    }
    tags.sort();
    let list = Value::list(tags.iter().map(|(k, v)| Value::Map(Map::new().with("Key", *k).with("Value", *v))));
    for (_, r) in &mut t.resources {
        if TAGGABLE.contains(&r.resource_type.as_str()) {
            r.properties.insert("Tags", list.clone());
        }
    }
}
