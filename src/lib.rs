//! bedrock-watch: typed builders that synthesize CloudFormation for monitoring AWS Bedrock.

pub mod cfn;
pub mod iam;
pub mod kms;
pub mod logs;
pub mod s3;
pub mod sns;
pub mod cloudwatch;
pub mod cloudformation;
pub mod lambda;
pub mod config;
pub mod bedrock;
pub mod monitoring;
pub mod checks;
pub mod cli;
pub mod synth;
pub mod budgets;
pub mod cloudtrail;
pub mod dynamodb;
pub mod scheduler;
pub mod quotas;
pub mod aws;
pub mod preview;
pub mod deploy;
pub mod report;
pub mod console;
