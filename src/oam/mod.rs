//! CloudWatch cross-account observability (Observability Access Manager): the sink in the
//! central monitoring account and the link every member account creates to it, so that one set
//! of dashboards in the monitoring account reads the metrics and log groups of every account.

pub mod link;
pub mod sink;

pub use link::Link;
pub use sink::Sink;

/// What members share: metrics (the `AWS/Bedrock` namespace and ours) and log groups (the
/// invocation logs). Values as the AWS::Oam::Link `ResourceTypes` property names them.
pub const SHARED_RESOURCE_TYPES: [&str; 2] = ["AWS::CloudWatch::Metric", "AWS::Logs::LogGroup"];
