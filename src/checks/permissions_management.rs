//! Permissions management, checked as a policy simulator would ask it: can any principal of the
//! stack change what some principal may do, beyond what the template fixes?
//!
//! A statement that allows writing policy text (`iam:Put*Policy`, `CreatePolicyVersion`,
//! `SetDefaultPolicyVersion`, permissions boundaries, `sso:PutInlinePolicyToPermissionSet`, ...)
//! lets whoever controls the holder grant anything, so it fails unless a declared
//! [`UnfixedPolicyWrite`](crate::iam::policy::UnfixedPolicyWrite) covers the action. Attaching or
//! detaching a managed policy passes only when an `iam:PolicyARN` condition names policies of
//! this stack that hold nothing but Deny statements: then the result is fixed by the template
//! and can only take permissions away.

use std::collections::HashSet;

use crate::cfn::{Intrinsic, RefTarget, Template, Value};
use crate::iam::policy::UNFIXED_POLICY_WRITES;

use super::policies::{as_list, statements, DocumentKind};
use super::{finding, Check, Finding};

/// Actions that write policy text onto a principal or change which policy text applies.
pub const POLICY_WRITES: &[&str] = &[
    "iam:CreatePolicy",
    "iam:CreatePolicyVersion",
    "iam:SetDefaultPolicyVersion",
    "iam:PutGroupPolicy",
    "iam:PutRolePolicy",
    "iam:PutUserPolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:PutUserPermissionsBoundary",
    "iam:DeleteRolePermissionsBoundary",
    "iam:DeleteUserPermissionsBoundary",
    "iam:UpdateAssumeRolePolicy",
    "iam:DeleteGroupPolicy",
    "iam:DeleteRolePolicy",
    "iam:DeleteUserPolicy",
    "iam:AddUserToGroup",
    "sso:PutInlinePolicyToPermissionSet",
    "sso:DeleteInlinePolicyFromPermissionSet",
    "sso:AttachManagedPolicyToPermissionSet",
    "sso:AttachCustomerManagedPolicyReferenceToPermissionSet",
    "sso:PutPermissionsBoundaryToPermissionSet",
    "sso:CreateAccountAssignment",
    "sso:CreatePermissionSet",
    "sso:UpdatePermissionSet",
];

/// Attaching and detaching managed policies: fixed when `iam:PolicyARN` names the stack's own.
pub const POLICY_ATTACHMENTS: &[&str] = &[
    "iam:AttachGroupPolicy",
    "iam:AttachRolePolicy",
    "iam:AttachUserPolicy",
    "iam:DetachGroupPolicy",
    "iam:DetachRolePolicy",
    "iam:DetachUserPolicy",
];

pub fn check(template: &Template) -> Vec<Finding> {
    let deny_only = deny_only_policies(template);
    let mut out = Vec::new();
    for found in statements(template) {
        let s = found.statement;
        if found.kind == DocumentKind::Trust || s.get("Effect").and_then(Value::as_str) != Some("Allow") {
            continue;
        }
        for action in as_list(s.get("Action")).into_iter().filter_map(Value::as_str) {
            let writes: Vec<&str> = POLICY_WRITES.iter().copied().filter(|w| matches(action, w)).collect();
            for w in writes {
                if !UNFIXED_POLICY_WRITES.iter().any(|e| e.actions.contains(&w)) {
                    out.push(finding(Check::PermissionsManagement, found.logical_id, format!("allows `{action}`, which writes policy text the stack does not fix ({w}); attach a stack-owned policy instead")));
                }
            }
            if POLICY_ATTACHMENTS.iter().any(|a| matches(action, a)) && !names_only(s, &deny_only) {
                out.push(finding(
                    Check::PermissionsManagement,
                    found.logical_id,
                    format!("allows `{action}` without an `iam:PolicyARN` condition naming only deny policies of this stack"),
                ));
            }
        }
    }
    out
}

/// `action` as written in a statement (possibly with `*`/`?`) covers `name`; case-insensitive,
/// as IAM compares actions.
fn matches(action: &str, name: &str) -> bool {
    fn glob(p: &[u8], s: &[u8]) -> bool {
        match (p.first(), s.first()) {
            (None, None) => true,
            (Some(b'*'), _) => glob(&p[1..], s) || (!s.is_empty() && glob(p, &s[1..])),
            (Some(b'?'), Some(_)) => glob(&p[1..], &s[1..]),
            (Some(a), Some(b)) if a.eq_ignore_ascii_case(b) => glob(&p[1..], &s[1..]),
            _ => false,
        }
    }
    glob(action.as_bytes(), name.as_bytes())
}

/// Logical ids of the template's managed policies whose every statement is a Deny.
fn deny_only_policies(template: &Template) -> HashSet<&str> {
    let mut by_policy: std::collections::HashMap<&str, bool> = std::collections::HashMap::new();
    for found in statements(template) {
        let is_managed = template.resources.iter().any(|(id, r)| id == found.logical_id && r.resource_type == "AWS::IAM::ManagedPolicy");
        if is_managed {
            let deny = found.statement.get("Effect").and_then(Value::as_str) == Some("Deny");
            *by_policy.entry(found.logical_id).or_insert(true) &= deny;
        }
    }
    by_policy.into_iter().filter(|(_, deny)| *deny).map(|(id, _)| id).collect()
}

/// The statement's `iam:PolicyARN` condition (ArnEquals / ArnLike / StringEquals) lists only
/// `Ref`s to policies in `allowed`.
fn names_only(statement: &crate::cfn::Map, allowed: &HashSet<&str>) -> bool {
    let Some(conditions) = statement.get("Condition").and_then(Value::as_map) else { return false };
    let mut seen = false;
    for (operator, keys) in conditions.iter() {
        let Some(value) = keys.as_map().and_then(|k| k.get("iam:PolicyARN")) else { continue };
        if !["ArnEquals", "ArnLike", "StringEquals"].contains(&operator) {
            return false;
        }
        for v in as_list(Some(value)) {
            let named = matches!(v, Value::Fn(f) if matches!(f.as_ref(), Intrinsic::Ref(RefTarget::Logical(id)) if allowed.contains(id.as_str())));
            if !named {
                return false;
            }
            seen = true;
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cfn::{Map, Resource};
    use crate::iam::{Condition, ManagedPolicy, PolicyDocument, Role, Statement};
    use proptest::prelude::*;

    fn template_with(statement: Statement, deny_policy: bool) -> Template {
        let mut t = Template::new("t");
        let effect = if deny_policy { Statement::deny(&["bedrock:InvokeModel"], vec![Value::str("*")]) } else { Statement::allow(&["bedrock:InvokeModel"], vec![Value::str("*")]) };
        ManagedPolicy::new("Block", "d", PolicyDocument::new().statement(effect)).build(&mut t).unwrap();
        t.add("Other", Resource::new("AWS::SNS::Topic", Map::new())).unwrap();
        Role::new("R").assumed_by_service("lambda.amazonaws.com", vec![]).inline_policy("P", PolicyDocument::new().statement(statement)).build(&mut t).unwrap();
        t
    }

    fn policy_arn(values: Vec<Value>) -> Condition {
        Condition { operator: "ArnEquals", key: "iam:PolicyARN".into(), values }
    }

    #[test]
    fn attaching_the_stacks_deny_policy_passes() {
        let s = Statement::allow(&["iam:AttachUserPolicy", "iam:DetachUserPolicy"], vec![Value::str("arn:aws:iam::1:user/x")]).condition(policy_arn(vec![Value::reference("Block")]));
        assert_eq!(check(&template_with(s, true)), vec![]);
    }

    #[test]
    fn attaching_without_condition_or_an_allow_policy_or_a_foreign_one_fails() {
        let user = || vec![Value::str("arn:aws:iam::1:user/x")];
        let bare = Statement::allow(&["iam:AttachRolePolicy"], user());
        assert!(check(&template_with(bare, true))[0].message.contains("without an `iam:PolicyARN` condition"));
        let allow_policy = Statement::allow(&["iam:AttachRolePolicy"], user()).condition(policy_arn(vec![Value::reference("Block")]));
        assert_eq!(check(&template_with(allow_policy, false)).len(), 1, "an attached Allow policy grants");
        let admin = Statement::allow(&["iam:AttachRolePolicy"], user()).condition(policy_arn(vec![Value::reference("Block"), Value::str("arn:aws:iam::aws:policy/AdministratorAccess")]));
        assert_eq!(check(&template_with(admin, true)).len(), 1);
        let not_a_policy = Statement::allow(&["iam:AttachRolePolicy"], user()).condition(policy_arn(vec![Value::reference("Other")]));
        assert_eq!(check(&template_with(not_a_policy, true)).len(), 1);
        let like_any = Statement::allow(&["iam:AttachRolePolicy"], user()).condition(Condition { operator: "ArnNotEquals", key: "iam:PolicyARN".into(), values: vec![Value::reference("Block")] });
        assert_eq!(check(&template_with(like_any, true)).len(), 1);
    }

    #[test]
    fn writing_policy_text_fails_unless_declared() {
        for a in ["iam:PutRolePolicy", "iam:PutUserPolicy", "iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "sso:AttachManagedPolicyToPermissionSet"] {
            let s = Statement::allow(&[a], vec![Value::str("arn:aws:iam::1:role/x")]).condition(policy_arn(vec![Value::reference("Block")]));
            let found = check(&template_with(s, true));
            assert_eq!(found.len(), 1, "{a}: {found:?}");
            assert!(found[0].message.contains("writes policy text"), "{a}");
        }
        let sso = Statement::allow(crate::iam::policy::QUOTA_PERMISSION_SET_DENY.actions, vec![Value::str("arn:aws:sso:::permissionSet/x")]);
        assert_eq!(check(&template_with(sso, true)), vec![]);
    }

    #[test]
    fn deny_statements_never_fail() {
        let s = Statement::deny(&["iam:PutRolePolicy", "iam:AttachRolePolicy"], vec![Value::str("*")]);
        assert_eq!(check(&template_with(s, true)), vec![]);
    }

    #[test]
    fn glob_matching_is_case_insensitive_and_covers_wildcards() {
        assert!(matches("iam:Put*", "iam:PutRolePolicy"));
        assert!(matches("IAM:putrolepolicy", "iam:PutRolePolicy"));
        assert!(matches("iam:Attach?olePolicy", "iam:AttachRolePolicy"));
        assert!(matches("*", "sso:CreatePermissionSet"));
        assert!(!matches("iam:GetRole", "iam:GetRolePolicy"));
        assert!(!matches("iam:Put*Boundary", "iam:PutRolePolicy"));
    }

    proptest! {
        /// Any action pattern that covers a policy write or an unconditioned attachment fails,
        /// whatever else the statement holds.
        #[test]
        fn any_pattern_covering_a_write_fails(i in 0..POLICY_WRITES.len(), cut in 0usize..20, extra in proptest::sample::select(vec!["s3:GetObject", "iam:GetRole", "logs:PutLogEvents"])) {
            let w = POLICY_WRITES[i];
            if crate::iam::policy::QUOTA_PERMISSION_SET_DENY.actions.contains(&w) {
                return Ok(());
            }
            let keep = w.len().saturating_sub(cut).max(4);
            let pattern: &'static str = Box::leak(format!("{}*", &w[..keep]).into_boxed_str());
            let s = Statement::allow(&[extra, pattern], vec![Value::str("arn:aws:iam::1:role/x")]);
            let found = check(&template_with(s, true));
            prop_assert!(found.iter().any(|f| f.message.contains(pattern)), "{pattern}: {found:?}");
        }

        /// Actions outside permissions management never fail this check.
        #[test]
        fn read_and_data_actions_pass(a in proptest::sample::select(vec!["iam:GetRole", "iam:TagRole", "iam:ListRoleTags", "s3:PutObject", "dynamodb:PutItem", "sso:DescribePermissionSet"])) {
            let s = Statement::allow(&[a], vec![Value::str("arn:aws:iam::1:role/x")]);
            prop_assert_eq!(check(&template_with(s, true)), vec![]);
        }
    }
}
