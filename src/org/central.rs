//! The monitoring account's templates (`org synth` writes them with
//! `organization.monitoring_account`): per rollout region the `AWS::Oam::Sink` members link to,
//! and in the first region also the organization dashboard, whose widgets read every region
//! (a dashboard is global; each widget names the region whose linked metrics it reads).

use crate::cfn::{render, Format};
use crate::config::Config;
use crate::monitoring::org_dashboard;
use crate::oam::sink::{monitoring_template, Linkers};

use super::plan::{self, Rollout};
use super::OrgError;

/// Who may link to the sink: the organization (`organization_id`), else the target accounts.
pub fn linkers(config: &Config) -> Result<Linkers, OrgError> {
    let o = plan::section(config)?;
    Ok(match &o.organization_id {
        Some(id) => Linkers::Organization(id.clone()),
        None => Linkers::Accounts(o.targets.accounts.iter().filter(|a| !o.targets.exclude_accounts.contains(a)).cloned().collect()),
    })
}

/// The monitoring account's templates as (file name, YAML), in rollout region order; empty
/// without `organization.monitoring_account`.
pub fn templates(config: &Config, rollout: &Rollout) -> Result<Vec<(String, String)>, OrgError> {
    let o = plan::section(config)?;
    if o.monitoring_account.is_none() {
        return Ok(Vec::new());
    }
    let linkers = linkers(config)?;
    let regions: Vec<String> = rollout.stack_sets.iter().map(|s| s.region.clone()).collect();
    let mut files = Vec::new();
    for (i, region) in regions.iter().enumerate() {
        let mut t = monitoring_template(&config.stack_name, region, linkers.clone()).map_err(|e| OrgError::Central(e.to_string()))?;
        if i == 0 {
            org_dashboard::dashboard(&regions).build(&mut t).map_err(|e| OrgError::Central(e.to_string()))?;
        }
        let problems = crate::cfn::validate::validate(&t);
        if !problems.is_empty() {
            return Err(OrgError::Central(problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")));
        }
        files.push((format!("{}-monitoring-sink-{region}.yaml", config.stack_name), render(&t, Format::Yaml)));
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config;

    #[test]
    fn the_first_region_carries_the_dashboard_for_every_region() {
        let c = config::parse(
            "deploy:\n  staging_bucket: staging\nregions: [eu-west-1, us-east-1]\norganization:\n  targets:\n    organizational_units: [r-ab12]\n  monitoring_account: '999999999999'\n  organization_id: o-abcdef1234\n",
            "o.yaml",
        )
        .unwrap();
        let r = plan::plan(&c).unwrap();
        let files = templates(&c, &r).unwrap();
        let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["bedrock-watch-monitoring-sink-eu-west-1.yaml", "bedrock-watch-monitoring-sink-us-east-1.yaml"]);
        assert!(files[0].1.contains("AWS::CloudWatch::Dashboard") && files[0].1.contains("BedrockOrganization"));
        assert!(files[0].1.contains("Invocations by account (us-east-1)") && files[0].1.contains("Invocations by account (eu-west-1)"));
        assert!(!files[1].1.contains("AWS::CloudWatch::Dashboard"), "one dashboard, not one per region");
        assert!(files.iter().all(|(_, t)| t.contains("AWS::Oam::Sink") && t.contains("aws:PrincipalOrgID: o-abcdef1234")));
    }

    #[test]
    fn without_a_monitoring_account_there_is_nothing_to_write() {
        let c = config::parse("organization:\n  targets:\n    organizational_units: [r-ab12]\n", "o.yaml").unwrap();
        let r = plan::plan(&c).unwrap();
        assert!(templates(&c, &r).unwrap().is_empty());
    }
}
