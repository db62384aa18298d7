//! `AWS::Scheduler::Schedule` invoking a Lambda function on a cron expression evaluated in a time
//! zone (EventBridge Scheduler, unlike EventBridge rules, understands time zones and daylight
//! saving), with a role that may invoke only that function.

use crate::cfn::{CfnError, Map, Resource, ResourceRef, Template};
use crate::iam::{Condition, PolicyDocument, Role, Statement};
use crate::lambda::FunctionRef;

#[derive(Debug, Clone)]
pub struct Schedule {
    logical_id: String,
    cron: String,
    time_zone: String,
    target: FunctionRef,
    description: String,
}

impl Schedule {
    /// Runs `target` at `cron` (EventBridge's six-field form: `0 0 * * ? *`) in `time_zone`.
    pub fn cron(logical_id: impl Into<String>, cron: &str, time_zone: &str, target: &FunctionRef, description: impl Into<String>) -> Self {
        Schedule { logical_id: logical_id.into(), cron: cron.to_owned(), time_zone: time_zone.to_owned(), target: target.clone(), description: description.into() }
    }

    pub fn build(self, template: &mut Template) -> Result<ResourceRef, CfnError> {
        if self.cron.split_whitespace().count() != 6 {
            return Err(CfnError::invalid("scheduler::Schedule", format!("`{}` is not a six-field EventBridge cron expression", self.cron)));
        }
        let role = Role::new(format!("{}Role", self.logical_id))
            .description(format!("Assumed by EventBridge Scheduler to run {}", self.target.function.logical_id()))
            .assumed_by_service("scheduler.amazonaws.com", vec![Condition::source_account()])
            .inline_policy("InvokeTarget", PolicyDocument::new().statement(Statement::allow(&["lambda:InvokeFunction"], vec![self.target.arn()])))
            .build(template)?;
        let props = Map::new()
            .with("Description", self.description.as_str())
            .with("ScheduleExpression", format!("cron({})", self.cron))
            .with("ScheduleExpressionTimezone", self.time_zone.as_str())
            .with("FlexibleTimeWindow", Map::new().with("Mode", "OFF"))
            .with("State", "ENABLED")
            .with("Target", Map::new().with("Arn", self.target.arn()).with("RoleArn", role.arn()));
        template.add(&self.logical_id, Resource::new("AWS::Scheduler::Schedule", props))
    }
}
