//! The least-privilege IAM policy for the principal that runs deploy, diff and destroy.
//!
//! CloudFormation acts with the caller's permissions (no service role), so the caller needs the
//! create/update/delete actions of every resource type in the synthesized templates, each scoped
//! to the ARNs those resources will have (their names, or `<stack>-*` for generated names), plus
//! the CloudFormation calls on the stacks themselves and the staging bucket. No action is a
//! wildcard; `Resource: "*"` appears only for the actions listed in [`DEPLOY_WILDCARDS`], each
//! with the reason AWS gives no resource-level permission.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};

use super::template::{ResourceFacts, TemplateFacts};

/// An action set AWS does not scope to a resource, and why.
#[derive(Debug, PartialEq, Eq)]
pub struct DeployException {
    pub name: &'static str,
    /// The resource types whose presence needs it.
    pub types: &'static [&'static str],
    pub actions: &'static [&'static str],
    pub reason: &'static str,
}

pub const DEPLOY_WILDCARDS: &[DeployException] = &[
    DeployException { name: "KmsCreateKey", types: &["AWS::KMS::Key"], actions: &["kms:CreateKey"], reason: "a key's ARN contains an id KMS assigns when it creates the key, so kms:CreateKey has no resource to scope to" },
    DeployException {
        name: "LogsQueryDefinitions",
        types: &["AWS::Logs::QueryDefinition"],
        actions: &["logs:DeleteQueryDefinition", "logs:DescribeQueryDefinitions", "logs:PutQueryDefinition"],
        reason: "saved Logs Insights queries have no ARN; their actions support no resource-level permissions",
    },
    DeployException { name: "LogsDescribeLogGroups", types: &["AWS::Logs::LogGroup"], actions: &["logs:DescribeLogGroups"], reason: "a list operation across the account's log groups; CloudFormation calls it to read a log group back" },
    DeployException { name: "CloudWatchDescribeInsightRules", types: &["AWS::CloudWatch::InsightRule"], actions: &["cloudwatch:DescribeInsightRules"], reason: "a list operation over all Contributor Insights rules; it supports no resource-level permissions" },
    DeployException { name: "CloudTrailDescribeTrails", types: &["AWS::CloudTrail::Trail"], actions: &["cloudtrail:DescribeTrails"], reason: "a list operation over the account's trails; it supports no resource-level permissions" },
];

const CFN_ACTIONS: &[&str] = &[
    "cloudformation:CreateChangeSet",
    "cloudformation:DeleteChangeSet",
    "cloudformation:DeleteStack",
    "cloudformation:DescribeChangeSet",
    "cloudformation:DescribeStackEvents",
    "cloudformation:DescribeStackResources",
    "cloudformation:DescribeStacks",
    "cloudformation:ExecuteChangeSet",
    "cloudformation:GetTemplate",
];

/// Actions per resource type, and the type whose ARNs they apply to (children act on parents).
fn grant(resource_type: &str) -> Option<(&'static str, &'static [&'static str])> {
    Some(match resource_type {
        "AWS::S3::Bucket" => ("S3Buckets", &[
            "s3:CreateBucket", "s3:DeleteBucket", "s3:GetBucketLocation", "s3:GetBucketLogging", "s3:GetBucketOwnershipControls", "s3:GetBucketPublicAccessBlock", "s3:GetBucketTagging", "s3:GetBucketVersioning",
            "s3:GetEncryptionConfiguration", "s3:GetLifecycleConfiguration", "s3:ListBucket", "s3:ListBucketVersions", "s3:PutBucketLogging", "s3:PutBucketOwnershipControls", "s3:PutBucketPublicAccessBlock",
            "s3:PutBucketTagging", "s3:PutBucketVersioning", "s3:PutEncryptionConfiguration", "s3:PutLifecycleConfiguration",
        ]),
        "AWS::S3::BucketPolicy" => ("S3BucketPolicies", &["s3:DeleteBucketPolicy", "s3:GetBucketPolicy", "s3:PutBucketPolicy"]),
        "AWS::SQS::Queue" => ("SqsQueues", &[
            "sqs:CreateQueue", "sqs:DeleteQueue", "sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ListQueueTags", "sqs:SetQueueAttributes", "sqs:TagQueue", "sqs:UntagQueue",
        ]),
        "AWS::Logs::LogGroup" => ("LogsLogGroups", &[
            "logs:AssociateKmsKey", "logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:DeleteRetentionPolicy", "logs:DisassociateKmsKey", "logs:ListTagsForResource", "logs:ListTagsLogGroup",
            "logs:PutRetentionPolicy", "logs:TagLogGroup", "logs:TagResource", "logs:UntagLogGroup", "logs:UntagResource",
        ]),
        "AWS::Logs::MetricFilter" => ("LogsMetricFilters", &["logs:DeleteMetricFilter", "logs:DescribeMetricFilters", "logs:PutMetricFilter"]),
        "AWS::Logs::SubscriptionFilter" => ("LogsSubscriptionFilters", &["logs:DeleteSubscriptionFilter", "logs:DescribeSubscriptionFilters", "logs:PutSubscriptionFilter"]),
        "AWS::Logs::QueryDefinition" => ("", &[]),
        "AWS::IAM::Role" => ("IamRoles", &[
            "iam:AttachRolePolicy", "iam:CreateRole", "iam:DeleteRole", "iam:DeleteRolePolicy", "iam:DetachRolePolicy", "iam:GetRole", "iam:GetRolePolicy", "iam:ListAttachedRolePolicies",
            "iam:ListRolePolicies", "iam:PassRole", "iam:PutRolePolicy", "iam:TagRole", "iam:UntagRole", "iam:UpdateAssumeRolePolicy", "iam:UpdateRole",
        ]),
        // The quota block policies: CloudFormation writes their (fixed) text, nothing else does.
        "AWS::IAM::ManagedPolicy" => ("IamManagedPolicies", &[
            "iam:CreatePolicy", "iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion", "iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListEntitiesForPolicy",
            "iam:ListPolicyVersions",
        ]),
        "AWS::KMS::Key" => ("KmsKeys", &[
            "kms:DescribeKey", "kms:DisableKey", "kms:EnableKey", "kms:EnableKeyRotation", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags", "kms:PutKeyPolicy",
            "kms:ScheduleKeyDeletion", "kms:TagResource", "kms:UntagResource", "kms:UpdateKeyDescription",
        ]),
        "AWS::SNS::Topic" => ("SnsTopics", &["sns:CreateTopic", "sns:DeleteTopic", "sns:GetTopicAttributes", "sns:ListTagsForResource", "sns:SetTopicAttributes", "sns:TagResource", "sns:UntagResource"]),
        "AWS::SNS::TopicPolicy" => ("SnsTopicPolicies", &["sns:GetTopicAttributes", "sns:SetTopicAttributes"]),
        "AWS::SNS::Subscription" => ("SnsSubscriptions", &["sns:GetSubscriptionAttributes", "sns:SetSubscriptionAttributes", "sns:Subscribe", "sns:Unsubscribe"]),
        "AWS::CloudWatch::Alarm" => ("CloudWatchAlarms", &["cloudwatch:DeleteAlarms", "cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource", "cloudwatch:PutMetricAlarm", "cloudwatch:TagResource", "cloudwatch:UntagResource"]),
        "AWS::CloudWatch::CompositeAlarm" => ("CloudWatchCompositeAlarms", &["cloudwatch:DeleteAlarms", "cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource", "cloudwatch:PutCompositeAlarm", "cloudwatch:TagResource", "cloudwatch:UntagResource"]),
        "AWS::CloudWatch::Dashboard" => ("CloudWatchDashboards", &["cloudwatch:DeleteDashboards", "cloudwatch:GetDashboard", "cloudwatch:PutDashboard"]),
        "AWS::CloudWatch::InsightRule" => ("CloudWatchInsightRules", &["cloudwatch:DeleteInsightRules", "cloudwatch:ListTagsForResource", "cloudwatch:PutInsightRule", "cloudwatch:TagResource", "cloudwatch:UntagResource"]),
        "AWS::Lambda::Function" => ("LambdaFunctions", &[
            "lambda:CreateFunction", "lambda:DeleteFunction", "lambda:GetFunction", "lambda:GetFunctionConfiguration", "lambda:InvokeFunction", "lambda:ListTags", "lambda:TagResource",
            "lambda:UntagResource", "lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration",
        ]),
        "AWS::Lambda::Permission" => ("LambdaPermissions", &["lambda:AddPermission", "lambda:RemovePermission"]),
        "AWS::DynamoDB::Table" => ("DynamoDbTables", &[
            "dynamodb:CreateTable", "dynamodb:DeleteTable", "dynamodb:DescribeContinuousBackups", "dynamodb:DescribeTable", "dynamodb:DescribeTimeToLive", "dynamodb:ListTagsOfResource",
            "dynamodb:TagResource", "dynamodb:UntagResource", "dynamodb:UpdateContinuousBackups", "dynamodb:UpdateTable", "dynamodb:UpdateTimeToLive",
        ]),
        "AWS::Scheduler::Schedule" => ("SchedulerSchedules", &["scheduler:CreateSchedule", "scheduler:DeleteSchedule", "scheduler:GetSchedule", "scheduler:UpdateSchedule"]),
        "AWS::CloudTrail::Trail" => ("CloudTrailTrails", &[
            "cloudtrail:AddTags", "cloudtrail:CreateTrail", "cloudtrail:DeleteTrail", "cloudtrail:GetEventSelectors", "cloudtrail:GetTrail", "cloudtrail:GetTrailStatus", "cloudtrail:ListTags",
            "cloudtrail:PutEventSelectors", "cloudtrail:RemoveTags", "cloudtrail:StartLogging", "cloudtrail:StopLogging", "cloudtrail:UpdateTrail",
        ]),
        "AWS::CloudTrail::EventDataStore" => ("CloudTrailEventDataStores", &[
            "cloudtrail:AddTags", "cloudtrail:CreateEventDataStore", "cloudtrail:DeleteEventDataStore", "cloudtrail:GetEventDataStore", "cloudtrail:ListTags", "cloudtrail:RemoveTags",
            "cloudtrail:UpdateEventDataStore",
        ]),
        "AWS::Budgets::Budget" => ("Budgets", &["budgets:ModifyBudget", "budgets:ViewBudget"]),
        "AWS::BCMDataExports::Export" => ("BcmDataExports", &[
            "bcm-data-exports:CreateExport", "bcm-data-exports:DeleteExport", "bcm-data-exports:GetExport", "bcm-data-exports:ListTagsForResource", "bcm-data-exports:TagResource",
            "bcm-data-exports:UntagResource", "bcm-data-exports:UpdateExport",
        ]),
        // The member stacks' link to the monitoring account's sink (`org` with monitoring_sinks).
        "AWS::Oam::Link" => ("OamLinks", &[
            "cloudwatch:Link", "logs:Link", "oam:CreateLink", "oam:DeleteLink", "oam:GetLink", "oam:ListTagsForResource", "oam:TagResource", "oam:UntagResource", "oam:UpdateLink",
        ]),
        // A custom resource is a call to its Lambda function, covered by lambda:InvokeFunction.
        t if t.starts_with("Custom::") => ("", &[]),
        _ => return None,
    })
}

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("stack {stack}: resource {logical_id} has type {resource_type}, for which bedrock-watch knows no deploy permissions")]
    UnknownType { stack: String, logical_id: String, resource_type: String },
    #[error("stack {stack}: {source}")]
    Template { stack: String, source: super::template::TemplateError },
}

/// One stack to cover: its name, region and rendered template.
pub struct StackTemplate<'a> {
    pub stack: &'a str,
    pub region: &'a str,
    pub body: &'a str,
}

/// The policy document and the exceptions it uses (for printing their reasons).
pub struct DeployPolicy {
    pub document: Value,
    pub exceptions: Vec<&'static DeployException>,
}

struct Names<'a> {
    facts: &'a TemplateFacts,
    stack: &'a str,
    region: &'a str,
    partition: &'static str,
}

impl Names<'_> {
    /// The name a resource will have: its name property, or CloudFormation's generated
    /// `<stack>-<LogicalId>-<suffix>` (lower case for buckets).
    fn of(&self, r: &ResourceFacts) -> String {
        let prop = match r.resource_type.as_str() {
            "AWS::S3::Bucket" => "BucketName",
            "AWS::Logs::LogGroup" => "LogGroupName",
            "AWS::IAM::Role" => "RoleName",
            "AWS::SNS::Topic" => "TopicName",
            "AWS::CloudWatch::Alarm" | "AWS::CloudWatch::CompositeAlarm" => "AlarmName",
            "AWS::CloudWatch::Dashboard" => "DashboardName",
            "AWS::CloudWatch::InsightRule" => "RuleName",
            "AWS::Lambda::Function" => "FunctionName",
            "AWS::DynamoDB::Table" => "TableName",
            "AWS::Scheduler::Schedule" => "Name",
            "AWS::CloudTrail::Trail" => "TrailName",
            "AWS::SQS::Queue" => "QueueName",
            _ => "",
        };
        let budget = r.properties.get("Budget").and_then(|b| b.get("BudgetName"));
        match r.properties.get(prop).or(budget) {
            Some(v) => self.value(v),
            None if r.resource_type == "AWS::S3::Bucket" => format!("{}-*", self.stack.to_ascii_lowercase()),
            None => format!("{}-*", self.stack),
        }
    }

    fn value(&self, v: &Value) -> String {
        match v {
            Value::String(s) => s.clone(),
            Value::Object(m) => {
                if let Some(id) = m.get("Ref").and_then(Value::as_str) {
                    return self.facts.resource(id).map(|r| self.of(r)).unwrap_or_else(|| "*".into());
                }
                if let Some(text) = m.get("Fn::Sub").and_then(Value::as_str) {
                    return sub_pattern(text, self.stack, self.region);
                }
                if let Some(id) = m.get("Fn::GetAtt").and_then(|a| a.get(0)).and_then(Value::as_str) {
                    return self.facts.resource(id).map(|r| self.of(r)).unwrap_or_else(|| "*".into());
                }
                "*".into()
            }
            _ => "*".into(),
        }
    }

    /// The ARNs a resource's actions apply to.
    fn arns(&self, r: &ResourceFacts) -> Vec<String> {
        let reg = self.region;
        let part = self.partition;
        let parent = |prop: &str| r.properties.get(prop).map(|v| self.value(v)).unwrap_or_else(|| "*".into());
        match r.resource_type.as_str() {
            "AWS::S3::Bucket" => vec![format!("arn:{part}:s3:::{}", self.of(r))],
            "AWS::S3::BucketPolicy" => vec![format!("arn:{part}:s3:::{}", parent("Bucket"))],
            "AWS::Logs::LogGroup" => log_group_arns(part, reg, &self.of(r)),
            "AWS::Logs::MetricFilter" | "AWS::Logs::SubscriptionFilter" => log_group_arns(part, reg, &parent("LogGroupName")),
            "AWS::IAM::Role" => vec![format!("arn:{part}:iam::*:role/{}", self.of(r))],
            "AWS::IAM::ManagedPolicy" => vec![format!("arn:{part}:iam::*:policy/{}", self.of(r))],
            "AWS::KMS::Key" => vec![format!("arn:{part}:kms:{reg}:*:key/*")],
            "AWS::SNS::Topic" => vec![format!("arn:{part}:sns:{reg}:*:{}", self.of(r))],
            "AWS::SQS::Queue" => vec![format!("arn:{part}:sqs:{reg}:*:{}", self.of(r))],
            "AWS::SNS::TopicPolicy" => {
                let topics = r.properties.get("Topics").and_then(Value::as_array).cloned().unwrap_or_default();
                topics.iter().map(|t| format!("arn:{part}:sns:{reg}:*:{}", self.value(t))).collect()
            }
            "AWS::SNS::Subscription" => vec![format!("arn:{part}:sns:{reg}:*:{}", parent("TopicArn"))],
            "AWS::CloudWatch::Alarm" | "AWS::CloudWatch::CompositeAlarm" => vec![format!("arn:{part}:cloudwatch:{reg}:*:alarm:{}", self.of(r))],
            "AWS::CloudWatch::Dashboard" => vec![format!("arn:{part}:cloudwatch::*:dashboard/{}", self.of(r))],
            "AWS::CloudWatch::InsightRule" => vec![format!("arn:{part}:cloudwatch:{reg}:*:insight-rule/{}", self.of(r))],
            "AWS::Lambda::Function" => vec![format!("arn:{part}:lambda:{reg}:*:function:{}", self.of(r))],
            "AWS::Lambda::Permission" => vec![format!("arn:{part}:lambda:{reg}:*:function:{}", parent("FunctionName"))],
            "AWS::DynamoDB::Table" => vec![format!("arn:{part}:dynamodb:{reg}:*:table/{}", self.of(r))],
            "AWS::Scheduler::Schedule" => vec![format!("arn:{part}:scheduler:{reg}:*:schedule/default/{}", self.of(r))],
            "AWS::CloudTrail::Trail" => vec![format!("arn:{part}:cloudtrail:{reg}:*:trail/{}", self.of(r))],
            // The link's id is assigned at creation; CreateLink also names the sink.
            "AWS::Oam::Link" => vec![format!("arn:{part}:oam:{reg}:*:link/*"), parent("SinkIdentifier")],
            "AWS::CloudTrail::EventDataStore" => vec![format!("arn:{part}:cloudtrail:{reg}:*:eventdatastore/*")],
            "AWS::Budgets::Budget" => vec![format!("arn:{part}:budgets::*:budget/{}", self.of(r))],
            // The export ARN ends in `<name>-<UUID>` (the UUID is assigned at creation);
            // CreateExport/UpdateExport also authorize on the queried table.
            "AWS::BCMDataExports::Export" => {
                let name = r.properties.get("Export").and_then(|e| e.get("Name")).map(|v| self.value(v)).unwrap_or_else(|| "*".into());
                vec![format!("arn:{part}:bcm-data-exports:us-east-1:*:export/{name}-*"), format!("arn:{part}:bcm-data-exports:us-east-1:*:table/COST_AND_USAGE_REPORT")]
            }
            _ => Vec::new(),
        }
    }
}

fn log_group_arns(partition: &str, region: &str, name: &str) -> Vec<String> {
    vec![format!("arn:{partition}:logs:{region}:*:log-group:{name}"), format!("arn:{partition}:logs:{region}:*:log-group:{name}:*")]
}

/// The ARN partition of `region` (`aws`, `aws-cn`, `aws-us-gov`, ...); `aws` for a region the
/// table does not know (config validation has already named it).
fn partition(region: &str) -> &'static str {
    crate::config::regions::partition_of(region).unwrap_or("aws")
}

/// A `Fn::Sub` string as an ARN pattern: pseudo parameters filled in where known, other
/// variables (account, other resources) as `*`.
fn sub_pattern(text: &str, stack: &str, region: &str) -> String {
    let part = partition(region);
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let Some(len) = rest[start..].find('}') else { break };
        out.push_str(match &rest[start + 2..start + len] {
            "AWS::Region" => region,
            "AWS::StackName" => stack,
            "AWS::Partition" => part,
            "AWS::URLSuffix" => if part == "aws-cn" { "amazonaws.com.cn" } else { "amazonaws.com" },
            _ => "*",
        });
        rest = &rest[start + len + 1..];
    }
    out.push_str(rest);
    out
}

/// One statement of the deploy policy: its Sid, actions and resource ARN patterns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployStatement {
    pub sid: &'static str,
    pub actions: Vec<&'static str>,
    pub resources: Vec<String>,
}

/// The deploy policy as typed parts: the scoped statements (sorted by Sid) and the declared
/// exceptions that need `Resource: "*"`. `org roles` builds the StackSets execution role from
/// the same parts, so the two can never grant different things.
#[derive(Debug, Clone, PartialEq)]
pub struct DeployParts {
    pub statements: Vec<DeployStatement>,
    pub exceptions: Vec<&'static DeployException>,
}

/// Collects the statements for `stacks` (and the staging bucket and prefix, if any).
pub fn deploy_parts(stacks: &[StackTemplate], staging: Option<(&str, &str)>) -> Result<DeployParts, PolicyError> {
    let mut statements: BTreeMap<&'static str, (BTreeSet<&'static str>, BTreeSet<String>)> = BTreeMap::new();
    let mut types = BTreeSet::new();
    for s in stacks {
        let facts = TemplateFacts::parse(s.body).map_err(|source| PolicyError::Template { stack: s.stack.into(), source })?;
        let cfn = statements.entry("CloudFormationStacks").or_default();
        cfn.0.extend(CFN_ACTIONS);
        let part = partition(s.region);
        cfn.1.insert(format!("arn:{part}:cloudformation:{}:*:stack/{}/*", s.region, s.stack));
        let names = Names { facts: &facts, stack: s.stack, region: s.region, partition: part };
        for r in &facts.resources {
            let (sid, actions) = grant(&r.resource_type).ok_or_else(|| PolicyError::UnknownType { stack: s.stack.into(), logical_id: r.logical_id.clone(), resource_type: r.resource_type.clone() })?;
            types.insert(r.resource_type.clone());
            if actions.is_empty() {
                continue;
            }
            let entry = statements.entry(sid).or_default();
            entry.0.extend(actions);
            entry.1.extend(names.arns(r));
            // destroy --purge empties the retained buckets.
            if r.resource_type == "AWS::S3::Bucket" && r.retained {
                let objects = statements.entry("S3PurgeRetainedBucketObjects").or_default();
                objects.0.extend(["s3:DeleteObject", "s3:DeleteObjectVersion"]);
                objects.1.insert(format!("arn:{part}:s3:::{}/*", names.of(r)));
            }
        }
    }
    if let Some((bucket, prefix)) = staging {
        let entry = statements.entry("StagingBucketTemplates").or_default();
        entry.0.extend(["s3:GetObject", "s3:PutObject"]);
        let prefix = prefix.trim_matches('/');
        // The staging bucket serves every stack of the call; one call deploys within one partition.
        let part = stacks.first().map_or("aws", |s| partition(s.region));
        entry.1.insert(if prefix.is_empty() { format!("arn:{part}:s3:::{bucket}/*") } else { format!("arn:{part}:s3:::{bucket}/{prefix}/*") });
    }
    let statements = statements.into_iter().map(|(sid, (actions, resources))| DeployStatement { sid, actions: actions.into_iter().collect(), resources: resources.into_iter().collect() }).collect();
    let exceptions = DEPLOY_WILDCARDS.iter().filter(|e| e.types.iter().any(|t| types.contains(*t))).collect();
    Ok(DeployParts { statements, exceptions })
}

/// Builds the policy for `stacks` (and the staging bucket and prefix, if any).
pub fn deploy_policy(stacks: &[StackTemplate], staging: Option<(&str, &str)>) -> Result<DeployPolicy, PolicyError> {
    let parts = deploy_parts(stacks, staging)?;
    let mut list: Vec<Value> = parts.statements.iter().map(|s| json!({"Sid": s.sid, "Effect": "Allow", "Action": s.actions, "Resource": s.resources})).collect();
    for e in &parts.exceptions {
        list.push(json!({"Sid": format!("NoResourceLevel{}", e.name), "Effect": "Allow", "Action": e.actions, "Resource": "*"}));
    }
    Ok(DeployPolicy { document: json!({"Version": crate::iam::policy::POLICY_VERSION, "Statement": list}), exceptions: parts.exceptions })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cfn::Format;
    use crate::config::Config;

    fn policy_for(config: &Config, staging: Option<(&str, &str)>) -> DeployPolicy {
        let rendered = crate::synth::synthesize(config, Format::Yaml).unwrap();
        let stacks: Vec<StackTemplate> = rendered.iter().map(|r| StackTemplate { stack: &r.stack_name, region: &r.region, body: &r.content }).collect();
        deploy_policy(&stacks, staging).unwrap()
    }

    fn statements(p: &DeployPolicy) -> &Vec<Value> {
        p.document["Statement"].as_array().unwrap()
    }

    #[test]
    fn no_wildcard_actions_and_star_only_for_declared_exceptions() {
        for example in ["examples/multi-region.yaml", "examples/attribution-and-cost.yaml", "examples/quotas.yaml", "examples/text-only-named-bucket.yaml"] {
            let config = crate::config::load_file(std::path::Path::new(example)).unwrap();
            let p = policy_for(&config, Some(("stage", "p")));
            for s in statements(&p) {
                for a in s["Action"].as_array().unwrap() {
                    let a = a.as_str().unwrap();
                    assert!(!a.contains('*'), "{example}: wildcard action {a}");
                }
                if s["Resource"] == "*" {
                    let sid = s["Sid"].as_str().unwrap();
                    assert!(p.exceptions.iter().any(|e| sid == format!("NoResourceLevel{}", e.name)), "{example}: undeclared Resource * in {sid}");
                } else {
                    for r in s["Resource"].as_array().unwrap() {
                        assert_ne!(r, "*", "{example}: {s}");
                    }
                }
            }
        }
    }

    #[test]
    fn scoped_to_the_stack_and_its_names() {
        let p = policy_for(&Config::default(), None);
        let text = p.document.to_string();
        assert!(text.contains("arn:aws:cloudformation:us-east-1:*:stack/bedrock-watch-us-east-1/*"), "{text}");
        assert!(text.contains("arn:aws:s3:::bedrock-watch-logs-*-us-east-1"), "{text}");
        assert!(text.contains("arn:aws:logs:us-east-1:*:log-group:/aws/bedrock/modelinvocations"), "{text}");
        assert!(text.contains("arn:aws:iam::*:role/bedrock-watch-us-east-1-*"), "{text}");
        assert!(!text.contains("StagingBucketTemplates"));
    }

    #[test]
    fn arns_are_in_the_partition_of_the_stacks_region() {
        let mut config = Config::default();
        config.regions = vec!["us-gov-west-1".into()];
        let p = policy_for(&config, Some(("stage", "p")));
        let text = p.document.to_string();
        assert!(text.contains("arn:aws-us-gov:cloudformation:us-gov-west-1:*:stack/bedrock-watch-us-gov-west-1/*"), "{text}");
        assert!(text.contains("arn:aws-us-gov:s3:::stage/p/*") && text.contains("arn:aws-us-gov:logs:us-gov-west-1:"), "{text}");
        assert!(!text.contains("\"arn:aws:"), "a commercial-partition ARN in a GovCloud policy: {text}");
        assert_eq!(sub_pattern("arn:${AWS::Partition}:s3:::x.${AWS::URLSuffix}", "s", "cn-north-1"), "arn:aws-cn:s3:::x.amazonaws.com.cn");
    }

    #[test]
    fn unknown_types_are_an_error_not_a_gap() {
        let body = "Resources:\n  X:\n    Type: AWS::EC2::Instance\n";
        let err = deploy_policy(&[StackTemplate { stack: "s", region: "r", body }], None).err().unwrap();
        assert!(err.to_string().contains("AWS::EC2::Instance"), "{err}");
    }

    #[test]
    fn snapshot_of_the_default_deploy_policy() {
        let p = policy_for(&Config::default(), Some(("my-templates", "bedrock-watch/templates")));
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path("../../snapshots");
        settings.set_prepend_module_to_snapshot(false);
        settings.bind(|| insta::assert_snapshot!("deploy_policy_default", serde_json::to_string_pretty(&p.document).unwrap()));
    }
}
