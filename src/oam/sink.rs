//! `AWS::Oam::Sink` in the central monitoring account, with the sink policy that says who may
//! link to it: the whole organization (`aws:PrincipalOrgID`) or exactly the listed accounts.

use crate::cfn::{CfnError, Map, Output, Resource, ResourceRef, Template, Value};
use crate::iam::policy::POLICY_VERSION;

/// Who may link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Linkers {
    /// Any account of this organization (`o-...`).
    Organization(String),
    /// Exactly these 12-digit account ids.
    Accounts(Vec<String>),
}

#[derive(Debug, Clone)]
pub struct Sink {
    logical_id: String,
    name: String,
    linkers: Linkers,
}

impl Sink {
    pub fn new(logical_id: impl Into<String>, name: impl Into<String>, linkers: Linkers) -> Self {
        Sink { logical_id: logical_id.into(), name: name.into(), linkers }
    }

    /// The policy allows only `oam:CreateLink` and `oam:UpdateLink`, only for the shared
    /// resource types; `Resource: "*"` in a sink policy means this sink (as in a key policy).
    pub fn build(self, template: &mut Template) -> Result<ResourceRef, CfnError> {
        let (principal, condition) = match &self.linkers {
            Linkers::Organization(org) => (Value::str("*"), Some(Map::new().with("StringEquals", Map::new().with("aws:PrincipalOrgID", org.as_str())))),
            Linkers::Accounts(accounts) => {
                if accounts.is_empty() {
                    return Err(CfnError::invalid("oam::Sink", "a sink needs an organization id or at least one account that may link to it"));
                }
                (Value::Map(Map::new().with("AWS", Value::list(accounts.iter().map(|a| Value::str(a.as_str()))))), None)
            }
        };
        let types = Value::list(super::SHARED_RESOURCE_TYPES.iter().map(|s| Value::str(*s)));
        let mut conditions = condition.unwrap_or_default();
        conditions.insert("ForAllValues:StringEquals", Map::new().with("oam:ResourceTypes", types));
        let statement = Map::new()
            .with("Effect", "Allow")
            .with("Principal", principal)
            .with("Action", Value::list(["oam:CreateLink", "oam:UpdateLink"].map(Value::str)))
            .with("Resource", "*")
            .with("Condition", conditions);
        let policy = Map::new().with("Version", POLICY_VERSION).with("Statement", Value::list([Value::Map(statement)]));
        let props = Map::new().with("Name", self.name.as_str()).with("Policy", policy);
        template.add(&self.logical_id, Resource::new("AWS::Oam::Sink", props))
    }
}

/// The monitoring account's template for one region: the sink and its ARN as an output (the
/// value members' links point to: `organization.monitoring_sinks`).
pub fn monitoring_template(name: &str, region: &str, linkers: Linkers) -> Result<Template, CfnError> {
    let mut t = Template::new(format!("bedrock-watch: CloudWatch cross-account observability sink for the organization's Bedrock monitoring in {region}"));
    let sink = Sink::new("MonitoringSink", name, linkers).build(&mut t)?;
    t.add_output("SinkArn", Output { description: Some("ARN of the sink: put it in organization.monitoring_sinks for this region".into()), value: sink.get_att("Arn"), export_name: None })?;
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cfn::{render, Format};

    #[test]
    fn an_organization_sink_is_conditioned_on_the_org_id() {
        let t = monitoring_template("bedrock-watch", "us-east-1", Linkers::Organization("o-abcdef1234".into())).unwrap();
        assert!(crate::cfn::validate::validate(&t).is_empty());
        let yaml = render(&t, Format::Yaml);
        assert!(yaml.contains("aws:PrincipalOrgID: o-abcdef1234"), "{yaml}");
        assert!(yaml.contains("oam:CreateLink") && yaml.contains("oam:UpdateLink"), "{yaml}");
        assert!(yaml.contains("AWS::Logs::LogGroup") && yaml.contains("AWS::CloudWatch::Metric"), "{yaml}");
    }

    #[test]
    fn an_account_sink_names_the_accounts_and_needs_one() {
        let t = monitoring_template("s", "us-east-1", Linkers::Accounts(vec!["111111111111".into()])).unwrap();
        let yaml = render(&t, Format::Yaml);
        assert!(yaml.contains("'111111111111'") || yaml.contains("\"111111111111\""), "{yaml}");
        assert!(!yaml.contains("PrincipalOrgID"));
        assert!(monitoring_template("s", "us-east-1", Linkers::Accounts(vec![])).is_err());
    }
}
