//! The audit trail: CloudTrail records every Bedrock call as a management event (who, when, which
//! model, no token counts). `trail` writes a multi-region trail into its own bucket (or a prefix
//! of an existing one); `lake` creates a CloudTrail Lake event data store and outputs the SQL of
//! "Bedrock calls by user, model and day". Both are account-wide, so only the primary region's
//! stack has them.

use crate::cfn::{CfnError, Intrinsic, Output, Pseudo, Sub, Template, Value};
use crate::cloudtrail::{EventDataStore, Trail};
use crate::config::{CloudTrailMode, Config};
use crate::iam::{Condition, Principal, Statement};
use crate::kms::KeyRef;
use crate::logs::{LogGroup, Retention};
use crate::s3::{Bucket, BucketEncryption, BucketPolicy, Lifecycle};

/// Name of the trail's log group when CloudTrail also delivers to CloudWatch Logs.
pub fn trail_log_group_name(config: &Config) -> String {
    format!("/aws/cloudtrail/{}", config.stack_name)
}

/// CloudTrail Lake SQL: Bedrock runtime calls by user, model and day. `{eds}` is the event data
/// store id.
pub fn lake_query_template() -> &'static str {
    "SELECT userIdentity.arn AS caller, element_at(requestParameters, 'modelId') AS model, date_trunc('day', eventTime) AS day, count(*) AS calls FROM ${EventDataStoreId} WHERE eventSource = 'bedrock.amazonaws.com' AND eventName IN ('InvokeModel', 'InvokeModelWithResponseStream', 'Converse', 'ConverseStream') GROUP BY 1, 2, 3 ORDER BY 3 DESC, 4 DESC"
}

pub fn build(template: &mut Template, config: &Config, key: &KeyRef) -> Result<(), CfnError> {
    let t = &config.cloudtrail;
    let trail_name = format!("{}-bedrock-audit", config.stack_name);
    match t.mode {
        CloudTrailMode::None => Ok(()),
        CloudTrailMode::Lake => {
            let store = EventDataStore::new("AuditEventDataStore", format!("{}-bedrock-audit", config.stack_name), t.retention_days).build(template)?;
            // The id is the last segment of the store's ARN.
            let id = Value::select(1, Value::split("eventdatastore/", store.reference()));
            let query = Value::Fn(Box::new(Intrinsic::Sub {
                template: lake_query_template().to_owned(),
                variables: vec![("EventDataStoreId".to_owned(), id)],
            }));
            template.add_output(
                "BedrockCallsByUserModelDaySql",
                Output { description: Some("CloudTrail Lake SQL: Bedrock calls by user, model and day (run in CloudTrail > Lake > Query)".into()), value: query, export_name: None },
            )?;
            Ok(())
        }
        CloudTrailMode::Trail => {
            let trail_arn = Trail::arn_of(&trail_name);
            let (bucket_name, policy_id) = match &t.bucket {
                Some(existing) => (Value::str(existing.as_str()), None),
                None => {
                    let bucket = Bucket::new("TrailBucket")
                        .encryption(BucketEncryption::Kms(key.clone()))
                        .lifecycle(Lifecycle {
                            expire_after_days: Some(t.expire_after_days),
                            noncurrent_expire_after_days: Some(t.noncurrent_expire_after_days),
                            ..Lifecycle::default()
                        })
                        .build(template)?;
                    let acl_check = Statement::allow(&["s3:GetBucketAcl"], vec![bucket.arn()])
                        .sid("CloudTrailAclCheck")
                        .principal(Principal::service("cloudtrail.amazonaws.com"))
                        .condition(Condition::new("StringEquals", "aws:SourceArn", trail_arn.clone()));
                    let write = bucket
                        .grant_put_to_service(
                            "CloudTrailWrite",
                            "cloudtrail.amazonaws.com",
                            Sub::new().text(&t.prefix).text("/AWSLogs/").pseudo(Pseudo::AccountId).text("/*"),
                        )
                        .condition(Condition::new("StringEquals", "s3:x-amz-acl", "bucket-owner-full-control"))
                        .condition(Condition::new("StringEquals", "aws:SourceArn", trail_arn.clone()));
                    let policy = BucketPolicy::new("TrailBucketPolicy", &bucket).statement(acl_check).statement(write).build(template)?;
                    (bucket.name(), Some(policy.logical_id().to_owned()))
                }
            };
            let mut trail = Trail::new("AuditTrail", trail_name.as_str(), bucket_name, key).prefix(&t.prefix);
            if let Some(p) = &policy_id {
                trail = trail.depends_on(p);
            }
            if t.cloudwatch_logs {
                let group = LogGroup::new("TrailLogGroup", Retention::days(t.retention_days)?)
                    .name(trail_log_group_name(config))
                    .encryption_key(key)
                    .build(template)?;
                trail = trail.cloudwatch_logs(&group);
            }
            trail.build(template)?;
            Ok(())
        }
    }
}

/// Key-policy grant CloudTrail needs to encrypt the trail's log files with the stack key.
pub fn cloudtrail_key_condition(config: &Config) -> Vec<Condition> {
    let trail_arn = Trail::arn_of(&format!("{}-bedrock-audit", config.stack_name));
    vec![Condition::new("StringEquals", "aws:SourceArn", trail_arn)]
}

