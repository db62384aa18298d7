//! `destroy`: deletes a stack, then says what CloudFormation kept (DeletionPolicy Retain: the
//! log bucket, log groups, key, tables) and exactly how to remove each. `--purge` removes them
//! too, but only after the bucket is confirmed by name: audit data is never lost by accident.

use std::io::Write;

use super::client::CloudFormation;
use super::progress::{self, Display};
use super::purge::{Purge, KEY_DELETION_DAYS};
use super::template::TemplateFacts;
use super::{states, DeployError, Prompt, Waiting};

#[derive(Debug, Clone)]
pub struct DestroyRequest {
    pub stack: String,
    pub region: String,
    pub yes: bool,
    pub purge: bool,
    /// Bucket names confirmed on the command line (`--confirm-bucket`).
    pub confirmed_buckets: Vec<String>,
    pub display: Display,
    pub waiting: Waiting,
}

/// A resource the stack deletion left in place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kept {
    pub logical_id: String,
    pub resource_type: String,
    pub physical_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DestroyOutcome {
    NoStack,
    Destroyed { kept: Vec<Kept>, purged: Vec<Kept> },
}

/// The order purging must follow: data first, the key that encrypts it last.
fn purge_rank(resource_type: &str) -> u8 {
    match resource_type {
        "AWS::S3::Bucket" => 0,
        "AWS::Logs::LogGroup" => 1,
        "AWS::DynamoDB::Table" => 2,
        "AWS::KMS::Key" => 4,
        _ => 3,
    }
}

/// How to remove a kept resource by hand.
pub fn removal_hint(k: &Kept, region: &str) -> String {
    let (id, r) = (&k.physical_id, region);
    match k.resource_type.as_str() {
        "AWS::S3::Bucket" => format!("empty every object version and delete marker (S3 console: Empty), then `aws s3api delete-bucket --bucket {id} --region {r}`; or use `destroy --purge` next time"),
        "AWS::Logs::LogGroup" => format!("`aws logs delete-log-group --log-group-name {id} --region {r}` (deletes its log data)"),
        "AWS::KMS::Key" => format!("last, after the data it encrypts: `aws kms schedule-key-deletion --key-id {id} --pending-window-in-days 7 --region {r}`"),
        "AWS::DynamoDB::Table" => format!("`aws dynamodb delete-table --table-name {id} --region {r}` (after disabling deletion protection, if set)"),
        other => format!("delete it with the {other} console or CLI (physical id {id})"),
    }
}

pub async fn destroy<C: CloudFormation, P: Purge>(api: &C, purger: &P, req: &DestroyRequest, prompt: &mut dyn Prompt, out: &mut dyn Write) -> Result<DestroyOutcome, DeployError> {
    let stack = req.stack.as_str();
    let Some(info) = api.describe_stack(stack).await? else {
        writeln!(out, "{stack}: no such stack in {}; nothing to destroy", req.region)?;
        return Ok(DestroyOutcome::NoStack);
    };
    let body = api.get_template(stack).await?;
    let facts = TemplateFacts::parse(&body).map_err(|source| DeployError::Template { stack: stack.into(), source })?;
    // Without the resource list, named resources are still known from the template; the
    // deletion itself does not depend on it.
    let resources = api.stack_resources(stack).await.unwrap_or_else(|e| {
        let _ = writeln!(out, "{stack}: warning: cannot list the stack's resources ({}); naming kept resources from the template", super::short(&e.to_string()));
        Vec::new()
    });
    let mut kept: Vec<Kept> = facts
        .retained()
        .filter_map(|r| {
            let listed = resources.iter().find(|s| s.logical_id == r.logical_id).map(|s| s.physical_id.clone()).filter(|p| !p.is_empty());
            let physical = listed.or_else(|| super::outputs::template_name(&info, &facts, &r.logical_id, &req.region))?;
            Some(Kept { logical_id: r.logical_id.clone(), resource_type: r.resource_type.clone(), physical_id: physical })
        })
        .collect();
    kept.sort_by_key(|k| purge_rank(&k.resource_type));

    if req.purge {
        writeln!(out, "{stack}: --purge deletes the stack and then what it retains:")?;
        for k in &kept {
            writeln!(out, "  {} {} ({})", k.resource_type, k.physical_id, k.logical_id)?;
        }
        for bucket in kept.iter().filter(|k| k.resource_type == "AWS::S3::Bucket") {
            let name = &bucket.physical_id;
            if req.confirmed_buckets.iter().any(|c| c == name) {
                continue;
            }
            let typed = prompt.text(&format!("type the bucket name `{name}` to delete it with every object version: "));
            if typed.as_deref().map(str::trim) != Some(name.as_str()) {
                return Err(DeployError::PurgeNotConfirmed { expected: name.clone(), got: typed });
            }
        }
    } else if !req.yes && !prompt.confirm(&format!("delete stack {stack} in {}? (retained data stores are kept)", req.region)) {
        return Err(DeployError::Stuck {
            stack: stack.into(),
            status: "not deleted".into(),
            explanation: "destroy needs a confirmation".into(),
            help: "run it on a terminal to answer the question, or pass --yes".into(),
        });
    }

    let since = progress::last_event(api, stack).await?;
    api.delete_stack(stack).await?;
    writeln!(out, "{stack}: deleting ...")?;
    let settled = progress::watch(api, stack, &req.region, "delete", since, req.display, &req.waiting, out).await?;
    if settled.status != "DELETE_COMPLETE" {
        return Err(DeployError::Failed { stack: stack.into(), status: settled.status.clone(), first_failure: settled.first_failure, rollback: states::rollback_outcome(&settled.status) });
    }
    writeln!(out, "{stack}: deleted")?;

    if !req.purge {
        if !kept.is_empty() {
            writeln!(out, "kept (DeletionPolicy Retain), and how to remove each:")?;
            for k in &kept {
                writeln!(out, "  {} {} ({})\n    {}", k.resource_type, k.physical_id, k.logical_id, removal_hint(k, &req.region))?;
            }
        }
        return Ok(DestroyOutcome::Destroyed { kept, purged: Vec::new() });
    }
    let mut purged = Vec::new();
    let mut left = Vec::new();
    for k in kept {
        let id = k.physical_id.as_str();
        let result = match k.resource_type.as_str() {
            "AWS::S3::Bucket" => purger.empty_and_delete_bucket(id).await.map(|n| Some(format!("deleted bucket {id} ({n} object versions and delete markers)"))),
            "AWS::Logs::LogGroup" => purger.delete_log_group(id).await.map(|_| Some(format!("deleted log group {id}"))),
            "AWS::DynamoDB::Table" => purger.delete_table(id).await.map(|_| Some(format!("deleted table {id}"))),
            "AWS::KMS::Key" => purger.schedule_key_deletion(id).await.map(|when| {
                Some(format!(
                    "scheduled key {id} for deletion with the minimum {KEY_DELETION_DAYS}-day waiting period{} (cancel with `aws kms cancel-key-deletion --key-id {id}`)",
                    when.map(|w| format!(", on {w}")).unwrap_or_default()
                ))
            }),
            _ => Ok(None),
        };
        match result {
            Ok(Some(line)) => {
                writeln!(out, "  {line}")?;
                purged.push(k);
            }
            // Removed by hand meanwhile: nothing left to purge.
            Err(e) if e.is_not_found() => {
                writeln!(out, "  {} {id} no longer exists", k.resource_type)?;
                purged.push(k);
            }
            Err(e) => return Err(e.into()),
            Ok(None) => {
                writeln!(out, "  left {} {id}: {}", k.resource_type, removal_hint(&k, &req.region))?;
                left.push(k);
            }
        }
    }
    Ok(DestroyOutcome::Destroyed { kept: left, purged })
}
