//! CloudFormation's own resource types: custom resources backed by a Lambda function.

pub mod custom_resource;

pub use custom_resource::CustomResource;
