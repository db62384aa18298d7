//! Who may call Bedrock (runbook section 3): the developer and admin permission sets, their
//! group assignments, and one IAM user per tool. Only in the primary region's stack: Identity
//! Center and IAM are global, one copy per account is enough.
//!
//! The invoke statements name models, not `*`: each configured model id becomes its
//! foundation-model ARN in every allowed region (an empty `models` list means every foundation
//! model of those regions), `aws:RequestedRegion` is limited to the stack's regions, and an
//! inference-profile id (`us.anthropic...`) also grants the base model in every region,
//! because a cross-region profile routes the call to the model in another region (Bedrock user
//! guide, "Prerequisites for inference profiles": with a profile in `Resource`, the foundation
//! model must be allowed in each region the profile covers).

use crate::bedrock::pricing::base_model_id;
use crate::cfn::{logical_id_fragment, CfnError, Pseudo, Sub, Template, Value};
use crate::config::access::Access;
use crate::config::Config;
use crate::iam::actions::{
    BEDROCK_BEARER_TOKEN, BEDROCK_INVOKE, DASHBOARD_READ, LOGS_INSIGHTS_QUERY, QUOTA_STATUS_READ, REPORT_METRICS_READ, REPORT_STACK_READ,
};
use crate::iam::policy::{BEDROCK_BEARER_TOKEN_API, MONITORING_READ_API};
use crate::iam::{Condition, PolicyDocument, Statement, User};
use crate::logs::LogGroupRef;
use crate::sso::{Assignment, PermissionSet, PermissionSetRef};

/// Logical id of the permission set called `name` (`BedrockDeveloper` → `BedrockDeveloperPermissionSet`).
pub fn permission_set_logical_id(name: &str) -> String {
    format!("{}PermissionSet", logical_id_fragment(name))
}

/// The ARN of this stack's permission set `name`.
pub fn permission_set_arn(name: &str) -> Value {
    Value::get_att(permission_set_logical_id(name), "PermissionSetArn")
}

/// Logical id of a tool's IAM user (`support-bot` → `SupportBotToolUser`).
pub fn tool_logical_id(tool: &str) -> String {
    format!("{}ToolUser", logical_id_fragment(tool))
}

fn arn(region: &str, account: bool, rest: &str) -> Value {
    let s = Sub::new().text("arn:").pseudo(Pseudo::Partition).text(&format!(":bedrock:{region}:"));
    let s = if account { s.pseudo(Pseudo::AccountId) } else { s };
    s.text(&format!(":{rest}")).build()
}

/// The four invoke actions on the configured models, limited to the stack's regions.
pub fn invoke_statements(config: &Config) -> Vec<Statement> {
    let regions = &config.regions;
    let in_regions = || Condition { operator: "StringEquals", key: "aws:RequestedRegion".into(), values: regions.iter().map(|r| Value::str(r.as_str())).collect() };
    let mut direct = Vec::new();
    let mut profiles = Vec::new();
    let mut routed = Vec::new();
    if config.models.is_empty() {
        direct.extend(regions.iter().map(|r| arn(r, false, "foundation-model/*")));
    }
    for m in &config.models {
        if m.starts_with("arn:") {
            direct.push(Value::str(m.as_str()));
            continue;
        }
        let base = base_model_id(m);
        if base == m {
            direct.extend(regions.iter().map(|r| arn(r, false, &format!("foundation-model/{m}"))));
        } else {
            profiles.extend(regions.iter().map(|r| arn(r, true, &format!("inference-profile/{m}"))));
            routed.push(arn("*", false, &format!("foundation-model/{base}")));
        }
    }
    let mut out = Vec::new();
    if !direct.is_empty() {
        out.push(Statement::allow(BEDROCK_INVOKE, direct).sid("InvokeConfiguredModels").condition(in_regions()));
    }
    if !profiles.is_empty() {
        out.push(Statement::allow(BEDROCK_INVOKE, profiles).sid("InvokeThroughInferenceProfiles").condition(in_regions()));
        // The profile decides the destination region; only calls made through a profile of
        // this account reach these models.
        let through = Condition::new(
            "StringLike",
            "bedrock:InferenceProfileArn",
            Sub::new().text("arn:").pseudo(Pseudo::Partition).text(":bedrock:*:").pseudo(Pseudo::AccountId).text(":inference-profile/*").build(),
        );
        out.push(Statement::allow(BEDROCK_INVOKE, routed).sid("ModelsBehindInferenceProfiles").condition(through));
    }
    out
}

/// What `BedrockAdmin` reads besides invoking: exactly what `report`, `quota status` and the
/// dashboards call, on this stack's resources (the action lists live in `iam::actions`).
pub fn admin_statements(config: &Config, log_group: &LogGroupRef, dashboards: &[String]) -> Vec<Statement> {
    let stack = Sub::new()
        .text("arn:")
        .pseudo(Pseudo::Partition)
        .text(":cloudformation:")
        .pseudo(Pseudo::Region)
        .text(":")
        .pseudo(Pseudo::AccountId)
        .text(":stack/")
        .pseudo(Pseudo::StackName)
        .text("/*")
        .build();
    let mut out = vec![
        Statement::allow(REPORT_STACK_READ, vec![stack]).sid("ReadThisStack"),
        Statement::on_any_resource(&MONITORING_READ_API, REPORT_METRICS_READ).sid("ReadBedrockMetrics"),
        Statement::allow(LOGS_INSIGHTS_QUERY, vec![log_group.arn()]).sid("QueryInvocationLogs"),
        Statement::on_any_resource(&MONITORING_READ_API, crate::iam::actions::LOGS_INSIGHTS_RESULTS).sid("ReadQueryResults"),
        Statement::allow(
            crate::iam::actions::REPORT_PROFILE_READ,
            vec![Sub::new().text("arn:").pseudo(Pseudo::Partition).text(":bedrock:").pseudo(Pseudo::Region).text(":").pseudo(Pseudo::AccountId).text(":application-inference-profile/*").build()],
        )
        .sid("ResolveApplicationInferenceProfiles"),
    ];
    if !dashboards.is_empty() {
        let arns = dashboards
            .iter()
            .map(|id| Sub::new().text("arn:").pseudo(Pseudo::Partition).text(":cloudwatch::").pseudo(Pseudo::AccountId).text(":dashboard/").reference(id).build())
            .collect();
        out.push(Statement::allow(DASHBOARD_READ, arns).sid("OpenDashboards"));
    }
    // `report --reconcile` reads the billing export (one place for report's permissions). The
    // bucket is in the us-east-1 stack: the statement can name it only when that stack is the
    // primary one; README "Billing" says what to grant otherwise.
    if config.billing.cur_export.enabled && config.primary_region() == crate::config::billing::EXPORT_REGION {
        let folder = format!("{}/{}/*", crate::bcm_data_exports::PREFIX, config.billing.cur_export.name(&config.project));
        let objects = Sub::new().get_att(crate::bcm_data_exports::BUCKET_ID, "Arn").text("/").text(&folder).build();
        out.push(Statement::allow(crate::iam::actions::REPORT_RECONCILE_READ, vec![objects]).sid("ReadBillingExport"));
    }
    if config.quotas.enabled {
        let tables = [crate::quotas::admin::USAGE_TABLE_ID, crate::quotas::admin::AUDIT_TABLE_ID].iter().map(|id| Value::get_att(*id, "Arn")).collect();
        out.push(Statement::allow(QUOTA_STATUS_READ, tables).sid("ReadQuotaStatus"));
    }
    out
}

/// Adds the permission sets, assignments and tool users of `config.access` (primary region).
/// `dashboards` are the logical ids of the stack's dashboards.
pub fn build(template: &mut Template, config: &Config, log_group: &LogGroupRef, dashboards: &[String]) -> Result<(), CfnError> {
    let a = &config.access;
    if !a.enabled {
        return Ok(());
    }
    let invoke = invoke_statements(config);
    if let Some(instance) = &a.identity_center_instance_arn {
        let tags = |own: &std::collections::BTreeMap<String, String>| {
            let mut t: Vec<(String, String)> = config.tags.iter().chain(own.iter()).map(|(k, v)| (k.clone(), v.clone())).collect();
            t.push(("ManagedBy".into(), "bedrock-watch".into()));
            // Own tags win over the stack's: dedup keeps the first of each key after a stable sort.
            t.reverse();
            t.sort_by(|x, y| x.0.cmp(&y.0));
            t
        };
        let mut sets: Vec<(String, PermissionSetRef)> = Vec::new();
        let dev = &a.developer;
        let doc = PolicyDocument::new().statements(invoke.clone());
        let r = PermissionSet::new(permission_set_logical_id(&dev.name), instance.as_str(), dev.name.as_str(), doc)
            .description("bedrock-watch: invoke the configured Bedrock models")
            .session_hours(dev.session_duration_hours)
            .tags(tags(&dev.tags))
            .build(template)?;
        sets.push((dev.name.clone(), r));
        if a.admin.enabled {
            let adm = &a.admin;
            let doc = PolicyDocument::new().statements(invoke.clone()).statements(admin_statements(config, log_group, dashboards));
            let r = PermissionSet::new(permission_set_logical_id(&adm.name), instance.as_str(), adm.name.as_str(), doc)
                .description("bedrock-watch: invoke the configured models and read the monitoring (dashboards, logs, report, quota status)")
                .session_hours(adm.session_duration_hours)
                .tags(tags(&adm.tags))
                .build(template)?;
            sets.push((adm.name.clone(), r));
        }
        for asg in &a.assignments {
            let (Some(group), Some((_, set))) = (asg.group.as_ref(), sets.iter().find(|(n, _)| *n == asg.permission_set)) else {
                return Err(CfnError::invalid("monitoring::access", format!("assignment {:?} → {} is not valid (config validation should have refused it)", asg.group, asg.permission_set)));
            };
            let group_id = a.groups.get(group).ok_or_else(|| CfnError::invalid("monitoring::access", format!("unknown group {group}")))?;
            let accounts: Vec<Value> = if asg.accounts.is_empty() { vec![Value::pseudo(Pseudo::AccountId)] } else { asg.accounts.iter().map(|x| Value::str(x.as_str())).collect() };
            for (i, account) in accounts.into_iter().enumerate() {
                let suffix = asg.accounts.get(i).map_or(String::new(), |x| x.clone());
                let id = format!("{}{}Assignment{suffix}", logical_id_fragment(group), logical_id_fragment(&asg.permission_set));
                Assignment::group(id, instance.as_str(), set, group_id.as_str(), account).build(template)?;
            }
        }
    }
    tool_users(template, config, a, &invoke)
}

fn tool_users(template: &mut Template, config: &Config, a: &Access, invoke: &[Statement]) -> Result<(), CfnError> {
    let (tag_key, tag_value) = config.quotas.managed_tag.split_once('=').unwrap_or(("bedrock-watch-quota", "managed"));
    for (name, tool) in &a.tools {
        let doc = PolicyDocument::new()
            .statements(invoke.iter().cloned())
            .statement(
                Statement::on_any_resource(&BEDROCK_BEARER_TOKEN_API, BEDROCK_BEARER_TOKEN)
                    .sid("UseLongTermBedrockApiKeys")
                    .condition(Condition::new("StringEquals", "bedrock:bearerTokenType", "LONG_TERM")),
            );
        let mut user = User::new(tool_logical_id(name), Access::tool_user_name(name))
            .path(config.quotas.managed_path.as_str())
            .inline_policy("bedrock-invoke", doc)
            .tag(tag_key, tag_value)
            .tag("bedrock-watch-tool", name.as_str())
            .tag("ManagedBy", "bedrock-watch")
            .deviate(crate::deviations::TOOL_USER_OWN_POLICY)
            .deviate(crate::deviations::INLINE_POLICY_NO_ADMIN_STATEMENT);
        for (k, v) in config.tags.iter().chain(tool.tags.iter()) {
            user = user.tag(k.as_str(), v.as_str());
        }
        if let Some(d) = &tool.description {
            user = user.tag("Description", d.as_str());
        }
        user.build(template)?;
    }
    Ok(())
}
