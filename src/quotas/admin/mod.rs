//! The operator side of quotas: what `bedrock-watch quota ...` does to the deployed tables and
//! principals.
//!
//! The accounting and reset functions (Python, `src/quotas/quota_core.py`) and this module act
//! on the same DynamoDB items and the same IAM documents, so that either side can lift a block
//! the other made. **The two must agree**: the key prefixes, the block policies and session slot
//! tags, the Sid scheme and
//! the item attributes below mirror quota_core.py (its module docstring describes the storage),
//! and `tests/data/quota-policies.json` is a fixture both sides are tested against. Change one
//! side only together with the other.

pub mod items;
/// The AWS side (DynamoDB, IAM, IAM Identity Center, STS, SNS): feature `aws`.
#[cfg(feature = "aws")]
pub mod ops;
pub mod policy;
pub mod status;
pub mod time;
/// The AWS side of `quota status --untracked` and `quota track`: feature `aws`.
#[cfg(feature = "aws")]
pub mod tracking;
pub mod untracked;

#[cfg(test)]
mod fixture_tests;

/// Logical id of the stack-owned managed policy that blocks an IAM user or a whole role: an
/// unconditioned deny of [`BLOCKED_ACTIONS`] (`CONFIG["block_policy_arn"]`).
pub const BLOCK_POLICY_ID: &str = "QuotaBlockPolicy";
/// Logical id of the managed policy that blocks single sessions of a shared role: a deny
/// conditioned on `aws:userid` matching a session named in one of the role's slot tags
/// (`CONFIG["session_block_policy_arn"]`).
pub const SESSION_BLOCK_POLICY_ID: &str = "QuotaSessionBlockPolicy";
/// Sid of the block policy's statement (quota_core wrote it into inline policies before).
pub const USER_BLOCK_SID: &str = "BedrockWatchQuotaBlock";
/// Sid of the session block policy's statement.
pub const SESSION_BLOCK_SID: &str = "BedrockWatchQuotaSessionBlock";
/// Role tags `<prefix>0` .. `<prefix>{SESSION_SLOTS-1}` hold the names of the role's blocked
/// sessions (`CONFIG["session_tag_keys"]`). Ten of a role's 50 tags.
pub const SESSION_TAG_PREFIX: &str = "bedrock-watch-quota-block-";
pub const SESSION_SLOTS: usize = 10;
/// What an unset slot tag resolves to in the session policy: parentheses are not allowed in
/// role session names, so `*:(none)` matches no caller.
pub const NO_SESSION: &str = "(none)";

/// The slot tag keys, in the order free slots are taken.
pub fn session_tag_keys() -> Vec<String> {
    (0..SESSION_SLOTS).map(|i| format!("{SESSION_TAG_PREFIX}{i}")).collect()
}

/// The actions a block denies (quota_core `BLOCKED_ACTIONS`). Converse and ConverseStream are
/// authorized as the two `bedrock:Invoke*` actions: IAM has no `bedrock:Converse` action (cfn-lint
/// W3037 flags it). The other three close the bypasses: Bedrock API keys (bearer tokens) on the
/// bedrock-runtime endpoint (`bedrock:CallWithBearerToken`) and on the bedrock-mantle endpoint
/// (`bedrock-mantle:CallWithBearerToken`), and inference through the bedrock-mantle endpoint
/// (Responses, Chat Completions, Messages APIs: `bedrock-mantle:CreateInference`). Sources:
/// docs.aws.amazon.com/bedrock/latest/userguide/api-keys-permissions.html and inference.html.
pub const BLOCKED_ACTIONS: [&str; 5] = [
    "bedrock:InvokeModel",
    "bedrock:InvokeModelWithResponseStream",
    "bedrock:CallWithBearerToken",
    "bedrock-mantle:CreateInference",
    "bedrock-mantle:CallWithBearerToken",
];
/// Prefix of every Sid the quota mechanism writes (quota_core `sid_for`).
pub const SID_PREFIX: &str = "BedrockWatchQuota";

/// Usage-table partition of a principal: `PRINCIPAL#<name>`.
pub const PRINCIPAL_PREFIX: &str = "PRINCIPAL#";
/// Usage-table partition of a team: `TEAM#<team>`.
pub const TEAM_PREFIX: &str = "TEAM#";
/// Audit-table partition of a month (in the configured time zone): `AUDIT#YYYY-MM`.
pub const AUDIT_PREFIX: &str = "AUDIT#";
/// Lock items around read-modify-write of a shared policy: `LOCK#<what>` / `LOCK`.
pub const LOCK_PREFIX: &str = "LOCK#";
pub const SK_BLOCK: &str = "BLOCK";
pub const SK_PROTECTED: &str = "PROTECTED";
pub const SK_LOCK: &str = "LOCK";
pub const SK_DAY_PREFIX: &str = "DAY#";
pub const SK_MONTH_PREFIX: &str = "MONTH#";
/// Lock lease and attempts (quota_core `LOCK_SECONDS`, `LOCK_ATTEMPTS`).
pub const LOCK_SECONDS: i64 = 60;
pub const LOCK_ATTEMPTS: u32 = 40;
/// Polls of a permission set's provisioning, one second apart (quota_core `PROVISIONING_POLLS`).
pub const PROVISIONING_POLLS: u32 = 10;
/// Logical ids of the tables in the stack (src/quotas/mod.rs `build`).
pub const USAGE_TABLE_ID: &str = "QuotaUsageTable";
pub const AUDIT_TABLE_ID: &str = "QuotaAuditTable";
/// Logical id of the topic the functions notify (`CONFIG["topic_arn"]`, the warning topic).
pub const ALERT_TOPIC_ID: &str = "AlertTopic";

use crate::aws::AwsError;

/// A failure of a quota command, with what the operator can do about it.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("quotas are not enabled in the configuration (quotas.enabled is false)")]
    Disabled,
    #[error("stack `{stack}` does not exist in {region}")]
    StackMissing { stack: String, region: String },
    #[error("stack `{stack}` in {region} has no quota tables ({USAGE_TABLE_ID}, {AUDIT_TABLE_ID})")]
    QuotasNotDeployed { stack: String, region: String },
    #[error("{0}")]
    Aws(#[from] AwsError),
    #[error("unknown principal `{principal}`: {detail}")]
    UnknownPrincipal { principal: String, detail: String },
    #[error("unknown IAM user `{0}`: no IAM user has that name; nothing was changed")]
    UnknownUser(String),
    #[error("unknown team `{0}`: not in quotas.teams")]
    UnknownTeam(String),
    /// The command was understood but the mechanism refuses it (protected, out of scope, ...).
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Time(#[from] time::TimeError),
    #[error("unexpected item in the {table} table ({key}): {detail}")]
    BadItem { table: &'static str, key: String, detail: String },
    #[error("unexpected policy document on {what}: {detail}")]
    BadPolicy { what: String, detail: String },
    #[error("lock {0} is held by another writer; try again in a minute")]
    Locked(String),
    #[error("provisioning permission set {arn} failed: {reason}")]
    Provisioning { arn: String, reason: String },
}

impl AdminError {
    /// What to do next, for the CLI's `help:` line.
    pub fn help(&self) -> Option<String> {
        match self {
            AdminError::Disabled => Some("set `quotas.enabled: true` in the config, deploy the stack, then run the quota commands with that --config".into()),
            AdminError::StackMissing { .. } => Some("deploy the stack first (`bedrock-watch synth` and your deploy), or pass the --region/--profile it is deployed with".into()),
            AdminError::QuotasNotDeployed { .. } => Some("the deployed stack predates `quotas.enabled: true`: deploy the current template".into()),
            AdminError::Aws(e) => Some(e.help()),
            AdminError::UnknownPrincipal { .. } => Some("name the principal as the identity rule does: an IAM user name, a role name (or role/session when sessions are people), or an IAM Identity Center user name; `quota status` lists those counted".into()),
            AdminError::UnknownUser(_) => Some("`quota track` takes IAM user names (case-sensitive); `bedrock-watch quota status --untracked` lists the users that can call Bedrock outside quota management".into()),
            AdminError::UnknownTeam(_) => Some("teams are defined in quotas.teams of the config".into()),
            AdminError::Time(_) => Some(time::ACCEPTED.into()),
            AdminError::BadItem { .. } | AdminError::BadPolicy { .. } => Some("the item was not written by bedrock-watch, or by an incompatible version; inspect it in the table".into()),
            AdminError::Locked(_) => Some("a function or another operator is editing the same policy; the lock expires after a minute".into()),
            AdminError::Refused(_) | AdminError::Provisioning { .. } => None,
        }
    }

    /// Refusals exit 1; everything else (usage, config, AWS) exits 2.
    pub fn is_refusal(&self) -> bool {
        matches!(self, AdminError::Refused(_))
    }
}

/// A protected principal is never blocked, by the functions or by an operator: the refusal
/// names how to lift the protection. `by` is "config" or who ran `quota protect`.
pub fn refuse_protected(principal: &str, by: Option<String>) -> Result<(), AdminError> {
    let Some(by) = by else { return Ok(()) };
    let how = if by == "config" { "by quotas.protected in the config (remove it there to allow blocks)".to_owned() } else { format!("by {by}; run `bedrock-watch quota unprotect {principal}` first") };
    Err(AdminError::Refused(format!("{principal} is protected {how}")))
}
