//! The rollout as data: which stack sets, with which member template, targets and operation
//! preferences. Pure: no AWS call, deterministic, cheap enough to run before every command.

use crate::cfn::Format;
use crate::config::organization::{Organization, PermissionModel, DEFAULT_EXECUTION_ROLE};
use crate::config::Config;
use crate::deploy::template::TemplateFacts;
use crate::monitoring;
use crate::oam::Link;
use crate::synth::{self, Rendered, SynthError};

use super::OrgError;

/// How CloudFormation picks accounts from the OUs (DeploymentTargets.AccountFilterType).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountFilter {
    /// Only the listed accounts of the OUs.
    Intersection,
    /// Every account of the OUs but the listed ones.
    Difference,
}

impl AccountFilter {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountFilter::Intersection => "INTERSECTION",
            AccountFilter::Difference => "DIFFERENCE",
        }
    }
}

/// Where instances go: accounts (self-managed) or OUs with an optional account filter
/// (service-managed).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Targets {
    pub organizational_units: Vec<String>,
    pub accounts: Vec<String>,
    pub account_filter: Option<AccountFilter>,
}

/// StackSetOperationPreferences as the config sets them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preferences {
    pub max_concurrent_percentage: u32,
    pub failure_tolerance_percentage: u32,
    pub region_concurrency: &'static str,
}

/// One stack set: one region's member template.
#[derive(Debug, Clone, PartialEq)]
pub struct StackSetPlan {
    pub name: String,
    pub region: String,
    pub template: Rendered,
    pub capabilities: Vec<String>,
    /// Retained resources (logical id, type): what `org destroy` leaves in every account.
    pub retained: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rollout {
    pub call_as: &'static str,
    pub permission_model: PermissionModel,
    /// (enabled, retain stacks on account removal); service-managed only.
    pub auto_deployment: Option<(bool, bool)>,
    pub administration_role_arn: Option<String>,
    pub execution_role_name: Option<String>,
    pub targets: Targets,
    pub preferences: Preferences,
    pub stack_sets: Vec<StackSetPlan>,
    pub tags: Vec<(String, String)>,
    pub staging_bucket: Option<String>,
    pub staging_prefix: String,
    /// The StackSets quotas: usage lines and warnings (a plan that exceeds one is refused).
    pub quotas: super::quotas::QuotaCheck,
}

impl Rollout {
    /// The accounts a self-managed rollout targets (exclusions applied); empty for OUs, whose
    /// accounts CloudFormation resolves.
    pub fn accounts(&self) -> &[String] {
        match self.permission_model {
            PermissionModel::SelfManaged => &self.targets.accounts,
            PermissionModel::ServiceManaged => &[],
        }
    }

    /// Excluded accounts of a service-managed rollout (instances of them are removed).
    pub fn excluded(&self) -> &[String] {
        match (self.permission_model, self.targets.account_filter) {
            (PermissionModel::ServiceManaged, Some(AccountFilter::Difference)) => &self.targets.accounts,
            _ => &[],
        }
    }
}

/// The organization section of `config`, or the error that says to add one.
pub fn section(config: &Config) -> Result<&Organization, OrgError> {
    config.organization.as_ref().ok_or(OrgError::NotConfigured)
}

/// The regions rolled out to: `organization.regions`, else the top-level regions.
pub fn regions(config: &Config, o: &Organization) -> Vec<String> {
    o.regions.clone().unwrap_or_else(|| config.regions.clone())
}

/// Synthesizes every member template and the rollout around them. Refuses templates with
/// check findings, as `deploy` does.
pub fn plan(config: &Config) -> Result<Rollout, OrgError> {
    let o = section(config)?;
    let base = o.stack_set_name.clone().unwrap_or_else(|| config.stack_name.clone());
    let mut stack_sets = Vec::new();
    for region in regions(config, o) {
        let name = format!("{base}-{region}");
        let template = member_template(config, o, &region).map_err(|source| SynthError::Build { stack: name.clone(), source })?;
        let rendered = synth::render_stack(monitoring::Stack { name: name.clone(), region: region.clone(), template }, config, Format::Yaml)?;
        if !rendered.findings.is_empty() {
            return Err(OrgError::Findings { stack_set: name, count: rendered.findings.len() });
        }
        let facts = TemplateFacts::parse(&rendered.content).map_err(|e| SynthError::Invalid { stack: name.clone(), problems: vec![crate::cfn::CfnError::invalid("org::plan", e.to_string())] })?;
        let capabilities = facts.capability().map(|c| vec![c.as_str().to_owned()]).unwrap_or_default();
        let retained = facts.retained().map(|r| (r.logical_id.clone(), r.resource_type.clone())).collect();
        stack_sets.push(StackSetPlan { name, region, template: rendered, capabilities, retained });
    }
    let t = &o.targets;
    let targets = match o.permission_model {
        PermissionModel::SelfManaged => Targets { accounts: t.accounts.iter().filter(|a| !t.exclude_accounts.contains(a)).cloned().collect(), ..Targets::default() },
        PermissionModel::ServiceManaged if !t.accounts.is_empty() => {
            Targets { organizational_units: t.organizational_units.clone(), accounts: t.accounts.clone(), account_filter: Some(AccountFilter::Intersection) }
        }
        PermissionModel::ServiceManaged if !t.exclude_accounts.is_empty() => {
            Targets { organizational_units: t.organizational_units.clone(), accounts: t.exclude_accounts.clone(), account_filter: Some(AccountFilter::Difference) }
        }
        PermissionModel::ServiceManaged => Targets { organizational_units: t.organizational_units.clone(), ..Targets::default() },
    };
    let self_managed = o.permission_model == PermissionModel::SelfManaged;
    let mut tags: Vec<(String, String)> = config.tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    if !config.tags.contains_key("ManagedBy") {
        tags.push(("ManagedBy".into(), "bedrock-watch".into()));
    }
    tags.sort();
    let mut rollout = Rollout {
        call_as: o.account.call_as(),
        permission_model: o.permission_model,
        auto_deployment: (!self_managed).then_some((o.auto_deployment.enabled, o.auto_deployment.retain_stacks_on_account_removal)),
        administration_role_arn: if self_managed { o.administration_role_arn.clone() } else { None },
        execution_role_name: (self_managed && o.execution_role_name != DEFAULT_EXECUTION_ROLE).then(|| o.execution_role_name.clone()),
        targets,
        preferences: Preferences {
            max_concurrent_percentage: o.max_concurrent_percentage,
            failure_tolerance_percentage: o.failure_tolerance_percentage,
            region_concurrency: o.region_concurrency.as_str(),
        },
        stack_sets,
        tags,
        staging_bucket: config.deploy.staging_bucket.clone(),
        staging_prefix: config.deploy.staging_prefix.clone(),
        quotas: super::quotas::QuotaCheck::default(),
    };
    let quotas = super::quotas::check(&rollout);
    if !quotas.exceeded.is_empty() {
        return Err(OrgError::QuotaExceeded { exceeded: quotas.exceeded });
    }
    rollout.quotas = quotas;
    Ok(rollout)
}

/// The stack `synth` builds for the region, plus the link to the monitoring account's sink
/// when one is configured for the region.
pub fn member_template(config: &Config, o: &Organization, region: &str) -> Result<crate::cfn::Template, crate::cfn::CfnError> {
    let mut template = monitoring::build(config, region)?;
    if let Some(sink) = o.monitoring_sinks.get(region) {
        Link::new("MonitoringLink", sink.as_str()).build(&mut template)?;
    }
    Ok(template)
}

/// The rollout in words: what `org deploy` will do, before it talks to AWS.
pub fn describe(r: &Rollout) -> String {
    let mut s = String::new();
    let t = &r.targets;
    let targets = if t.organizational_units.is_empty() {
        format!("accounts {}", t.accounts.join(", "))
    } else {
        let filter = t.account_filter.map(|f| format!(" ({} {})", f.as_str(), t.accounts.join(", "))).unwrap_or_default();
        format!("OUs {}{filter}", t.organizational_units.join(", "))
    };
    s.push_str(&format!("permission model {} (CallAs {}), targets: {targets}\n", r.permission_model.as_str(), r.call_as));
    let p = &r.preferences;
    s.push_str(&format!(
        "operation preferences: max concurrent {}%, failure tolerance {}%, regions {}\n",
        p.max_concurrent_percentage, p.failure_tolerance_percentage, p.region_concurrency
    ));
    if let Some((enabled, retain)) = r.auto_deployment {
        s.push_str(&format!("auto-deployment to new accounts: {}{}\n", if enabled { "on" } else { "off" }, if enabled && retain { ", stacks retained when an account leaves" } else { "" }));
    }
    for ss in &r.stack_sets {
        let staging = if ss.template.content.len() > crate::cfn::template::MAX_INLINE_BODY_BYTES { " (staged in S3: over 51200 bytes)" } else { "" };
        s.push_str(&format!("stack set {} -> region {}: member template {} bytes{staging}, capabilities {}\n", ss.name, ss.region, ss.template.content.len(), ss.capabilities.join(",")));
    }
    for line in &r.quotas.usage {
        s.push_str(line);
        s.push('\n');
    }
    for w in &r.quotas.warnings {
        s.push_str(&format!("warning: {w}\n"));
    }
    s
}
