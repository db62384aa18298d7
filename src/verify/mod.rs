//! `bedrock-watch verify`: runbook sections 8 and 11 as one command. Proof that traceability
//! works on a deployed stack: who is calling, that logs arrive where this stack expects them,
//! that CloudTrail and the metrics see the calls, that every model has a price, and that none
//! of the prohibited patterns of runbook 3.3 is in use.
//!
//! Split in two so the judgement is testable without AWS: [`gather`] asks AWS and records what
//! it saw as plain [`facts::Facts`] (a call that fails is recorded as unavailable, not fatal),
//! and [`checks`] turns facts into PASS/WARN/FAIL lines with the exact fix, as pure functions.

pub mod checks;
pub mod facts;
pub mod follow;
#[cfg(feature = "aws")]
pub mod gather;
pub mod invoke;
pub mod lake;
pub mod render;

use serde::Serialize;

/// An SDK error's text up to its first line's useful part: the full chain (raw response, headers)
/// does not belong in a table cell.
pub(crate) fn short(text: &str) -> String {
    let cut = text.find(" (ServiceError").or_else(|| text.find(": unhandled error")).unwrap_or(text.len()).min(200);
    let mut end = cut;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

/// Version of the `--format json` document; bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    Pass,
    Warn,
    Fail,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Warn => "WARN",
            Status::Fail => "FAIL",
        }
    }
}

/// One line of the verification.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckResult {
    /// Stable id for CI (`identity`, `logging`, ...).
    pub id: &'static str,
    pub status: Status,
    /// What was seen, in one sentence.
    pub saw: String,
    /// The exact fix, on WARN and FAIL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    /// `--invoke` signals that arrived: seconds from the call to the poll that saw them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delay_seconds: Option<u64>,
}

impl CheckResult {
    pub fn pass(id: &'static str, saw: impl Into<String>) -> Self {
        CheckResult { id, status: Status::Pass, saw: saw.into(), fix: None, delay_seconds: None }
    }

    pub fn warn(id: &'static str, saw: impl Into<String>, fix: impl Into<String>) -> Self {
        CheckResult { id, status: Status::Warn, saw: saw.into(), fix: Some(fix.into()), delay_seconds: None }
    }

    pub fn fail(id: &'static str, saw: impl Into<String>, fix: impl Into<String>) -> Self {
        CheckResult { id, status: Status::Fail, saw: saw.into(), fix: Some(fix.into()), delay_seconds: None }
    }
}

/// The whole verification of one region's stack.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verification {
    pub schema_version: u32,
    pub stack: String,
    pub region: String,
    pub window_minutes: u32,
    /// `--invoke MODEL`: the call that was made and how long the follow-up waited.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invoke: Option<InvokeSummary>,
    pub results: Vec<CheckResult>,
}

/// The one call of `--invoke` (its result lines are in [`Verification::results`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InvokeSummary {
    pub model: String,
    /// The request id AWS returned; None when the call failed before an answer.
    pub request_id: Option<String>,
    pub input_tokens: Option<u64>,
    pub output_tokens: Option<u64>,
    pub deadline_seconds: u64,
    pub poll_seconds: u64,
}

impl Verification {
    /// The worst status: FAIL makes the command exit 1.
    pub fn worst(&self) -> Status {
        self.results.iter().map(|r| r.status).max().unwrap_or(Status::Pass)
    }
}

/// A failure that stops `verify` before any check ran (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("stack `{stack}` does not exist in {region}")]
    StackMissing { stack: String, region: String },
    #[error("{0}")]
    Aws(#[from] crate::aws::AwsError),
}

impl VerifyError {
    pub fn help(&self) -> String {
        match self {
            VerifyError::StackMissing { .. } => "deploy it first (`bedrock-watch deploy --config FILE`), or pass the --region/--profile it is deployed with".into(),
            VerifyError::Aws(e) => e.help(),
        }
    }
}

#[cfg(test)]
mod tests;
