//! A scripted CloudFormation for unit tests: plays the states the emulator cannot (failed
//! creates, rollbacks, operations already running, throttling, expired credentials).

use std::cell::RefCell;
use std::collections::VecDeque;

use super::client::*;
use super::purge::Purge;
use crate::aws::{classify, AwsError, ErrorContext, ErrorFacts, FailureKind};

#[derive(Default)]
pub struct Fake {
    pub stack: RefCell<Option<StackInfo>>,
    pub template: RefCell<String>,
    /// What DescribeChangeSet answers.
    pub change_set: RefCell<ChangeSetInfo>,
    /// Newest first, as the API returns them.
    pub events: RefCell<Vec<StackEvent>>,
    pub resources: RefCell<Vec<StackResource>>,
    /// Statuses the stack reports on successive DescribeStacks calls ("GONE": deleted).
    pub script: RefCell<VecDeque<String>>,
    /// Played into `script` and `events` when the change set is executed.
    pub on_execute: RefCell<(Vec<String>, Vec<StackEvent>)>,
    pub on_delete: RefCell<(Vec<String>, Vec<StackEvent>)>,
    /// An operation that fails, and how (classified exactly as SDK errors are).
    pub fail: RefCell<Option<(&'static str, ErrorFacts)>>,
    pub calls: RefCell<Vec<String>>,
    pub requests: RefCell<Vec<ChangeSetRequest>>,
    pub uploads: RefCell<Vec<(String, String)>>,
}

pub fn event(id: &str, logical: &str, ty: &str, status: &str, reason: Option<&str>) -> StackEvent {
    StackEvent { id: id.into(), logical_id: logical.into(), resource_type: ty.into(), status: status.into(), reason: reason.map(str::to_owned) }
}

pub fn service_error(code: &str, message: &str) -> ErrorFacts {
    ErrorFacts { kind: FailureKind::Service, code: Some(code.into()), message: Some(message.into()), detail: format!("{code}: {message}") }
}

impl Fake {
    pub fn with_stack(status: &str) -> Fake {
        let f = Fake::default();
        *f.stack.borrow_mut() = Some(StackInfo { name: "s".into(), id: "arn:aws:cloudformation:eu-west-1:123456789012:stack/s/1".into(), status: status.into(), ..StackInfo::default() });
        f
    }

    fn call(&self, op: &'static str) -> Result<(), AwsError> {
        self.calls.borrow_mut().push(op.to_owned());
        match &*self.fail.borrow() {
            Some((failing, facts)) if *failing == op => {
                let ctx = ErrorContext { operation: op, region: "eu-west-1".into(), profile: "dev".into(), endpoint: None };
                Err(classify(&ctx, facts))
            }
            _ => Ok(()),
        }
    }

    fn play(&self, (statuses, events): (Vec<String>, Vec<StackEvent>)) {
        self.script.borrow_mut().extend(statuses);
        let mut all = self.events.borrow_mut();
        for e in events {
            all.insert(0, e);
        }
    }

    pub fn count(&self, op: &str) -> usize {
        self.calls.borrow().iter().filter(|c| *c == op).count()
    }
}

impl CloudFormation for Fake {
    async fn describe_stack(&self, _: &str) -> Result<Option<StackInfo>, AwsError> {
        self.call("DescribeStacks")?;
        if let Some(next) = self.script.borrow_mut().pop_front() {
            let mut stack = self.stack.borrow_mut();
            if next == "GONE" {
                *stack = None;
            } else {
                let s = stack.get_or_insert_with(|| StackInfo { name: "s".into(), id: "arn:aws:cloudformation:eu-west-1:123456789012:stack/s/2".into(), ..StackInfo::default() });
                s.status = next;
            }
        }
        Ok(self.stack.borrow().clone())
    }
    async fn get_template(&self, _: &str) -> Result<String, AwsError> {
        self.call("GetTemplate")?;
        Ok(self.template.borrow().clone())
    }
    async fn create_change_set(&self, r: &ChangeSetRequest) -> Result<(), AwsError> {
        self.call("CreateChangeSet")?;
        self.requests.borrow_mut().push(r.clone());
        Ok(())
    }
    async fn describe_change_set(&self, _: &str, _: &str) -> Result<ChangeSetInfo, AwsError> {
        self.call("DescribeChangeSet")?;
        Ok(self.change_set.borrow().clone())
    }
    async fn execute_change_set(&self, _: &str, _: &str) -> Result<(), AwsError> {
        self.call("ExecuteChangeSet")?;
        self.play(self.on_execute.borrow().clone());
        Ok(())
    }
    async fn delete_change_set(&self, _: &str, _: &str) -> Result<(), AwsError> {
        self.call("DeleteChangeSet")
    }
    async fn stack_events(&self, _: &str) -> Result<Vec<StackEvent>, AwsError> {
        self.call("DescribeStackEvents")?;
        Ok(self.events.borrow().clone())
    }
    async fn stack_resources(&self, _: &str) -> Result<Vec<StackResource>, AwsError> {
        self.call("DescribeStackResources")?;
        Ok(self.resources.borrow().clone())
    }
    async fn delete_stack(&self, _: &str) -> Result<(), AwsError> {
        self.call("DeleteStack")?;
        self.play(self.on_delete.borrow().clone());
        Ok(())
    }
    async fn upload_template(&self, bucket: &str, key: &str, _: &str) -> Result<(), AwsError> {
        self.call("PutObject")?;
        self.uploads.borrow_mut().push((bucket.into(), key.into()));
        Ok(())
    }
}

/// Records purge calls in order.
#[derive(Default)]
pub struct FakePurge {
    pub calls: RefCell<Vec<String>>,
}

impl Purge for FakePurge {
    async fn empty_and_delete_bucket(&self, b: &str) -> Result<usize, AwsError> {
        self.calls.borrow_mut().push(format!("bucket {b}"));
        Ok(3)
    }
    async fn delete_log_group(&self, n: &str) -> Result<(), AwsError> {
        self.calls.borrow_mut().push(format!("log-group {n}"));
        Ok(())
    }
    async fn delete_table(&self, n: &str) -> Result<(), AwsError> {
        self.calls.borrow_mut().push(format!("table {n}"));
        Ok(())
    }
    async fn schedule_key_deletion(&self, k: &str) -> Result<Option<String>, AwsError> {
        self.calls.borrow_mut().push(format!("key {k}"));
        Ok(None)
    }
}
