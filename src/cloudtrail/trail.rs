//! `AWS::CloudTrail::Trail`: multi-region, log-file validation on, management events, encrypted,
//! optionally also delivered to a CloudWatch Logs group.

use crate::cfn::{CfnError, Map, Pseudo, Resource, ResourceRef, Sub, Template, Value};
use crate::deviations::TRAIL_CLOUDWATCH_LOGS_OPT_IN;
use crate::iam::{Condition, PolicyDocument, Role};
use crate::kms::KeyRef;
use crate::logs::LogGroupRef;

#[derive(Debug, Clone)]
pub struct Trail {
    logical_id: String,
    name: String,
    bucket_name: Value,
    prefix: Option<String>,
    key: KeyRef,
    log_group: Option<LogGroupRef>,
    depends_on: Vec<String>,
}

impl Trail {
    /// A trail named `name` writing to `bucket_name` (whose policy must let CloudTrail write).
    pub fn new(logical_id: impl Into<String>, name: impl Into<String>, bucket_name: Value, key: &KeyRef) -> Self {
        Trail { logical_id: logical_id.into(), name: name.into(), bucket_name, prefix: None, key: key.clone(), log_group: None, depends_on: Vec::new() }
    }

    pub fn prefix(mut self, prefix: &str) -> Self {
        self.prefix = Some(prefix.to_owned());
        self
    }

    /// Also deliver events to this log group (a role for CloudTrail is added).
    pub fn cloudwatch_logs(mut self, group: &LogGroupRef) -> Self {
        self.log_group = Some(group.clone());
        self
    }

    /// The bucket policy must exist first: CloudTrail checks it when the trail is created.
    pub fn depends_on(mut self, logical_id: &str) -> Self {
        self.depends_on.push(logical_id.to_owned());
        self
    }

    /// The trail's ARN before it exists (for `aws:SourceArn` conditions in the bucket policy).
    pub fn arn_of(name: &str) -> Value {
        Sub::new()
            .text("arn:")
            .pseudo(Pseudo::Partition)
            .text(":cloudtrail:")
            .pseudo(Pseudo::Region)
            .text(":")
            .pseudo(Pseudo::AccountId)
            .text(":trail/")
            .text(name)
            .build()
    }

    pub fn build(self, template: &mut Template) -> Result<ResourceRef, CfnError> {
        let mut props = Map::new()
            .with("TrailName", self.name.as_str())
            .with("S3BucketName", self.bucket_name)
            .with_opt("S3KeyPrefix", self.prefix.as_deref())
            .with("IsLogging", true)
            .with("IsMultiRegionTrail", true)
            .with("IncludeGlobalServiceEvents", true)
            .with("EnableLogFileValidation", true)
            .with("KMSKeyId", self.key.arn())
            .with(
                "EventSelectors",
                Value::list([Value::Map(Map::new().with("ReadWriteType", "All").with("IncludeManagementEvents", true))]),
            );
        if let Some(group) = &self.log_group {
            let role = Role::new(format!("{}LogsRole", self.logical_id))
                .description("Assumed by CloudTrail to deliver events to CloudWatch Logs")
                .assumed_by_service("cloudtrail.amazonaws.com", vec![Condition::source_account()])
                .inline_policy(
                    "DeliverTrailEvents",
                    PolicyDocument::new().statement(crate::iam::Statement::allow(crate::iam::actions::LOGS_WRITE_STREAM, vec![group.arn()])),
                )
                .build(template)?;
            props.insert("CloudWatchLogsLogGroupArn", group.arn());
            props.insert("CloudWatchLogsRoleArn", role.arn());
        }
        let mut resource = Resource::new("AWS::CloudTrail::Trail", props);
        if self.log_group.is_none() {
            resource = resource.deviate(TRAIL_CLOUDWATCH_LOGS_OPT_IN);
        }
        for d in self.depends_on {
            resource = resource.depends_on(d);
        }
        template.add(&self.logical_id, resource)
    }
}
