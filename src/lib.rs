//! bedrock-watch: typed builders that synthesize CloudFormation for monitoring AWS Bedrock.

pub mod cfn;
pub mod iam;
