//! Bedrock builders. CloudFormation has no resource type for model-invocation logging
//! (aws-cdk issue 31478), so it is a custom resource backed by an inline Python handler.

pub mod identity;
pub mod inference_profile;
pub mod log_usage;
pub mod log_schema;
pub mod logging_config;
pub mod pricing;
pub mod service_tier;

pub use logging_config::{DataTypeFlags, InvocationLogging};
