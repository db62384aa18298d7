//! The configuration's shape, defaults and JSON Schema.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// bedrock-watch configuration. Every key is optional; the defaults follow the design document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Short name used in resource names (bucket, alarms, dashboard): 1-28 characters of
    /// lowercase letters, digits and hyphens.
    pub project: String,
    /// Base name of the CloudFormation stacks; one stack per region is named `<stack_name>-<region>`.
    pub stack_name: String,
    /// Regions where Bedrock is used. The invocation-logging configuration is regional, so each
    /// gets its own stack; the first is the primary region and holds the dashboard.
    pub regions: Vec<String>,
    /// Model ids drawn one line each on the dashboard (at most 500). Without a list, graphs show
    /// every model that has data, through a `SEARCH` expression.
    pub models: Vec<String>,
    /// Tags applied to the stack and to every taggable resource (cost allocation: Project, Team,
    /// Environment, ...).
    pub tags: BTreeMap<String, String>,
    pub logging: Logging,
    pub bucket: BucketSettings,
    pub alerts: Alerts,
    pub dashboard: DashboardSettings,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            project: "bedrock-watch".into(),
            stack_name: "bedrock-watch".into(),
            regions: vec!["us-east-1".into()],
            models: Vec::new(),
            tags: BTreeMap::new(),
            logging: Logging::default(),
            bucket: BucketSettings::default(),
            alerts: Alerts::default(),
            dashboard: DashboardSettings::default(),
        }
    }
}

/// Bedrock model-invocation logging.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Logging {
    /// CloudWatch Logs group that receives invocation logs.
    pub log_group_name: String,
    /// Days to keep invocation logs in CloudWatch Logs; one of the values CloudFormation accepts.
    pub retention_days: u32,
    /// Which payloads Bedrock logs.
    pub data_types: DataTypes,
    /// The logging configuration is one per account and region. When one exists that this stack
    /// did not write, creation fails unless this is true; the existing configuration is then
    /// saved and restored when the stack is deleted.
    pub adopt_existing: bool,
    /// Key prefix of invocation logs in the bucket.
    pub s3_key_prefix: String,
    /// Key prefix of large payloads (over 100 KB, or binary) in the bucket.
    pub large_data_key_prefix: String,
}

impl Default for Logging {
    fn default() -> Self {
        Logging {
            log_group_name: "/aws/bedrock/modelinvocations".into(),
            retention_days: 30,
            data_types: DataTypes::default(),
            adopt_existing: false,
            s3_key_prefix: "invocation-logs".into(),
            large_data_key_prefix: "large-payloads".into(),
        }
    }
}

/// Payload types to log. Video and audio are sent to Bedrock only when set, because older
/// boto3 versions in Lambda runtimes reject those fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct DataTypes {
    pub text: bool,
    pub image: bool,
    pub embedding: bool,
    pub video: Option<bool>,
    pub audio: Option<bool>,
}

impl Default for DataTypes {
    fn default() -> Self {
        DataTypes { text: true, image: true, embedding: true, video: None, audio: None }
    }
}

/// The S3 bucket for invocation logs and large payloads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct BucketSettings {
    /// Bucket name. Default: `<project>-logs-<account id>-<region>`.
    pub name: Option<String>,
    /// Days after which log objects expire.
    pub expire_after_days: u32,
    /// Days after which overwritten (noncurrent) versions expire.
    pub noncurrent_expire_after_days: u32,
    /// Days after which incomplete multipart uploads are aborted.
    pub abort_incomplete_upload_after_days: u32,
}

impl Default for BucketSettings {
    fn default() -> Self {
        BucketSettings { name: None, expire_after_days: 90, noncurrent_expire_after_days: 30, abort_incomplete_upload_after_days: 7 }
    }
}

/// Alarms and where they notify.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Alerts {
    /// E-mail addresses subscribed to the alert topic (each confirms by e-mail).
    pub emails: Vec<String>,
    pub thresholds: Thresholds,
    /// Models that get their own set of the four alarms, on top of the account-wide set that
    /// covers every model (at most 100: each adds four alarms to the stack).
    pub models: Vec<String>,
}

impl Default for Alerts {
    fn default() -> Self {
        Alerts { emails: Vec::new(), thresholds: Thresholds::default(), models: Vec::new() }
    }
}

/// Alarm thresholds; the defaults are the design document's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Thresholds {
    /// Input + output tokens per hour.
    pub tokens_per_hour: u64,
    /// Client + server errors per 5 minutes.
    pub errors_per_5_minutes: u64,
    /// Invocations per hour.
    pub invocations_per_hour: u64,
    /// Average invocation latency in milliseconds over 5 minutes.
    pub average_latency_ms: u64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds { tokens_per_hour: 100_000, errors_per_5_minutes: 10, invocations_per_hour: 1_000, average_latency_ms: 10_000 }
    }
}

/// The operations dashboard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct DashboardSettings {
    pub enabled: bool,
    /// Dashboard name (letters, digits, - and _).
    pub name: String,
    /// Rows in the recent-invocations table.
    pub recent_invocations: u32,
}

impl Default for DashboardSettings {
    fn default() -> Self {
        DashboardSettings { enabled: true, name: "BedrockUsageMonitoring".into(), recent_invocations: 20 }
    }
}

impl Config {
    /// The primary region: the first listed.
    pub fn primary_region(&self) -> &str {
        self.regions.first().map_or("us-east-1", String::as_str)
    }

    /// Stack name for one region.
    pub fn stack_name_for(&self, region: &str) -> String {
        format!("{}-{region}", self.stack_name)
    }
}

/// The JSON Schema of the configuration file.
pub fn schema() -> String {
    let schema = schemars::schema_for!(Config);
    serde_json::to_string_pretty(&schema).unwrap_or_default()
}
