//! `diff`: what a deploy would change, as the template text and as CloudFormation computes it.

use std::io::Write;

use super::changes;
use super::client::{Action, ChangeSetKind, ChangeSetRequest, CloudFormation, ResourceChange, Replacement};
use super::flow::settle_change_set;
use super::staging;
use super::template::TemplateFacts;
use super::{DeployError, Waiting};

/// One stack to compare.
#[derive(Debug, Clone)]
pub struct DiffRequest {
    pub stack: String,
    pub region: String,
    pub body: String,
    pub parameters: Vec<(String, String)>,
    pub tags: Vec<(String, String)>,
    pub staging_bucket: Option<String>,
    pub staging_prefix: String,
    pub change_set_name: String,
    pub waiting: Waiting,
}

/// The unified diff of two templates (empty when equal).
pub fn unified(deployed: &str, rendered: &str, stack: &str) -> String {
    crate::synth::unified_diff(deployed, rendered, &format!("deployed/{stack}"), &format!("rendered/{stack}"))
}

/// Prints both views; true when a deploy would change something. The change set is always
/// deleted again; a missing stack is not created (everything shows as added).
pub async fn diff<C: CloudFormation>(api: &C, req: &DiffRequest, out: &mut dyn Write) -> Result<bool, DeployError> {
    let stack = req.stack.as_str();
    let facts = TemplateFacts::parse(&req.body).map_err(|source| DeployError::Template { stack: stack.into(), source })?;
    let Some(found) = api.describe_stack(stack).await? else {
        writeln!(out, "{stack}: no such stack in {}; a deploy would create it:", req.region)?;
        write!(out, "{}", unified("", &req.body, stack))?;
        let added: Vec<ResourceChange> = facts
            .resources
            .iter()
            .map(|r| ResourceChange { action: Action::Add, logical_id: r.logical_id.clone(), resource_type: r.resource_type.clone(), replacement: Replacement::False })
            .collect();
        write!(out, "{}", changes::render(&added))?;
        return Ok(true);
    };
    let deployed = api.get_template(stack).await?;
    let text = unified(&deployed, &req.body, stack);
    if text.is_empty() {
        writeln!(out, "{stack}: template: identical to the deployed one")?;
    } else {
        writeln!(out, "{stack}: template differences (deployed → rendered):")?;
        write!(out, "{text}")?;
    }
    if states_block_update(&found.status) {
        writeln!(out, "{stack}: is {}; CloudFormation cannot compute a change set in this state", found.status)?;
        return Ok(true);
    }
    let template = staging::source(api, stack, &req.region, &req.body, req.staging_bucket.as_deref(), &req.staging_prefix, out).await?;
    let request = ChangeSetRequest {
        stack_name: stack.into(),
        change_set_name: req.change_set_name.clone(),
        kind: ChangeSetKind::Update,
        template,
        capabilities: facts.capability().map(|c| vec![c.as_str().to_owned()]).unwrap_or_default(),
        parameters: req.parameters.clone(),
        tags: req.tags.clone(),
    };
    api.create_change_set(&request).await?;
    let info = settle_change_set(api, stack, &req.region, &req.change_set_name, &req.waiting).await;
    api.delete_change_set(stack, &req.change_set_name).await?;
    let info = info?;
    if changes::is_no_change(&info) {
        writeln!(out, "{stack}: change set: no changes")?;
        // CloudFormation's verdict decides: a text-only difference it ignores changes nothing.
        return Ok(false);
    }
    if info.status != "CREATE_COMPLETE" {
        return Err(DeployError::ChangeSetFailed { stack: stack.into(), reason: info.status_reason.unwrap_or(info.status) });
    }
    writeln!(out, "{stack}: change set CloudFormation computes (deleted again):")?;
    write!(out, "{}", changes::render(&info.changes))?;
    Ok(true)
}

fn states_block_update(status: &str) -> bool {
    matches!(super::states::classify(Some(status)), super::states::Found::RollbackComplete | super::states::Found::UpdateRollbackFailed | super::states::Found::Failed | super::states::Found::InProgress)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unified_diff_has_headers_and_is_empty_when_equal() {
        assert_eq!(unified("a\n", "a\n", "s"), "");
        let d = unified("a\nb\n", "a\nc\n", "s");
        assert!(d.starts_with("--- deployed/s\n+++ rendered/s\n"), "{d}");
        assert!(d.contains("-b\n+c\n"), "{d}");
    }
}
