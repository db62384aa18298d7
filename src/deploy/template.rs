//! What deploy, diff and destroy need to know about a template, read from its text.
//!
//! The facts come from the rendered (or deployed) YAML itself, not from the builders: destroy
//! reads the template that is actually deployed, which may come from an older config, and
//! deploy asks for exactly the capabilities of the body it sends.

use serde_json::{Map, Value};

/// Resource types that hold data a replacement or deletion would lose.
pub const DATA_STORE_TYPES: &[&str] = &["AWS::S3::Bucket", "AWS::Logs::LogGroup", "AWS::DynamoDB::Table", "AWS::KMS::Key", "AWS::CloudTrail::EventDataStore"];

/// IAM resource types and the property that gives each an explicit name. An explicit name needs
/// CAPABILITY_NAMED_IAM instead of CAPABILITY_IAM.
const IAM_NAME_PROPERTIES: &[(&str, &str)] = &[
    ("AWS::IAM::Role", "RoleName"),
    ("AWS::IAM::User", "UserName"),
    ("AWS::IAM::Group", "GroupName"),
    ("AWS::IAM::ManagedPolicy", "ManagedPolicyName"),
    ("AWS::IAM::InstanceProfile", "InstanceProfileName"),
    ("AWS::IAM::Policy", ""),
    ("AWS::IAM::AccessKey", ""),
    ("AWS::IAM::UserToGroupAddition", ""),
];

#[derive(Debug, thiserror::Error)]
#[error("the template is not readable YAML: {0}")]
pub struct TemplateError(String);

/// One resource of a template, as far as deploying it matters.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceFacts {
    pub logical_id: String,
    pub resource_type: String,
    /// `DeletionPolicy: Retain` (or `RetainExceptOnCreate`): kept when the stack is deleted.
    pub retained: bool,
    /// Properties in CloudFormation's long form (`{"Ref": ...}`, `{"Fn::Sub": ...}`).
    pub properties: Map<String, Value>,
}

impl ResourceFacts {
    pub fn is_data_store(&self) -> bool {
        DATA_STORE_TYPES.contains(&self.resource_type.as_str())
    }
}

/// The IAM capability a template needs, as CloudFormation names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capability {
    Iam,
    NamedIam,
}

impl Capability {
    pub fn as_str(self) -> &'static str {
        match self {
            Capability::Iam => "CAPABILITY_IAM",
            Capability::NamedIam => "CAPABILITY_NAMED_IAM",
        }
    }
}

/// A template's resources and outputs in document order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TemplateFacts {
    pub resources: Vec<ResourceFacts>,
    /// Output name and value expression (long form).
    pub outputs: Vec<(String, Value)>,
}

impl TemplateFacts {
    /// Reads a YAML or JSON template (JSON is YAML).
    pub fn parse(text: &str) -> Result<TemplateFacts, TemplateError> {
        let yaml: serde_norway::Value = serde_norway::from_str(text).map_err(|e| TemplateError(e.to_string()))?;
        let doc = to_json(yaml);
        let mut facts = TemplateFacts::default();
        if let Some(resources) = doc.get("Resources").and_then(Value::as_object) {
            for (id, r) in resources {
                let policy = r.get("DeletionPolicy").and_then(Value::as_str).unwrap_or("Delete");
                facts.resources.push(ResourceFacts {
                    logical_id: id.clone(),
                    resource_type: r.get("Type").and_then(Value::as_str).unwrap_or("").to_owned(),
                    retained: policy == "Retain" || policy == "RetainExceptOnCreate",
                    properties: r.get("Properties").and_then(Value::as_object).cloned().unwrap_or_default(),
                });
            }
        }
        if let Some(outputs) = doc.get("Outputs").and_then(Value::as_object) {
            for (name, o) in outputs {
                facts.outputs.push((name.clone(), o.get("Value").cloned().unwrap_or(Value::Null)));
            }
        }
        Ok(facts)
    }

    /// CAPABILITY_NAMED_IAM when an IAM resource has an explicit name, CAPABILITY_IAM when there
    /// are IAM resources, none otherwise.
    pub fn capability(&self) -> Option<Capability> {
        let mut needed = None;
        for r in &self.resources {
            if let Some((_, name_prop)) = IAM_NAME_PROPERTIES.iter().find(|(t, _)| *t == r.resource_type) {
                if !name_prop.is_empty() && r.properties.contains_key(*name_prop) {
                    return Some(Capability::NamedIam);
                }
                needed = Some(Capability::Iam);
            }
        }
        needed
    }

    pub fn resource(&self, logical_id: &str) -> Option<&ResourceFacts> {
        self.resources.iter().find(|r| r.logical_id == logical_id)
    }

    pub fn retained(&self) -> impl Iterator<Item = &ResourceFacts> {
        self.resources.iter().filter(|r| r.retained)
    }
}

/// YAML (with short-form intrinsic tags) to JSON in CloudFormation's long form.
fn to_json(v: serde_norway::Value) -> Value {
    use serde_norway::Value as Y;
    match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => serde_json::to_value(n).unwrap_or(Value::Null),
        Y::String(s) => Value::String(s),
        Y::Sequence(s) => Value::Array(s.into_iter().map(to_json).collect()),
        Y::Mapping(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| {
                    let key = match k {
                        Y::String(s) => s,
                        other => serde_norway::to_string(&other).unwrap_or_default().trim().to_owned(),
                    };
                    (key, to_json(v))
                })
                .collect(),
        ),
        Y::Tagged(t) => {
            let tag = t.tag.to_string();
            let name = tag.trim_start_matches('!');
            let key = if name == "Ref" || name == "Condition" { name.to_owned() } else { format!("Fn::{name}") };
            let mut value = to_json(t.value);
            // `!GetAtt A.B` is `Fn::GetAtt: [A, B]` in long form.
            if name == "GetAtt" {
                if let Value::String(s) = &value {
                    if let Some((a, b)) = s.split_once('.') {
                        value = Value::Array(vec![Value::String(a.into()), Value::String(b.into())]);
                    }
                }
            }
            let mut m = Map::new();
            m.insert(key, value);
            Value::Object(m)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &str = "Resources:\n  Key:\n    Type: AWS::KMS::Key\n    DeletionPolicy: Retain\n  Role:\n    Type: AWS::IAM::Role\n    Properties:\n      Path: /\n  Topic:\n    Type: AWS::SNS::Topic\n    Properties:\n      KmsMasterKeyId: !GetAtt Key.Arn\nOutputs:\n  TopicArn:\n    Value: !Ref Topic\n";

    #[test]
    fn reads_types_retention_and_long_form_intrinsics() {
        let f = TemplateFacts::parse(T).unwrap();
        assert_eq!(f.resources.iter().map(|r| r.logical_id.as_str()).collect::<Vec<_>>(), ["Key", "Role", "Topic"]);
        assert_eq!(f.retained().map(|r| r.logical_id.as_str()).collect::<Vec<_>>(), ["Key"]);
        assert_eq!(f.resource("Topic").unwrap().properties["KmsMasterKeyId"], serde_json::json!({"Fn::GetAtt": ["Key", "Arn"]}));
        assert_eq!(f.outputs, vec![("TopicArn".to_owned(), serde_json::json!({"Ref": "Topic"}))]);
    }

    #[test]
    fn capabilities_follow_the_iam_resources() {
        assert_eq!(TemplateFacts::parse(T).unwrap().capability(), Some(Capability::Iam));
        let named = T.replace("Path: /", "RoleName: fixed");
        assert_eq!(TemplateFacts::parse(&named).unwrap().capability(), Some(Capability::NamedIam));
        let none = "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n";
        assert_eq!(TemplateFacts::parse(none).unwrap().capability(), None);
    }

    #[test]
    fn the_default_stack_needs_capability_iam_and_retains_its_data() {
        let r = crate::synth::synthesize(&crate::config::Config::default(), crate::cfn::Format::Yaml).unwrap();
        let f = TemplateFacts::parse(&r[0].content).unwrap();
        assert_eq!(f.capability(), Some(Capability::Iam));
        let kept: Vec<_> = f.retained().map(|r| r.logical_id.as_str()).collect();
        for id in ["EncryptionKey", "LogBucket", "InvocationLogGroup"] {
            assert!(kept.contains(&id), "{kept:?}");
        }
    }
}
