//! `org deploy`, `org diff`, `org status` and `org destroy` against the StackSets API.
//!
//! Deploy per stack set (one per region): create it, or update its template (which updates
//! every instance); then create the instances the targets add and delete those the targets no
//! longer name; each operation is followed live (one line per account and region as its status
//! changes) until it ends; last, a table of every instance with its status and reason.
//!
//! A member template names its region in literals, so each region has a stack set of its own and
//! StackSets' own `RegionConcurrencyType` (which orders the regions of one operation) has one
//! region to order. `organization.region_concurrency` is therefore also honoured here, one level
//! up: `parallel` runs the regions' stack sets side by side, `sequential` one after another.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::future::Future;
use std::io::Write;
use std::pin::Pin;
use std::task::Poll;

use super::client::{InstanceInfo, OperationInfo, StackSetRequest, StackSets};
use super::plan::{AccountFilter, Rollout, StackSetPlan, Targets};
use super::OrgError;
use crate::config::organization::{PermissionModel, RegionConcurrency};
use crate::deploy::client::TemplateSource;
use crate::deploy::diff::unified;
use crate::deploy::staging::{decide, Staging};
use crate::deploy::Waiting;

/// One row of the final table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub stack_set: String,
    pub account: String,
    pub region: String,
    pub status: String,
    pub reason: String,
}

/// Where the stack sets live: the administrator account's home region (for staging URLs).
#[derive(Debug, Clone)]
pub struct Home {
    pub region: String,
    pub waiting: Waiting,
}

fn request(rollout: &Rollout, s: &StackSetPlan, template: TemplateSource) -> StackSetRequest {
    StackSetRequest {
        name: s.name.clone(),
        description: format!("bedrock-watch member stack for {} (Bedrock invocation logging, alarms, dashboards)", s.region),
        template,
        capabilities: s.capabilities.clone(),
        permission_model: rollout.permission_model,
        auto_deployment: rollout.auto_deployment,
        administration_role_arn: rollout.administration_role_arn.clone(),
        execution_role_name: rollout.execution_role_name.clone(),
        tags: rollout.tags.clone(),
    }
}

async fn template_source<C: StackSets>(api: &C, rollout: &Rollout, s: &StackSetPlan, home: &Home, out: &mut dyn Write) -> Result<TemplateSource, OrgError> {
    let body = &s.template.content;
    match decide(&s.name, &home.region, body, rollout.staging_bucket.as_deref(), &rollout.staging_prefix) {
        Staging::Inline => Ok(TemplateSource::Body(body.clone())),
        Staging::Missing => Err(OrgError::NeedsStaging { stack_set: s.name.clone(), bytes: body.len() }),
        Staging::Upload { bucket, key, url } => {
            api.upload_template(&bucket, &key, body).await?;
            writeln!(out, "{}: staged the member template ({} bytes) at s3://{bucket}/{key}", s.name, body.len())?;
            Ok(TemplateSource::Url(url))
        }
    }
}

/// What the instances of one stack set need: (targets to create, targets to delete).
pub fn instance_changes(rollout: &Rollout, region: &str, current: &[InstanceInfo]) -> (Option<Targets>, Vec<Targets>) {
    let here: Vec<&InstanceInfo> = current.iter().filter(|i| i.region == region).collect();
    match rollout.permission_model {
        PermissionModel::SelfManaged => {
            let wanted = rollout.accounts();
            let add: Vec<String> = wanted.iter().filter(|a| !here.iter().any(|i| &i.account == *a)).cloned().collect();
            let mut remove: Vec<String> = here.iter().map(|i| i.account.clone()).filter(|a| !wanted.contains(a)).collect();
            remove.dedup();
            let create = (!add.is_empty()).then(|| Targets { accounts: add, ..Targets::default() });
            let delete = if remove.is_empty() { vec![] } else { vec![Targets { accounts: remove, ..Targets::default() }] };
            (create, delete)
        }
        PermissionModel::ServiceManaged => {
            let t = &rollout.targets;
            // Creating is idempotent for instances that exist; StackSets resolves the OUs.
            let create = Some(t.clone());
            let mut delete = Vec::new();
            let gone_ous: Vec<String> = {
                let mut v: Vec<String> = here.iter().filter_map(|i| i.organizational_unit.clone()).filter(|ou| !t.organizational_units.contains(ou)).collect();
                v.sort();
                v.dedup();
                v
            };
            if !gone_ous.is_empty() {
                delete.push(Targets { organizational_units: gone_ous, ..Targets::default() });
            }
            let unwanted: Vec<String> = here
                .iter()
                .filter(|i| i.organizational_unit.as_ref().is_none_or(|ou| t.organizational_units.contains(ou)))
                .map(|i| i.account.clone())
                .filter(|a| match t.account_filter {
                    Some(AccountFilter::Difference) => t.accounts.contains(a),
                    Some(AccountFilter::Intersection) => !t.accounts.contains(a),
                    None => false,
                })
                .collect();
            if !unwanted.is_empty() {
                delete.push(Targets { organizational_units: t.organizational_units.clone(), accounts: unwanted, account_filter: Some(AccountFilter::Intersection) });
            }
            (create, delete)
        }
    }
}

fn describe_targets(t: &Targets) -> String {
    if t.organizational_units.is_empty() {
        return format!("account(s) {}", t.accounts.join(", "));
    }
    let ous = t.organizational_units.join(", ");
    match t.account_filter {
        None => format!("every account of {ous}"),
        Some(AccountFilter::Intersection) => format!("account(s) {} of {ous}", t.accounts.join(", ")),
        Some(AccountFilter::Difference) => format!("every account of {ous} except {}", t.accounts.join(", ")),
    }
}

/// Follows one operation until it ends, printing each account and region when its status
/// changes. Err when it ends FAILED or STOPPED (after printing why).
pub async fn follow<C: StackSets>(api: &C, stack_set: &str, operation_id: &str, waiting: &Waiting, out: &mut dyn Write) -> Result<(), OrgError> {
    let mut seen: BTreeMap<(String, String), String> = BTreeMap::new();
    let mut polls = 0u32;
    loop {
        let op: OperationInfo = api.describe_operation(stack_set, operation_id).await?;
        for r in api.operation_results(stack_set, operation_id).await? {
            let line = format!("{}{}", r.status, r.reason.as_deref().filter(|s| !s.is_empty()).map(|s| format!(": {s}")).unwrap_or_default());
            let key = (r.account.clone(), r.region.clone());
            if seen.get(&key) != Some(&line) {
                writeln!(out, "  {stack_set} {} {}: {line}", r.account, r.region)?;
                seen.insert(key, line);
            }
        }
        if op.is_done() {
            writeln!(out, "{stack_set}: operation {operation_id} ({}) {}", op.action, op.status)?;
            if op.status == "SUCCEEDED" {
                return Ok(());
            }
            return Err(OrgError::OperationFailed { stack_set: stack_set.into(), operation_id: operation_id.into(), action: op.action, status: op.status, reason: op.reason });
        }
        polls += 1;
        if polls >= waiting.max_polls || crate::deploy::pause(waiting).await.is_err() {
            return Err(OrgError::Interrupted { stack_set: stack_set.into(), operation_id: operation_id.into() });
        }
    }
}

/// Creates or updates every stack set and its instances, then returns the instance table.
/// A failed operation stops that stack set; the others still run, and the first failure is
/// returned after the table is printed.
pub async fn deploy<C: StackSets>(api: &C, rollout: &Rollout, home: &Home, out: &mut dyn Write) -> Result<Vec<Row>, OrgError> {
    let mut failure = None;
    if rollout.preferences.region_concurrency == RegionConcurrency::Parallel.as_str() && rollout.stack_sets.len() > 1 {
        let shared = SharedOut(RefCell::new(&mut *out));
        let runs = rollout.stack_sets.iter().map(|s| {
            let mut w = OutHandle(&shared);
            async move { (s, deploy_one(api, rollout, s, home, &mut w).await) }
        });
        for (s, result) in join_all(runs.collect()).await {
            if let Err(e) = result {
                if !matches!(e, OrgError::OperationFailed { .. }) {
                    return Err(e);
                }
                writeln!(OutHandle(&shared), "{}: {e}", s.name)?;
                failure.get_or_insert(e);
            }
        }
    } else {
        for s in &rollout.stack_sets {
            if let Err(e) = deploy_one(api, rollout, s, home, out).await {
                if !matches!(e, OrgError::OperationFailed { .. }) {
                    return Err(e);
                }
                writeln!(out, "{}: {e}", s.name)?;
                failure.get_or_insert(e);
            }
        }
    }
    let rows = table(api, rollout, out).await?;
    match failure {
        Some(e) => Err(e),
        None => Ok(rows),
    }
}

/// One output for the stack sets deployed side by side. They run on one task and no line is
/// written across an `.await`, so lines never interleave mid-line.
struct SharedOut<'a>(RefCell<&'a mut dyn Write>);

struct OutHandle<'s, 'a>(&'s SharedOut<'a>);

impl Write for OutHandle<'_, '_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 .0.borrow_mut().write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0 .0.borrow_mut().flush()
    }
}

/// Polls every future on the current task until all are done, returning their outputs in order.
/// No spawning: the futures borrow the client and the output, and a fresh runtime task would
/// need them `'static` and `Send`.
async fn join_all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut futures: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    Poll::Ready(v) => *output = Some(v),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending { Poll::Pending } else { Poll::Ready(()) }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

async fn deploy_one<C: StackSets>(api: &C, rollout: &Rollout, s: &StackSetPlan, home: &Home, out: &mut dyn Write) -> Result<(), OrgError> {
    let regions = [s.region.clone()];
    match api.describe_stack_set(&s.name).await? {
        None => {
            let template = template_source(api, rollout, s, home, out).await?;
            api.create_stack_set(&request(rollout, s, template)).await?;
            writeln!(out, "{}: created the stack set ({}, {})", s.name, rollout.permission_model.as_str(), rollout.call_as)?;
        }
        Some(found) if found.template_body == s.template.content => writeln!(out, "{}: template unchanged", s.name)?,
        Some(_) => {
            let template = template_source(api, rollout, s, home, out).await?;
            let op = api.update_stack_set(&request(rollout, s, template), &rollout.preferences).await?;
            writeln!(out, "{}: updating the template of every instance (operation {op})", s.name)?;
            follow(api, &s.name, &op, &home.waiting, out).await?;
        }
    }
    let current = api.list_instances(&s.name).await?;
    let (create, delete) = instance_changes(rollout, &s.region, &current);
    if let Some(t) = create {
        let op = api.create_instances(&s.name, &t, &regions, &rollout.preferences).await?;
        writeln!(out, "{}: creating instances in {} for {} (operation {op})", s.name, s.region, describe_targets(&t))?;
        follow(api, &s.name, &op, &home.waiting, out).await?;
    }
    for t in delete {
        let op = api.delete_instances(&s.name, &t, &regions, &rollout.preferences).await?;
        writeln!(out, "{}: deleting the instances of {} in {} no longer targeted (operation {op}); their retained resources stay", s.name, describe_targets(&t), s.region)?;
        follow(api, &s.name, &op, &home.waiting, out).await?;
    }
    Ok(())
}

/// Prints and returns every instance of every stack set.
pub async fn table<C: StackSets>(api: &C, rollout: &Rollout, out: &mut dyn Write) -> Result<Vec<Row>, OrgError> {
    let mut rows = Vec::new();
    for s in &rollout.stack_sets {
        if api.describe_stack_set(&s.name).await?.is_none() {
            writeln!(out, "{}: no such stack set", s.name)?;
            continue;
        }
        let mut instances = api.list_instances(&s.name).await?;
        instances.sort_by(|a, b| (&a.account, &a.region).cmp(&(&b.account, &b.region)));
        rows.extend(instances.into_iter().map(|i| Row {
            stack_set: s.name.clone(),
            account: i.account,
            region: i.region,
            status: match i.detailed_status {
                Some(d) if !d.is_empty() => format!("{} ({d})", i.status),
                _ => i.status,
            },
            reason: i.reason.unwrap_or_default(),
        }));
    }
    write!(out, "{}", render_table(&rows))?;
    Ok(rows)
}

/// The instance table: stack set, account, region, status, reason; columns aligned.
pub fn render_table(rows: &[Row]) -> String {
    let head = ["STACK SET", "ACCOUNT", "REGION", "STATUS", "REASON"];
    let cells: Vec<[&str; 5]> = rows.iter().map(|r| [r.stack_set.as_str(), &r.account, &r.region, &r.status, if r.reason.is_empty() { "-" } else { &r.reason }]).collect();
    let mut width = head.map(str::len);
    for c in &cells {
        for (w, v) in width.iter_mut().zip(c) {
            *w = (*w).max(v.len());
        }
    }
    let line = |c: [&str; 5]| {
        let mut s = String::new();
        for (i, v) in c.iter().enumerate() {
            if i == 4 {
                s.push_str(v);
            } else {
                s.push_str(&format!("{v:<w$}  ", w = width[i]));
            }
        }
        s.trim_end().to_owned() + "\n"
    };
    let mut text = format!("{} instance(s)\n", rows.len());
    text.push_str(&line(head));
    for c in cells {
        text.push_str(&line(c));
    }
    text
}

/// Prints what a deploy would change; true when something would.
pub async fn diff<C: StackSets>(api: &C, rollout: &Rollout, out: &mut dyn Write) -> Result<bool, OrgError> {
    let mut changed = false;
    for s in &rollout.stack_sets {
        let body = &s.template.content;
        let current = match api.describe_stack_set(&s.name).await? {
            None => {
                writeln!(out, "{}: no such stack set; org deploy would create it:", s.name)?;
                write!(out, "{}", unified("", body, &s.name))?;
                changed = true;
                Vec::new()
            }
            Some(found) => {
                let text = unified(&found.template_body, body, &s.name);
                if text.is_empty() {
                    writeln!(out, "{}: template: identical to the stack set's", s.name)?;
                } else {
                    writeln!(out, "{}: template differences (stack set → rendered; every instance would be updated):", s.name)?;
                    write!(out, "{text}")?;
                    changed = true;
                }
                api.list_instances(&s.name).await?
            }
        };
        let (create, delete) = instance_changes(rollout, &s.region, &current);
        match (rollout.permission_model, create) {
            (PermissionModel::SelfManaged, Some(t)) => {
                writeln!(out, "{}: would create instances in {} for {}", s.name, s.region, describe_targets(&t))?;
                changed = true;
            }
            (PermissionModel::ServiceManaged, Some(t)) => {
                writeln!(out, "{}: instances in {} for {} (StackSets creates those missing)", s.name, s.region, describe_targets(&t))?;
                changed |= current.iter().all(|i| i.region != s.region);
            }
            _ => {}
        }
        for t in delete {
            writeln!(out, "{}: would delete the instances of {} in {}", s.name, describe_targets(&t), s.region)?;
            changed = true;
        }
    }
    if !changed {
        writeln!(out, "no changes")?;
    }
    Ok(changed)
}

/// What `org destroy` left in one account and region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptIn {
    pub account: String,
    pub region: String,
    pub resources: Vec<(String, String, Option<String>)>,
}

/// Deletes every instance (RetainStacks false: the stacks are deleted, their retained data
/// stores stay) and then the stack sets; returns what was kept where.
pub async fn destroy<C: StackSets>(api: &C, rollout: &Rollout, home: &Home, out: &mut dyn Write) -> Result<Vec<KeptIn>, OrgError> {
    let mut kept = Vec::new();
    for s in &rollout.stack_sets {
        if api.describe_stack_set(&s.name).await?.is_none() {
            writeln!(out, "{}: no such stack set; nothing to destroy", s.name)?;
            continue;
        }
        let instances = api.list_instances(&s.name).await?;
        let mut regions: Vec<String> = instances.iter().map(|i| i.region.clone()).collect();
        regions.sort();
        regions.dedup();
        if !instances.is_empty() {
            let targets = match rollout.permission_model {
                PermissionModel::SelfManaged => {
                    let mut a: Vec<String> = instances.iter().map(|i| i.account.clone()).collect();
                    a.sort();
                    a.dedup();
                    Targets { accounts: a, ..Targets::default() }
                }
                PermissionModel::ServiceManaged => {
                    let mut ous: Vec<String> = instances.iter().filter_map(|i| i.organizational_unit.clone()).collect();
                    ous.extend(rollout.targets.organizational_units.iter().cloned());
                    ous.sort();
                    ous.dedup();
                    Targets { organizational_units: ous, ..Targets::default() }
                }
            };
            let op = api.delete_instances(&s.name, &targets, &regions, &rollout.preferences).await?;
            writeln!(out, "{}: deleting {} instance(s) of {} (operation {op})", s.name, instances.len(), describe_targets(&targets))?;
            follow(api, &s.name, &op, &home.waiting, out).await?;
        }
        api.delete_stack_set(&s.name).await?;
        writeln!(out, "{}: deleted the stack set", s.name)?;
        for i in &instances {
            kept.push(KeptIn { account: i.account.clone(), region: i.region.clone(), resources: retained_names(s, &i.account, &i.region) });
        }
    }
    kept.sort_by(|a, b| (&a.account, &a.region).cmp(&(&b.account, &b.region)));
    for k in &kept {
        writeln!(out, "kept in account {} {} (retained, with their data):", k.account, k.region)?;
        for (id, ty, name) in &k.resources {
            writeln!(out, "  - {id} ({ty}){}", name.as_ref().map(|n| format!(": {n}")).unwrap_or_default())?;
        }
    }
    if !kept.is_empty() {
        writeln!(out, "remove them in each account only when the data is no longer needed: `bedrock-watch destroy` lists the command for each")?;
    }
    Ok(kept)
}

/// The retained resources of the member template with the names they have in `account` and
/// `region` (named resources only; generated names are assigned by CloudFormation).
fn retained_names(s: &StackSetPlan, account: &str, region: &str) -> Vec<(String, String, Option<String>)> {
    let facts = crate::deploy::template::TemplateFacts::parse(&s.template.content).unwrap_or_default();
    let stack = crate::deploy::client::StackInfo { name: s.name.clone(), id: format!("arn:aws:cloudformation:{region}:{account}:stack/{}/", s.name), ..Default::default() };
    s.retained.iter().map(|(id, ty)| (id.clone(), ty.clone(), crate::deploy::outputs::template_name(&stack, &facts, id, region))).collect()
}
