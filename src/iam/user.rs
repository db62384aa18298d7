//! `AWS::IAM::User`: one per tool that cannot log in through IAM Identity Center, so each tool
//! is its own principal (runbook 3.3 prohibits shared IAM users). The user has no console
//! password and no access key from the template; Bedrock API keys are issued by
//! `bedrock-watch access key create` and expire.

use crate::cfn::{CfnError, Deviation, Map, Resource, ResourceRef, Template, Value};

use super::policy::PolicyDocument;

#[derive(Debug, Clone)]
pub struct User {
    logical_id: String,
    user_name: String,
    path: String,
    policies: Vec<(String, PolicyDocument)>,
    tags: Vec<(String, String)>,
    deviations: Vec<Deviation>,
}

impl User {
    pub fn new(logical_id: impl Into<String>, user_name: impl Into<String>) -> Self {
        User { logical_id: logical_id.into(), user_name: user_name.into(), path: "/".into(), policies: Vec::new(), tags: Vec::new(), deviations: Vec::new() }
    }

    /// IAM path (default `/`); the quota functions may only edit users under their managed path.
    pub fn path(mut self, p: impl Into<String>) -> Self {
        self.path = p.into();
        self
    }

    /// Inline, so the permissions live and die with the user.
    pub fn inline_policy(mut self, name: impl Into<String>, document: PolicyDocument) -> Self {
        self.policies.push((name.into(), document));
        self
    }

    pub fn tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.tags.push((key.into(), value.into()));
        self
    }

    /// A deliberate deviation from a rule pack (see `crate::deviations`).
    pub fn deviate(mut self, d: Deviation) -> Self {
        self.deviations.push(d);
        self
    }

    pub fn build(self, template: &mut Template) -> Result<ResourceRef, CfnError> {
        let name_ok = (1..=64).contains(&self.user_name.len()) && self.user_name.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@-_".contains(c));
        if !name_ok {
            return Err(CfnError::invalid("iam::User", format!("user name {:?} is not 1-64 characters of letters, digits and +=,.@-_", self.user_name)));
        }
        if !(self.path.starts_with('/') && self.path.ends_with('/')) {
            return Err(CfnError::invalid("iam::User", format!("path {:?} must start and end with /", self.path)));
        }
        let mut tags = self.tags;
        tags.sort();
        tags.dedup_by(|a, b| a.0 == b.0);
        let mut props = Map::new().with("UserName", self.user_name.as_str()).with("Path", self.path.as_str());
        if !self.policies.is_empty() {
            props.insert("Policies", super::role::inline_policies(&self.policies));
        }
        if !tags.is_empty() {
            props.insert("Tags", Value::list(tags.iter().map(|(k, v)| Value::Map(Map::new().with("Key", k.as_str()).with("Value", v.as_str())))));
        }
        let mut resource = Resource::new("AWS::IAM::User", props);
        for d in self.deviations {
            resource = resource.deviate(d);
        }
        template.add(&self.logical_id, resource)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_names_and_paths_are_errors() {
        let mut t = Template::new("t");
        assert!(User::new("A", "bad name").build(&mut t).is_err());
        assert!(User::new("B", "ok").path("no-slash").build(&mut t).is_err());
        User::new("C", "ok").path("/tools/").tag("b", "2").tag("a", "1").build(&mut t).unwrap();
        let tags = t.resource("C").unwrap().properties.get("Tags").unwrap().as_list().unwrap();
        assert_eq!(tags[0].as_map().unwrap().get("Key").and_then(Value::as_str), Some("a"));
    }
}
