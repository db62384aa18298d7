//! `AWS::KMS::Key` with a key policy that names each service allowed to use it.
//!
//! A customer-managed key, not the AWS-managed `alias/aws/sns`: CloudWatch alarms cannot publish
//! to a topic encrypted with the AWS-managed key, and the failure shows only in alarm history
//! (aws-cdk issue 11121). The key is retained with the stack's data: deleting it would make the
//! retained logs unreadable.

use crate::cfn::{CfnError, Map, Resource, ResourceRef, Template, Value};
use crate::iam::actions::KMS_KEY_ADMINISTRATION;
use crate::iam::policy::KMS_KEY_POLICY_SELF;
use crate::iam::{Condition, PolicyDocument, Principal, Statement};

#[derive(Debug, Clone)]
pub struct Key {
    logical_id: String,
    description: String,
    grants: Vec<Statement>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRef(pub ResourceRef);

impl KeyRef {
    pub fn arn(&self) -> Value {
        self.0.get_att("Arn")
    }

    pub fn key_id(&self) -> Value {
        self.0.reference()
    }

    pub fn logical_id(&self) -> &str {
        self.0.logical_id()
    }
}

impl Key {
    pub fn new(logical_id: impl Into<String>, description: impl Into<String>) -> Self {
        Key { logical_id: logical_id.into(), description: description.into(), grants: Vec::new() }
    }

    /// Lets `principal` use the key for `actions` (the key policy's `Resource: "*"` is the key).
    pub fn grant(mut self, sid: &str, principal: Principal, actions: &'static [&'static str], conditions: Vec<crate::iam::Condition>) -> Self {
        let mut s = Statement::on_any_resource(&KMS_KEY_POLICY_SELF, actions).sid(sid).principal(principal);
        s.conditions = conditions;
        self.grants.push(s);
        self
    }

    pub fn build(self, template: &mut Template) -> Result<KeyRef, CfnError> {
        let admin = Statement::on_any_resource(&KMS_KEY_POLICY_SELF, KMS_KEY_ADMINISTRATION)
            .sid("AccountAdministersKey")
            .principal(Principal::this_account());
        // Grants only through AWS services integrated with KMS (Control Tower CT.KMS.PR.3): a
        // grant is a second, policy-invisible way to use the key, and no person or function of
        // this stack needs to create one itself.
        let grants_for_aws_services_only = Statement {
            effect: crate::iam::Effect::Deny,
            ..Statement::on_any_resource(&KMS_KEY_POLICY_SELF, &["kms:CreateGrant"])
        }
        .sid("GrantsOnlyThroughAwsServices")
        .principal(Principal::Anyone)
        .condition(Condition::new("BoolIfExists", "kms:GrantIsForAWSResource", "false"))
        .condition(Condition::new("BoolIfExists", "aws:PrincipalIsAWSService", "false"));
        let policy = PolicyDocument::new().statement(admin).statement(grants_for_aws_services_only).statements(self.grants);
        let props = Map::new()
            .with("Description", self.description)
            .with("EnableKeyRotation", true)
            .with("PendingWindowInDays", 30)
            .with("KeyPolicy", policy.to_value());
        template.add(&self.logical_id, Resource::new("AWS::KMS::Key", props)
            .retained()
            .deviate(crate::deviations::SYMMETRIC_KEY_NOT_RSA)).map(KeyRef)
    }
}
