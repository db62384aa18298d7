//! The CloudFormation and S3 calls deploy, diff and destroy make, behind a small trait.
//!
//! The trait speaks in plain values (strings, small structs) instead of SDK types, so that the
//! states a real account can be in (failed creates, rollbacks, throttling) can be played by a
//! fake in unit tests; the emulator cannot produce most of them.

#[cfg(feature = "aws")]
use crate::aws::Aws;
use crate::aws::AwsError;

/// A stack as DescribeStacks reports it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StackInfo {
    pub name: String,
    pub id: String,
    pub status: String,
    pub status_reason: Option<String>,
    pub outputs: Vec<(String, String)>,
}

/// CREATE for a new stack (or one left in REVIEW_IN_PROGRESS), UPDATE otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeSetKind {
    Create,
    Update,
}

/// Where CloudFormation reads the template from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateSource {
    Body(String),
    Url(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct ChangeSetRequest {
    pub stack_name: String,
    pub change_set_name: String,
    pub kind: ChangeSetKind,
    pub template: TemplateSource,
    pub capabilities: Vec<String>,
    pub parameters: Vec<(String, String)>,
    pub tags: Vec<(String, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Add,
    Modify,
    Remove,
    Import,
    Other,
}

/// Whether a modification replaces the physical resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replacement {
    True,
    Conditional,
    False,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ResourceChange {
    pub action: Action,
    pub logical_id: String,
    pub resource_type: String,
    pub replacement: Replacement,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChangeSetInfo {
    pub status: String,
    pub status_reason: Option<String>,
    pub changes: Vec<ResourceChange>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct StackEvent {
    pub id: String,
    pub logical_id: String,
    pub resource_type: String,
    pub status: String,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct StackResource {
    pub logical_id: String,
    pub physical_id: String,
    pub resource_type: String,
}

/// The CloudFormation API as deploy, diff and destroy use it.
#[allow(async_fn_in_trait)]
pub trait CloudFormation {
    /// None when the stack does not exist (or is deleted).
    async fn describe_stack(&self, stack: &str) -> Result<Option<StackInfo>, AwsError>;
    /// The deployed template body as it was submitted.
    async fn get_template(&self, stack: &str) -> Result<String, AwsError>;
    async fn create_change_set(&self, request: &ChangeSetRequest) -> Result<(), AwsError>;
    async fn describe_change_set(&self, stack: &str, change_set: &str) -> Result<ChangeSetInfo, AwsError>;
    async fn execute_change_set(&self, stack: &str, change_set: &str) -> Result<(), AwsError>;
    async fn delete_change_set(&self, stack: &str, change_set: &str) -> Result<(), AwsError>;
    /// Most recent events first (the first page: enough for one poll).
    async fn stack_events(&self, stack: &str) -> Result<Vec<StackEvent>, AwsError>;
    async fn stack_resources(&self, stack: &str) -> Result<Vec<StackResource>, AwsError>;
    async fn delete_stack(&self, stack: &str) -> Result<(), AwsError>;
    /// Puts a template into the staging bucket (S3, not CloudFormation, but only deploy uses it).
    async fn upload_template(&self, bucket: &str, key: &str, body: &str) -> Result<(), AwsError>;
}

/// The real API through the AWS SDK.
#[cfg(feature = "aws")]
pub struct Sdk<'a> {
    pub aws: &'a Aws,
    cfn: aws_sdk_cloudformation::Client,
    s3: aws_sdk_s3::Client,
}

#[cfg(feature = "aws")]
impl<'a> Sdk<'a> {
    pub fn new(aws: &'a Aws) -> Self {
        Sdk { aws, cfn: aws.cloudformation(), s3: aws.s3() }
    }
}

#[cfg(feature = "aws")]
fn opt(s: Option<&str>) -> String {
    s.unwrap_or_default().to_owned()
}

#[cfg(feature = "aws")]
impl CloudFormation for Sdk<'_> {
    async fn describe_stack(&self, stack: &str) -> Result<Option<StackInfo>, AwsError> {
        let answer = match self.cfn.describe_stacks().stack_name(stack).send().await {
            Ok(a) => a,
            Err(e) => {
                let err = self.aws.error("DescribeStacks", e);
                return if err.is_not_found() { Ok(None) } else { Err(err) };
            }
        };
        let Some(s) = answer.stacks().first() else { return Ok(None) };
        let status = s.stack_status().map(|s| s.as_str().to_owned()).unwrap_or_default();
        if status == "DELETE_COMPLETE" {
            return Ok(None);
        }
        Ok(Some(StackInfo {
            name: opt(s.stack_name()),
            id: opt(s.stack_id()),
            status,
            status_reason: s.stack_status_reason().map(str::to_owned),
            outputs: s.outputs().iter().filter_map(|o| Some((o.output_key()?.to_owned(), opt(o.output_value())))).collect(),
        }))
    }

    async fn get_template(&self, stack: &str) -> Result<String, AwsError> {
        use aws_sdk_cloudformation::types::TemplateStage;
        let a = self.cfn.get_template().stack_name(stack).template_stage(TemplateStage::Original).send().await.map_err(|e| self.aws.error("GetTemplate", e))?;
        Ok(opt(a.template_body()))
    }

    async fn create_change_set(&self, r: &ChangeSetRequest) -> Result<(), AwsError> {
        use aws_sdk_cloudformation::types::{Capability, ChangeSetType, Parameter, Tag};
        let mut call = self.cfn.create_change_set().stack_name(&r.stack_name).change_set_name(&r.change_set_name).change_set_type(match r.kind {
            ChangeSetKind::Create => ChangeSetType::Create,
            ChangeSetKind::Update => ChangeSetType::Update,
        });
        call = match &r.template {
            TemplateSource::Body(b) => call.template_body(b),
            TemplateSource::Url(u) => call.template_url(u),
        };
        for c in &r.capabilities {
            call = call.capabilities(Capability::from(c.as_str()));
        }
        for (k, v) in &r.parameters {
            call = call.parameters(Parameter::builder().parameter_key(k).parameter_value(v).build());
        }
        for (k, v) in &r.tags {
            call = call.tags(Tag::builder().key(k).value(v).build());
        }
        call.send().await.map_err(|e| self.aws.error("CreateChangeSet", e))?;
        Ok(())
    }

    async fn describe_change_set(&self, stack: &str, change_set: &str) -> Result<ChangeSetInfo, AwsError> {
        use aws_sdk_cloudformation::types::{ChangeAction, Replacement as R};
        let mut info = ChangeSetInfo::default();
        let mut token: Option<String> = None;
        loop {
            let a = self
                .cfn
                .describe_change_set()
                .stack_name(stack)
                .change_set_name(change_set)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| self.aws.error("DescribeChangeSet", e))?;
            info.status = a.status().map(|s| s.as_str().to_owned()).unwrap_or_default();
            info.status_reason = a.status_reason().map(str::to_owned);
            for c in a.changes() {
                let Some(rc) = c.resource_change() else { continue };
                info.changes.push(ResourceChange {
                    action: match rc.action() {
                        Some(ChangeAction::Add) => Action::Add,
                        Some(ChangeAction::Modify) => Action::Modify,
                        Some(ChangeAction::Remove) => Action::Remove,
                        Some(ChangeAction::Import) => Action::Import,
                        _ => Action::Other,
                    },
                    logical_id: opt(rc.logical_resource_id()),
                    resource_type: opt(rc.resource_type()),
                    replacement: match rc.replacement() {
                        Some(R::True) => Replacement::True,
                        Some(R::Conditional) => Replacement::Conditional,
                        _ => Replacement::False,
                    },
                });
            }
            match a.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_owned()),
                _ => return Ok(info),
            }
        }
    }

    async fn execute_change_set(&self, stack: &str, change_set: &str) -> Result<(), AwsError> {
        self.cfn.execute_change_set().stack_name(stack).change_set_name(change_set).send().await.map_err(|e| self.aws.error("ExecuteChangeSet", e))?;
        Ok(())
    }

    async fn delete_change_set(&self, stack: &str, change_set: &str) -> Result<(), AwsError> {
        self.cfn.delete_change_set().stack_name(stack).change_set_name(change_set).send().await.map_err(|e| self.aws.error("DeleteChangeSet", e))?;
        Ok(())
    }

    async fn stack_events(&self, stack: &str) -> Result<Vec<StackEvent>, AwsError> {
        let a = match self.cfn.describe_stack_events().stack_name(stack).send().await {
            Ok(a) => a,
            Err(e) => {
                let err = self.aws.error("DescribeStackEvents", e);
                return if err.is_not_found() { Ok(Vec::new()) } else { Err(err) };
            }
        };
        Ok(a.stack_events()
            .iter()
            .map(|e| StackEvent {
                id: opt(e.event_id()),
                logical_id: opt(e.logical_resource_id()),
                resource_type: opt(e.resource_type()),
                status: e.resource_status().map(|s| s.as_str().to_owned()).unwrap_or_default(),
                reason: e.resource_status_reason().map(str::to_owned),
            })
            .collect())
    }

    async fn stack_resources(&self, stack: &str) -> Result<Vec<StackResource>, AwsError> {
        let a = self.cfn.describe_stack_resources().stack_name(stack).send().await.map_err(|e| self.aws.error("DescribeStackResources", e))?;
        Ok(a.stack_resources()
            .iter()
            .map(|r| StackResource { logical_id: opt(r.logical_resource_id()), physical_id: opt(r.physical_resource_id()), resource_type: opt(r.resource_type()) })
            .collect())
    }

    async fn delete_stack(&self, stack: &str) -> Result<(), AwsError> {
        self.cfn.delete_stack().stack_name(stack).send().await.map_err(|e| self.aws.error("DeleteStack", e))?;
        Ok(())
    }

    async fn upload_template(&self, bucket: &str, key: &str, body: &str) -> Result<(), AwsError> {
        put_template(self.aws, &self.s3, bucket, key, body).await
    }
}

/// Puts a template into a staging bucket (also used by `org`).
#[cfg(feature = "aws")]
pub async fn put_template(aws: &Aws, s3: &aws_sdk_s3::Client, bucket: &str, key: &str, body: &str) -> Result<(), AwsError> {
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .content_type("application/x-yaml")
        .body(body.as_bytes().to_vec().into())
        .send()
        .await
        .map_err(|e| aws.error("PutObject", e))?;
    Ok(())
}
