//! The `organization:` section: rolling the member stack out to every account and region of an
//! AWS Organization through CloudFormation StackSets (never a loop over accounts of our own).
//!
//! Formats and ranges are the CloudFormation API's (API reference: DeploymentTargets,
//! CreateStackInstances, StackSetOperationPreferences, CreateStackSet), checked here so that a
//! typo is a config error naming the key, not a `ValidationError` halfway through a rollout.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::load::Problem;
use super::regions::{allowed as region_allowed, is_known as is_region};

/// Where the rollout runs from and what it reaches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Organization {
    /// `management` (signed in to the organization's management account: CallAs SELF) or
    /// `delegated_admin` (a registered delegated administrator: CallAs DELEGATED_ADMIN).
    pub account: CallerAccount,
    /// Name of the stack sets; one per region is named `<stack_set_name>-<region>`. Default:
    /// the config's `stack_name`.
    pub stack_set_name: Option<String>,
    /// `service_managed` (default: Organizations grants the roles, new accounts in the target
    /// OUs get the stack automatically) or `self_managed` (the two IAM roles must exist).
    pub permission_model: PermissionModel,
    pub targets: Targets,
    /// Regions to roll out to; default: the config's `regions`. Listing none is an error.
    pub regions: Option<Vec<String>>,
    /// Share of accounts (per region) worked on at once: 1-100.
    pub max_concurrent_percentage: u32,
    /// Share of accounts (per region) that may fail before the operation stops: 0-100.
    pub failure_tolerance_percentage: u32,
    /// `parallel` or `sequential` (one region after another).
    pub region_concurrency: RegionConcurrency,
    /// Service-managed only: deploy to accounts that join a target OU later.
    pub auto_deployment: AutoDeployment,
    /// Self-managed only: the administration role in this account (default: CloudFormation's
    /// `AWSCloudFormationStackSetAdministrationRole`).
    pub administration_role_arn: Option<String>,
    /// Self-managed only: the role CloudFormation assumes in each target account.
    pub execution_role_name: String,
    /// Role that `org plan` and `org audit` assume in each target account to read the logging
    /// configuration; default: `execution_role_name`.
    pub read_role_name: Option<String>,
    /// The central monitoring account: it gets the `AWS::Oam::Sink`, every member an
    /// `AWS::Oam::Link` sharing metrics and log groups with it.
    pub monitoring_account: Option<String>,
    /// The organization's id (`o-...`) for the sink policy's `aws:PrincipalOrgID`; without it
    /// the sink accepts exactly the listed target accounts.
    pub organization_id: Option<String>,
    /// Per region, the ARN of the monitoring account's sink (the `SinkArn` output of the
    /// monitoring template `org synth` writes). Members in that region link to it.
    pub monitoring_sinks: BTreeMap<String, String>,
}

impl Default for Organization {
    fn default() -> Self {
        Organization {
            account: CallerAccount::Management,
            stack_set_name: None,
            permission_model: PermissionModel::ServiceManaged,
            targets: Targets::default(),
            regions: None,
            max_concurrent_percentage: 25,
            failure_tolerance_percentage: 10,
            region_concurrency: RegionConcurrency::Parallel,
            auto_deployment: AutoDeployment::default(),
            administration_role_arn: None,
            execution_role_name: DEFAULT_EXECUTION_ROLE.into(),
            read_role_name: None,
            monitoring_account: None,
            organization_id: None,
            monitoring_sinks: BTreeMap::new(),
        }
    }
}

/// CloudFormation's default names for the self-managed roles (StackSets user guide).
pub const DEFAULT_ADMINISTRATION_ROLE: &str = "AWSCloudFormationStackSetAdministrationRole";
pub const DEFAULT_EXECUTION_ROLE: &str = "AWSCloudFormationStackSetExecutionRole";
/// Most OUs one CreateStackInstances call accepts (API reference, CreateStackInstances).
pub const MAX_OUS_PER_OPERATION: usize = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CallerAccount {
    Management,
    DelegatedAdmin,
}

impl CallerAccount {
    /// The API's `CallAs` value.
    pub fn call_as(self) -> &'static str {
        match self {
            CallerAccount::Management => "SELF",
            CallerAccount::DelegatedAdmin => "DELEGATED_ADMIN",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PermissionModel {
    ServiceManaged,
    SelfManaged,
}

impl PermissionModel {
    pub fn as_str(self) -> &'static str {
        match self {
            PermissionModel::ServiceManaged => "SERVICE_MANAGED",
            PermissionModel::SelfManaged => "SELF_MANAGED",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RegionConcurrency {
    Parallel,
    Sequential,
}

impl RegionConcurrency {
    pub fn as_str(self) -> &'static str {
        match self {
            RegionConcurrency::Parallel => "PARALLEL",
            RegionConcurrency::Sequential => "SEQUENTIAL",
        }
    }
}

/// Which accounts get a stack instance.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Targets {
    /// OU ids (`ou-xxxx-yyyyyyyy`) or the root (`r-xxxx`); service-managed only.
    pub organizational_units: Vec<String>,
    /// 12-digit account ids. Self-managed: the accounts. Service-managed: only these accounts
    /// of the OUs (AccountFilterType INTERSECTION).
    pub accounts: Vec<String>,
    /// 12-digit account ids left out (service-managed: AccountFilterType DIFFERENCE).
    pub exclude_accounts: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct AutoDeployment {
    pub enabled: bool,
    /// Keep the stack when an account leaves the target OUs. Default false: it is deleted, and
    /// its retained data stores stay as with `destroy`.
    pub retain_stacks_on_account_removal: bool,
}

impl Default for AutoDeployment {
    fn default() -> Self {
        AutoDeployment { enabled: true, retain_stacks_on_account_removal: false }
    }
}

/// `ou-` + 4-32 lowercase letters or digits + `-` + 8-32 more, or `r-` + 4-32 (the pattern of
/// DeploymentTargets.OrganizationalUnitIds).
pub fn is_ou_id(s: &str) -> bool {
    let part = |p: &str, min: usize, max: usize| (min..=max).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if let Some(rest) = s.strip_prefix("ou-") {
        return matches!(rest.split_once('-'), Some((a, b)) if part(a, 4, 32) && part(b, 8, 32));
    }
    s.strip_prefix("r-").is_some_and(|rest| part(rest, 4, 32))
}

/// Exactly 12 digits (the Accounts pattern `^[0-9]{12}$`).
pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// A stack set name: starts with a letter, then letters, digits and hyphens, at most 128.
pub fn is_stack_set_name(s: &str) -> bool {
    (1..=128).contains(&s.len()) && s.starts_with(|c: char| c.is_ascii_alphabetic()) && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

fn problem(key: impl Into<String>, value: impl std::fmt::Display, allowed: impl Into<String>) -> Problem {
    Problem { key: key.into(), value: value.to_string(), allowed: allowed.into() }
}

/// Every invalid value of the section (keys are prefixed `organization.`).
pub fn validate(o: &Organization, stack_name: &str, top_regions: &[String]) -> Vec<Problem> {
    let mut p = Vec::new();
    let k = |s: &str| format!("organization.{s}");
    let name = o.stack_set_name.as_deref().unwrap_or(stack_name);
    // The longest region name is 14 characters; `-<region>` must fit in 128.
    if !is_stack_set_name(name) || name.len() > 128 - 15 {
        p.push(problem(k("stack_set_name"), format!("{name:?}"), "allowed: 1-113 letters, digits and hyphens, starting with a letter (the region is appended)"));
    }
    let t = &o.targets;
    for (i, ou) in t.organizational_units.iter().enumerate() {
        if !is_ou_id(ou) {
            p.push(problem(k(&format!("targets.organizational_units[{i}]")), format!("{ou:?}"), "allowed: an OU id ou-<4-32 lowercase letters or digits>-<8-32 lowercase letters or digits>, or the root r-<4-32>"));
        } else if t.organizational_units[..i].contains(ou) {
            p.push(problem(k(&format!("targets.organizational_units[{i}]")), format!("{ou:?}"), "each OU may be listed once"));
        }
    }
    if t.organizational_units.len() > MAX_OUS_PER_OPERATION {
        p.push(problem(k("targets.organizational_units"), format!("{} OUs", t.organizational_units.len()), "at most 50 (one CreateStackInstances call); target a parent OU or the root instead"));
    }
    for (list, key) in [(&t.accounts, "targets.accounts"), (&t.exclude_accounts, "targets.exclude_accounts")] {
        for (i, a) in list.iter().enumerate() {
            if !is_account_id(a) {
                p.push(problem(k(&format!("{key}[{i}]")), format!("{a:?}"), "allowed: a 12-digit account id (quote it in YAML to keep leading zeros)"));
            } else if list[..i].contains(a) {
                p.push(problem(k(&format!("{key}[{i}]")), format!("{a:?}"), "each account may be listed once"));
            }
        }
    }
    match o.permission_model {
        PermissionModel::ServiceManaged => {
            if t.organizational_units.is_empty() {
                p.push(problem(k("targets.organizational_units"), "empty", "service_managed stack sets deploy to OUs: list at least one OU id or the root r-xxxx (or use permission_model: self_managed with accounts)"));
            }
            if !t.accounts.is_empty() && !t.exclude_accounts.is_empty() {
                p.push(problem(k("targets.exclude_accounts"), "set together with targets.accounts", "service_managed targets take either accounts (only these of the OUs) or exclude_accounts (all of the OUs but these), not both"));
            }
            if o.administration_role_arn.is_some() {
                p.push(problem(k("administration_role_arn"), "set", "only for permission_model: self_managed; service_managed stack sets use the roles Organizations creates"));
            }
        }
        PermissionModel::SelfManaged => {
            if !t.organizational_units.is_empty() {
                p.push(problem(k("targets.organizational_units"), format!("{} OU(s)", t.organizational_units.len()), "self_managed stack sets deploy to accounts only: list targets.accounts, or use permission_model: service_managed"));
            }
            if t.accounts.iter().all(|a| t.exclude_accounts.contains(a)) {
                p.push(problem(k("targets.accounts"), "no account left", "self_managed needs at least one account in targets.accounts that is not in targets.exclude_accounts"));
            }
            if o.account == CallerAccount::DelegatedAdmin {
                p.push(problem(k("account"), "delegated_admin", "a delegated administrator works only with permission_model: service_managed (CallAs DELEGATED_ADMIN)"));
            }
        }
    }
    if let Some(arn) = &o.administration_role_arn {
        let ok = arn.starts_with("arn:") && arn.split(':').count() == 6 && arn.split(':').nth(2) == Some("iam") && arn.contains(":role/");
        if !ok {
            p.push(problem(k("administration_role_arn"), format!("{arn:?}"), "allowed: an IAM role ARN, arn:aws:iam::<account>:role/<name>"));
        }
    }
    for (key, name) in [("execution_role_name", Some(&o.execution_role_name)), ("read_role_name", o.read_role_name.as_ref())] {
        if let Some(n) = name {
            if n.is_empty() || n.len() > 64 || !n.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c)) {
                p.push(problem(k(key), format!("{n:?}"), "allowed: an IAM role name, 1-64 letters, digits and + = , . @ _ -"));
            }
        }
    }
    match &o.regions {
        Some(r) if r.is_empty() => p.push(problem(k("regions"), "empty", "list at least one region to roll out to, e.g. [us-east-1], or leave the key out to use the top-level regions")),
        Some(r) => {
            for (i, region) in r.iter().enumerate() {
                if !is_region(region) {
                    p.push(problem(k(&format!("regions[{i}]")), format!("{region:?}"), region_allowed(region)));
                } else if r[..i].contains(region) {
                    p.push(problem(k(&format!("regions[{i}]")), format!("{region:?}"), "each region may be listed once"));
                } else if !top_regions.contains(region) {
                    p.push(problem(k(&format!("regions[{i}]")), format!("{region:?}"), format!("must be one of the top-level regions ({}), which the member templates are synthesized for", top_regions.join(", "))));
                }
            }
        }
        None => {}
    }
    if !(1..=100).contains(&o.max_concurrent_percentage) {
        p.push(problem(k("max_concurrent_percentage"), o.max_concurrent_percentage, "allowed: 1 to 100 (percent of accounts per region at once)"));
    }
    if o.failure_tolerance_percentage > 100 {
        p.push(problem(k("failure_tolerance_percentage"), o.failure_tolerance_percentage, "allowed: 0 to 100 (percent of accounts per region that may fail)"));
    }
    if let Some(m) = &o.monitoring_account {
        if !is_account_id(m) {
            p.push(problem(k("monitoring_account"), format!("{m:?}"), "allowed: a 12-digit account id"));
        }
    }
    if let Some(id) = &o.organization_id {
        let ok = id.strip_prefix("o-").is_some_and(|r| (10..=32).contains(&r.len()) && r.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
        if !ok {
            p.push(problem(k("organization_id"), format!("{id:?}"), "allowed: o- followed by 10-32 lowercase letters or digits"));
        }
    }
    for (region, arn) in &o.monitoring_sinks {
        let key = k(&format!("monitoring_sinks.{region}"));
        if !crate::oam::link::is_sink_arn(arn) {
            p.push(problem(key, format!("{arn:?}"), "allowed: a sink ARN arn:aws:oam:<region>:<account>:sink/<id> (the SinkArn output of the monitoring stack)"));
        } else if crate::oam::link::sink_region(arn) != Some(region.as_str()) {
            p.push(problem(key, format!("{arn:?}"), "a link points to a sink in its own region: use the sink of this region"));
        } else if o.monitoring_account.as_deref().is_some_and(|m| arn.split(':').nth(4) != Some(m)) {
            p.push(problem(key, format!("{arn:?}"), "the sink must be in organization.monitoring_account"));
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn regions() -> Vec<String> {
        vec!["us-east-1".into(), "eu-west-1".into()]
    }

    fn keys(o: &Organization) -> Vec<String> {
        validate(o, "bedrock-watch", &regions()).into_iter().map(|p| p.key).collect()
    }

    fn service_managed() -> Organization {
        Organization { targets: Targets { organizational_units: vec!["ou-ab12-abcdefgh".into()], ..Targets::default() }, ..Organization::default() }
    }

    #[test]
    fn ids_follow_the_api_patterns() {
        for ok in ["ou-ab12-abcdefgh", "r-ab12", "ou-abcd-0123456789abcdef"] {
            assert!(is_ou_id(ok), "{ok}");
        }
        for bad in ["ou-ab1-abcdefgh", "ou-ab12-abcdefg", "OU-ab12-abcdefgh", "ou-ab12", "r-abc", "123456789012", "ou-AB12-abcdefgh", ""] {
            assert!(!is_ou_id(bad), "{bad}");
        }
        assert!(is_account_id("012345678901"));
        assert!(!is_account_id("12345678901") && !is_account_id("1234567890123") && !is_account_id("12345678901a"));
    }

    #[test]
    fn a_service_managed_rollout_to_an_ou_is_valid() {
        assert!(keys(&service_managed()).is_empty(), "{:?}", keys(&service_managed()));
    }

    #[test]
    fn bad_input_names_the_key() {
        let mut o = service_managed();
        o.targets.organizational_units.push("ou-bad".into());
        o.regions = Some(vec![]);
        o.failure_tolerance_percentage = 101;
        o.max_concurrent_percentage = 0;
        assert_eq!(
            keys(&o),
            ["organization.targets.organizational_units[1]", "organization.regions", "organization.max_concurrent_percentage", "organization.failure_tolerance_percentage"]
        );
        let all = validate(&o, "bedrock-watch", &regions());
        assert!(all[0].allowed.contains("ou-<4-32"), "{:?}", all[0]);
        assert!(all[3].allowed.contains("0 to 100"), "{:?}", all[3]);
    }

    #[test]
    fn permission_models_take_their_own_targets() {
        let mut o = service_managed();
        o.permission_model = PermissionModel::SelfManaged;
        assert_eq!(keys(&o), ["organization.targets.organizational_units", "organization.targets.accounts"]);
        o.targets = Targets { accounts: vec!["111111111111".into()], ..Targets::default() };
        assert!(keys(&o).is_empty());
        o.account = CallerAccount::DelegatedAdmin;
        assert_eq!(keys(&o), ["organization.account"]);

        let mut s = Organization::default();
        assert_eq!(keys(&s), ["organization.targets.organizational_units"]);
        s = service_managed();
        s.targets.accounts = vec!["111111111111".into()];
        s.targets.exclude_accounts = vec!["222222222222".into()];
        assert_eq!(keys(&s), ["organization.targets.exclude_accounts"]);
    }

    #[test]
    fn regions_must_be_synthesized_ones() {
        let mut o = service_managed();
        o.regions = Some(vec!["us-east-1".into(), "ap-south-1".into(), "us-east-1".into()]);
        assert_eq!(keys(&o), ["organization.regions[1]", "organization.regions[2]"]);
    }
}
