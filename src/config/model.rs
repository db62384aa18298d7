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
    /// The stakeholder dashboards besides the operations one.
    pub dashboards: StakeholderDashboards,
    pub attribution: Attribution,
    pub pricing: PricingSettings,
    pub cost: CostSettings,
    pub cloudtrail: CloudTrailSettings,
    pub quotas: Quotas,
    pub deploy: DeploySettings,
    /// Scheduled reports (off unless `reports.schedule` is set).
    pub reports: super::reports::Reports,
    /// Billing data: the optional CUR 2.0 export (`billing.cur_export`).
    pub billing: super::billing::Billing,
    /// Organization-wide rollout through CloudFormation StackSets (`bedrock-watch org ...`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization: Option<super::organization::Organization>,
    /// Who may use Bedrock: Identity Center permission sets and group assignments, per-tool users.
    pub access: super::access::Access,
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
            dashboards: StakeholderDashboards::default(),
            attribution: Attribution::default(),
            pricing: PricingSettings::default(),
            cost: CostSettings::default(),
            cloudtrail: CloudTrailSettings::default(),
            quotas: Quotas::default(),
            deploy: DeploySettings::default(),
            reports: super::reports::Reports::default(),
            billing: super::billing::Billing::default(),
            organization: None,
            access: super::access::Access::default(),
        }
    }
}

/// How `deploy` hands templates to CloudFormation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct DeploySettings {
    /// An existing S3 bucket (in the stack's region) for templates over the 51,200 bytes
    /// CloudFormation accepts inline; `deploy --staging-bucket` overrides it.
    pub staging_bucket: Option<String>,
    /// Key prefix of staged templates in that bucket.
    pub staging_prefix: String,
}

impl Default for DeploySettings {
    fn default() -> Self {
        DeploySettings { staging_bucket: None, staging_prefix: "bedrock-watch/templates".into() }
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
    /// E-mails per severity. When any is set, critical, warning and info alarms notify three
    /// separate topics (`alerts.emails` are subscribed to all three).
    pub routing: Routing,
    /// A composite alarm (critical) that fires only when errors coincide with high latency or
    /// throttling.
    pub composite: bool,
}

impl Default for Alerts {
    fn default() -> Self {
        Alerts { emails: Vec::new(), thresholds: Thresholds::default(), models: Vec::new(), routing: Routing::default(), composite: true }
    }
}

/// E-mail addresses per alarm severity.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Routing {
    pub critical: Vec<String>,
    pub warning: Vec<String>,
    pub info: Vec<String>,
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
    /// Throttled share of requests, percent, in 2 of 3 five-minute periods.
    pub throttle_rate_percent: f64,
    /// Invocation-log delivery failures per 5 minutes tolerated (default 0: any failure alarms).
    pub log_delivery_failures: u64,
    /// Width of the token-usage anomaly band, in standard deviations.
    pub token_anomaly_band: f64,
    /// Hourly estimated cost, percent of the trailing 24-hour average, that counts as a spike
    /// (needs `cost.models`).
    pub cost_spike_percent: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            tokens_per_hour: 100_000,
            errors_per_5_minutes: 10,
            invocations_per_hour: 1_000,
            average_latency_ms: 10_000,
            throttle_rate_percent: 5.0,
            log_delivery_failures: 0,
            token_anomaly_band: 3.0,
            cost_spike_percent: 200.0,
        }
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

/// The management, security and cost dashboards (each in the primary region).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct StakeholderDashboards {
    pub management: ManagementDashboard,
    pub security: SecurityDashboard,
    pub cost: CostDashboard,
}

/// Usage trends, active users, SLA and spend for management.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ManagementDashboard {
    pub enabled: bool,
    pub name: String,
    /// Success-rate target, percent of invocations without client or server error.
    pub sla_success_percent: f64,
    /// Average-latency target in milliseconds.
    pub latency_target_ms: u64,
}

impl Default for ManagementDashboard {
    fn default() -> Self {
        ManagementDashboard { enabled: true, name: "BedrockManagement".into(), sla_success_percent: 99.5, latency_target_ms: 5_000 }
    }
}

/// Errors, throttles, callers and unexpected identities for security.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct SecurityDashboard {
    pub enabled: bool,
    pub name: String,
    /// Substrings of `identity.arn` that expected callers have (default: IAM Identity Center
    /// sessions); calls from other identities are listed.
    pub expected_identity_patterns: Vec<String>,
}

impl Default for SecurityDashboard {
    fn default() -> Self {
        SecurityDashboard { enabled: true, name: "BedrockSecurity".into(), expected_identity_patterns: vec!["assumed-role/AWSReservedSSO_".into()] }
    }
}

/// Estimated cost and usage for finance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct CostDashboard {
    pub enabled: bool,
    pub name: String,
}

impl Default for CostDashboard {
    fn default() -> Self {
        CostDashboard { enabled: true, name: "BedrockCostAndUsage".into() }
    }
}

/// Per-user attribution from the invocation logs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Attribution {
    /// Contributor Insights rules and saved Logs Insights queries per caller.
    pub enabled: bool,
    /// For roles other than IAM Identity Center ones, count `role/session` as the person
    /// (when each session name is a person, e.g. set by your identity broker).
    pub sessions_are_people: bool,
    /// `requestMetadata` keys callers set (team, project, application); a saved query groups
    /// calls by them. Letters, digits, `_` and `-`; at most 10.
    pub request_metadata_keys: Vec<String>,
    /// Caller ARNs (`identity.arn`) that get per-caller token metrics from a metric filter.
    /// Bounded on purpose (at most 20): a filter is disabled at 1,000 distinct dimension values
    /// per hour; Contributor Insights covers everyone else.
    pub tracked_principals: Vec<String>,
}

impl Default for Attribution {
    fn default() -> Self {
        Attribution { enabled: true, sessions_are_people: false, request_metadata_keys: Vec::new(), tracked_principals: Vec::new() }
    }
}

/// Prices in USD per 1,000 tokens, on top of the built-in table.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct PricingSettings {
    /// Model id → price; adds custom or fine-tuned models, replaces built-in prices.
    pub models: BTreeMap<String, crate::bedrock::pricing::Price>,
    /// Region → model id → price, for prices that differ by region.
    pub regions: BTreeMap<String, BTreeMap<String, crate::bedrock::pricing::Price>>,
    /// Negotiated discount applied to every price, 0-100.
    pub discount_percent: f64,
    /// `prices --check` fails on any price whose `as_of` is older than this many days (or has
    /// none). Default 180.
    pub max_age_days: Option<u32>,
    /// Application inference profile (its ARN, or the id at its end) → the model id it is priced
    /// as. Profiles not named here are resolved by `report` with GetInferenceProfile.
    pub inference_profiles: BTreeMap<String, String>,
    /// Price multipliers of the Flex, Priority and Reserved service tiers on Standard prices.
    pub service_tiers: crate::bedrock::service_tier::TierSettings,
}

impl PricingSettings {
    pub fn table(&self) -> crate::bedrock::pricing::PriceTable<'_> {
        crate::bedrock::pricing::PriceTable::new(&self.models, &self.regions, self.discount_percent)
            .with_profiles(&self.inference_profiles)
            .with_tiers(self.service_tiers.multipliers())
    }

    /// Default of `max_age_days`.
    pub const DEFAULT_MAX_AGE_DAYS: u32 = 180;

    pub fn max_age_days(&self) -> u32 {
        self.max_age_days.unwrap_or(Self::DEFAULT_MAX_AGE_DAYS)
    }
}

/// Estimated-cost alarms and the AWS Budgets budget.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct CostSettings {
    /// Models the cost alarms price (at most 5: an alarm reads at most 10 metrics, and each model
    /// needs its input and output tokens).
    pub models: Vec<String>,
    /// Alarm when the estimated cost of one hour exceeds this many USD.
    pub hourly_limit_usd: Option<f64>,
    /// Alarm when the estimated cost of one day exceeds this many USD.
    pub daily_limit_usd: Option<f64>,
    /// An AWS Budgets budget on Amazon Bedrock spend: notifies at 80% actual and 100% forecast.
    pub monthly_budget_usd: Option<f64>,
}

/// CloudTrail for the Bedrock management events: who called, when, which model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CloudTrailMode {
    /// Use the account's existing CloudTrail setup.
    #[default]
    None,
    /// A multi-region trail with log-file validation into its own encrypted, retained bucket.
    Trail,
    /// A CloudTrail Lake event data store, queryable with SQL.
    Lake,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct CloudTrailSettings {
    pub mode: CloudTrailMode,
    /// `trail`: an existing bucket to write to (its policy must allow CloudTrail); default: a new bucket.
    pub bucket: Option<String>,
    /// `trail`: key prefix in the bucket.
    pub prefix: String,
    /// `trail`: also deliver to a CloudWatch Logs group (`/aws/cloudtrail/<stack>`).
    pub cloudwatch_logs: bool,
    /// `lake`: days the event data store keeps events (7-3653); `trail`: retention of the log group.
    pub retention_days: u32,
    /// `trail` with a new bucket: days after which trail log files expire (1-36500). A year by
    /// default, which covers most audit look-backs; raise it where a regulation asks for more.
    pub expire_after_days: u32,
    /// `trail` with a new bucket: days after which overwritten or deleted (noncurrent) versions
    /// expire (1-36500).
    pub noncurrent_expire_after_days: u32,
}

impl Default for CloudTrailSettings {
    fn default() -> Self {
        CloudTrailSettings {
            mode: CloudTrailMode::None,
            bucket: None,
            prefix: "cloudtrail".into(),
            cloudwatch_logs: false,
            retention_days: 90,
            expire_after_days: 365,
            noncurrent_expire_after_days: 30,
        }
    }
}

/// Per-user and per-team quotas: counted from the invocation logs in near real time, with a
/// warning, then a notification (`alert`) or a block (`block`), reset each period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Quotas {
    pub enabled: bool,
    pub mode: QuotaMode,
    /// What limits count: tokens (input + output + cache) or estimated USD (from the prices).
    pub unit: QuotaUnit,
    /// Default per-principal limit per day (in `unit`); unset: none.
    pub daily_limit: Option<f64>,
    /// Default per-principal limit per month (in `unit`); unset: none.
    pub monthly_limit: Option<f64>,
    /// Warn once per principal and period at this share of a limit, percent.
    pub warning_percent: f64,
    /// Per-principal limits (principal as the identity rule names it).
    pub overrides: BTreeMap<String, QuotaOverride>,
    /// Teams with a monthly limit; membership from the config.
    pub teams: BTreeMap<String, Team>,
    /// Principals never blocked automatically (administrators, break-glass roles).
    pub protected: Vec<String>,
    /// Optional e-mail per principal, named in warnings.
    pub emails: BTreeMap<String, String>,
    /// IANA time zone in which days and months begin (the usage-control design uses Central
    /// European Time).
    pub time_zone: String,
    /// IAM path the blockable users and roles live under; the functions may only edit those.
    pub managed_path: String,
    /// Tag (key=value) a user or role must carry to be blockable; the IAM statement requires it.
    pub managed_tag: String,
    /// Block IAM Identity Center users through their permission set's inline policy.
    pub identity_center: Option<IdentityCenter>,
}

impl Default for Quotas {
    fn default() -> Self {
        Quotas {
            enabled: false,
            mode: QuotaMode::Alert,
            unit: QuotaUnit::Tokens,
            daily_limit: Some(1_000_000.0),
            monthly_limit: None,
            warning_percent: 80.0,
            overrides: BTreeMap::new(),
            teams: BTreeMap::new(),
            protected: Vec::new(),
            emails: BTreeMap::new(),
            time_zone: "Europe/Berlin".into(),
            managed_path: "/".into(),
            managed_tag: "bedrock-watch-quota=managed".into(),
            identity_center: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum QuotaMode {
    /// Notify only.
    #[default]
    Alert,
    /// Attach a deny policy until the period ends.
    Block,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum QuotaUnit {
    #[default]
    Tokens,
    Usd,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct QuotaOverride {
    pub daily_limit: Option<f64>,
    pub monthly_limit: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Team {
    pub members: Vec<String>,
    pub monthly_limit: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentityCenter {
    /// `arn:aws:sso:::instance/ssoins-...`; may be left out when `permission_sets` names
    /// permission sets of `access` (the instance is then `access.identity_center_instance_arn`).
    #[serde(default)]
    pub instance_arn: String,
    /// Permission set name (as in `AWSReservedSSO_<name>_...`) → its ARN, for permission sets
    /// managed elsewhere.
    #[serde(default)]
    pub permission_set_arns: BTreeMap<String, String>,
    /// Names of permission sets this stack creates (`access.developer.name`,
    /// `access.admin.name`): their ARNs come from the stack, no copying of ARNs.
    #[serde(default)]
    pub permission_sets: Vec<String>,
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
