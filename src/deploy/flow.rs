//! The deploy of one stack: state check, change set, review, confirmation, execution, outputs.

use std::io::Write;

use super::changes;
use super::client::{ChangeSetInfo, ChangeSetKind, ChangeSetRequest, CloudFormation};
use super::outputs;
use super::progress::{self, Display};
use super::staging;
use super::states::{self, Found};
use super::template::TemplateFacts;
use super::{pause, short, DeployError, Prompt, Waiting};

/// Everything deploy needs for one stack, already validated by the caller.
#[derive(Debug, Clone)]
pub struct DeployRequest {
    pub stack: String,
    pub region: String,
    /// The rendered YAML.
    pub body: String,
    /// Check findings of this template (deploy refuses any).
    pub findings: usize,
    pub parameters: Vec<(String, String)>,
    pub tags: Vec<(String, String)>,
    pub staging_bucket: Option<String>,
    pub staging_prefix: String,
    /// Confirm replacements of data stores and the delete-and-recreate of a failed stack.
    pub yes: bool,
    /// false: stop after showing the change set (`--no-execute`).
    pub execute: bool,
    pub change_set_name: String,
    pub display: Display,
    pub waiting: Waiting,
}

#[derive(Debug, Clone, PartialEq)]
pub enum DeployOutcome {
    UpToDate,
    /// The change set is left for review (`--no-execute`).
    Prepared { change_set: String },
    Deployed { outputs: Vec<(String, String)> },
}

/// A change set name: must start with a letter; the time in milliseconds makes it unique per
/// run. (Seconds were not enough: against a fast endpoint a deploy finishes, and the next one
/// starts, within the same second, and the second change set then took the first one's name.)
pub fn change_set_name(unix_millis: u128) -> String {
    format!("bedrock-watch-{unix_millis}")
}

pub async fn deploy<C: CloudFormation>(api: &C, req: &DeployRequest, prompt: &mut dyn Prompt, out: &mut dyn Write) -> Result<DeployOutcome, DeployError> {
    let stack = req.stack.as_str();
    if req.findings > 0 {
        return Err(DeployError::Findings { stack: stack.into(), count: req.findings });
    }
    let facts = TemplateFacts::parse(&req.body).map_err(|source| DeployError::Template { stack: stack.into(), source })?;
    let template = staging::source(api, stack, &req.region, &req.body, req.staging_bucket.as_deref(), &req.staging_prefix, out).await?;
    let kind = prepare_stack(api, req, prompt, out).await?;
    let request = ChangeSetRequest {
        stack_name: stack.into(),
        change_set_name: req.change_set_name.clone(),
        kind,
        template,
        capabilities: facts.capability().map(|c| vec![c.as_str().to_owned()]).unwrap_or_default(),
        parameters: req.parameters.clone(),
        tags: req.tags.clone(),
    };
    api.create_change_set(&request).await?;
    let info = settle_change_set(api, stack, &req.region, &req.change_set_name, &req.waiting).await?;
    if changes::is_no_change(&info) {
        api.delete_change_set(stack, &req.change_set_name).await?;
        writeln!(out, "{stack}: up to date (CloudFormation found no changes)")?;
        return Ok(DeployOutcome::UpToDate);
    }
    if info.status != "CREATE_COMPLETE" {
        return Err(DeployError::ChangeSetFailed { stack: stack.into(), reason: info.status_reason.unwrap_or_else(|| info.status.clone()) });
    }
    let verb = if kind == ChangeSetKind::Create { "create" } else { "update" };
    writeln!(out, "{stack}: change set {} ({verb}, region {}):", req.change_set_name, req.region)?;
    write!(out, "{}", changes::render(&info.changes))?;
    if !req.execute {
        let cs = &req.change_set_name;
        writeln!(out, "{stack}: change set {cs} left for review (--no-execute)")?;
        writeln!(out, "  execute: aws cloudformation execute-change-set --stack-name {stack} --change-set-name {cs} --region {}", req.region)?;
        writeln!(out, "  discard: aws cloudformation delete-change-set --stack-name {stack} --change-set-name {cs} --region {}", req.region)?;
        return Ok(DeployOutcome::Prepared { change_set: cs.clone() });
    }
    let replaced: Vec<String> = changes::data_store_replacements(&info.changes).iter().map(|c| c.logical_id.clone()).collect();
    if !replaced.is_empty() && !req.yes && !prompt.confirm(&format!("{stack}: replace data store(s) {} (their contents are not moved)?", replaced.join(", "))) {
        return Err(DeployError::NotConfirmed { stack: stack.into(), ids: replaced, change_set: req.change_set_name.clone() });
    }
    let since = progress::last_event(api, stack).await?;
    api.execute_change_set(stack, &req.change_set_name).await?;
    writeln!(out, "{stack}: executing change set {} ...", req.change_set_name)?;
    let settled = progress::watch(api, stack, &req.region, verb, since, req.display, &req.waiting, out).await?;
    if !states::succeeded(&settled.status) {
        return Err(DeployError::Failed { stack: stack.into(), status: settled.status.clone(), first_failure: settled.first_failure, rollback: states::rollback_outcome(&settled.status) });
    }
    let info = api.describe_stack(stack).await?.unwrap_or_default();
    // Outputs are a report, not part of the deploy: a failure to read resources is a warning.
    let resources = if info.outputs.is_empty() {
        api.stack_resources(stack).await.unwrap_or_else(|e| {
            let _ = writeln!(out, "{stack}: warning: cannot list the stack's resources for its outputs: {}", short(&e.to_string()));
            Vec::new()
        })
    } else {
        Vec::new()
    };
    let (values, source) = outputs::resolve(&info, &facts, &resources, &req.region);
    writeln!(out, "{stack}: {} (outputs from {source}):", settled.status)?;
    for (k, v) in &values {
        writeln!(out, "  {k} = {v}")?;
    }
    Ok(DeployOutcome::Deployed { outputs: values })
}

/// Brings the stack into a state a change set can be created in; returns the change-set kind.
async fn prepare_stack<C: CloudFormation>(api: &C, req: &DeployRequest, prompt: &mut dyn Prompt, out: &mut dyn Write) -> Result<ChangeSetKind, DeployError> {
    let stack = req.stack.as_str();
    let mut found = api.describe_stack(stack).await?;
    if let Some(s) = found.as_ref().filter(|s| states::classify(Some(&s.status)) == Found::InProgress) {
        writeln!(
            out,
            "{stack}: another operation is running ({}); waiting for it to finish (most take a few minutes; resources that stabilise slowly can take up to an hour). Ctrl-C stops waiting, not the operation.",
            s.status
        )?;
        let since = progress::last_event(api, stack).await?;
        progress::watch(api, stack, &req.region, "running operation", since, req.display, &req.waiting, out).await?;
        found = api.describe_stack(stack).await?;
    }
    let status = found.as_ref().map(|s| s.status.clone());
    let reason = found.as_ref().and_then(|s| s.status_reason.clone()).unwrap_or_else(|| "no reason recorded".into());
    match states::classify(status.as_deref()) {
        Found::Missing | Found::Review => Ok(ChangeSetKind::Create),
        Found::Ready => Ok(ChangeSetKind::Update),
        Found::RollbackComplete => {
            writeln!(out, "{stack}: ROLLBACK_COMPLETE: its first create failed and was rolled back ({reason}); such a stack holds no resources and cannot be updated, only deleted and created again.")?;
            if !req.yes && !prompt.confirm(&format!("{stack}: delete the failed stack and create it again?")) {
                return Err(DeployError::Stuck {
                    stack: stack.into(),
                    status: "ROLLBACK_COMPLETE".into(),
                    explanation: "its first create failed and was rolled back".into(),
                    help: format!("run deploy again with --yes to delete and recreate it, or delete it yourself: `aws cloudformation delete-stack --stack-name {stack} --region {}`", req.region),
                });
            }
            let since = progress::last_event(api, stack).await?;
            api.delete_stack(stack).await?;
            writeln!(out, "{stack}: deleting the failed stack ...")?;
            let settled = progress::watch(api, stack, &req.region, "delete", since, req.display, &req.waiting, out).await?;
            if settled.status != "DELETE_COMPLETE" {
                return Err(DeployError::Failed { stack: stack.into(), status: settled.status.clone(), first_failure: settled.first_failure, rollback: states::rollback_outcome(&settled.status) });
            }
            Ok(ChangeSetKind::Create)
        }
        Found::UpdateRollbackFailed => Err(DeployError::Stuck {
            stack: stack.into(),
            status: "UPDATE_ROLLBACK_FAILED".into(),
            explanation: format!("an update failed and so did its rollback ({reason}); CloudFormation accepts no update until the rollback is continued"),
            help: states::UPDATE_ROLLBACK_FAILED_WAY_OUT.replace("STACK", stack),
        }),
        Found::Failed | Found::InProgress => Err(DeployError::Stuck {
            stack: stack.into(),
            status: status.unwrap_or_default(),
            explanation: reason,
            help: format!("see `aws cloudformation describe-stack-events --stack-name {stack} --region {}`; `bedrock-watch destroy` removes the stack (data stores are kept)", req.region),
        }),
    }
}

/// Waits until the change set is computed (CREATE_COMPLETE) or FAILED.
pub async fn settle_change_set<C: CloudFormation>(api: &C, stack: &str, region: &str, name: &str, waiting: &Waiting) -> Result<ChangeSetInfo, DeployError> {
    for _ in 0..waiting.max_polls {
        let info = api.describe_change_set(stack, name).await?;
        if !matches!(info.status.as_str(), "CREATE_PENDING" | "CREATE_IN_PROGRESS") {
            return Ok(info);
        }
        if pause(waiting).await.is_err() {
            break;
        }
    }
    Err(DeployError::Interrupted { stack: stack.into(), region: region.into(), operation: format!("change set {name}") })
}
