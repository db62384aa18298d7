//! A reconciliation as data: what the renderers print and what `--format json` emits, in a
//! versioned schema ([`SCHEMA_ID`]) like the report's, so that a pipeline reading it fails
//! loudly on a layout it does not know.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::report::model::PeriodInfo;

/// Identifies the JSON layout; `report --reconcile --schema` prints its JSON Schema.
pub const SCHEMA_ID: &str = "bedrock-watch/reconcile/v1";

/// Billed (CUR 2.0 export) against estimated (invocation logs × price table) Bedrock cost per
/// principal and model, for one region and one closed period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Reconciliation {
    /// Always `bedrock-watch/reconcile/v1` for this layout.
    pub schema: String,
    /// When it was generated (RFC 3339, UTC).
    pub generated_at: String,
    pub region: String,
    pub stack_name: String,
    /// The invocation log group the estimate was read from.
    pub log_group: String,
    pub period: PeriodInfo,
    pub export: ExportInfo,
    /// A row drifts when |difference| exceeds this percentage of the billed cost...
    pub drift_threshold_percent: f64,
    /// ...and is at least this many USD (sub-cent differences are rounding, not drift).
    pub min_difference_usd: f64,
    pub totals: Totals,
    /// One row per principal and model, sorted by principal then model.
    pub rows: Vec<Row>,
    /// Lines of the export that were read but not compared, by kind, with their cost.
    pub not_compared: Vec<NotCompared>,
    /// Caveats a reader must know (truncated logs, a billing period AWS may still revise).
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportInfo {
    pub bucket: String,
    pub export_name: String,
    /// CUR 2.0 billing periods read (`YYYY-MM`).
    pub billing_periods: Vec<String>,
    /// Data files read (from each billing period's manifest).
    pub data_files: usize,
    /// Lines in those files (every service).
    pub lines_read: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Totals {
    pub billed_usd: f64,
    pub estimated_usd: f64,
    /// `estimated - billed`.
    pub difference_usd: f64,
    /// `difference / billed × 100`; absent when nothing was billed.
    pub drift_percent: Option<f64>,
    pub rows: usize,
    /// Rows over the threshold: any makes the command exit 1.
    pub drifting_rows: usize,
}

/// Why a row drifts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The model the logs show has no price: its tokens are not in the estimate.
    MissingPrice,
    /// The price used is older than `pricing.max_age_days` at the end of the period (or undated).
    StalePrice,
    /// Billed usage the invocation logs do not have: bedrock-mantle calls, calls in another
    /// region or while logging was off, usage the bill names no principal for.
    UntrackedTraffic,
    /// None of the above explains it: see `detail`.
    Unexplained,
}

impl Reason {
    pub fn label(self) -> &'static str {
        match self {
            Reason::MissingPrice => "missing price",
            Reason::StalePrice => "stale price",
            Reason::UntrackedTraffic => "untracked traffic",
            Reason::Unexplained => "unexplained",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Row {
    /// The caller by the shared identity rule (SSO user name, role, IAM user or ARN), applied
    /// to the bill's `line_item_iam_principal` and to the logs' `identity.arn` alike.
    pub principal: String,
    /// The model: the logged model id(s), else the model the bill names.
    pub model: String,
    /// The bill's usage-type model names behind the row (`Claude3.5Haiku`, ...).
    pub billed_usage_names: Vec<String>,
    /// True for bedrock-mantle usage (`*-mantle-*-tokens-*`), which invocation logging does not capture.
    pub mantle: bool,
    pub billed_usd: f64,
    /// Calls and tokens in the invocation logs.
    pub logged_calls: u64,
    pub logged_input_tokens: u64,
    pub logged_output_tokens: u64,
    pub logged_cache_read_tokens: u64,
    pub logged_cache_write_tokens: u64,
    /// The logged tokens at the price table in effect (unpriced models contribute nothing).
    pub estimated_usd: f64,
    /// Logged models without a price.
    pub unpriced_models: Vec<String>,
    /// `estimated - billed`.
    pub difference_usd: f64,
    /// `difference / billed × 100`; absent when nothing was billed.
    pub drift_percent: Option<f64>,
    /// Over the threshold.
    pub drifting: bool,
    /// Why it drifts (only on drifting rows).
    pub reason: Option<Reason>,
    pub detail: Option<String>,
}

/// Lines of the export left out of the comparison, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NotCompared {
    pub what: String,
    pub lines: usize,
    pub cost_usd: f64,
}

impl Reconciliation {
    /// Reads a saved `--format json` reconciliation, refusing other schema versions.
    pub fn from_json(text: &str) -> Result<Reconciliation, String> {
        let r: Reconciliation = serde_json::from_str(text).map_err(|e| e.to_string())?;
        if r.schema != SCHEMA_ID {
            return Err(format!("schema is `{}`; this version of bedrock-watch reads `{SCHEMA_ID}`", r.schema));
        }
        Ok(r)
    }

    /// True when any row is over the threshold (the command then exits 1).
    pub fn drifts(&self) -> bool {
        self.rows.iter().any(|r| r.drifting)
    }
}

/// The JSON Schema of [`Reconciliation`].
pub fn schema() -> String {
    let mut schema = schemars::schema_for!(Reconciliation);
    schema.schema.metadata().id = Some(format!("https://bedrock-watch.dev/schemas/{SCHEMA_ID}.json"));
    serde_json::to_string_pretty(&schema).unwrap_or_default()
}
