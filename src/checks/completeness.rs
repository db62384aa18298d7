//! Completeness: every piece of the monitoring stack is present and wired to the others: the
//! delivery role to the log group, the logging configuration to role, bucket and log group, the
//! alarms to the topic, and the outputs a user needs.

use crate::cfn::{Intrinsic, RefTarget, Resource, Template, Value};
use crate::config::Config;

use super::policies::as_list;
use super::{finding, Check, Finding};

/// The alarms the design document asks for, by the end of their names.
pub const CORE_ALARMS: &[&str] = &["high-token-usage", "high-error-count", "invocation-spike", "high-latency"];

pub fn check(t: &Template, config: &Config, primary: bool) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut missing = |what: &str, msg: String| out.push(finding(Check::Completeness, what, msg));

    let log_group = t
        .resources_of_type("AWS::Logs::LogGroup")
        .find(|(_, r)| r.properties.get("LogGroupName").and_then(Value::as_str) == Some(config.logging.log_group_name.as_str()));
    let Some((log_group_id, log_group_res)) = log_group else {
        missing("InvocationLogGroup", format!("no log group named {}", config.logging.log_group_name));
        return out;
    };
    if log_group_res.properties.get("RetentionInDays") != Some(&Value::from(config.logging.retention_days)) {
        missing(log_group_id, format!("retention is not the configured {} days", config.logging.retention_days));
    }

    let delivery_role = t.resources_of_type("AWS::IAM::Role").find(|(_, r)| trusts_bedrock(r));
    let Some((role_id, role)) = delivery_role else {
        missing("BedrockLoggingRole", "no role that bedrock.amazonaws.com may assume with source-account and source-ARN conditions".into());
        return out;
    };
    if !role_writes_to(role, log_group_id) {
        missing(role_id, format!("the delivery role cannot write to log group {log_group_id}"));
    }

    let bucket_ids: Vec<&str> = t.resources_of_type("AWS::S3::Bucket").map(|(id, _)| id).collect();
    let bucket_policy = t
        .resources_of_type("AWS::S3::BucketPolicy")
        .find(|(_, r)| grants_bedrock_put(r));
    if bucket_policy.is_none() {
        missing("LogBucketPolicy", "no bucket policy lets bedrock.amazonaws.com deliver logs".into());
    }

    let config_resources: Vec<(&str, &Resource)> = t.resources_of_type("Custom::BedrockInvocationLogging").collect();
    match config_resources.as_slice() {
        [(id, r)] => {
            let p = &r.properties;
            if !refers_to(p.get("LogGroupName"), log_group_id) {
                missing(id, format!("LogGroupName is not the stack's log group {log_group_id}"));
            }
            if !refers_to(p.get("RoleArn"), role_id) {
                missing(id, format!("RoleArn is not the delivery role {role_id}"));
            }
            if !bucket_ids.iter().any(|b| refers_to(p.get("BucketName"), b)) {
                missing(id, "BucketName is not a bucket of the stack".into());
            }
            if let Some((policy_id, _)) = bucket_policy {
                if !r.depends_on.iter().any(|d| d == policy_id) {
                    missing(id, format!("does not wait for {policy_id}: Bedrock validates delivery permissions when the configuration is written"));
                }
            }
        }
        [] => missing("InvocationLogging", "no Bedrock invocation-logging configuration".into()),
        _ => missing("InvocationLogging", "more than one invocation-logging configuration; it is a per-region singleton".into()),
    }

    let topics: Vec<&str> = t.resources_of_type("AWS::SNS::Topic").map(|(id, _)| id).collect();
    if topics.is_empty() {
        missing("AlertTopic", "no SNS topic for alerts".into());
    }
    let alarms: Vec<(&str, &Resource)> = t.resources_of_type("AWS::CloudWatch::Alarm").collect();
    for (id, alarm) in alarms.iter().chain(t.resources_of_type("AWS::CloudWatch::CompositeAlarm").collect::<Vec<_>>().iter()) {
        for key in ["AlarmActions", "OKActions"] {
            let actions = as_list(alarm.properties.get(key));
            if actions.is_empty() || !actions.iter().all(|a| topics.iter().any(|topic| refers_to(Some(a), topic))) {
                missing(id, format!("{key} do not all notify a topic of the stack"));
            }
        }
    }
    for core in CORE_ALARMS {
        let present = alarms
            .iter()
            .any(|(_, a)| a.properties.get("AlarmName").and_then(Value::as_str).is_some_and(|n| n.ends_with(core)));
        if !present {
            missing("Alarms", format!("no `{core}` alarm"));
        }
    }
    if config.attribution.enabled {
        let rules: Vec<&Resource> = t.resources_of_type("AWS::CloudWatch::InsightRule").map(|(_, r)| r).collect();
        if rules.len() < crate::monitoring::attribution::rule_specs().len() {
            missing("Attribution", "the Contributor Insights rules ranking callers are missing".into());
        }
        for r in rules {
            if !refers_to(r.properties.get("RuleBody"), log_group_id) {
                missing("Attribution", "a Contributor Insights rule does not read the invocation log group".into());
            }
        }
        let queries: Vec<&Resource> = t.resources_of_type("AWS::Logs::QueryDefinition").map(|(_, r)| r).collect();
        if queries.is_empty() || !queries.iter().all(|q| refers_to(q.properties.get("LogGroupNames"), log_group_id)) {
            missing("Attribution", "the saved per-user queries are missing or do not read the invocation log group".into());
        }
    }
    if primary && config.cost.monthly_budget_usd.is_some() {
        let budget_ok = t.resources_of_type("AWS::Budgets::Budget").any(|(_, b)| topics.iter().any(|topic| refers_to(b.properties.get("NotificationsWithSubscribers"), topic)));
        if !budget_ok {
            missing("BedrockBudget", "no budget notifies the alert topic".into());
        }
    }
    if primary && config.cloudtrail.mode != crate::config::CloudTrailMode::None {
        let audit = t.resources_of_type("AWS::CloudTrail::Trail").count() + t.resources_of_type("AWS::CloudTrail::EventDataStore").count();
        if audit == 0 {
            missing("Audit", format!("cloudtrail.mode is {:?} but the stack has no trail or event data store", config.cloudtrail.mode));
        }
    }
    if config.quotas.enabled {
        let subscribed = t.resources_of_type("AWS::Logs::SubscriptionFilter").any(|(_, f)| refers_to(f.properties.get("LogGroupName"), log_group_id));
        if !subscribed {
            missing("Quotas", "no subscription filter feeds the invocation logs to the accounting function".into());
        }
        if t.resources_of_type("AWS::Scheduler::Schedule").count() == 0 {
            missing("Quotas", "no schedule lifts expired blocks".into());
        }
        if t.resources_of_type("AWS::DynamoDB::Table").count() < 2 {
            missing("Quotas", "the usage and audit tables are missing".into());
        }
    }
    let dashboards = t.resources_of_type("AWS::CloudWatch::Dashboard").count();
    if primary && config.dashboard.enabled && dashboards == 0 {
        missing("OperationsDashboard", "the primary region has no dashboard".into());
    }
    let mut outputs = vec!["LogBucketName", "InvocationLogGroupName", "AlertTopicArn", "DeliveryRoleArn"];
    if primary && config.dashboard.enabled {
        outputs.push("DashboardUrl");
    }
    for o in outputs {
        if !t.outputs.iter().any(|(name, _)| name == o) {
            missing("Outputs", format!("no `{o}` output"));
        }
    }
    out
}

fn trusts_bedrock(role: &Resource) -> bool {
    let Some(statements) = role
        .properties
        .get("AssumeRolePolicyDocument")
        .and_then(Value::as_map)
        .and_then(|d| d.get("Statement"))
        .and_then(Value::as_list)
    else {
        return false;
    };
    statements.iter().filter_map(Value::as_map).any(|s| {
        let service = s.get("Principal").and_then(Value::as_map).and_then(|p| p.get("Service")).and_then(Value::as_str);
        let conditions = s.get("Condition").and_then(Value::as_map);
        let has = |op: &str, key: &str| conditions.and_then(|c| c.get(op)).and_then(Value::as_map).and_then(|m| m.get(key)).is_some();
        service == Some("bedrock.amazonaws.com") && has("StringEquals", "aws:SourceAccount") && has("ArnLike", "aws:SourceArn")
    })
}

fn role_writes_to(role: &Resource, log_group_id: &str) -> bool {
    let Some(policies) = role.properties.get("Policies").and_then(Value::as_list) else { return false };
    policies.iter().filter_map(Value::as_map).any(|p| {
        let statements = p.get("PolicyDocument").and_then(Value::as_map).and_then(|d| d.get("Statement")).and_then(Value::as_list);
        statements.into_iter().flatten().filter_map(Value::as_map).any(|s| {
            let actions: Vec<&str> = as_list(s.get("Action")).into_iter().filter_map(Value::as_str).collect();
            actions.contains(&"logs:PutLogEvents") && actions.contains(&"logs:CreateLogStream") && as_list(s.get("Resource")).iter().any(|r| refers_to(Some(r), log_group_id))
        })
    })
}

fn grants_bedrock_put(policy: &Resource) -> bool {
    let statements = policy.properties.get("PolicyDocument").and_then(Value::as_map).and_then(|d| d.get("Statement")).and_then(Value::as_list);
    statements.into_iter().flatten().filter_map(Value::as_map).any(|s| {
        let service = s.get("Principal").and_then(Value::as_map).and_then(|p| p.get("Service")).and_then(Value::as_str);
        service == Some("bedrock.amazonaws.com") && as_list(s.get("Action")).iter().any(|a| a.as_str() == Some("s3:PutObject"))
    })
}

/// Whether `v` is, or is built from, a reference to `logical_id`.
fn refers_to(v: Option<&Value>, logical_id: &str) -> bool {
    let Some(v) = v else { return false };
    let mut found = false;
    v.walk(&mut |node| {
        if let Some(f) = node.as_intrinsic() {
            found |= match f {
                Intrinsic::Ref(RefTarget::Logical(id)) => id == logical_id,
                Intrinsic::GetAtt { logical_id: id, .. } => id == logical_id,
                Intrinsic::Sub { template, .. } => {
                    crate::cfn::sub_references_of(template).iter().any(|n| n.split('.').next() == Some(logical_id))
                }
                _ => false,
            };
        }
    });
    found
}
