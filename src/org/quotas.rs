//! The StackSets quotas a rollout must fit, checked on the plan before any AWS call: a rollout
//! that cannot fit is refused with the config key and the limit; one that fits but runs into a
//! throttle is planned with a warning.
//!
//! Values from the CloudFormation User Guide, "Understand CloudFormation quotas" (StackSets rows)
//! and "Stack set operation options" (deployment speed). The per-administrator quotas are shared
//! with every other stack set of the account, which bedrock-watch cannot see offline: the plan
//! says how much of each this rollout uses.

use crate::config::organization::{PermissionModel, MAX_OUS_PER_OPERATION};

use super::plan::Rollout;

/// Stack sets per administrator account (adjustable).
pub const MAX_STACK_SETS_PER_ADMINISTRATOR: usize = 1_000;
/// Stack instances per stack set (adjustable).
pub const MAX_INSTANCES_PER_STACK_SET: usize = 100_000;
/// Stack instances, across all stack sets, that operations run on at once per Region and
/// administrator account.
pub const MAX_CONCURRENT_INSTANCE_OPERATIONS_PER_REGION: usize = 10_000;
/// "The maximum speed of deployment is 100 concurrent stack instances per stack set": a higher
/// max-concurrent setting is accepted but does not go faster.
pub const MAX_DEPLOYMENT_SPEED_PER_STACK_SET: usize = 100;
/// A template passed by S3 URL (stack set templates of this size always are): 1 MB.
pub const MAX_TEMPLATE_URL_BYTES: usize = 1_000_000;

/// A limit the rollout would break: what, the config key to change, and the limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exceeded {
    pub key: String,
    pub value: String,
    pub limit: String,
}

/// What the plan learned about quotas: refusals, warnings and the usage lines it prints.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QuotaCheck {
    pub exceeded: Vec<Exceeded>,
    pub warnings: Vec<String>,
    pub usage: Vec<String>,
}

/// Instances a stack set operation works on at once per Region: `max_concurrent_percentage`
/// of the accounts, rounded down, at least one (CloudFormation rounds a percentage down).
pub fn concurrent_accounts(accounts: usize, percentage: u32) -> usize {
    (accounts * percentage as usize / 100).max(1)
}

/// Checks `rollout` against the StackSets quotas.
pub fn check(rollout: &Rollout) -> QuotaCheck {
    let mut q = QuotaCheck::default();
    let sets = rollout.stack_sets.len();
    if sets > MAX_STACK_SETS_PER_ADMINISTRATOR {
        q.exceeded.push(Exceeded {
            key: "organization.regions".into(),
            value: format!("{sets} regions (one stack set each)"),
            limit: format!("at most {MAX_STACK_SETS_PER_ADMINISTRATOR} stack sets per administrator account"),
        });
    }
    q.usage.push(format!("quotas: {sets} of the {MAX_STACK_SETS_PER_ADMINISTRATOR} stack sets an administrator account may have (shared with its other stack sets)"));
    for s in &rollout.stack_sets {
        let bytes = s.template.content.len();
        if bytes > MAX_TEMPLATE_URL_BYTES {
            q.exceeded.push(Exceeded {
                key: format!("the member template of {} (models, dashboards.*, alerts.per_model)", s.name),
                value: format!("{bytes} bytes"),
                limit: format!("at most {MAX_TEMPLATE_URL_BYTES} bytes for a stack set template from S3: list fewer models or turn dashboards off"),
            });
        } else if bytes > crate::cfn::template::MAX_INLINE_BODY_BYTES && rollout.staging_bucket.is_none() {
            q.warnings.push(format!(
                "{}: the member template is {bytes} bytes, over the 51200 CloudFormation takes inline; `org deploy` needs deploy.staging_bucket",
                s.name
            ));
        }
    }
    let ous = rollout.targets.organizational_units.len();
    if ous > MAX_OUS_PER_OPERATION {
        q.exceeded.push(Exceeded {
            key: "organization.targets.organizational_units".into(),
            value: format!("{ous} OUs"),
            limit: format!("at most {MAX_OUS_PER_OPERATION} OUs per CreateStackInstances call: target a parent OU or the root"),
        });
    }
    if rollout.permission_model == PermissionModel::SelfManaged {
        let accounts = rollout.accounts().len();
        if accounts > MAX_INSTANCES_PER_STACK_SET {
            q.exceeded.push(Exceeded {
                key: "organization.targets.accounts".into(),
                value: format!("{accounts} accounts (one instance each per stack set)"),
                limit: format!("at most {MAX_INSTANCES_PER_STACK_SET} stack instances per stack set"),
            });
        }
        let pct = rollout.preferences.max_concurrent_percentage;
        let at_once = concurrent_accounts(accounts, pct);
        q.usage.push(format!(
            "quotas: {accounts} of the {MAX_INSTANCES_PER_STACK_SET} instances a stack set may have; {} instance operation(s) per region at once of the {MAX_CONCURRENT_INSTANCE_OPERATIONS_PER_REGION} an administrator account may run",
            at_once.min(MAX_DEPLOYMENT_SPEED_PER_STACK_SET)
        ));
        if at_once > MAX_DEPLOYMENT_SPEED_PER_STACK_SET {
            q.warnings.push(format!(
                "organization.max_concurrent_percentage: {pct}% of {accounts} accounts is {at_once} at once, but StackSets deploys at most {MAX_DEPLOYMENT_SPEED_PER_STACK_SET} instances of a stack set at once: the operation runs at that speed (about {} rounds per region)",
                accounts.div_ceil(MAX_DEPLOYMENT_SPEED_PER_STACK_SET)
            ));
        }
    } else {
        q.usage.push("quotas: the OUs' accounts are resolved by StackSets (instances per stack set: at most 100000)".into());
    }
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_percentage_rounds_down_to_at_least_one_account() {
        assert_eq!(concurrent_accounts(500, 25), 125);
        assert_eq!(concurrent_accounts(3, 25), 1);
        assert_eq!(concurrent_accounts(10, 100), 10);
        assert_eq!(concurrent_accounts(0, 50), 1);
    }
}
