//! The verification as pure functions: facts and config in, one [`CheckResult`] per check out.
//! Fixes follow the table of runbook section 9.

use std::collections::{BTreeMap, BTreeSet};

use super::facts::{Facts, Observed};
use super::{CheckResult, Status};
use crate::bedrock::identity::SSO_ROLE_PREFIX;
use crate::config::access::Access;
use crate::config::{CloudTrailMode, Config};

/// Every check, in the runbook's order.
pub fn run(config: &Config, f: &Facts) -> Vec<CheckResult> {
    let mut out = vec![identity(config, f), logging(f), delivery(f), cloudtrail(config, f), tokens(f), cost(config, f)];
    out.extend(prohibited(config, f));
    if config.access.enabled && !config.access.tools.is_empty() {
        out.push(api_keys(config, f));
    }
    out
}

fn unavailable(id: &'static str, what: &str, why: &str, fix: &str) -> CheckResult {
    CheckResult::warn(id, format!("could not read {what}: {why}"), fix)
}

/// Runbook 2.2 / test 1: the caller is an Identity Center session, so its ARN carries the user.
pub fn identity(config: &Config, f: &Facts) -> CheckResult {
    let arn = &f.caller_arn;
    let resource = arn.splitn(6, ':').nth(5).unwrap_or("");
    let parts: Vec<&str> = resource.split('/').collect();
    match parts.as_slice() {
        ["assumed-role", role, user] if role.starts_with(SSO_ROLE_PREFIX) => {
            let set = role.trim_start_matches(SSO_ROLE_PREFIX).rsplit_once('_').map_or(*role, |(n, _)| n);
            CheckResult::pass("identity", format!("{arn}: IAM Identity Center session of {user} (permission set {set})"))
        }
        ["user", .., name] if config.access.tools.keys().any(|t| Access::tool_user_name(t) == *name) => {
            CheckResult::pass("identity", format!("{arn}: the tool user {name} of access.tools"))
        }
        _ => CheckResult::fail(
            "identity",
            format!("{arn} is not an IAM Identity Center session (expected arn:aws:sts::<account>:assumed-role/AWSReservedSSO_<PermissionSet>_<id>/<user>)"),
            "log in through IAM Identity Center: `aws sso login --profile <profile>` and pass --profile <profile> (or set AWS_PROFILE); fix SSO before anything else (runbook 2.2)",
        ),
    }
}

fn role_name(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// The region's logging configuration names this stack's log group, bucket and role.
pub fn logging(f: &Facts) -> CheckResult {
    let fix_deploy = "run `bedrock-watch deploy --config FILE` for this region: its custom resource writes the configuration (set logging.adopt_existing: true to take over one written by someone else)";
    let cfg = match &f.logging {
        Observed::Unavailable(why) => return unavailable("logging", "the invocation-logging configuration", why, "grant bedrock:GetModelInvocationLoggingConfiguration to the caller"),
        Observed::Seen(None) => return CheckResult::fail("logging", format!("no model-invocation logging configuration in {}", f.region), fix_deploy),
        Observed::Seen(Some(c)) => c,
    };
    let mut wrong = Vec::new();
    if cfg.log_group.as_deref() != Some(f.stack.log_group.as_str()) {
        wrong.push(format!("log group {} (this stack's: {})", cfg.log_group.as_deref().unwrap_or("none"), f.stack.log_group));
    }
    if let Some(expected) = &f.stack.role_name {
        if cfg.role_arn.as_deref().map(role_name) != Some(expected.as_str()) {
            wrong.push(format!("role {} (this stack's: {expected})", cfg.role_arn.as_deref().unwrap_or("none")));
        }
    }
    if let Some(expected) = &f.stack.bucket {
        if cfg.bucket.as_deref() != Some(expected.as_str()) {
            wrong.push(format!("bucket {} (this stack's: {expected})", cfg.bucket.as_deref().unwrap_or("none")));
        }
    }
    if wrong.is_empty() {
        CheckResult::pass("logging", format!("invocation logs go to {} and s3://{} via {}", f.stack.log_group, f.stack.bucket.as_deref().unwrap_or("-"), cfg.role_arn.as_deref().unwrap_or("-")))
    } else {
        CheckResult::fail("logging", format!("the logging configuration points elsewhere: {}", wrong.join("; ")), fix_deploy)
    }
}

/// Delivery failures are zero and records arrived in the window.
pub fn delivery(f: &Facts) -> CheckResult {
    let failures = match &f.delivery_failures {
        Observed::Seen(v) => v.unwrap_or(0.0),
        Observed::Unavailable(why) => return unavailable("delivery", "the delivery metrics", why, "grant cloudwatch:GetMetricData to the caller"),
    };
    if failures > 0.0 {
        return CheckResult::fail(
            "delivery",
            format!("{failures} invocation-log delivery failure(s) in the last {} minutes", f.window_minutes),
            "check the delivery role's policy and the KMS key policy (Bedrock must be allowed kms:GenerateDataKey), then redeploy; the log-delivery-failure alarm shows when it started",
        );
    }
    match &f.records {
        Observed::Unavailable(why) => unavailable("delivery", "the invocation log group", why, "grant logs:FilterLogEvents on the log group to the caller"),
        Observed::Seen(r) if r.is_empty() => CheckResult::warn(
            "delivery",
            format!("no delivery failures, but no invocation-log records in the last {} minutes", f.window_minutes),
            "expected before any call: invoke a model (or run `verify --invoke MODEL`), wait 2-5 minutes and run verify again",
        ),
        Observed::Seen(r) => {
            let last = r.iter().map(|x| x.timestamp_ms).max().unwrap_or(0);
            let ago = (f.now_ms - last).max(0) / 60_000;
            CheckResult::pass("delivery", format!("{} record(s) in the last {} minutes, the newest {ago} min ago; no delivery failures", r.len(), f.window_minutes))
        }
    }
}

/// Runbook 4 / test 2: Bedrock management events are recorded and name the user: read from the
/// trails' event history, or with `cloudtrail.mode: lake` by querying the stack's event data store.
pub fn cloudtrail(config: &Config, f: &Facts) -> CheckResult {
    if config.cloudtrail.mode == CloudTrailMode::Lake {
        return cloudtrail_lake(f);
    }
    let trails = match &f.trails {
        Observed::Unavailable(why) => return unavailable("cloudtrail", "the trails", why, "grant cloudtrail:DescribeTrails and cloudtrail:GetTrailStatus"),
        Observed::Seen(t) => t,
    };
    let logging: Vec<&str> = trails.iter().filter(|t| t.logging != Some(false)).map(|t| t.name.as_str()).collect();
    let fix = "set `cloudtrail.mode: trail` (or `lake`) and deploy, or turn on a multi-region trail with management events (read and write) in CloudTrail (runbook 4.1)";
    if logging.is_empty() {
        let saw = if trails.is_empty() { format!("no CloudTrail trail in {}", f.region) } else { format!("no trail is logging ({} stopped)", trails.len()) };
        return CheckResult::fail("cloudtrail", saw, fix);
    }
    events(f, &format!("trail {}", logging.join(", ")), "grant cloudtrail:LookupEvents to check that events carry per-user ARNs")
}

/// `cloudtrail.mode: lake`: the store must exist in the primary region's stack and answer a query.
fn cloudtrail_lake(f: &Facts) -> CheckResult {
    let Some(arn) = &f.stack.event_data_store else {
        return CheckResult::fail(
            "cloudtrail",
            "cloudtrail.mode is lake, but the primary region's stack has no event data store (AuditEventDataStore)",
            "deploy the primary region's stack (`bedrock-watch deploy --config FILE`): it creates the event data store",
        );
    };
    let store = format!("CloudTrail Lake event data store {}", super::lake::store_id(arn));
    events(f, &store, &format!("grant cloudtrail:StartQuery and cloudtrail:GetQueryResults on {arn} to check that events carry per-user ARNs"))
}

/// The recent Bedrock events of `store`: present, and each with an Identity Center user's ARN.
fn events(f: &Facts, store: &str, grant: &str) -> CheckResult {
    match &f.trail_events {
        Observed::Unavailable(why) => CheckResult::warn("cloudtrail", format!("{store} is recording; recent events could not be read: {why}"), grant),
        Observed::Seen(ev) if ev.is_empty() => {
            CheckResult::warn("cloudtrail", format!("{store} is recording; no bedrock.amazonaws.com events in the last {} minutes", f.window_minutes), "invoke a model (`verify --invoke MODEL`) and run verify again after 5 minutes")
        }
        Observed::Seen(ev) => {
            let shared: BTreeSet<&str> = ev.iter().map(|e| e.caller.as_str()).filter(|c| !c.contains(&format!("assumed-role/{SSO_ROLE_PREFIX}"))).collect();
            if shared.is_empty() {
                CheckResult::pass("cloudtrail", format!("{store}; {} Bedrock event(s), each with an Identity Center user ARN", ev.len()))
            } else {
                let shared: Vec<&str> = shared.into_iter().map(|c| if c.is_empty() { "(no ARN)" } else { c }).collect();
                CheckResult::warn("cloudtrail", format!("{store}; Bedrock events from callers without a per-user ARN: {}", shared.join(", ")), "enforce IAM Identity Center for people (runbook 9: same ARN for all users)")
            }
        }
    }
}

fn models_seen(f: &Facts) -> BTreeSet<String> {
    let mut m: BTreeSet<String> = BTreeSet::new();
    if let Observed::Seen(r) = &f.records {
        m.extend(r.iter().map(|x| x.model.rsplit('/').next().unwrap_or(&x.model).to_owned()));
    }
    for (_, models) in &f.token_metric_models {
        if let Observed::Seen(list) = models {
            m.extend(list.iter().cloned());
        }
    }
    m
}

/// Runbook 5 / test 3: token metrics exist in every region for the models seen.
pub fn tokens(f: &Facts) -> CheckResult {
    let logged: BTreeSet<String> = match &f.records {
        Observed::Seen(r) => r.iter().map(|x| x.model.rsplit('/').next().unwrap_or(&x.model).to_owned()).collect(),
        Observed::Unavailable(_) => BTreeSet::new(),
    };
    let mut missing = Vec::new();
    let mut seen = Vec::new();
    for (region, models) in &f.token_metric_models {
        match models {
            Observed::Unavailable(why) => return unavailable("tokens", &format!("the AWS/Bedrock metrics in {region}"), why, "grant cloudwatch:ListMetrics"),
            Observed::Seen(list) if list.is_empty() => missing.push(region.clone()),
            Observed::Seen(list) => {
                seen.push(format!("{region}: {}", list.join(", ")));
                if region == &f.region {
                    for m in &logged {
                        if !list.contains(m) {
                            missing.push(format!("{m} in {region}"));
                        }
                    }
                }
            }
        }
    }
    if missing.is_empty() {
        CheckResult::pass("tokens", format!("AWS/Bedrock token metrics for {}", seen.join("; ")))
    } else if seen.is_empty() && logged.is_empty() {
        CheckResult::warn("tokens", format!("no AWS/Bedrock token metrics yet ({})", missing.join(", ")), "expected before any call; after one, wait 5-10 minutes and check the region (runbook 9: token metrics missing)")
    } else {
        CheckResult::fail("tokens", format!("token metrics missing for {}", missing.join(", ")), "verify the region the calls go to (--region) and wait 5-10 minutes (runbook 9: token metrics missing)")
    }
}

/// Runbook 6: every model seen has a price; cost-allocation tags are active.
pub fn cost(config: &Config, f: &Facts) -> CheckResult {
    let table = config.pricing.table();
    let unpriced: Vec<String> = models_seen(f).into_iter().filter(|m| table.price(m, &f.region).is_none()).collect();
    if !unpriced.is_empty() {
        let first = &unpriced[0];
        // An application inference profile is priced through the model it uses, not by itself.
        // (records keep only the last ARN segment, so a profile shows as its bare id).
        let profile = crate::bedrock::inference_profile::arn_id(first).or_else(|| crate::bedrock::inference_profile::is_profile_key(first).then_some(first.as_str()));
        let fix = match profile {
            Some(id) => format!("map the application inference profile to its model: `pricing.inference_profiles.{id}: <model id>` (aws bedrock get-inference-profile --inference-profile-identifier {id} names it), and deploy"),
            None => format!("add `pricing.models.\"{first}\": {{input: <USD per 1,000>, output: <USD per 1,000>}}` to the config and deploy"),
        };
        return CheckResult::fail("cost", format!("no price for {} (seen in the window)", unpriced.join(", ")), fix);
    }
    let mut wanted: BTreeSet<String> = config.tags.keys().cloned().collect();
    if config.access.enabled {
        wanted.extend(config.access.developer.tags.keys().cloned());
        wanted.extend(config.access.tools.values().flat_map(|t| t.tags.keys().cloned()));
    }
    wanted.remove("ManagedBy");
    let tags = match &f.cost_tags {
        Observed::Unavailable(why) => {
            return unavailable("cost", "the cost-allocation tags", why, "grant ce:ListCostAllocationTags (Cost Explorer is reached in us-east-1), then run verify again");
        }
        Observed::Seen(t) => t,
    };
    let inactive: Vec<&String> = wanted.iter().filter(|k| !tags.iter().any(|t| &t.key == *k && t.status == "Active")).collect();
    if inactive.is_empty() {
        CheckResult::pass("cost", format!("every model seen is priced; cost-allocation tags active: {}", if wanted.is_empty() { "none configured".to_owned() } else { wanted.into_iter().collect::<Vec<_>>().join(", ") }))
    } else {
        let keys = inactive.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(",");
        CheckResult::fail(
            "cost",
            format!("cost-allocation tags not active: {keys}"),
            format!("activate them in Billing → Cost allocation tags, or `aws ce update-cost-allocation-tags-status --cost-allocation-tags-status {}` (runbook 6.1; tags appear there a day after first use)", inactive.iter().map(|k| format!("TagKey={k},Status=Active")).collect::<Vec<_>>().join(" ")),
        )
    }
}

/// Runbook 3.3: no static keys with Bedrock permissions outside `access.tools`, no shared role
/// sessions, no callers outside the expected identity patterns.
pub fn prohibited(config: &Config, f: &Facts) -> Vec<CheckResult> {
    let tools: BTreeSet<String> = if config.access.enabled { config.access.tools.keys().map(|t| Access::tool_user_name(t)).collect() } else { BTreeSet::new() };
    let mut out = Vec::new();
    out.push(match &f.users {
        Observed::Unavailable(why) => unavailable("static-keys", "the IAM users", why, "grant iam:GetAccountAuthorizationDetails and iam:ListAccessKeys"),
        Observed::Seen(users) => {
            let bad: Vec<&str> = users.iter().filter(|u| u.bedrock_allowed && u.active_access_keys > 0 && !tools.contains(&u.name)).map(|u| u.name.as_str()).collect();
            if bad.is_empty() {
                CheckResult::pass("static-keys", format!("{} IAM user(s); none outside access.tools has an active access key and Bedrock permissions", users.len()))
            } else {
                CheckResult::fail(
                    "static-keys",
                    format!("IAM users with active access keys and Bedrock permissions: {}", bad.join(", ")),
                    format!("move people to IAM Identity Center and tools to access.tools (Bedrock API keys that expire); then deactivate the keys: {}", bad.iter().map(|u| format!("`aws iam update-access-key --user-name {u} --status Inactive --access-key-id <id>`")).collect::<Vec<_>>().join(", ")),
                )
            }
        }
    });
    let Observed::Seen(records) = &f.records else { return out };
    let mut sessions: BTreeMap<&str, (BTreeSet<&str>, usize)> = BTreeMap::new();
    for r in records {
        let resource = r.caller.splitn(6, ':').nth(5).unwrap_or("");
        if let ["assumed-role", role, session] = resource.split('/').collect::<Vec<_>>().as_slice() {
            if !role.starts_with(SSO_ROLE_PREFIX) {
                let e = sessions.entry(role).or_default();
                e.0.insert(session);
                e.1 += 1;
            }
        }
    }
    let shared: Vec<String> = sessions.iter().filter(|(_, (s, n))| s.len() == 1 && *n > 1).map(|(role, (s, n))| format!("{role} ({n} calls, all as session {})", s.iter().next().unwrap_or(&""))).collect();
    out.push(if shared.is_empty() {
        CheckResult::pass("shared-roles", "no role in the logs calls Bedrock with one shared session name")
    } else {
        CheckResult::warn("shared-roles", format!("roles whose sessions all share one name: {}", shared.join("; ")), "give each person their own session (IAM Identity Center, or a per-user role session name / source identity), or confirm it is one workload and add its role to dashboards.security.expected_identity_patterns")
    });
    let patterns = &config.dashboards.security.expected_identity_patterns;
    let unexpected: BTreeSet<&str> = records
        .iter()
        .map(|r| r.caller.as_str())
        .filter(|c| !patterns.iter().any(|p| c.contains(p.as_str())))
        .filter(|c| !tools.iter().any(|t| c.ends_with(&format!("/{t}"))))
        .collect();
    out.push(if unexpected.is_empty() {
        CheckResult::pass("expected-callers", format!("every caller in the logs matches expected_identity_patterns ({}) or is a tool of access.tools", patterns.join(", ")))
    } else {
        CheckResult::fail(
            "expected-callers",
            format!("callers matching no expected_identity_patterns: {}", unexpected.into_iter().collect::<Vec<_>>().join(", ")),
            "if the caller is legitimate, add a pattern to dashboards.security.expected_identity_patterns (or make it a tool under access.tools); otherwise remove its Bedrock permissions",
        )
    });
    out
}

/// Tool keys are younger than `access.key_max_age_days` and expire.
pub fn api_keys(config: &Config, f: &Facts) -> CheckResult {
    let max = config.access.key_max_age_days;
    let keys = match &f.api_keys {
        Observed::Unavailable(why) => return unavailable("api-keys", "the tools' Bedrock API keys", why, "grant iam:ListServiceSpecificCredentials on the tool users"),
        Observed::Seen(k) => k,
    };
    let mut bad = Vec::new();
    for k in keys.iter().filter(|k| k.status == "Active") {
        let created = k.created.parse::<jiff::Timestamp>().map(|t| t.as_millisecond()).unwrap_or(0);
        let age_days = (f.now_ms - created) / 86_400_000;
        if age_days > i64::from(max) {
            bad.push(format!("{} of {} is {age_days} days old", k.id, k.user));
        } else if k.expires.is_none() {
            bad.push(format!("{} of {} never expires", k.id, k.user));
        }
    }
    if bad.is_empty() {
        CheckResult::pass("api-keys", format!("{} active Bedrock API key(s), all younger than {max} days and expiring", keys.iter().filter(|k| k.status == "Active").count()))
    } else {
        CheckResult::fail("api-keys", bad.join("; "), "issue a new key (`bedrock-watch access key create TOOL`), switch the tool to it, then `bedrock-watch access key revoke TOOL KEY_ID`")
    }
}

/// The exit status of a verification: any FAIL fails.
pub fn failed(results: &[CheckResult]) -> bool {
    results.iter().any(|r| r.status == Status::Fail)
}
