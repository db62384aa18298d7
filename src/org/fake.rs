//! A scripted StackSets API for unit tests: operations that fail or stay RUNNING for a few
//! polls, instances with reasons, which the emulator cannot produce (its operations succeed at once).

use std::cell::RefCell;
use std::collections::VecDeque;

use super::client::*;
use super::plan::{Preferences, Targets};
use crate::aws::AwsError;

#[derive(Default)]
pub struct Fake {
    pub stack_set: RefCell<Option<StackSetInfo>>,
    pub instances: RefCell<Vec<InstanceInfo>>,
    /// Statuses DescribeStackSetOperation answers on successive polls (last one repeats).
    pub operation_script: RefCell<VecDeque<OperationInfo>>,
    pub results: RefCell<Vec<OperationResult>>,
    pub calls: RefCell<Vec<String>>,
    /// The stack set of each DescribeStackSetOperation, in order: shows whether regions ran
    /// side by side.
    pub polls: RefCell<Vec<String>>,
}

impl Fake {
    fn log(&self, s: String) {
        self.calls.borrow_mut().push(s);
    }
}

fn targets(t: &Targets) -> String {
    format!("ous={:?} accounts={:?} filter={:?}", t.organizational_units, t.accounts, t.account_filter.map(|f| f.as_str()))
}

impl StackSets for Fake {
    async fn describe_stack_set(&self, _name: &str) -> Result<Option<StackSetInfo>, AwsError> {
        Ok(self.stack_set.borrow().clone())
    }
    async fn create_stack_set(&self, r: &StackSetRequest) -> Result<(), AwsError> {
        self.log(format!("CreateStackSet {} {:?}", r.name, r.permission_model));
        let body = match &r.template {
            crate::deploy::client::TemplateSource::Body(b) => b.clone(),
            crate::deploy::client::TemplateSource::Url(u) => u.clone(),
        };
        *self.stack_set.borrow_mut() = Some(StackSetInfo { name: r.name.clone(), status: "ACTIVE".into(), template_body: body });
        Ok(())
    }
    async fn update_stack_set(&self, r: &StackSetRequest, p: &Preferences) -> Result<String, AwsError> {
        self.log(format!("UpdateStackSet {} max={} tol={} {}", r.name, p.max_concurrent_percentage, p.failure_tolerance_percentage, p.region_concurrency));
        Ok("op-update".into())
    }
    async fn create_instances(&self, name: &str, t: &Targets, regions: &[String], _: &Preferences) -> Result<String, AwsError> {
        self.log(format!("CreateStackInstances {name} {} {regions:?}", targets(t)));
        Ok("op-create".into())
    }
    async fn delete_instances(&self, name: &str, t: &Targets, regions: &[String], _: &Preferences) -> Result<String, AwsError> {
        self.log(format!("DeleteStackInstances {name} {} {regions:?}", targets(t)));
        self.instances.borrow_mut().retain(|i| !t.accounts.contains(&i.account) || !t.organizational_units.is_empty());
        Ok("op-delete".into())
    }
    async fn describe_operation(&self, name: &str, _: &str) -> Result<OperationInfo, AwsError> {
        self.polls.borrow_mut().push(name.to_owned());
        let mut script = self.operation_script.borrow_mut();
        let next = if script.len() > 1 { script.pop_front() } else { script.front().cloned() };
        Ok(next.unwrap_or(OperationInfo { action: "CREATE".into(), status: "SUCCEEDED".into(), reason: None }))
    }
    async fn operation_results(&self, _: &str, _: &str) -> Result<Vec<OperationResult>, AwsError> {
        Ok(self.results.borrow().clone())
    }
    async fn list_instances(&self, _: &str) -> Result<Vec<InstanceInfo>, AwsError> {
        Ok(self.instances.borrow().clone())
    }
    async fn delete_stack_set(&self, name: &str) -> Result<(), AwsError> {
        self.log(format!("DeleteStackSet {name}"));
        *self.stack_set.borrow_mut() = None;
        Ok(())
    }
    async fn upload_template(&self, bucket: &str, key: &str, _: &str) -> Result<(), AwsError> {
        self.log(format!("PutObject {bucket}/{key}"));
        Ok(())
    }
}
