//! `AWS::SSO::PermissionSet`: what an Identity Center session may do. Its name is what
//! `AWSReservedSSO_<name>_...` role sessions carry, so the identity rule and quotas read it.

use crate::cfn::{CfnError, Map, Resource, ResourceRef, Template, Value};
use crate::iam::PolicyDocument;

#[derive(Debug, Clone)]
pub struct PermissionSet {
    logical_id: String,
    instance_arn: String,
    name: String,
    description: Option<String>,
    session_hours: u32,
    policy: PolicyDocument,
    tags: Vec<(String, String)>,
}

/// A permission set in the template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermissionSetRef(pub ResourceRef);

impl PermissionSetRef {
    pub fn arn(&self) -> Value {
        self.0.get_att("PermissionSetArn")
    }

    pub fn logical_id(&self) -> &str {
        self.0.logical_id()
    }
}

impl PermissionSet {
    /// `name`: 1-32 characters of `[\w+=,.@-]`; `instance_arn`: the Identity Center instance.
    pub fn new(logical_id: impl Into<String>, instance_arn: impl Into<String>, name: impl Into<String>, policy: PolicyDocument) -> Self {
        PermissionSet {
            logical_id: logical_id.into(),
            instance_arn: instance_arn.into(),
            name: name.into(),
            description: None,
            session_hours: 8,
            policy,
            tags: Vec::new(),
        }
    }

    pub fn description(mut self, d: impl Into<String>) -> Self {
        self.description = Some(d.into());
        self
    }

    /// Session length in hours, 1-12 (Identity Center's range). Default 8.
    pub fn session_hours(mut self, hours: u32) -> Self {
        self.session_hours = hours;
        self
    }

    /// Tags, sorted by key in the template.
    pub fn tags(mut self, tags: impl IntoIterator<Item = (String, String)>) -> Self {
        self.tags.extend(tags);
        self
    }

    pub fn build(self, template: &mut Template) -> Result<PermissionSetRef, CfnError> {
        let name_ok = (1..=32).contains(&self.name.len()) && self.name.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@-_".contains(c));
        if !name_ok {
            return Err(CfnError::invalid("sso::PermissionSet", format!("name {:?} is not 1-32 characters of letters, digits and +=,.@-_", self.name)));
        }
        if !(1..=12).contains(&self.session_hours) {
            return Err(CfnError::invalid("sso::PermissionSet", format!("session of {} hours is outside 1-12", self.session_hours)));
        }
        if self.policy.statements.is_empty() {
            return Err(CfnError::invalid("sso::PermissionSet", format!("permission set {} has no statement", self.name)));
        }
        let mut tags = self.tags;
        tags.sort();
        tags.dedup_by(|a, b| a.0 == b.0);
        let mut props = Map::new()
            .with("InstanceArn", self.instance_arn.as_str())
            .with("Name", self.name.as_str())
            .with_opt("Description", self.description)
            // ISO-8601 duration, as the resource type requires.
            .with("SessionDuration", format!("PT{}H", self.session_hours))
            .with("InlinePolicy", self.policy.to_value());
        if !tags.is_empty() {
            props.insert("Tags", Value::list(tags.iter().map(|(k, v)| Value::Map(Map::new().with("Key", k.as_str()).with("Value", v.as_str())))));
        }
        template.add(&self.logical_id, Resource::new("AWS::SSO::PermissionSet", props)).map(PermissionSetRef)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iam::Statement;

    fn doc() -> PolicyDocument {
        PolicyDocument::new().statement(Statement::allow(&["bedrock:InvokeModel"], vec![Value::str("arn:aws:bedrock:us-east-1::foundation-model/x")]))
    }

    #[test]
    fn session_duration_is_iso_8601_and_bad_input_is_an_error() {
        let mut t = Template::new("t");
        PermissionSet::new("Dev", "arn:aws:sso:::instance/ssoins-1", "BedrockDeveloper", doc()).session_hours(12).build(&mut t).unwrap();
        assert_eq!(t.resource("Dev").unwrap().properties.get("SessionDuration").and_then(Value::as_str), Some("PT12H"));
        assert!(PermissionSet::new("A", "i", "x", doc()).session_hours(13).build(&mut t).is_err());
        assert!(PermissionSet::new("B", "i", "has space", doc()).build(&mut t).is_err());
        assert!(PermissionSet::new("C", "i", "x", PolicyDocument::new()).build(&mut t).is_err());
    }
}
