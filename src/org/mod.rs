//! Organization-wide rollout through CloudFormation StackSets: the member template per region,
//! the stack sets and their instances, the operation's progress per account and region, and
//! the table of every instance at the end.
//!
//! StackSets is the engine: it fans one template out to the target accounts (OUs with
//! service-managed permissions, account lists with self-managed ones) under the operation
//! preferences the config sets; bedrock-watch never loops over accounts itself. The member
//! template is the one `synth` renders for the region (the logging custom resource included:
//! the invocation-logging configuration is per account and region, so each instance writes its
//! own), so one stack set per region: `<stack_set_name>-<region>`.
//!
//! [`plan`] is pure (config in, rollout out: benchmarked at 500 accounts x 4 regions);
//! [`engine`] talks to CloudFormation only through the [`client::StackSets`] trait, so the
//! states the emulator cannot produce are unit-tested with a scripted fake.

pub mod audit;
pub mod central;
pub mod client;
pub mod engine;
pub mod plan;
pub mod quotas;
pub mod roles;

#[cfg(test)]
mod fake;
#[cfg(test)]
mod tests;


use crate::aws::AwsError;
use crate::synth::SynthError;

/// A failure of an `org` command, with what the user needs to act on it.
#[derive(Debug, thiserror::Error)]
pub enum OrgError {
    #[error("the config has no `organization:` section")]
    NotConfigured,
    #[error(transparent)]
    Synth(#[from] SynthError),
    #[error("stack set {stack_set}: {count} check finding(s) in the member template; bedrock-watch never rolls out a template that fails its checks")]
    Findings { stack_set: String, count: usize },
    #[error("stack set {stack_set}: the member template is {bytes} bytes, over the 51200 bytes CloudFormation accepts inline, and no staging bucket is set")]
    NeedsStaging { stack_set: String, bytes: usize },
    #[error("stack set {stack_set}: operation {operation_id} ({action}) ended {status}{}", reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default())]
    OperationFailed { stack_set: String, operation_id: String, action: String, status: String, reason: Option<String> },
    #[error("stopped waiting for stack set {stack_set} operation {operation_id} (Ctrl-C or too long): it keeps going in CloudFormation")]
    Interrupted { stack_set: String, operation_id: String },
    #[error("the rollout exceeds {} StackSets quota(s): {}", exceeded.len(), exceeded.iter().map(|e| format!("{}: {} (allowed: {})", e.key, e.value, e.limit)).collect::<Vec<_>>().join("; "))]
    QuotaExceeded { exceeded: Vec<quotas::Exceeded> },
    #[error("the StackSets roles are for organization.permission_model: self_managed; service_managed stack sets use the roles Organizations creates")]
    RolesNeedSelfManaged,
    #[error("cannot build the monitoring account's templates: {0}")]
    Central(String),
    #[error("cannot build the StackSets roles: {0}")]
    Roles(String),
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error("cannot write output: {0}")]
    Io(#[from] std::io::Error),
}

impl OrgError {
    /// What to do next, for the CLI's `help:` line.
    pub fn help(&self) -> String {
        match self {
            OrgError::NotConfigured => "add an `organization:` section (targets, regions, permission model): see the README's Organization section".into(),
            OrgError::Synth(_) => "where the message names a limit, change the config as it says; otherwise this is a bug in bedrock-watch".into(),
            OrgError::Findings { .. } => "run `bedrock-watch validate` with the same config to see the findings".into(),
            OrgError::NeedsStaging { .. } => "name an existing S3 bucket in the home region that CloudFormation can read: `deploy: {staging_bucket: BUCKET}` in the config".into(),
            OrgError::OperationFailed { stack_set, operation_id, .. } => format!(
                "the table above names each failed account and region with its reason; see all of them with `aws cloudformation list-stack-set-operation-results --stack-set-name {stack_set} --operation-id {operation_id}`"
            ),
            OrgError::Interrupted { stack_set, .. } => format!("follow it with `bedrock-watch org status` or `aws cloudformation list-stack-set-operations --stack-set-name {stack_set}`"),
            OrgError::QuotaExceeded { .. } => "change the named key as the limit says; adjustable quotas (stack sets, instances) can be raised through Service Quotas first".into(),
            OrgError::RolesNeedSelfManaged => "set organization.permission_model: self_managed with targets.accounts, or skip `org roles`".into(),
            OrgError::Central(_) => "set organization.organization_id, or list the accounts in organization.targets.accounts".into(),
            OrgError::Roles(_) => "where the message names a limit, change the config as it says; otherwise this is a bug in bedrock-watch".into(),
            OrgError::Aws(e) => e.help(),
            OrgError::Io(_) => "check that standard output is writable".into(),
        }
    }
}
