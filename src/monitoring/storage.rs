//! Where invocation logs land: the log group and the bucket with its delivery-only policy.

use crate::cfn::{CfnError, Pseudo, Sub, Template, Value};
use crate::config::Config;
use crate::iam::Condition;
use crate::kms::KeyRef;
use crate::logs::{LogGroup, LogGroupRef, Retention};
use crate::s3::{Bucket, BucketEncryption, BucketPolicy, BucketRef, Lifecycle};

pub struct Storage {
    pub log_group: LogGroupRef,
    pub bucket: BucketRef,
    pub bucket_policy_id: String,
}

/// `AWSLogs/<account>/BedrockModelInvocationLogs/*` under a prefix: the only keys Bedrock writes.
fn delivery_keys(prefix: &str) -> Sub {
    Sub::new().text(prefix).text("/AWSLogs/").pseudo(Pseudo::AccountId).text("/BedrockModelInvocationLogs/*")
}

pub fn build(template: &mut Template, config: &Config, key: &KeyRef) -> Result<Storage, CfnError> {
    let logging = &config.logging;
    let retention = Retention::days(logging.retention_days)?;
    let mut log_group = LogGroup::new("InvocationLogGroup", retention).name(logging.log_group_name.as_str()).encryption_key(key);
    if retention.get() < 365 {
        log_group = log_group.deviate(crate::deviations::INVOCATION_LOG_RETENTION_CONFIGURED);
    }
    let log_group = log_group.build(template)?;

    let bucket_name = match &config.bucket.name {
        Some(name) => Value::str(name.as_str()),
        None => Sub::new()
            .text(&config.project)
            .text("-logs-")
            .pseudo(Pseudo::AccountId)
            .text("-")
            .pseudo(Pseudo::Region)
            .build(),
    };
    let b = &config.bucket;
    let bucket = Bucket::new("LogBucket")
        .bucket_name(bucket_name)
        .encryption(BucketEncryption::Kms(key.clone()))
        .lifecycle(Lifecycle {
            expire_after_days: Some(b.expire_after_days),
            noncurrent_expire_after_days: Some(b.noncurrent_expire_after_days),
            abort_incomplete_upload_after_days: b.abort_incomplete_upload_after_days,
            prefixes: vec![logging.s3_key_prefix.clone(), logging.large_data_key_prefix.clone()],
        })
        .build(template)?;

    let mut policy = BucketPolicy::new("LogBucketPolicy", &bucket);
    let prefixes = [("BedrockDeliversInvocationLogs", &logging.s3_key_prefix), ("BedrockDeliversLargePayloads", &logging.large_data_key_prefix)];
    for (i, (sid, prefix)) in prefixes.iter().enumerate() {
        if i == 1 && prefix == &prefixes[0].1 {
            break;
        }
        policy = policy.statement(
            bucket
                .grant_put_to_service(sid, "bedrock.amazonaws.com", delivery_keys(prefix))
                .condition(Condition::source_account())
                .condition(Condition::bedrock_source_arn()),
        );
    }
    let policy = policy.build(template)?;
    Ok(Storage { log_group, bucket, bucket_policy_id: policy.logical_id().to_owned() })
}
