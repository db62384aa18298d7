//! `deploy`, `diff` and `destroy` against the CloudFormation API, and the `deploy-policy` the
//! deploying principal needs.
//!
//! The flow follows rain's and CDK's: change set → "no changes" is success → show (with
//! replacements) → confirm what loses data → execute → stream events → outputs. Every call goes
//! through the [`client::CloudFormation`] trait, so the states a real account is found in are
//! unit-tested with a fake.

pub mod changes;
pub mod client;
pub mod destroy;
pub mod diff;
pub mod flow;
pub mod outputs;
pub mod policy;
pub mod progress;
pub mod purge;
pub mod staging;
pub mod states;
pub mod template;

#[cfg(test)]
pub mod fake;
#[cfg(test)]
mod tests;

use crate::aws::AwsError;

/// Asks the person at the terminal; scripts get [`NoPrompt`] and must pass `--yes`.
pub trait Prompt {
    /// A yes/no question; false unless the answer is yes.
    fn confirm(&mut self, question: &str) -> bool;
    /// A typed answer (e.g. a bucket name to confirm its deletion); None without a terminal.
    fn text(&mut self, question: &str) -> Option<String>;
}

/// No terminal: every question is answered no.
pub struct NoPrompt;

impl Prompt for NoPrompt {
    fn confirm(&mut self, _: &str) -> bool {
        false
    }
    fn text(&mut self, _: &str) -> Option<String> {
        None
    }
}

/// A failure of deploy, diff or destroy, with what the user needs to act on it.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error("stack {stack}: {count} check finding(s); bedrock-watch never deploys a template that fails its checks")]
    Findings { stack: String, count: usize },
    #[error("stack {stack}: the template is {bytes} bytes, over the 51200 bytes CloudFormation accepts inline, and no staging bucket is set")]
    NeedsStaging { stack: String, bytes: usize },
    #[error("stack {stack}: the change set failed: {reason}")]
    ChangeSetFailed { stack: String, reason: String },
    #[error("stack {stack} is {status}: {explanation}")]
    Stuck { stack: String, status: String, explanation: String, help: String },
    #[error("stack {stack}: the change set replaces data store(s) {}; not executed without confirmation", ids.join(", "))]
    NotConfirmed { stack: String, ids: Vec<String>, change_set: String },
    #[error("stack {stack} failed: {}; {rollback}", first_failure.as_deref().unwrap_or("no failure reason was reported"))]
    Failed { stack: String, status: String, first_failure: Option<String>, rollback: String },
    #[error("stopped waiting for stack {stack} (Ctrl-C or too long): the {operation} keeps going in CloudFormation")]
    Interrupted { stack: String, region: String, operation: String },
    #[error("the template of stack {stack} cannot be read: {source}")]
    Template { stack: String, source: template::TemplateError },
    #[error("--purge needs the name of bucket {expected} confirmed{}", got.as_ref().map(|g| format!(" (got `{g}`)")).unwrap_or_default())]
    PurgeNotConfirmed { expected: String, got: Option<String> },
    #[error("cannot write output: {0}")]
    Io(#[from] std::io::Error),
}

impl DeployError {
    /// What to do next, for the CLI's `help:` line.
    pub fn help(&self) -> String {
        match self {
            DeployError::Aws(e) => e.help(),
            DeployError::Findings { .. } => "run `bedrock-watch validate` to see the findings and fix the config".into(),
            DeployError::NeedsStaging { .. } => {
                "name an existing S3 bucket in the same region for templates: `deploy --staging-bucket BUCKET`, or `deploy: {staging_bucket: BUCKET}` in the config file (key prefix: deploy.staging_prefix)".into()
            }
            DeployError::ChangeSetFailed { .. } => "the reason above comes from CloudFormation; fix the template or parameters and deploy again".into(),
            DeployError::Stuck { help, .. } => help.clone(),
            DeployError::NotConfirmed { stack, change_set, .. } => format!(
                "review the replacement above; to go ahead run deploy again with --yes (or interactively), or drop the change set: `aws cloudformation delete-change-set --stack-name {stack} --change-set-name {change_set}`"
            ),
            DeployError::Failed { stack, .. } => format!("see every event: `aws cloudformation describe-stack-events --stack-name {stack}`"),
            DeployError::Interrupted { stack, region, .. } => format!(
                "watch it again with `bedrock-watch watch --stack-name {stack} --region {region}` or `aws cloudformation describe-stack-events --stack-name {stack} --region {region}`"
            ),
            DeployError::Template { .. } => "the deployed template is not one bedrock-watch can read; inspect it with `aws cloudformation get-template`".into(),
            DeployError::PurgeNotConfirmed { expected, .. } => {
                format!("type the bucket name when asked, or pass `--confirm-bucket {expected}` in scripts; without --purge the bucket and log data are kept")
            }
            DeployError::Io(_) => "check that standard output is writable".into(),
        }
    }
}

/// How a command waits for CloudFormation.
#[derive(Debug, Clone, Copy)]
pub struct Waiting {
    /// Time between polls; zero in unit tests.
    pub poll: std::time::Duration,
    /// Stop waiting on Ctrl-C (the deployment keeps going) instead of being killed by it.
    pub ctrl_c: bool,
    /// Polls before giving up on a change set that never settles.
    pub max_polls: u32,
}

impl Default for Waiting {
    fn default() -> Self {
        Waiting { poll: std::time::Duration::from_secs(2), ctrl_c: true, max_polls: 5400 }
    }
}

/// Sleeps one poll interval; Err when the user pressed Ctrl-C meanwhile.
pub(crate) async fn pause(w: &Waiting) -> Result<(), ()> {
    if w.poll.is_zero() {
        return Ok(());
    }
    if !w.ctrl_c {
        tokio::time::sleep(w.poll).await;
        return Ok(());
    }
    sleep_unless_ctrl_c(w.poll).await
}

#[cfg(feature = "aws")]
async fn sleep_unless_ctrl_c(d: std::time::Duration) -> Result<(), ()> {
    tokio::select! {
        _ = tokio::time::sleep(d) => Ok(()),
        _ = tokio::signal::ctrl_c() => Err(()),
    }
}

/// Tokio's signal driver comes with the `aws` feature; without it nothing waits on AWS.
#[cfg(not(feature = "aws"))]
async fn sleep_unless_ctrl_c(d: std::time::Duration) -> Result<(), ()> {
    tokio::time::sleep(d).await;
    Ok(())
}

/// The first part of a long error for a warning line (SDK errors carry the raw response).
pub(crate) fn short(text: &str) -> String {
    let first = text.split(" (ServiceError").next().unwrap_or(text);
    first.chars().take(200).collect()
}
