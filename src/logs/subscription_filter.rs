//! `AWS::Logs::SubscriptionFilter` delivering a log group's events to a Lambda function, with the
//! permission CloudWatch Logs needs to invoke it (from this log group and account only).

use crate::cfn::{CfnError, Map, Resource, ResourceRef, Template};
use crate::lambda::FunctionRef;

use super::LogGroupRef;

#[derive(Debug, Clone)]
pub struct SubscriptionFilter {
    logical_id: String,
    log_group: LogGroupRef,
    pattern: String,
    target: FunctionRef,
}

impl SubscriptionFilter {
    pub fn to_function(logical_id: impl Into<String>, log_group: &LogGroupRef, pattern: &str, target: &FunctionRef) -> Self {
        SubscriptionFilter { logical_id: logical_id.into(), log_group: log_group.clone(), pattern: pattern.to_owned(), target: target.clone() }
    }

    pub fn build(self, template: &mut Template) -> Result<ResourceRef, CfnError> {
        let permission = Map::new()
            .with("Action", "lambda:InvokeFunction")
            .with("FunctionName", self.target.arn())
            .with("Principal", "logs.amazonaws.com")
            .with("SourceArn", self.log_group.arn())
            .with("SourceAccount", crate::cfn::Value::pseudo(crate::cfn::Pseudo::AccountId));
        let permission_id = format!("{}Permission", self.logical_id);
        template.add(&permission_id, Resource::new("AWS::Lambda::Permission", permission))?;
        let props = Map::new()
            .with("LogGroupName", self.log_group.name())
            .with("FilterPattern", self.pattern.as_str())
            .with("DestinationArn", self.target.arn());
        // Logs checks that it may invoke the function when the filter is created.
        template.add(&self.logical_id, Resource::new("AWS::Logs::SubscriptionFilter", props).depends_on(permission_id))
    }
}
