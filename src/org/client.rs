//! The StackSets calls `org` makes, behind a small trait that speaks in plain values, so the
//! states a real organization is found in (failed accounts, stopped operations, operations
//! still queued) can be played by a fake in unit tests.

#[cfg(feature = "aws")]
use aws_sdk_cloudformation::types as cfn;

use super::plan::{Preferences, Targets};
#[cfg(feature = "aws")]
use crate::aws::Aws;
use crate::aws::AwsError;
use crate::config::organization::PermissionModel;
use crate::deploy::client::TemplateSource;

/// A stack set as DescribeStackSet reports it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StackSetInfo {
    pub name: String,
    pub status: String,
    pub template_body: String,
}

/// What CreateStackSet and UpdateStackSet get.
#[derive(Debug, Clone, PartialEq)]
pub struct StackSetRequest {
    pub name: String,
    pub description: String,
    pub template: TemplateSource,
    pub capabilities: Vec<String>,
    pub permission_model: PermissionModel,
    pub auto_deployment: Option<(bool, bool)>,
    pub administration_role_arn: Option<String>,
    pub execution_role_name: Option<String>,
    pub tags: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct OperationInfo {
    pub action: String,
    pub status: String,
    pub reason: Option<String>,
}

impl OperationInfo {
    /// SUCCEEDED, FAILED or STOPPED: nothing more will happen (RUNNING, QUEUED and STOPPING go on).
    pub fn is_done(&self) -> bool {
        matches!(self.status.as_str(), "SUCCEEDED" | "FAILED" | "STOPPED")
    }
}

/// One account and region of an operation (ListStackSetOperationResults).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OperationResult {
    pub account: String,
    pub region: String,
    pub status: String,
    pub reason: Option<String>,
}

/// One stack instance (ListStackInstances).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InstanceInfo {
    pub account: String,
    pub region: String,
    /// CURRENT, OUTDATED or INOPERABLE.
    pub status: String,
    /// PENDING, RUNNING, SUCCEEDED, FAILED, CANCELLED, INOPERABLE, SKIPPED_SUSPENDED_ACCOUNT...
    pub detailed_status: Option<String>,
    pub reason: Option<String>,
    pub organizational_unit: Option<String>,
}

/// The CloudFormation StackSets API as `org` uses it. Every call passes the rollout's CallAs.
#[allow(async_fn_in_trait)]
pub trait StackSets {
    /// None when the stack set does not exist (or is deleted).
    async fn describe_stack_set(&self, name: &str) -> Result<Option<StackSetInfo>, AwsError>;
    async fn create_stack_set(&self, request: &StackSetRequest) -> Result<(), AwsError>;
    /// Updates the template of the stack set and of every instance; returns the operation id.
    async fn update_stack_set(&self, request: &StackSetRequest, preferences: &Preferences) -> Result<String, AwsError>;
    async fn create_instances(&self, name: &str, targets: &Targets, regions: &[String], preferences: &Preferences) -> Result<String, AwsError>;
    /// Deletes the instances' stacks (RetainStacks false: their retained resources stay).
    async fn delete_instances(&self, name: &str, targets: &Targets, regions: &[String], preferences: &Preferences) -> Result<String, AwsError>;
    async fn describe_operation(&self, name: &str, operation_id: &str) -> Result<OperationInfo, AwsError>;
    async fn operation_results(&self, name: &str, operation_id: &str) -> Result<Vec<OperationResult>, AwsError>;
    async fn list_instances(&self, name: &str) -> Result<Vec<InstanceInfo>, AwsError>;
    async fn delete_stack_set(&self, name: &str) -> Result<(), AwsError>;
    /// Puts a template into the staging bucket (S3).
    async fn upload_template(&self, bucket: &str, key: &str, body: &str) -> Result<(), AwsError>;
}

#[cfg(feature = "aws")]
/// The real API through the AWS SDK, in the administrator account's home region.
pub struct Sdk<'a> {
    pub aws: &'a Aws,
    cfn: aws_sdk_cloudformation::Client,
    s3: aws_sdk_s3::Client,
    call_as: cfn::CallAs,
}

#[cfg(feature = "aws")]
impl<'a> Sdk<'a> {
    pub fn new(aws: &'a Aws, call_as: &str) -> Self {
        Sdk { aws, cfn: aws.cloudformation(), s3: aws.s3(), call_as: cfn::CallAs::from(call_as) }
    }
}

#[cfg(feature = "aws")]
fn opt(s: Option<&str>) -> String {
    s.unwrap_or_default().to_owned()
}

#[cfg(feature = "aws")]
fn preferences(p: &Preferences) -> cfn::StackSetOperationPreferences {
    cfn::StackSetOperationPreferences::builder()
        .max_concurrent_percentage(p.max_concurrent_percentage as i32)
        .failure_tolerance_percentage(p.failure_tolerance_percentage as i32)
        .region_concurrency_type(cfn::RegionConcurrencyType::from(p.region_concurrency))
        .build()
}

#[cfg(feature = "aws")]
fn deployment_targets(t: &Targets) -> Option<cfn::DeploymentTargets> {
    if t.organizational_units.is_empty() {
        return None;
    }
    let mut b = cfn::DeploymentTargets::builder().set_organizational_unit_ids(Some(t.organizational_units.clone()));
    if let Some(filter) = t.account_filter {
        b = b.set_accounts(Some(t.accounts.clone())).account_filter_type(cfn::AccountFilterType::from(filter.as_str()));
    }
    Some(b.build())
}

#[cfg(feature = "aws")]
/// Self-managed targets are plain accounts; service-managed ones are DeploymentTargets.
fn accounts(t: &Targets) -> Option<Vec<String>> {
    t.organizational_units.is_empty().then(|| t.accounts.clone())
}

#[cfg(feature = "aws")]
impl Sdk<'_> {
    fn tags(tags: &[(String, String)]) -> Vec<cfn::Tag> {
        tags.iter().map(|(k, v)| cfn::Tag::builder().key(k).value(v).build()).collect()
    }

    fn capabilities(c: &[String]) -> Vec<cfn::Capability> {
        c.iter().map(|c| cfn::Capability::from(c.as_str())).collect()
    }

    fn auto_deployment(a: Option<(bool, bool)>) -> Option<cfn::AutoDeployment> {
        a.map(|(enabled, retain)| {
            let b = cfn::AutoDeployment::builder().enabled(enabled);
            // RetainStacksOnAccountRemoval is only valid while auto-deployment is on.
            if enabled { b.retain_stacks_on_account_removal(retain).build() } else { b.build() }
        })
    }
}

#[cfg(feature = "aws")]
impl StackSets for Sdk<'_> {
    async fn describe_stack_set(&self, name: &str) -> Result<Option<StackSetInfo>, AwsError> {
        let answer = match self.cfn.describe_stack_set().stack_set_name(name).call_as(self.call_as.clone()).send().await {
            Ok(a) => a,
            Err(e) => {
                let err = self.aws.error("DescribeStackSet", e);
                return if err.is_not_found() { Ok(None) } else { Err(err) };
            }
        };
        let Some(s) = answer.stack_set() else { return Ok(None) };
        let status = s.status().map(|s| s.as_str().to_owned()).unwrap_or_default();
        if status == "DELETED" {
            return Ok(None);
        }
        Ok(Some(StackSetInfo { name: opt(s.stack_set_name()), status, template_body: opt(s.template_body()) }))
    }

    async fn create_stack_set(&self, r: &StackSetRequest) -> Result<(), AwsError> {
        let mut call = self
            .cfn
            .create_stack_set()
            .stack_set_name(&r.name)
            .description(&r.description)
            .set_capabilities(Some(Self::capabilities(&r.capabilities)))
            .permission_model(cfn::PermissionModels::from(r.permission_model.as_str()))
            .set_auto_deployment(Self::auto_deployment(r.auto_deployment))
            .set_administration_role_arn(r.administration_role_arn.clone())
            .set_execution_role_name(r.execution_role_name.clone())
            .set_tags(Some(Self::tags(&r.tags)));
        if r.permission_model == PermissionModel::ServiceManaged {
            call = call.call_as(self.call_as.clone());
        }
        call = match &r.template {
            TemplateSource::Body(b) => call.template_body(b),
            TemplateSource::Url(u) => call.template_url(u),
        };
        call.send().await.map_err(|e| self.aws.error("CreateStackSet", e))?;
        Ok(())
    }

    async fn update_stack_set(&self, r: &StackSetRequest, p: &Preferences) -> Result<String, AwsError> {
        let mut call = self
            .cfn
            .update_stack_set()
            .stack_set_name(&r.name)
            .description(&r.description)
            .set_capabilities(Some(Self::capabilities(&r.capabilities)))
            .permission_model(cfn::PermissionModels::from(r.permission_model.as_str()))
            .set_auto_deployment(Self::auto_deployment(r.auto_deployment))
            .set_administration_role_arn(r.administration_role_arn.clone())
            .set_execution_role_name(r.execution_role_name.clone())
            .set_tags(Some(Self::tags(&r.tags)))
            .operation_preferences(preferences(p))
            .call_as(self.call_as.clone());
        call = match &r.template {
            TemplateSource::Body(b) => call.template_body(b),
            TemplateSource::Url(u) => call.template_url(u),
        };
        let answer = call.send().await.map_err(|e| self.aws.error("UpdateStackSet", e))?;
        Ok(opt(answer.operation_id()))
    }

    async fn create_instances(&self, name: &str, t: &Targets, regions: &[String], p: &Preferences) -> Result<String, AwsError> {
        let answer = self
            .cfn
            .create_stack_instances()
            .stack_set_name(name)
            .set_accounts(accounts(t))
            .set_deployment_targets(deployment_targets(t))
            .set_regions(Some(regions.to_vec()))
            .operation_preferences(preferences(p))
            .call_as(self.call_as.clone())
            .send()
            .await
            .map_err(|e| self.aws.error("CreateStackInstances", e))?;
        Ok(opt(answer.operation_id()))
    }

    async fn delete_instances(&self, name: &str, t: &Targets, regions: &[String], p: &Preferences) -> Result<String, AwsError> {
        let answer = self
            .cfn
            .delete_stack_instances()
            .stack_set_name(name)
            .set_accounts(accounts(t))
            .set_deployment_targets(deployment_targets(t))
            .set_regions(Some(regions.to_vec()))
            .retain_stacks(false)
            .operation_preferences(preferences(p))
            .call_as(self.call_as.clone())
            .send()
            .await
            .map_err(|e| self.aws.error("DeleteStackInstances", e))?;
        Ok(opt(answer.operation_id()))
    }

    async fn describe_operation(&self, name: &str, operation_id: &str) -> Result<OperationInfo, AwsError> {
        let answer = self
            .cfn
            .describe_stack_set_operation()
            .stack_set_name(name)
            .operation_id(operation_id)
            .call_as(self.call_as.clone())
            .send()
            .await
            .map_err(|e| self.aws.error("DescribeStackSetOperation", e))?;
        let op = answer.stack_set_operation();
        Ok(OperationInfo {
            action: op.and_then(|o| o.action()).map(|a| a.as_str().to_owned()).unwrap_or_default(),
            status: op.and_then(|o| o.status()).map(|s| s.as_str().to_owned()).unwrap_or_default(),
            reason: op.and_then(|o| o.status_reason()).map(str::to_owned),
        })
    }

    async fn operation_results(&self, name: &str, operation_id: &str) -> Result<Vec<OperationResult>, AwsError> {
        let mut all = Vec::new();
        let mut token = None;
        loop {
            let answer = self
                .cfn
                .list_stack_set_operation_results()
                .stack_set_name(name)
                .operation_id(operation_id)
                .call_as(self.call_as.clone())
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| self.aws.error("ListStackSetOperationResults", e))?;
            all.extend(answer.summaries().iter().map(|s| OperationResult {
                account: opt(s.account()),
                region: opt(s.region()),
                status: s.status().map(|s| s.as_str().to_owned()).unwrap_or_default(),
                reason: s.status_reason().map(str::to_owned),
            }));
            token = answer.next_token().map(str::to_owned);
            if token.is_none() {
                return Ok(all);
            }
        }
    }

    async fn list_instances(&self, name: &str) -> Result<Vec<InstanceInfo>, AwsError> {
        let mut all = Vec::new();
        let mut token = None;
        loop {
            let answer = self
                .cfn
                .list_stack_instances()
                .stack_set_name(name)
                .call_as(self.call_as.clone())
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| self.aws.error("ListStackInstances", e))?;
            all.extend(answer.summaries().iter().map(|s| InstanceInfo {
                account: opt(s.account()),
                region: opt(s.region()),
                status: s.status().map(|s| s.as_str().to_owned()).unwrap_or_default(),
                detailed_status: s.stack_instance_status().and_then(|d| d.detailed_status()).map(|d| d.as_str().to_owned()),
                reason: s.status_reason().map(str::to_owned).filter(|r| !r.is_empty()),
                organizational_unit: s.organizational_unit_id().map(str::to_owned),
            }));
            token = answer.next_token().map(str::to_owned);
            if token.is_none() {
                return Ok(all);
            }
        }
    }

    async fn delete_stack_set(&self, name: &str) -> Result<(), AwsError> {
        self.cfn.delete_stack_set().stack_set_name(name).call_as(self.call_as.clone()).send().await.map_err(|e| self.aws.error("DeleteStackSet", e))?;
        Ok(())
    }

    async fn upload_template(&self, bucket: &str, key: &str, body: &str) -> Result<(), AwsError> {
        crate::deploy::client::put_template(self.aws, &self.s3, bucket, key, body).await
    }
}

