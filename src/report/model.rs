//! The report as data: what every renderer prints and what `--format json` emits. The JSON
//! follows a versioned schema ([`SCHEMA_ID`]); a breaking change bumps the version so that
//! pipelines reading it fail loudly instead of misreading a field.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Identifies the JSON layout; `bedrock-watch report --schema` prints its JSON Schema.
pub const SCHEMA_ID: &str = "bedrock-watch/report/v1";
/// The layout of a report of linked accounts (`report --account`, `report --org`): v1 plus
/// `account` and `accounts`. A report of one stack stays v1, byte for byte; a reader that knows
/// only v1 refuses a v2 report instead of silently dropping its accounts.
pub const SCHEMA_ID_ACCOUNTS: &str = "bedrock-watch/report/v2";

/// Usage, estimated cost and performance of Bedrock in one region for one period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Report {
    /// `bedrock-watch/report/v1` for one stack's report; `bedrock-watch/report/v2` when
    /// `account` or `accounts` is set.
    pub schema: String,
    /// When the report was generated (RFC 3339, UTC).
    pub generated_at: String,
    pub region: String,
    pub stack_name: String,
    /// The invocation log group the per-user figures were read from.
    pub log_group: Option<String>,
    pub period: PeriodInfo,
    pub totals: Totals,
    pub performance: Performance,
    /// One row per model with data, sorted by model id.
    pub models: Vec<ModelRow>,
    /// One row per UTC day and model with data, sorted by day then model id.
    pub days: Vec<DayRow>,
    pub users: Users,
    pub projection: Projection,
    /// Caveats a reader must know (unpriced models, truncated results, emulator gaps).
    pub notes: Vec<String>,
    /// Usage through the bedrock-mantle endpoint (`AWS/BedrockMantle`), which no principal can
    /// be charged with; absent when the region has none in the period. Not in `totals`, which
    /// are the `AWS/Bedrock` runtime figures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mantle: Option<Mantle>,
    /// v2, `report --account`: the one linked account the figures are from (read in the
    /// monitoring account).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// v2, `report --org`: one row per linked account with Bedrock metrics, by estimated cost;
    /// `totals` sums them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accounts: Vec<AccountRow>,
}

/// Unattributed usage: the bedrock-mantle endpoint's tokens per model, priced where the model
/// maps to the price table.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Mantle {
    /// Why no principal is charged with it.
    pub unattributed_because: String,
    pub inferences: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// USD of the priced models (input and output tokens).
    pub estimated_cost_usd: f64,
    pub unpriced_models: Vec<String>,
    /// One row per model, sorted by model id.
    pub models: Vec<MantleRow>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MantleRow {
    /// The `Model` dimension of `AWS/BedrockMantle`.
    pub model: String,
    pub inferences: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Absent when the price table has no price for the model.
    pub estimated_cost_usd: Option<f64>,
}

/// One linked account's figures (`report --org`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountRow {
    pub account_id: String,
    pub invocations: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_write_tokens: u64,
    /// USD for the models with a price; the account's unpriced models are in `unpriced_models`.
    pub estimated_cost_usd: f64,
    pub unpriced_models: Vec<String>,
    pub average_latency_ms: Option<f64>,
    pub errors: u64,
    pub throttles: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PeriodInfo {
    /// Start, inclusive (RFC 3339, UTC).
    pub start: String,
    /// End, exclusive (RFC 3339, UTC).
    pub end: String,
    pub hours: f64,
}

/// Sums over every model, from the `AWS/Bedrock` metrics (Sum statistic).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Totals {
    pub invocations: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_write_tokens: u64,
    /// USD at the price table in effect; models without a price are left out and listed in
    /// `unpriced_models`.
    pub estimated_cost_usd: f64,
    pub unpriced_models: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Performance {
    /// Invocation-weighted: the sum of all latencies over their count, across models.
    pub average_latency_ms: Option<f64>,
    /// The highest per-model p99 of the period. Percentiles of different models cannot be
    /// combined exactly; this is an upper bound of the p99 over all calls.
    pub p99_latency_ms: Option<f64>,
    pub client_errors: u64,
    pub server_errors: u64,
    /// Client plus server errors.
    pub errors: u64,
    /// `errors / invocations × 100`; absent without invocations.
    pub error_rate_percent: Option<f64>,
    /// Throttled requests (counted neither as invocations nor as errors).
    pub throttles: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelRow {
    pub model_id: String,
    pub invocations: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_write_tokens: u64,
    /// Absent when the price table has no price for the model.
    pub estimated_cost_usd: Option<f64>,
    pub average_latency_ms: Option<f64>,
    pub p99_latency_ms: Option<f64>,
    pub errors: u64,
    pub throttles: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DayRow {
    /// UTC date, `YYYY-MM-DD`.
    pub date: String,
    pub model_id: String,
    pub invocations: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub estimated_cost_usd: Option<f64>,
}

/// Per-user figures from Logs Insights on the invocation log group (metrics carry no user).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Users {
    /// False when the query could not run (no log group, no permission); `note` says why.
    pub available: bool,
    pub note: Option<String>,
    /// True when Logs Insights returned its maximum of 10,000 rows: some users may be missing.
    pub truncated: bool,
    /// Users ranked by estimated cost, then tokens, then name; at most the requested top N.
    pub rows: Vec<UserRow>,
    /// How many distinct users the query found (before the top-N cut).
    pub total_users: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UserRow {
    /// The caller by the shared identity rule (SSO user name, role, IAM user or ARN).
    pub principal: String,
    pub calls: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_write_tokens: u64,
    pub estimated_cost_usd: f64,
    /// Models this user called that have no price (their tokens are not in the cost).
    pub unpriced_models: Vec<String>,
}

/// A 30-day month extrapolated linearly from the period.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Projection {
    /// How the figures were computed, in words.
    pub method: String,
    /// Length of the period the projection is based on, in days.
    pub based_on_days: f64,
    pub month_days: u32,
    pub invocations: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub estimated_cost_usd: f64,
}

impl Report {
    /// Reads a saved `--format json` report (v1 or v2), refusing other schema versions and a
    /// v1 document carrying v2's account fields.
    pub fn from_json(text: &str) -> Result<Report, String> {
        let report: Report = serde_json::from_str(text).map_err(|e| e.to_string())?;
        match report.schema.as_str() {
            SCHEMA_ID if report.account.is_some() || !report.accounts.is_empty() => Err(format!("schema `{SCHEMA_ID}` has no `account`/`accounts`; a report of linked accounts is `{SCHEMA_ID_ACCOUNTS}`")),
            SCHEMA_ID | SCHEMA_ID_ACCOUNTS => Ok(report),
            other => Err(format!("schema is `{other}`; this version of bedrock-watch reads `{SCHEMA_ID}` and `{SCHEMA_ID_ACCOUNTS}`")),
        }
    }

    /// The schema id this report's shape needs.
    pub fn schema_for(&self) -> &'static str {
        if self.account.is_some() || !self.accounts.is_empty() {
            SCHEMA_ID_ACCOUNTS
        } else {
            SCHEMA_ID
        }
    }
}

/// The JSON Schema of [`Report`]: v2, of which a v1 document is the case without accounts.
pub fn schema() -> String {
    let mut schema = schemars::schema_for!(Report);
    schema.schema.metadata().id = Some(format!("https://bedrock-watch.dev/schemas/{SCHEMA_ID_ACCOUNTS}.json"));
    serde_json::to_string_pretty(&schema).unwrap_or_default()
}
