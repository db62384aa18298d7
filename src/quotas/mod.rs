//! Quotas per user and team: the tables, the two functions and their wiring.
//!
//! A subscription filter on the invocation log group feeds the accounting function, which counts
//! every record exactly once (a conditional marker per `requestId` in the same DynamoDB
//! transaction as the atomic counter updates), warns near a limit, and notifies or blocks past
//! it. A schedule at the start of each day in the configured time zone runs the reset function,
//! which lifts expired blocks. Both write the audit table. Their IAM permissions reach only the
//! stack's tables, topic and key, and the principals in scope (IAM path plus tag, or the
//! configured permission sets), never `iam:*` on `*`. On IAM users and roles they can do one
//! thing only: attach or detach one of the two deny policies the stack owns (and name a blocked
//! session in a slot tag), so whoever controls the functions can never grant anything.
//!
//! The handlers are Python, embedded verbatim after a generated `CONFIG` line; their tests run
//! the same concatenation (tests/python).

pub mod admin;

use crate::bedrock::pricing::TokenKind;
use crate::cfn::render::embedded_json;
use crate::cfn::{CfnError, Map, Pseudo, Sub, Template, Value};
use crate::config::{Config, QuotaMode, QuotaUnit};
use crate::dynamodb::{Table, TableRef};
use crate::iam::actions::{DYNAMODB_APPEND, DYNAMODB_COUNTERS, IAM_QUOTA_ATTACH_ROLE, IAM_QUOTA_ATTACH_USER, IAM_QUOTA_SESSION_TAGS, KMS_USE_KEY, SNS_PUBLISH, SSO_QUOTA_BLOCK};
use crate::iam::{Condition, ManagedPolicy, ManagedPolicyRef, PolicyDocument, Statement};
use crate::kms::KeyRef;
use crate::lambda::{Function, FunctionRef};
use crate::logs::{LogGroupRef, Retention, SubscriptionFilter};
use crate::scheduler::Schedule;
use crate::sns::TopicRef;
use crate::sqs::DeadLetterQueue;

pub const CORE_SOURCE: &str = include_str!("quota_core.py");
pub const ACCOUNTING_SOURCE: &str = include_str!("accounting_handler.py");
pub const RESET_SOURCE: &str = include_str!("reset_handler.py");

/// JSON has no `None`-friendly literal inside a Python raw string; "none" stands for it and the
/// generated prelude maps it back.
const NONE: &str = "none";

pub struct Quotas {
    pub block_policy: ManagedPolicyRef,
    pub session_block_policy: ManagedPolicyRef,
    pub usage: TableRef,
    pub audit: TableRef,
    pub accounting: FunctionRef,
    pub reset: FunctionRef,
}

fn optional(v: Option<f64>) -> Value {
    v.map_or(Value::str(NONE), Value::from)
}

fn string_map<'a>(pairs: impl Iterator<Item = (&'a String, &'a String)>) -> Value {
    Value::Map(Map(pairs.map(|(k, v)| (k.clone().into(), Value::str(v.as_str()))).collect()))
}

/// Prices in effect in `region`, as the handler's `prices` entry (discount already applied);
/// the scheduled report's function gets the same table.
pub fn prices(config: &Config, region: &str) -> Map {
    let table = config.pricing.table();
    let mut models: Vec<String> = table.model_ids().map(str::to_owned).collect();
    models.extend(config.pricing.regions.get(region).into_iter().flat_map(|m| m.keys().cloned()));
    models.sort();
    models.dedup();
    let mut out = Map::new();
    for m in &models {
        let Some(p) = table.price(m, region) else { continue };
        let names = ["input", "output", "cache_read", "cache_write"];
        let entry = TokenKind::ALL.iter().zip(names).fold(Map::new(), |e, (k, name)| e.with(name, Value::from(k.of(&p))));
        out.insert(m.clone(), entry.with("cache_write_1h", Value::from(p.cache_write_1h())));
    }
    out
}

/// `pricing.inference_profiles` as the handlers' `inference_profiles` entry: profile id → model id
/// (an ARN key is reduced to its id; the handlers look a record's profile ARN up by its id).
pub fn inference_profiles(config: &Config) -> Map {
    let mut out = Map::new();
    for (key, model) in &config.pricing.inference_profiles {
        out.insert(crate::bedrock::inference_profile::match_id(key).to_owned(), Value::str(model.as_str()));
    }
    out
}

/// The service-tier multipliers as the handlers' `service_tiers` entry.
pub fn service_tiers(config: &Config) -> Map {
    let t = config.pricing.service_tiers.multipliers();
    Map::new().with("flex", Value::from(t.flex)).with("priority", Value::from(t.priority)).with("reserved", Value::from(t.reserved))
}

/// The stack-owned deny policies a block attaches, and their references.
pub struct BlockPolicies {
    pub block: ManagedPolicyRef,
    pub session: ManagedPolicyRef,
}

/// The two deny policies; their text is fixed here, the functions only attach them.
pub fn block_policies(template: &mut Template) -> Result<BlockPolicies, CfnError> {
    let deny = |sid: &str| Statement::deny(&admin::BLOCKED_ACTIONS, vec![Value::str("*")]).sid(sid);
    let block = ManagedPolicy::new(
        admin::BLOCK_POLICY_ID,
        "bedrock-watch quota block: attached to an IAM user or role past its limit; denies Bedrock invoke and converse",
        PolicyDocument::new().statement(deny(admin::USER_BLOCK_SID)),
    )
    .build(template)?;
    let patterns = admin::policy::session_userid_patterns().into_iter().map(Value::from).collect();
    let session = ManagedPolicy::new(
        admin::SESSION_BLOCK_POLICY_ID,
        "bedrock-watch quota block of single sessions: denies Bedrock to the sessions named in the role's slot tags",
        PolicyDocument::new().statement(deny(admin::SESSION_BLOCK_SID).condition(Condition { operator: "StringLike", key: "aws:userid".into(), values: patterns })),
    )
    .build(template)?;
    Ok(BlockPolicies { block, session })
}

/// The Identity Center instance quotas act on: their own setting, else `access`'s.
fn identity_center_instance(config: &Config, ic: &crate::config::IdentityCenter) -> Value {
    match (&config.access.identity_center_instance_arn, ic.instance_arn.is_empty()) {
        (Some(arn), true) => Value::str(arn.as_str()),
        _ => Value::str(ic.instance_arn.as_str()),
    }
}

/// Permission set name → ARN: configured ARNs, then the stack's own permission sets by name
/// (`GetAtt`, so no ARN is copied into the config).
fn permission_set_arns(ic: &crate::config::IdentityCenter) -> Vec<(String, Value)> {
    let mut out: Vec<(String, Value)> = ic.permission_set_arns.iter().map(|(k, v)| (k.clone(), Value::str(v.as_str()))).collect();
    for name in &ic.permission_sets {
        if !ic.permission_set_arns.contains_key(name) {
            out.push((name.clone(), crate::monitoring::access::permission_set_arn(name)));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// The handlers' `CONFIG`, with the table names, topic and policy ARNs as references.
pub fn handler_config(config: &Config, region: &str, usage: &TableRef, audit: &TableRef, topic: &TopicRef, policies: &BlockPolicies) -> Value {
    let q = &config.quotas;
    let overrides = q
        .overrides
        .iter()
        .map(|(k, o)| (k.clone().into(), Value::Map(Map::new().with("daily_limit", optional(o.daily_limit)).with("monthly_limit", optional(o.monthly_limit)))))
        .collect();
    let teams = q
        .teams
        .iter()
        .map(|(name, t)| {
            let team = Map::new().with("members", Value::list(t.members.iter().map(String::as_str))).with("monthly_limit", optional(t.monthly_limit));
            (name.clone().into(), Value::Map(team))
        })
        .collect();
    let identity_center = match &q.identity_center {
        None => Value::str(NONE),
        Some(ic) => Map::new()
            .with("instance_arn", identity_center_instance(config, ic))
            .with("permission_set_arns", Value::Map(Map(permission_set_arns(ic).into_iter().map(|(k, v)| (k.into(), v)).collect())))
            .into(),
    };
    Map::new()
        .with("usage_table", usage.name())
        .with("audit_table", audit.name())
        .with("topic_arn", topic.arn())
        .with("mode", if q.mode == QuotaMode::Block { "block" } else { "alert" })
        .with("unit", if q.unit == QuotaUnit::Usd { "usd" } else { "tokens" })
        .with("daily_limit", optional(q.daily_limit))
        .with("monthly_limit", optional(q.monthly_limit))
        .with("warning_percent", Value::from(q.warning_percent))
        .with("overrides", Value::Map(Map(overrides)))
        .with("teams", Value::Map(Map(teams)))
        .with("protected", Value::list(q.protected.iter().map(String::as_str)))
        .with("emails", string_map(q.emails.iter()))
        .with("time_zone", q.time_zone.as_str())
        .with("sessions_are_people", config.attribution.sessions_are_people)
        .with("prices", prices(config, region))
        .with("inference_profiles", inference_profiles(config))
        .with("service_tiers", service_tiers(config))
        .with("discount_percent", 0)
        .with("identity_center", identity_center)
        .with("block_policy_arn", policies.block.arn())
        .with("session_block_policy_arn", policies.session.arn())
        .with("session_tag_keys", Value::list(admin::session_tag_keys().iter().map(String::as_str)))
        .with("stack_name", Value::pseudo(Pseudo::StackName))
        .into()
}

/// The handler's inline source: the generated `CONFIG`, then the shared core, then the handler.
pub fn handler_source(config: &Value, handler: &str) -> Value {
    Sub::new()
        .text("import json\n\n\ndef _none(v):\n    if v == \"none\":\n        return None\n    if isinstance(v, dict):\n        return {k: _none(x) for k, x in v.items()}\n    return v\n\n\nCONFIG = _none(json.loads(r\"\"\"")
        .splice(&embedded_json(config))
        .text("\"\"\"))\n\n")
        .text(CORE_SOURCE)
        .text("\n\n")
        .text(handler)
        .build()
}

pub fn build(template: &mut Template, config: &Config, region: &str, key: &KeyRef, topic: &TopicRef, log_group: &LogGroupRef) -> Result<Quotas, CfnError> {
    let q = &config.quotas;
    let usage = Table::new("QuotaUsageTable", "pk", Some("sk"), key).ttl("ttl").build(template)?;
    let audit = Table::new("QuotaAuditTable", "pk", Some("sk"), key).build(template)?;
    let policies = block_policies(template)?;
    let handler_config = handler_config(config, region, &usage, &audit, topic, &policies);

    let (tag_key, tag_value) = q.managed_tag.split_once('=').unwrap_or(("bedrock-watch-quota", "managed"));
    let principals = |kind: &str| {
        Sub::new().text("arn:").pseudo(Pseudo::Partition).text(":iam::").pseudo(Pseudo::AccountId).text(&format!(":{kind}{}*", q.managed_path)).build()
    };
    let in_scope = || Condition::new("StringEquals", format!("iam:ResourceTag/{tag_key}"), tag_value);
    let policy_arn = |arns: Vec<Value>| Condition { operator: "ArnEquals", key: "iam:PolicyARN".into(), values: arns };
    // Attach/detach only the stack's deny policies; tag only the session slot keys.
    let iam_scope = [
        Statement::allow(IAM_QUOTA_ATTACH_USER, vec![principals("user")]).condition(in_scope()).condition(policy_arn(vec![policies.block.arn()])),
        Statement::allow(IAM_QUOTA_ATTACH_ROLE, vec![principals("role")])
            .condition(in_scope())
            .condition(policy_arn(vec![policies.block.arn(), policies.session.arn()])),
        Statement::allow(IAM_QUOTA_SESSION_TAGS, vec![principals("role")]).condition(in_scope()).condition(Condition {
            operator: "ForAllValues:StringEquals",
            key: "aws:TagKeys".into(),
            values: admin::session_tag_keys().into_iter().map(Value::from).collect(),
        }),
    ];
    let sso_scope = q.identity_center.as_ref().map(|ic| {
        let mut arns = vec![identity_center_instance(config, ic)];
        arns.extend(permission_set_arns(ic).into_iter().map(|(_, v)| v));
        arns.push(Sub::new().text("arn:").pseudo(Pseudo::Partition).text(":sso:::account/").pseudo(Pseudo::AccountId).build());
        Statement::allow(SSO_QUOTA_BLOCK, arns)
    });
    let retention = Retention::days(config.logging.retention_days)?;
    // Both functions are invoked asynchronously (CloudWatch Logs, EventBridge Scheduler): a
    // batch that fails every retry is parked here, not dropped with its token counts.
    let prefix = config.stack_name_for(region);
    let dlq = DeadLetterQueue::new("QuotaDeadLetterQueue", format!("{prefix}-quota-dlq"), key, format!("{prefix}-quota-dlq-not-empty"), topic).build(template)?;
    let function = |id: &str, description: &str, handler: &str| {
        let mut f = Function::python(id, description, handler_source(&handler_config, handler))
            // Team blocks wait for permission-set provisioning and lock retries.
            .timeout(300)
            .memory(256)
            .log_retention(retention)
            .log_encryption_key(key)
            .permit(usage.grant(DYNAMODB_COUNTERS))
            .permit(audit.grant(DYNAMODB_APPEND))
            .permit(Statement::allow(SNS_PUBLISH, vec![topic.arn()]))
            .permit(Statement::allow(KMS_USE_KEY, vec![key.arn()]))
            .permits(iam_scope.iter().cloned())
            .dead_letter_queue(&dlq);
        if let Some(s) = &sso_scope {
            f = f.permit(s.clone());
        }
        f
    };
    let accounting = function(
        "QuotaAccountingFunction",
        "bedrock-watch: counts tokens and estimated cost per principal and team exactly once, warns, notifies or blocks",
        ACCOUNTING_SOURCE,
    )
    .build(template)?;
    let reset = function("QuotaResetFunction", "bedrock-watch: lifts expired quota blocks at the start of each period", RESET_SOURCE).build(template)?;
    SubscriptionFilter::to_function("QuotaAccountingSubscription", log_group, "{ $.requestId = * }", &accounting).build(template)?;
    Schedule::cron("QuotaResetSchedule", "0 0 * * ? *", &q.time_zone, &reset, format!("Lift expired bedrock-watch quota blocks at midnight {}", q.time_zone))
        .build(template)?;
    Ok(Quotas { block_policy: policies.block, session_block_policy: policies.session, usage, audit, accounting, reset })
}
