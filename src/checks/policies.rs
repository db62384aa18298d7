//! Finds every IAM policy statement in a template, wherever the resource type keeps it.

use crate::cfn::{Template, Value};

/// Which kind of document a statement came from; a key policy's `Resource: "*"` means the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentKind {
    Identity,
    Trust,
    Resource,
    KeyPolicy,
}

/// One statement with where it was found.
pub struct FoundStatement<'a> {
    pub logical_id: &'a str,
    pub kind: DocumentKind,
    pub statement: &'a crate::cfn::Map,
}

pub fn statements(template: &Template) -> Vec<FoundStatement<'_>> {
    let mut out = Vec::new();
    for (id, r) in &template.resources {
        let p = &r.properties;
        let docs: Vec<(DocumentKind, Option<&Value>)> = match r.resource_type.as_str() {
            "AWS::IAM::Role" => {
                let mut d = vec![(DocumentKind::Trust, p.get("AssumeRolePolicyDocument"))];
                if let Some(policies) = p.get("Policies").and_then(Value::as_list) {
                    d.extend(policies.iter().map(|pol| (DocumentKind::Identity, pol.as_map().and_then(|m| m.get("PolicyDocument")))));
                }
                d
            }
            "AWS::IAM::User" => p
                .get("Policies")
                .and_then(Value::as_list)
                .map(|policies| policies.iter().map(|pol| (DocumentKind::Identity, pol.as_map().and_then(|m| m.get("PolicyDocument")))).collect())
                .unwrap_or_default(),
            "AWS::SSO::PermissionSet" => vec![(DocumentKind::Identity, p.get("InlinePolicy"))],
            "AWS::IAM::Policy" | "AWS::IAM::ManagedPolicy" => vec![(DocumentKind::Identity, p.get("PolicyDocument"))],
            "AWS::S3::BucketPolicy" | "AWS::SNS::TopicPolicy" | "AWS::SQS::QueuePolicy" => vec![(DocumentKind::Resource, p.get("PolicyDocument"))],
            "AWS::KMS::Key" => vec![(DocumentKind::KeyPolicy, p.get("KeyPolicy"))],
            _ => Vec::new(),
        };
        for (kind, doc) in docs {
            let Some(list) = doc.and_then(Value::as_map).and_then(|d| d.get("Statement")).and_then(Value::as_list) else { continue };
            for s in list.iter().filter_map(Value::as_map) {
                out.push(FoundStatement { logical_id: id, kind, statement: s });
            }
        }
    }
    out
}

/// A statement's `Action` (or `Resource`) as a list, whether written as one value or many.
pub fn as_list(v: Option<&Value>) -> Vec<&Value> {
    match v {
        Some(Value::List(items)) => items.iter().collect(),
        Some(other) => vec![other],
        None => Vec::new(),
    }
}
