//! `AWS::SSO::Assignment`: one group gets one permission set on one account. Groups only: the
//! builder has no user principal on purpose (runbook 3.2, individual assignments are avoided).

use crate::cfn::{CfnError, Map, Resource, Template, Value};

use super::PermissionSetRef;

#[derive(Debug, Clone)]
pub struct Assignment {
    logical_id: String,
    instance_arn: String,
    permission_set: PermissionSetRef,
    group_id: String,
    account: Value,
}

impl Assignment {
    /// `account`: a 12-digit id, or `AWS::AccountId` for the stack's own account.
    pub fn group(logical_id: impl Into<String>, instance_arn: impl Into<String>, permission_set: &PermissionSetRef, group_id: impl Into<String>, account: Value) -> Self {
        Assignment { logical_id: logical_id.into(), instance_arn: instance_arn.into(), permission_set: permission_set.clone(), group_id: group_id.into(), account }
    }

    pub fn build(self, template: &mut Template) -> Result<(), CfnError> {
        if self.group_id.is_empty() {
            return Err(CfnError::invalid("sso::Assignment", format!("{} has no group id", self.logical_id)));
        }
        let props = Map::new()
            .with("InstanceArn", self.instance_arn.as_str())
            .with("PermissionSetArn", self.permission_set.arn())
            .with("PrincipalId", self.group_id.as_str())
            .with("PrincipalType", "GROUP")
            .with("TargetId", self.account)
            .with("TargetType", "AWS_ACCOUNT");
        template.add(&self.logical_id, Resource::new("AWS::SSO::Assignment", props)).map(|_| ())
    }
}
