//! IAM policy documents as typed values: statements, principals and conditions.
//!
//! A statement names its resources as template values (references to what the stack creates).
//! The only way to write `Resource: "*"` is [`Statement::on_any_resource`], which takes a
//! [`WildcardResource`] exception with its reason; the least-privilege check reads the same list.

use crate::cfn::{Map, Pseudo, Sub, Value};

pub const POLICY_VERSION: &str = "2012-10-17";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

/// Who a resource policy or trust policy applies to.
#[derive(Debug, Clone, PartialEq)]
pub enum Principal {
    /// An AWS service, e.g. `bedrock.amazonaws.com`.
    Service(Value),
    /// An account, role or user ARN.
    Aws(Value),
    /// Everyone: only ever used in Deny statements (e.g. deny non-TLS access).
    Anyone,
}

impl Principal {
    pub fn service(name: impl Into<Value>) -> Principal {
        Principal::Service(name.into())
    }

    /// The account itself (`arn:<partition>:iam::<account>:root`): delegates to the account's IAM
    /// policies, as AWS's default key policy does.
    pub fn this_account() -> Principal {
        Principal::Aws(Sub::new().text("arn:").pseudo(Pseudo::Partition).text(":iam::").pseudo(Pseudo::AccountId).text(":root").build())
    }

    fn to_value(&self) -> Value {
        match self {
            Principal::Service(v) => Map::new().with("Service", v.clone()).into(),
            Principal::Aws(v) => Map::new().with("AWS", v.clone()).into(),
            Principal::Anyone => Value::str("*"),
        }
    }
}

/// One condition: operator, key and allowed values (`StringEquals aws:SourceAccount = ...`).
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub operator: &'static str,
    pub key: String,
    pub values: Vec<Value>,
}

impl Condition {
    pub fn new(operator: &'static str, key: impl Into<String>, value: impl Into<Value>) -> Self {
        Condition { operator, key: key.into(), values: vec![value.into()] }
    }

    /// `aws:SourceAccount` equals this account: stops the confused-deputy problem for service
    /// principals.
    pub fn source_account() -> Self {
        Condition::new("StringEquals", "aws:SourceAccount", Value::pseudo(Pseudo::AccountId))
    }

    /// `aws:SourceArn` is a Bedrock resource of this account and region.
    pub fn bedrock_source_arn() -> Self {
        Condition::new(
            "ArnLike",
            "aws:SourceArn",
            Sub::new()
                .text("arn:")
                .pseudo(Pseudo::Partition)
                .text(":bedrock:")
                .pseudo(Pseudo::Region)
                .text(":")
                .pseudo(Pseudo::AccountId)
                .text(":*")
                .build(),
        )
    }
}

/// A place where AWS offers no resource-level permission, so a statement must say
/// `Resource: "*"`. Each is declared once, with its reason, and printed by `validate`.
#[derive(Debug, PartialEq, Eq)]
pub struct WildcardResource {
    pub name: &'static str,
    /// The actions the exception covers; a statement using it may contain no others.
    pub actions: &'static [&'static str],
    pub reason: &'static str,
}

/// Bedrock's Get/Put/DeleteModelInvocationLoggingConfiguration act on the account's
/// per-region configuration, which has no ARN.
pub const BEDROCK_LOGGING_API: WildcardResource = WildcardResource {
    name: "bedrock-logging-configuration-api",
    actions: crate::iam::actions::BEDROCK_LOGGING_CONFIGURATION,
    reason: "Bedrock's model-invocation-logging configuration is a per-account, per-region singleton with no ARN; its Get/Put/Delete actions support no resource-level permissions",
};

/// In a key policy, `Resource: "*"` means "this key" (a key policy cannot name other resources).
pub const KMS_KEY_POLICY_SELF: WildcardResource = WildcardResource {
    name: "kms-key-policy-self",
    actions: &[],
    reason: "in a KMS key policy, Resource \"*\" refers to the key the policy is attached to, not to all keys",
};

/// `bedrock:CallWithBearerToken` authorizes the use of an API key as such; it has no resource
/// type, so it can only be granted on `*` (AWS's own SCP example denies it on `*`). Which models
/// the key reaches is still decided by the invoke statements.
pub const BEDROCK_BEARER_TOKEN_API: WildcardResource = WildcardResource {
    name: "bedrock-api-key-use",
    actions: crate::iam::actions::BEDROCK_BEARER_TOKEN,
    reason: "bedrock:CallWithBearerToken (using a Bedrock API key) has no resource type; the invoke statements still limit the models",
};

/// CloudWatch's ListMetrics/GetMetricData and Logs Insights' GetQueryResults/StopQuery have no
/// resource-level permissions; `report`, the admin permission set and the scheduled report need
/// them (metrics have no ARN; a query id is not a resource, and logs:StartQuery, which decides
/// what is read, stays scoped to the invocation log group).
pub const MONITORING_READ_API: WildcardResource = WildcardResource {
    name: "monitoring-read-api",
    actions: &["cloudwatch:ListMetrics", "cloudwatch:GetMetricData", "logs:GetQueryResults", "logs:StopQuery"],
    reason: "CloudWatch ListMetrics/GetMetricData and CloudWatch Logs GetQueryResults/StopQuery support no resource-level permissions; they only read",
};

/// Listing the account's IAM users for `quota status --untracked` (the quota operator's policy,
/// [`crate::quotas::admin::untracked::operator_statements`]).
pub const IAM_LIST_USERS_API: WildcardResource = WildcardResource {
    name: "iam-list-users",
    actions: crate::iam::actions::IAM_LIST_USERS,
    reason: "iam:ListUsers supports no resource-level permissions; it returns user names, paths and ARNs, no credentials and no policies",
};

/// Every wildcard-resource exception the tool may write.
pub const WILDCARD_EXCEPTIONS: &[&WildcardResource] = &[&BEDROCK_LOGGING_API, &KMS_KEY_POLICY_SELF, &BEDROCK_BEARER_TOKEN_API, &MONITORING_READ_API, &IAM_LIST_USERS_API];

/// Resources the stack acts on but does not create: the IAM principals and permission sets the
/// quota functions block and unblock. Their ARNs are scoped by path, tag or config, never `*`.
#[derive(Debug, PartialEq, Eq)]
pub struct OutsideStackResource {
    pub name: &'static str,
    pub actions: &'static [&'static str],
    pub reason: &'static str,
}

pub const QUOTA_IAM_PRINCIPALS: OutsideStackResource = OutsideStackResource {
    name: "quota-blocked-iam-principals",
    actions: crate::iam::actions::IAM_QUOTA_BLOCK,
    reason: "quota blocks attach a deny policy to the IAM users and roles that exceed their limits; these exist outside the stack, so the statement is scoped to the configured IAM path and to principals carrying the configured tag",
};

pub const QUOTA_PERMISSION_SETS: OutsideStackResource = OutsideStackResource {
    name: "quota-blocked-permission-sets",
    actions: crate::iam::actions::SSO_QUOTA_BLOCK,
    reason: "IAM Identity Center users are blocked through their permission set's inline policy (the reserved SSO roles cannot be edited); the statement names only the configured instance and permission sets",
};

/// Foundation models and system inference profiles belong to AWS, not to the stack: the access
/// policies name the configured model ids (or all foundation models of the allowed regions),
/// never `*`.
pub const BEDROCK_MODELS: OutsideStackResource = OutsideStackResource {
    name: "bedrock-models",
    actions: crate::iam::actions::BEDROCK_INVOKE,
    reason: "foundation models and system inference profiles are AWS-owned; the statements name the configured models (or foundation-model/* of the allowed regions) and limit aws:RequestedRegion",
};

/// The stack itself is not a resource of its own template; `report` and `quota status` read it.
pub const OWN_STACK: OutsideStackResource = OutsideStackResource {
    name: "own-stack-read",
    actions: crate::iam::actions::REPORT_STACK_READ,
    reason: "report and quota status describe the stack they run against; the statement names this stack's ARN only",
};

/// Application inference profiles belong to the account, not to the stack; `report` reads the
/// ones the config does not map to price their calls.
pub const APPLICATION_INFERENCE_PROFILES: OutsideStackResource = OutsideStackResource {
    name: "application-inference-profiles-read",
    actions: crate::iam::actions::REPORT_PROFILE_READ,
    reason: "report resolves application inference profiles the config does not map (GetInferenceProfile) to price their calls; the statement names this account's application-inference-profile ARNs in the stack's region only",
};

/// The users `quota status --untracked` reads and `quota track` tags: any user of the account
/// may hold a Bedrock API key, so the reads name every user; the tag is limited to the managed
/// path and, by condition, to the quota tag key and value.
pub const QUOTA_TRACKED_USERS: OutsideStackResource = OutsideStackResource {
    name: "quota-tracked-iam-users",
    actions: crate::iam::actions::QUOTA_TRACKING_USER_ACTIONS,
    reason: "API-key users exist outside the stack (the Bedrock console makes them); reading their tags and key metadata finds the untracked ones, and the only write is the quota tag, by aws:TagKeys and aws:RequestTag condition",
};

/// Every outside-the-stack exception the tool may write.
pub const OUTSIDE_STACK_EXCEPTIONS: &[&OutsideStackResource] = &[
    &QUOTA_IAM_PRINCIPALS,
    &QUOTA_PERMISSION_SETS,
    &BEDROCK_MODELS,
    &OWN_STACK,
    &QUOTA_TRACKED_USERS,
    &APPLICATION_INFERENCE_PROFILES,
];

/// A permissions-management action the stack grants although the policy text it writes is not
/// fixed by the template (the built-in check `permissions-management` refuses all others).
#[derive(Debug, PartialEq, Eq)]
pub struct UnfixedPolicyWrite {
    pub name: &'static str,
    pub actions: &'static [&'static str],
    pub reason: &'static str,
}

pub const QUOTA_PERMISSION_SET_DENY: UnfixedPolicyWrite = UnfixedPolicyWrite {
    name: "quota-permission-set-deny",
    actions: &["sso:PutInlinePolicyToPermissionSet", "sso:DeleteInlinePolicyFromPermissionSet"],
    reason: "IAM Identity Center has no condition key on an inline policy's content and its reserved roles cannot take a managed policy per user; the grant names only the configured permission sets, and the functions merge only the fixed deny statement (one Sid per user, other statements kept; tests/python prove it)",
};

/// Every unfixed policy write the tool may grant; only with `quotas.identity_center` configured.
pub const UNFIXED_POLICY_WRITES: &[&UnfixedPolicyWrite] = &[&QUOTA_PERMISSION_SET_DENY];

#[derive(Debug, Clone, PartialEq)]
pub enum Resources {
    Scoped(Vec<Value>),
    Any(&'static WildcardResource),
    /// Trust policies name no resource.
    None,
}

/// One policy statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub sid: Option<String>,
    pub effect: Effect,
    pub principal: Option<Principal>,
    pub actions: Vec<&'static str>,
    pub resources: Resources,
    pub conditions: Vec<Condition>,
}

impl Statement {
    /// Allows `actions` on exactly `resources`.
    pub fn allow(actions: &[&'static str], resources: Vec<Value>) -> Self {
        Statement {
            sid: None,
            effect: Effect::Allow,
            principal: None,
            actions: actions.to_vec(),
            resources: Resources::Scoped(resources),
            conditions: Vec::new(),
        }
    }

    /// Denies `actions` on `resources`.
    pub fn deny(actions: &[&'static str], resources: Vec<Value>) -> Self {
        Statement { effect: Effect::Deny, ..Statement::allow(actions, resources) }
    }

    /// Allows `actions` on `Resource: "*"` under a declared exception.
    pub fn on_any_resource(exception: &'static WildcardResource, actions: &[&'static str]) -> Self {
        Statement { resources: Resources::Any(exception), ..Statement::allow(actions, Vec::new()) }
    }

    /// A trust-policy statement: `principal` may assume the role.
    pub fn assume_role(principal: Principal) -> Self {
        Statement {
            sid: None,
            effect: Effect::Allow,
            principal: Some(principal),
            actions: vec!["sts:AssumeRole"],
            resources: Resources::None,
            conditions: Vec::new(),
        }
    }

    pub fn sid(mut self, sid: impl Into<String>) -> Self {
        self.sid = Some(sid.into());
        self
    }

    pub fn principal(mut self, principal: Principal) -> Self {
        self.principal = Some(principal);
        self
    }

    pub fn condition(mut self, condition: Condition) -> Self {
        self.conditions.push(condition);
        self
    }

    pub fn to_value(&self) -> Value {
        let mut m = Map::new().with_opt("Sid", self.sid.as_deref());
        m.insert("Effect", if self.effect == Effect::Allow { "Allow" } else { "Deny" });
        if let Some(p) = &self.principal {
            m.insert("Principal", p.to_value());
        }
        m.insert("Action", one_or_many(self.actions.iter().map(|a| Value::str(*a)).collect()));
        match &self.resources {
            Resources::Scoped(r) => {
                m.insert("Resource", one_or_many(r.clone()));
            }
            Resources::Any(_) => {
                m.insert("Resource", "*");
            }
            Resources::None => {}
        }
        if !self.conditions.is_empty() {
            let mut by_operator = Map::new();
            for c in &self.conditions {
                let mut keys = by_operator.get(c.operator).and_then(Value::as_map).cloned().unwrap_or_default();
                keys.insert(c.key.clone(), one_or_many(c.values.clone()));
                by_operator.insert(c.operator, keys);
            }
            m.insert("Condition", by_operator);
        }
        m.into()
    }
}

fn one_or_many(mut values: Vec<Value>) -> Value {
    if values.len() == 1 {
        values.remove(0)
    } else {
        Value::List(values)
    }
}

/// A policy document.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PolicyDocument {
    pub statements: Vec<Statement>,
}

impl PolicyDocument {
    pub fn new() -> Self {
        PolicyDocument::default()
    }

    pub fn statement(mut self, s: Statement) -> Self {
        self.statements.push(s);
        self
    }

    pub fn statements(mut self, s: impl IntoIterator<Item = Statement>) -> Self {
        self.statements.extend(s);
        self
    }

    pub fn to_value(&self) -> Value {
        Map::new()
            .with("Version", POLICY_VERSION)
            .with("Statement", Value::List(self.statements.iter().map(Statement::to_value).collect()))
            .into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cfn::render::value_to_json;

    #[test]
    fn renders_conditions_grouped_by_operator() {
        let s = Statement::assume_role(Principal::service("bedrock.amazonaws.com"))
            .condition(Condition::source_account())
            .condition(Condition::bedrock_source_arn());
        let json: serde_json::Value = serde_json::from_str(&value_to_json(&s.to_value())).unwrap();
        assert_eq!(json["Action"], "sts:AssumeRole");
        assert_eq!(json["Principal"]["Service"], "bedrock.amazonaws.com");
        assert_eq!(json["Condition"]["StringEquals"]["aws:SourceAccount"]["Ref"], "AWS::AccountId");
        assert!(json["Condition"]["ArnLike"]["aws:SourceArn"]["Fn::Sub"].as_str().unwrap().contains(":bedrock:${AWS::Region}:"));
        assert!(json.get("Resource").is_none());
    }

    #[test]
    fn wildcard_resource_only_through_declared_exception() {
        let s = Statement::on_any_resource(&BEDROCK_LOGGING_API, crate::iam::actions::BEDROCK_LOGGING_CONFIGURATION);
        let json: serde_json::Value = serde_json::from_str(&value_to_json(&s.to_value())).unwrap();
        assert_eq!(json["Resource"], "*");
        assert_eq!(json["Action"].as_array().unwrap().len(), 3);
    }
}
