//! Least privilege: no wildcard actions in what is allowed, and every allowed resource scoped to
//! something the stack creates. `Resource: "*"` passes only where a declared
//! [`WildcardResource`](crate::iam::WildcardResource) exception covers every action of the
//! statement. Deny statements may use wildcards: denying more never grants anything.

use std::collections::HashSet;

use crate::cfn::{sub_references_of, Intrinsic, RefTarget, Template, Value};
use crate::iam::policy::{KMS_KEY_POLICY_SELF, OUTSIDE_STACK_EXCEPTIONS, WILDCARD_EXCEPTIONS};

use super::policies::{as_list, statements, DocumentKind};
use super::{finding, Check, Finding};

pub fn check(template: &Template) -> Vec<Finding> {
    let resources: HashSet<&str> = template.resources.iter().map(|(id, _)| id.as_str()).collect();
    let mut out = Vec::new();
    for found in statements(template) {
        let s = found.statement;
        if s.get("Effect").and_then(Value::as_str) != Some("Allow") {
            continue;
        }
        let actions: Vec<&str> = as_list(s.get("Action")).into_iter().filter_map(Value::as_str).collect();
        for a in &actions {
            if a.contains('*') || a.contains('?') {
                out.push(finding(Check::LeastPrivilege, found.logical_id, format!("allows wildcard action `{a}`; list the actions needed")));
            }
        }
        if s.get("NotAction").is_some() || s.get("NotResource").is_some() {
            out.push(finding(Check::LeastPrivilege, found.logical_id, "uses NotAction/NotResource in an Allow statement"));
        }
        if principal_is_anyone(s.get("Principal")) {
            out.push(finding(Check::LeastPrivilege, found.logical_id, "allows any principal (`*`)"));
        }
        if found.kind == DocumentKind::Trust {
            continue;
        }
        for r in as_list(s.get("Resource")) {
            if r.as_str() == Some("*") {
                if !wildcard_allowed(found.kind, &actions) {
                    out.push(finding(
                        Check::LeastPrivilege,
                        found.logical_id,
                        format!("allows {} on `*`; no declared exception covers these actions", actions.join(", ")),
                    ));
                }
            } else if !references_stack_resource(r, &resources) && !outside_stack_allowed(&actions) {
                out.push(finding(
                    Check::LeastPrivilege,
                    found.logical_id,
                    format!("grants {} on a resource that is not created by this stack", actions.join(", ")),
                ));
            }
        }
    }
    out
}

/// A resource outside the stack passes only where a declared exception covers every action.
fn outside_stack_allowed(actions: &[&str]) -> bool {
    OUTSIDE_STACK_EXCEPTIONS.iter().any(|e| actions.iter().all(|a| e.actions.contains(a)))
}

fn principal_is_anyone(p: Option<&Value>) -> bool {
    match p {
        Some(Value::Str(s)) => s == "*",
        Some(Value::Map(m)) => m.get("AWS").and_then(Value::as_str) == Some("*"),
        _ => false,
    }
}

/// `Resource: "*"` is allowed in a key policy (it means the key) and where a declared
/// exception covers every action of the statement.
fn wildcard_allowed(kind: DocumentKind, actions: &[&str]) -> bool {
    if kind == DocumentKind::KeyPolicy {
        return true;
    }
    WILDCARD_EXCEPTIONS
        .iter()
        .filter(|e| **e != &KMS_KEY_POLICY_SELF)
        .any(|e| actions.iter().all(|a| e.actions.contains(a)))
}

/// A resource is scoped when it is, or is built from, a resource of this stack.
fn references_stack_resource(v: &Value, resources: &HashSet<&str>) -> bool {
    let mut found = false;
    v.walk(&mut |node| {
        if let Value::Fn(f) = node {
            match f.as_ref() {
                Intrinsic::Ref(RefTarget::Logical(id)) => found |= resources.contains(id.as_str()),
                Intrinsic::GetAtt { logical_id, .. } => found |= resources.contains(logical_id.as_str()),
                Intrinsic::Sub { template, .. } => {
                    found |= sub_references_of(template).iter().any(|n| resources.contains(n.split('.').next().unwrap_or(n)))
                }
                _ => {}
            }
        }
    });
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cfn::{Map, Resource};
    use crate::iam::{PolicyDocument, Role, Statement};

    fn template_with(statement: Statement) -> Template {
        let mut t = Template::new("t");
        t.add("Bucket", Resource::new("AWS::S3::Bucket", Map::new())).unwrap();
        Role::new("R")
            .assumed_by_service("lambda.amazonaws.com", vec![])
            .inline_policy("P", PolicyDocument::new().statement(statement))
            .build(&mut t)
            .unwrap();
        t
    }

    #[test]
    fn scoped_statement_passes() {
        let t = template_with(Statement::allow(&["s3:GetObject"], vec![Value::get_att("Bucket", "Arn")]));
        assert!(check(&t).is_empty(), "{:?}", check(&t));
    }

    #[test]
    fn wildcard_action_fails() {
        let t = template_with(Statement::allow(&["s3:*"], vec![Value::get_att("Bucket", "Arn")]));
        assert!(check(&t)[0].message.contains("wildcard action `s3:*`"));
    }

    #[test]
    fn foreign_resource_fails() {
        let t = template_with(Statement::allow(&["s3:GetObject"], vec![Value::str("arn:aws:s3:::someone-elses/*")]));
        assert!(check(&t)[0].message.contains("not created by this stack"));
    }

    #[test]
    fn outside_resources_need_a_declared_exception() {
        let arn = Value::str("arn:aws:iam::111122223333:user/bedrock/*");
        let ok = template_with(Statement::allow(crate::iam::actions::IAM_QUOTA_BLOCK, vec![arn.clone()]));
        assert!(check(&ok).is_empty(), "{:?}", check(&ok));
        let mixed = template_with(Statement::allow(&["iam:PutUserPolicy", "iam:CreateUser"], vec![arn]));
        assert!(check(&mixed)[0].message.contains("not created by this stack"));
    }

    #[test]
    fn star_resource_needs_a_declared_exception() {
        let mut s = Statement::allow(&["s3:GetObject"], vec![]);
        s.resources = crate::iam::Resources::Any(&crate::iam::policy::BEDROCK_LOGGING_API);
        let t = template_with(s);
        assert!(check(&t)[0].message.contains("no declared exception"));
        let ok = template_with(Statement::on_any_resource(&crate::iam::policy::BEDROCK_LOGGING_API, crate::iam::actions::BEDROCK_LOGGING_CONFIGURATION));
        assert!(check(&ok).is_empty());
    }
}
