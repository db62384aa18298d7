//! Bedrock's log delivery: the role Bedrock assumes and the logging configuration that uses it.

use crate::bedrock::logging_config::InvocationLoggingRef;
use crate::bedrock::{DataTypeFlags, InvocationLogging};
use crate::cfn::{CfnError, Template};
use crate::config::Config;
use crate::iam::{Condition, PolicyDocument, Role, RoleRef};
use crate::kms::KeyRef;
use crate::logs::Retention;

use super::storage::Storage;

/// The stream Bedrock writes invocation logs to.
pub const BEDROCK_LOG_STREAM: &str = "aws/bedrock/modelinvocations";

pub struct Delivery {
    pub role: RoleRef,
    pub logging: InvocationLoggingRef,
}

pub fn build(template: &mut Template, config: &Config, storage: &Storage, key: &KeyRef) -> Result<Delivery, CfnError> {
    // Trust and permissions exactly as the Bedrock user guide gives them: only Bedrock of this
    // account and region may assume the role, and it may only write the invocation stream.
    let role = Role::new("BedrockLoggingRole")
        .description("Assumed by Amazon Bedrock to deliver model invocation logs to CloudWatch Logs")
        .assumed_by_service("bedrock.amazonaws.com", vec![Condition::source_account(), Condition::bedrock_source_arn()])
        .inline_policy(
            "DeliverInvocationLogs",
            PolicyDocument::new().statement(storage.log_group.grant_write_stream(BEDROCK_LOG_STREAM).sid("WriteInvocationLogStream")),
        )
        .build(template)?;

    let l = &config.logging;
    let d = &l.data_types;
    let logging = InvocationLogging::new("InvocationLogging", &storage.log_group, &role, &storage.bucket, key)
        .prefixes(&l.s3_key_prefix, &l.large_data_key_prefix)
        .data_types(DataTypeFlags { text: d.text, image: d.image, embedding: d.embedding, video: d.video, audio: d.audio })
        .adopt_existing(l.adopt_existing)
        .handler_log_retention(Retention::days(l.retention_days)?)
        .wait_for(&storage.bucket_policy_id)
        .build(template)?;
    Ok(Delivery { role, logging })
}
