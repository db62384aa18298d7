//! The stack's customer-managed key and who may use it.
//!
//! One key per stack encrypts the invocation log group, the log bucket and the alert topic. Each
//! service is granted exactly what it needs: CloudWatch Logs for the stack's log groups only,
//! Bedrock for delivering into the bucket from this account and region only, and CloudWatch so
//! that alarms can publish to the encrypted topic.

use crate::cfn::{CfnError, Pseudo, Sub, Template, Value};
use crate::iam::actions::{KMS_ENCRYPT_FOR_SERVICE, KMS_LOGS_GROUP_ENCRYPTION};
use crate::iam::{Condition, Principal};
use crate::config::{CloudTrailMode, Config};
use crate::kms::{Key, KeyRef};

use super::audit;

const KMS_GENERATE_DATA_KEY: &[&str] = &["kms:GenerateDataKey"];
const KMS_DESCRIBE_KEY: &[&str] = &["kms:DescribeKey"];

/// The stack key. `log_group_names` are the groups it may encrypt (literal or derived from the
/// stack); budgets and CloudTrail get grants only when the config uses them.
pub fn stack_key(template: &mut Template, config: &Config, primary: bool, log_group_names: &[Value]) -> Result<KeyRef, CfnError> {
    let log_group_arns = log_group_names
        .iter()
        .map(|name| {
            Sub::new()
                .text("arn:")
                .pseudo(Pseudo::Partition)
                .text(":logs:")
                .pseudo(Pseudo::Region)
                .text(":")
                .pseudo(Pseudo::AccountId)
                .text(":log-group:")
                .splice(name)
                .build()
        })
        .collect::<Vec<_>>();
    let logs_service = Sub::new().text("logs.").pseudo(Pseudo::Region).text(".amazonaws.com").build();
    let logs_condition = Condition { operator: "ArnLike", key: "kms:EncryptionContext:aws:logs:arn".into(), values: log_group_arns };
    let mut key = Key::new("EncryptionKey", "bedrock-watch: encrypts Bedrock invocation logs, the log bucket and the alert topic")
        .grant("CloudWatchLogsEncryptsStackLogGroups", Principal::Service(logs_service), KMS_LOGS_GROUP_ENCRYPTION, vec![logs_condition])
        .grant(
            "BedrockDeliversEncryptedLogs",
            Principal::service("bedrock.amazonaws.com"),
            KMS_GENERATE_DATA_KEY,
            vec![Condition::source_account(), Condition::bedrock_source_arn()],
        )
        .grant("CloudWatchAlarmsPublishToEncryptedTopic", Principal::service("cloudwatch.amazonaws.com"), KMS_ENCRYPT_FOR_SERVICE, vec![]);
    if primary && config.cost.monthly_budget_usd.is_some() {
        key = key.grant("BudgetsPublishToEncryptedTopic", Principal::service("budgets.amazonaws.com"), KMS_ENCRYPT_FOR_SERVICE, vec![Condition::source_account()]);
    }
    if primary && config.cloudtrail.mode == CloudTrailMode::Trail {
        key = key
            .grant("CloudTrailEncryptsLogFiles", Principal::service("cloudtrail.amazonaws.com"), KMS_GENERATE_DATA_KEY, audit::cloudtrail_key_condition(config))
            .grant("CloudTrailDescribesKey", Principal::service("cloudtrail.amazonaws.com"), KMS_DESCRIBE_KEY, vec![]);
    }
    key.build(template)
}
