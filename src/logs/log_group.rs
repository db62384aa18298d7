//! `AWS::Logs::LogGroup` with a retention CloudFormation accepts, retained by default.

use crate::cfn::{CfnError, Deviation, Map, Pseudo, RemovalPolicy, Resource, ResourceRef, Sub, Template, Value};
use crate::iam::actions::LOGS_WRITE_STREAM;
use crate::iam::Statement;
use crate::kms::KeyRef;

/// The retention values (days) `AWS::Logs::LogGroup` accepts.
pub const RETENTION_DAYS: &[u32] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/// A retention period that CloudFormation accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention(u32);

impl Retention {
    /// Fails with the allowed values when `days` is not one of them.
    pub fn days(days: u32) -> Result<Retention, CfnError> {
        if RETENTION_DAYS.contains(&days) {
            Ok(Retention(days))
        } else {
            Err(CfnError::invalid("logs::LogGroup", format!("retention {days} days is not one CloudFormation accepts ({RETENTION_DAYS:?})")))
        }
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

#[derive(Debug, Clone)]
pub struct LogGroup {
    logical_id: String,
    name: Option<Value>,
    retention: Retention,
    key: Option<KeyRef>,
    removal: RemovalPolicy,
    deviations: Vec<Deviation>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogGroupRef {
    pub handle: ResourceRef,
    /// The literal name, when the builder was given one: key policies and queries need it
    /// before the group exists.
    pub name: Option<String>,
}

impl LogGroupRef {
    pub fn name(&self) -> Value {
        self.handle.reference()
    }

    /// `arn:...:log-group:NAME:*` as CloudFormation returns it.
    pub fn arn(&self) -> Value {
        self.handle.get_att("Arn")
    }

    pub fn logical_id(&self) -> &str {
        self.handle.logical_id()
    }

    /// ARN of one log stream of this group.
    pub fn stream_arn(&self, stream: &str) -> Value {
        Sub::new()
            .text("arn:")
            .pseudo(Pseudo::Partition)
            .text(":logs:")
            .pseudo(Pseudo::Region)
            .text(":")
            .pseudo(Pseudo::AccountId)
            .text(":log-group:")
            .reference(self.handle.logical_id())
            .text(":log-stream:")
            .text(stream)
            .build()
    }

    /// Lets the holder create `stream` and write to it, and nothing else in the group.
    pub fn grant_write_stream(&self, stream: &str) -> Statement {
        Statement::allow(LOGS_WRITE_STREAM, vec![self.stream_arn(stream)])
    }
}

impl LogGroup {
    pub fn new(logical_id: impl Into<String>, retention: Retention) -> Self {
        LogGroup { logical_id: logical_id.into(), name: None, retention, key: None, removal: RemovalPolicy::Retain, deviations: Vec::new() }
    }

    /// Physical name; a literal is checked against CloudWatch Logs' naming rules.
    pub fn name(mut self, name: impl Into<Value>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// A deliberate deviation from a rule pack (see `crate::deviations`).
    pub fn deviate(mut self, d: Deviation) -> Self {
        self.deviations.push(d);
        self
    }

    /// Encrypts the group with a customer-managed key; the key policy must allow
    /// `logs.<region>.amazonaws.com` for this group (see `monitoring::encryption`).
    pub fn encryption_key(mut self, key: &KeyRef) -> Self {
        self.key = Some(key.clone());
        self
    }

    /// Default: Retain.
    pub fn removal_policy(mut self, p: RemovalPolicy) -> Self {
        self.removal = p;
        self
    }

    pub fn build(self, template: &mut Template) -> Result<LogGroupRef, CfnError> {
        let literal_name = self.name.as_ref().and_then(Value::as_str).map(str::to_owned);
        if let Some(name) = &literal_name {
            check_name(name)?;
        }
        let props = Map::new()
            .with_opt("LogGroupName", self.name)
            .with("RetentionInDays", self.retention.get())
            .with_opt("KmsKeyId", self.key.as_ref().map(KeyRef::arn));
        let mut resource = Resource::new("AWS::Logs::LogGroup", props);
        resource.deletion_policy = Some(self.removal);
        resource.update_replace_policy = Some(self.removal);
        for d in self.deviations {
            resource = resource.deviate(d);
        }
        let handle = template.add(&self.logical_id, resource)?;
        Ok(LogGroupRef { handle, name: literal_name })
    }
}

/// Log group names: 1-512 characters of `a-zA-Z0-9_-/.#`.
pub fn check_name(name: &str) -> Result<(), CfnError> {
    let ok = !name.is_empty()
        && name.len() <= 512
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "_-/.#".contains(c));
    if ok {
        Ok(())
    } else {
        Err(CfnError::invalid(
            "logs::LogGroup",
            format!("log group name `{name}` must be 1-512 characters of letters, digits and _ - / . #"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_accepts_only_cloudformation_values() {
        assert!(Retention::days(30).is_ok());
        let err = Retention::days(31).unwrap_err().to_string();
        assert!(err.contains("31") && err.contains("3653"), "{err}");
    }

    #[test]
    fn names_are_checked() {
        assert!(check_name("/aws/bedrock/modelinvocations").is_ok());
        assert!(check_name("bad name").is_err());
        assert!(check_name("").is_err());
    }
}
