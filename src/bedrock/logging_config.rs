//! The invocation-logging configuration as a custom resource.
//!
//! The configuration is a per-account, per-region singleton: the handler refuses to overwrite one
//! it did not write unless told to adopt it, saves what it replaces in the log bucket (outside the
//! lifecycle prefixes, so it never expires) and restores it when the stack is deleted. Bedrock
//! checks the delivery role's permissions at the moment the configuration is written, so the
//! resource depends on the role and the bucket policy and the handler retries while IAM
//! propagates.

use crate::cfn::{CfnError, ResourceRef, Sub, Template, Value};
use crate::cloudformation::CustomResource;
use crate::iam::actions::{BEDROCK_LOGGING_CONFIGURATION, IAM_PASS_ROLE, KMS_ENCRYPT_FOR_SERVICE, S3_READ_WRITE_OBJECT};
use crate::iam::policy::BEDROCK_LOGGING_API;
use crate::iam::{Condition, RoleRef, Statement};
use crate::kms::KeyRef;
use crate::lambda::{Function, FunctionRef};
use crate::logs::{LogGroupRef, Retention};
use crate::s3::BucketRef;

/// The handler, embedded verbatim; its tests live in `tests/python`.
pub const HANDLER_SOURCE: &str = include_str!("logging_config_handler.py");

/// Where the handler keeps the configuration it replaced, inside the log bucket.
pub const STATE_KEY: &str = "bedrock-watch/replaced-logging-configuration.json";

/// Which payloads Bedrock logs. `None` leaves a field out of the API call entirely.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataTypeFlags {
    pub text: bool,
    pub image: bool,
    pub embedding: bool,
    pub video: Option<bool>,
    pub audio: Option<bool>,
}

#[derive(Debug, Clone)]
pub struct InvocationLogging {
    logical_id: String,
    log_group: LogGroupRef,
    role: RoleRef,
    bucket: BucketRef,
    key: KeyRef,
    s3_key_prefix: String,
    large_data_key_prefix: String,
    data_types: DataTypeFlags,
    adopt_existing: bool,
    wait_for: Vec<String>,
    handler_log_retention: Retention,
}

/// The pieces the construct added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvocationLoggingRef {
    pub configuration: ResourceRef,
    pub handler: FunctionRef,
}

impl InvocationLogging {
    pub fn new(logical_id: impl Into<String>, log_group: &LogGroupRef, role: &RoleRef, bucket: &BucketRef, key: &KeyRef) -> Self {
        InvocationLogging {
            logical_id: logical_id.into(),
            log_group: log_group.clone(),
            role: role.clone(),
            bucket: bucket.clone(),
            key: key.clone(),
            s3_key_prefix: "invocation-logs".into(),
            large_data_key_prefix: "large-payloads".into(),
            data_types: DataTypeFlags { text: true, image: true, embedding: true, video: None, audio: None },
            adopt_existing: false,
            wait_for: Vec::new(),
            handler_log_retention: Retention::days(30).unwrap_or_else(|_| unreachable!("30 is an accepted retention")),
        }
    }

    pub fn prefixes(mut self, s3_key_prefix: &str, large_data_key_prefix: &str) -> Self {
        self.s3_key_prefix = s3_key_prefix.to_owned();
        self.large_data_key_prefix = large_data_key_prefix.to_owned();
        self
    }

    pub fn data_types(mut self, flags: DataTypeFlags) -> Self {
        self.data_types = flags;
        self
    }

    pub fn adopt_existing(mut self, adopt: bool) -> Self {
        self.adopt_existing = adopt;
        self
    }

    /// Another resource (the bucket policy) that must exist before Bedrock validates delivery.
    pub fn wait_for(mut self, logical_id: &str) -> Self {
        self.wait_for.push(logical_id.to_owned());
        self
    }

    pub fn handler_log_retention(mut self, r: Retention) -> Self {
        self.handler_log_retention = r;
        self
    }

    pub fn build(self, template: &mut Template) -> Result<InvocationLoggingRef, CfnError> {
        let state_object = self.bucket.objects_arn(Sub::new().text(STATE_KEY));
        let handler = Function::python(
            format!("{}Handler", self.logical_id),
            "Writes, restores and removes the Bedrock model-invocation-logging configuration for bedrock-watch",
            HANDLER_SOURCE,
        )
        // Bedrock rejects the configuration until the delivery role's permissions propagate;
        // the handler retries for up to ~4.5 minutes and then answers CloudFormation.
        .timeout(300)
        .log_retention(self.handler_log_retention)
        .log_encryption_key(&self.key)
        .permit(Statement::on_any_resource(&BEDROCK_LOGGING_API, BEDROCK_LOGGING_CONFIGURATION))
        .permit(
            Statement::allow(IAM_PASS_ROLE, vec![self.role.arn()])
                .condition(Condition::new("StringEquals", "iam:PassedToService", "bedrock.amazonaws.com")),
        )
        .permit(Statement::allow(S3_READ_WRITE_OBJECT, vec![state_object]))
        .permit(Statement::allow(KMS_ENCRYPT_FOR_SERVICE, vec![self.key.arn()]))
        .deviate(crate::deviations::CUSTOM_RESOURCE_NO_DLQ)
        .build(template)?;

        let flag = |b: bool| Value::str(if b { "true" } else { "false" });
        let d = self.data_types;
        let mut resource = CustomResource::new(&self.logical_id, "BedrockInvocationLogging", &handler)
            .property("LogGroupName", self.log_group.name())
            .property("RoleArn", self.role.arn())
            .property("BucketName", self.bucket.name())
            .property("S3KeyPrefix", self.s3_key_prefix.as_str())
            .property("LargeDataKeyPrefix", self.large_data_key_prefix.as_str())
            .property("TextDataDeliveryEnabled", flag(d.text))
            .property("ImageDataDeliveryEnabled", flag(d.image))
            .property("EmbeddingDataDeliveryEnabled", flag(d.embedding));
        if let Some(v) = d.video {
            resource = resource.property("VideoDataDeliveryEnabled", flag(v));
        }
        if let Some(a) = d.audio {
            resource = resource.property("AudioDataDeliveryEnabled", flag(a));
        }
        resource = resource
            .property("AdoptExisting", flag(self.adopt_existing))
            .property("StateBucket", self.bucket.name())
            .property("StateKey", STATE_KEY);
        for w in &self.wait_for {
            resource = resource.depends_on(w);
        }
        let configuration = resource.build(template)?;
        Ok(InvocationLoggingRef { configuration, handler })
    }
}
