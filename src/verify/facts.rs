//! What `verify` saw, as plain data: the gathering layer fills it from AWS, unit tests from
//! recorded responses. `Observed::Unavailable` keeps the reason an API could not be read
//! (access denied, not offered by an emulator), so a check can say so instead of guessing.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Observed<T> {
    Seen(T),
    Unavailable(String),
}

impl<T> Observed<T> {
    pub fn as_ref(&self) -> Observed<&T> {
        match self {
            Observed::Seen(t) => Observed::Seen(t),
            Observed::Unavailable(r) => Observed::Unavailable(r.clone()),
        }
    }
}

/// What this stack expects the logging configuration to name (its physical resources).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct StackResources {
    pub log_group: String,
    pub bucket: Option<String>,
    /// The delivery role's name (CloudFormation's physical id of a role is its name).
    pub role_name: Option<String>,
    /// `cloudtrail.mode: lake`: the event data store's ARN (its physical id), from the primary
    /// region's stack, which alone has it.
    #[serde(default)]
    pub event_data_store: Option<String>,
}

/// The region's invocation-logging configuration (`GetModelInvocationLoggingConfiguration`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct LoggingConfig {
    pub log_group: Option<String>,
    pub role_arn: Option<String>,
    pub bucket: Option<String>,
}

/// One invocation-log record, reduced to what the checks read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogRecord {
    /// Milliseconds since the epoch (the event's timestamp in CloudWatch Logs).
    pub timestamp_ms: i64,
    pub caller: String,
    pub model: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trail {
    pub name: String,
    pub multi_region: bool,
    /// `GetTrailStatus.IsLogging`; None when it could not be read.
    pub logging: Option<bool>,
}

/// A Bedrock management event from CloudTrail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrailEvent {
    pub event_name: String,
    /// `userIdentity.arn`.
    pub caller: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostTag {
    pub key: String,
    /// `Active`, `Inactive`.
    pub status: String,
}

/// An IAM user with what the prohibited-pattern check needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IamUser {
    pub name: String,
    pub arn: String,
    pub active_access_keys: u32,
    /// An Allow statement of its inline or attached policies grants a Bedrock invoke action.
    pub bedrock_allowed: bool,
}

/// A Bedrock API key (IAM service-specific credential for `bedrock.amazonaws.com`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiKey {
    pub user: String,
    pub id: String,
    pub status: String,
    /// RFC 3339.
    pub created: String,
    pub expires: Option<String>,
}

/// Everything `verify` looks at for one region.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Facts {
    pub region: String,
    /// Now, in milliseconds since the epoch.
    pub now_ms: i64,
    pub window_minutes: u32,
    pub caller_arn: String,
    pub stack: StackResources,
    /// None: no configuration in the region.
    pub logging: Observed<Option<LoggingConfig>>,
    /// Sum of the delivery-failure metrics over the window; None: no datapoints.
    pub delivery_failures: Observed<Option<f64>>,
    pub records: Observed<Vec<LogRecord>>,
    pub trails: Observed<Vec<Trail>>,
    /// From LookupEvents, or with `cloudtrail.mode: lake` from a query of the event data store.
    pub trail_events: Observed<Vec<TrailEvent>>,
    /// Region → model ids with `AWS/Bedrock` token metrics.
    pub token_metric_models: Vec<(String, Observed<Vec<String>>)>,
    pub cost_tags: Observed<Vec<CostTag>>,
    pub users: Observed<Vec<IamUser>>,
    pub api_keys: Observed<Vec<ApiKey>>,
}
