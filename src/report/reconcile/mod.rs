//! `bedrock-watch report --reconcile`: the cost the invocation logs estimate, against the cost
//! AWS billed, per principal and model, for a closed period (issue 15, part 2).
//!
//! - Billed: the CUR 2.0 export that `billing.cur_export` creates (with the calling IAM
//!   principal), read from its bucket: [`cur`] reads the files, [`billed`] keeps Bedrock token
//!   lines of the region, account and period and sums them per principal and model.
//! - Estimated: the per-principal, per-model token sums of `report`'s Logs Insights query,
//!   priced with the same price table (`report::insights`).
//! - [`compare`] puts them side by side and flags drift over a threshold with a reason.
//!
//! Only a closed period is compared ([`period`]): billing data arrives 24-48 hours late, so an
//! open period would drift by construction. Everything but `fetch` is pure.

pub mod billed;
pub mod compare;
#[cfg(feature = "aws")]
pub mod cur;
#[cfg(feature = "aws")]
pub mod fetch;
pub mod model;
pub mod period;
pub mod render;

use crate::aws::AwsError;
use crate::bedrock::pricing::PriceTable;
use crate::report::insights::PrincipalModelSums;
use crate::report::period::{rfc3339, utc_date, Period};
use crate::report::ReportError;

pub use model::{Reconciliation, SCHEMA_ID};

/// Differences below this many USD are not drift by default: a CUR line is rounded, and a
/// cheap model's month can cost fractions of a cent.
pub const DEFAULT_MIN_DIFFERENCE_USD: f64 = 0.01;

/// Everything that can stop a reconciliation, each with a `help` line.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error("{0}")]
    Period(String),
    #[error("the period ends {end}{}: its billing data is complete from {ready_at} (CUR 2.0 data arrives 24-48 hours after the usage)", if *open { " and is still open" } else { "" })]
    TooRecent { end: String, ready_at: String, open: bool },
    #[error("billing.cur_export.enabled is false in the configuration: there is no billing export to reconcile with")]
    NotEnabled,
    #[error("stack `{stack}` in us-east-1 has no CurExportBucket resource (the billing export's bucket)")]
    NoExportBucket { stack: String },
    #[error("the export has not delivered billing period {billing_period}: s3://{bucket}/{key} does not exist")]
    NotDelivered { bucket: String, key: String, billing_period: String },
    #[error("s3://{bucket}/{key} is not a CUR 2.0 export file bedrock-watch can read: {message}")]
    BadExport { bucket: String, key: String, message: String },
    #[error("the export bills in {currencies}; the price table is in USD")]
    Currency { currencies: String },
    #[error(transparent)]
    Report(ReportError),
    #[error(transparent)]
    Aws(AwsError),
}

impl ReconcileError {
    pub fn help(&self) -> String {
        match self {
            ReconcileError::Period(_) => "reconcile a closed period: --month YYYY-MM, or --since/--until (RFC 3339) ending at least 48 hours ago".into(),
            ReconcileError::TooRecent { ready_at, .. } => format!("run it again after {ready_at}, or pick an earlier period with --month YYYY-MM"),
            ReconcileError::NotEnabled => "set billing.cur_export.enabled: true (README, Billing), deploy the us-east-1 stack, and reconcile periods after the first delivery".into(),
            ReconcileError::NoExportBucket { .. } => "deploy the us-east-1 stack with billing.cur_export.enabled: true (`bedrock-watch deploy`)".into(),
            ReconcileError::NotDelivered { .. } => {
                "Data Exports delivers within 24 hours of the export's creation and refreshes at least daily; IAM principal data covers only usage after the export existed: pick a later --month, or wait".into()
            }
            ReconcileError::BadExport { .. } => "check billing.cur_export.export_name (the export writes under cur2/<export_name>/) and that the export is the one bedrock-watch created (CSV, GZIP, with IAM principal data)".into(),
            ReconcileError::Currency { .. } => "the reconciliation compares USD prices with USD bills; an account billed in another currency cannot be reconciled".into(),
            ReconcileError::Report(e) => e.help(),
            ReconcileError::Aws(AwsError::AccessDenied { .. }) => {
                "report --reconcile needs report's permissions plus cloudformation:DescribeStackResources on the us-east-1 stack and s3:GetObject on the export bucket's cur2/<export_name>/ objects (README, Billing)".into()
            }
            ReconcileError::Aws(e) => e.help(),
        }
    }
}

/// What the caller asks for.
#[derive(Debug, Clone)]
pub struct Request {
    /// A closed period ([`period::closed`]).
    pub period: Period,
    pub drift_threshold_percent: f64,
    pub min_difference_usd: f64,
    /// When it is generated (epoch seconds): part of the output, so tests fix it.
    pub now: i64,
}

/// Where the two sides came from, and what was read.
#[derive(Debug, Clone)]
pub struct Sources<'a> {
    pub region: &'a str,
    pub stack_name: &'a str,
    pub log_group: &'a str,
    pub bucket: &'a str,
    pub export_name: &'a str,
    pub data_files: usize,
    pub billed: &'a billed::Billed,
    pub logged: &'a PrincipalModelSums,
    /// Logs Insights returned its maximum of rows: some usage may be missing.
    pub logs_truncated: bool,
    /// Query rows without a `principal` field.
    pub ignored_log_rows: usize,
}

/// The day prices are judged against: the last day of the period.
pub fn price_date(p: &Period) -> jiff::civil::Date {
    utc_date(p.end - 1).parse().unwrap_or(crate::bedrock::pricing::TABLE_DATE)
}

/// Builds the reconciliation from both sides, without I/O.
pub fn assemble(src: &Sources, req: &Request, prices: &PriceTable, max_age_days: u32) -> Result<Reconciliation, ReconcileError> {
    let foreign: Vec<&str> = src.billed.currencies.iter().map(String::as_str).filter(|c| *c != "USD").collect();
    if !foreign.is_empty() {
        return Err(ReconcileError::Currency { currencies: foreign.join(", ") });
    }
    let settings = compare::Settings {
        region: src.region.to_owned(),
        drift_threshold_percent: req.drift_threshold_percent,
        min_difference_usd: req.min_difference_usd,
        price_date: price_date(&req.period),
        max_age_days,
    };
    let rows = compare::rows(src.billed, src.logged, prices, &settings);
    let totals = compare::totals(&rows);
    let mut notes = Vec::new();
    let final_after = period::may_change_until(&req.period);
    if req.now < final_after {
        notes.push(format!("AWS may still revise this billing period until {}: run again after it for final figures", rfc3339(final_after)));
    }
    if src.logs_truncated {
        notes.push(format!("Logs Insights returned its maximum of {} rows: some logged usage may be missing; reconcile a shorter period (--since/--until)", crate::report::insights::MAX_ROWS));
    }
    if src.ignored_log_rows > 0 {
        notes.push(format!("{} Logs Insights result row(s) had no `principal` field and were ignored", src.ignored_log_rows));
    }
    if src.billed.groups.is_empty() {
        notes.push(format!("the export has no Bedrock token usage in {} for the period", src.region));
    }
    let not_compared = src.billed.not_compared.iter().map(|(what, (lines, cost))| model::NotCompared { what: (*what).to_owned(), lines: *lines, cost_usd: *cost }).collect();
    Ok(Reconciliation {
        schema: SCHEMA_ID.to_owned(),
        generated_at: rfc3339(req.now),
        region: src.region.to_owned(),
        stack_name: src.stack_name.to_owned(),
        log_group: src.log_group.to_owned(),
        period: crate::report::model::PeriodInfo { start: rfc3339(req.period.start), end: rfc3339(req.period.end), hours: req.period.hours() },
        export: model::ExportInfo {
            bucket: src.bucket.to_owned(),
            export_name: src.export_name.to_owned(),
            billing_periods: period::billing_periods(&req.period),
            data_files: src.data_files,
            lines_read: src.billed.lines_read,
        },
        drift_threshold_percent: req.drift_threshold_percent,
        min_difference_usd: req.min_difference_usd,
        totals,
        rows,
        not_compared,
        notes,
    })
}

#[cfg(test)]
mod tests;
