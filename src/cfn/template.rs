//! The template and its resources: the document every builder writes into.

use super::deviation::{self, Deviation};
use super::value::{Map, Value};
use super::CfnError;

/// Largest number of resources CloudFormation accepts in one template.
pub const MAX_RESOURCES: usize = 500;
pub const MAX_OUTPUTS: usize = 200;
pub const MAX_PARAMETERS: usize = 200;
/// Largest template body that can be passed inline; larger ones must go through S3.
pub const MAX_INLINE_BODY_BYTES: usize = 51_200;
pub const MAX_DESCRIPTION_BYTES: usize = 1_024;
pub const MAX_LOGICAL_ID_LEN: usize = 255;

/// What CloudFormation does with a resource's physical resource when the stack deletes or
/// replaces it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemovalPolicy {
    Delete,
    Retain,
    Snapshot,
    RetainExceptOnCreate,
}

impl RemovalPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            RemovalPolicy::Delete => "Delete",
            RemovalPolicy::Retain => "Retain",
            RemovalPolicy::Snapshot => "Snapshot",
            RemovalPolicy::RetainExceptOnCreate => "RetainExceptOnCreate",
        }
    }
}

/// One resource of the template. Builders produce these; the stack never fills `properties` by
/// hand.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    pub resource_type: String,
    pub depends_on: Vec<String>,
    pub condition: Option<String>,
    pub deletion_policy: Option<RemovalPolicy>,
    pub update_replace_policy: Option<RemovalPolicy>,
    pub metadata: Map,
    pub properties: Map,
    /// Deliberate deviations from common rule packs; [`Resource::deviate`] also writes them into
    /// `metadata` (checkov and cfn-guard read them there).
    pub deviations: Vec<Deviation>,
}

impl Resource {
    pub fn new(resource_type: impl Into<String>, properties: Map) -> Self {
        Resource {
            resource_type: resource_type.into(),
            depends_on: Vec::new(),
            condition: None,
            deletion_policy: None,
            update_replace_policy: None,
            metadata: Map::new(),
            properties,
            deviations: Vec::new(),
        }
    }

    /// Keeps the physical resource when the stack is deleted or the resource replaced: for data
    /// that must outlive the stack (logs, audit trails, the key that encrypts them).
    pub fn retained(mut self) -> Self {
        self.deletion_policy = Some(RemovalPolicy::Retain);
        self.update_replace_policy = Some(RemovalPolicy::Retain);
        self
    }

    pub fn depends_on(mut self, logical_id: impl Into<String>) -> Self {
        let id = logical_id.into();
        if !self.depends_on.contains(&id) {
            self.depends_on.push(id);
        }
        self
    }

    /// Records a deliberate deviation from a rule pack, with its reason: the one way a resource
    /// says a checkov check or a Guard rule does not apply. Adding the same deviation twice
    /// records it once.
    pub fn deviate(mut self, d: Deviation) -> Self {
        self.add_deviation(d);
        self
    }

    /// [`Resource::deviate`] for a resource already in a template.
    pub fn add_deviation(&mut self, d: Deviation) {
        if !self.deviations.contains(&d) {
            self.deviations.push(d);
            deviation::write_metadata(&mut self.metadata, &self.deviations);
        }
    }

    /// True when a deviation answers `rule` (a checkov id or Guard rule name).
    pub fn deviates_from(&self, rule: &str) -> bool {
        self.deviations.iter().any(|d| d.answers(rule))
    }

    pub fn is_retained(&self) -> bool {
        self.deletion_policy == Some(RemovalPolicy::Retain)
    }
}

/// A template parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct Parameter {
    pub parameter_type: String,
    pub description: Option<String>,
    pub default: Option<Value>,
    pub allowed_values: Vec<Value>,
}

/// A stack output.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    pub description: Option<String>,
    pub value: Value,
    pub export_name: Option<Value>,
}

/// A reference to a resource that a builder added: the way one resource names another.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ResourceRef {
    logical_id: String,
    resource_type: String,
}

impl ResourceRef {
    pub fn logical_id(&self) -> &str {
        &self.logical_id
    }

    pub fn resource_type(&self) -> &str {
        &self.resource_type
    }

    /// `!Ref LogicalId`.
    pub fn reference(&self) -> Value {
        Value::reference(&self.logical_id)
    }

    /// `!GetAtt LogicalId.Attribute`.
    pub fn get_att(&self, attribute: &str) -> Value {
        Value::get_att(&self.logical_id, attribute)
    }
}

/// A CloudFormation template under construction.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Template {
    pub description: Option<String>,
    pub metadata: Map,
    pub parameters: Vec<(String, Parameter)>,
    pub conditions: Vec<(String, Value)>,
    pub resources: Vec<(String, Resource)>,
    pub outputs: Vec<(String, Output)>,
}

impl Template {
    pub fn new(description: impl Into<String>) -> Self {
        Template { description: Some(description.into()), ..Template::default() }
    }

    /// Adds a resource under `logical_id`; the id must be valid and not yet used.
    pub fn add(&mut self, logical_id: &str, resource: Resource) -> Result<ResourceRef, CfnError> {
        check_logical_id(logical_id)?;
        if self.is_declared(logical_id) {
            return Err(CfnError::DuplicateLogicalId { id: logical_id.to_owned() });
        }
        let handle = ResourceRef { logical_id: logical_id.to_owned(), resource_type: resource.resource_type.clone() };
        self.resources.push((logical_id.to_owned(), resource));
        Ok(handle)
    }

    pub fn add_parameter(&mut self, name: &str, parameter: Parameter) -> Result<Value, CfnError> {
        check_logical_id(name)?;
        if self.is_declared(name) {
            return Err(CfnError::DuplicateLogicalId { id: name.to_owned() });
        }
        self.parameters.push((name.to_owned(), parameter));
        Ok(Value::reference(name))
    }

    pub fn add_condition(&mut self, name: &str, expression: Value) -> Result<String, CfnError> {
        check_logical_id(name)?;
        if self.conditions.iter().any(|(n, _)| n == name) {
            return Err(CfnError::DuplicateLogicalId { id: name.to_owned() });
        }
        self.conditions.push((name.to_owned(), expression));
        Ok(name.to_owned())
    }

    pub fn add_output(&mut self, name: &str, output: Output) -> Result<(), CfnError> {
        check_logical_id(name)?;
        if self.outputs.iter().any(|(n, _)| n == name) {
            return Err(CfnError::DuplicateLogicalId { id: name.to_owned() });
        }
        self.outputs.push((name.to_owned(), output));
        Ok(())
    }

    pub fn resource(&self, logical_id: &str) -> Option<&Resource> {
        self.resources.iter().find(|(id, _)| id == logical_id).map(|(_, r)| r)
    }

    pub fn resource_mut(&mut self, logical_id: &str) -> Option<&mut Resource> {
        self.resources.iter_mut().find(|(id, _)| id == logical_id).map(|(_, r)| r)
    }

    /// Resources of one type, in template order.
    pub fn resources_of_type<'a>(&'a self, resource_type: &'a str) -> impl Iterator<Item = (&'a str, &'a Resource)> + 'a {
        self.resources
            .iter()
            .filter(move |(_, r)| r.resource_type == resource_type)
            .map(|(id, r)| (id.as_str(), r))
    }

    fn is_declared(&self, id: &str) -> bool {
        self.resources.iter().any(|(n, _)| n == id) || self.parameters.iter().any(|(n, _)| n == id)
    }
}

/// Logical ids are alphanumeric (A-Za-z0-9) and at most 255 characters.
pub fn check_logical_id(id: &str) -> Result<(), CfnError> {
    let reason = if id.is_empty() {
        Some("it is empty")
    } else if id.len() > MAX_LOGICAL_ID_LEN {
        Some("it is longer than 255 characters")
    } else if !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Some("only letters A-Z, a-z and digits 0-9 are allowed")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(CfnError::InvalidLogicalId { id: id.to_owned(), reason }),
        None => Ok(()),
    }
}

/// Turns a free-form name (a model id, a region) into a logical-id fragment:
/// `anthropic.claude-3-haiku` → `AnthropicClaude3Haiku`.
pub fn logical_id_fragment(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = true;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            if upper {
                out.push(c.to_ascii_uppercase());
            } else {
                out.push(c);
            }
            upper = false;
        } else {
            upper = true;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_and_duplicate_logical_ids() {
        let mut t = Template::new("t");
        assert!(matches!(t.add("Bad-Id", Resource::new("AWS::SNS::Topic", Map::new())), Err(CfnError::InvalidLogicalId { .. })));
        assert!(matches!(t.add("", Resource::new("AWS::SNS::Topic", Map::new())), Err(CfnError::InvalidLogicalId { .. })));
        assert!(check_logical_id(&"a".repeat(256)).is_err());
        assert!(check_logical_id(&"a".repeat(255)).is_ok());
        t.add("Topic", Resource::new("AWS::SNS::Topic", Map::new())).unwrap();
        assert!(matches!(t.add("Topic", Resource::new("AWS::SNS::Topic", Map::new())), Err(CfnError::DuplicateLogicalId { .. })));
    }

    #[test]
    fn fragments_are_valid_logical_ids() {
        assert_eq!(logical_id_fragment("anthropic.claude-3-haiku-20240307-v1:0"), "AnthropicClaude3Haiku20240307V10");
        assert_eq!(logical_id_fragment("us-east-1"), "UsEast1");
    }

    #[test]
    fn deviations_accumulate_in_metadata() {
        const A: Deviation = Deviation::new("a", &["CKV_AWS_18"], &[], "a");
        const B: Deviation = Deviation::new("b", &["CKV_AWS_21"], &["s3_bucket_versioning_enabled_check"], "b");
        let r = Resource::new("AWS::S3::Bucket", Map::new()).deviate(A).deviate(B);
        let skips = r.metadata.get("checkov").unwrap().as_map().unwrap().get("skip").unwrap().as_list().unwrap();
        assert_eq!(skips.len(), 2);
        assert!(r.deviates_from("CKV_AWS_21") && r.deviates_from("s3_bucket_versioning_enabled_check") && !r.deviates_from("CKV_AWS_19"));
    }
}
