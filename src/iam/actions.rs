//! Every IAM action the stack grants, named once. A grant helper picks from these lists, so a
//! reviewer can read the whole permission surface of the tool in one file.

/// What Bedrock needs to write invocation logs into a log stream it creates.
pub const LOGS_WRITE_STREAM: &[&str] = &["logs:CreateLogStream", "logs:PutLogEvents"];

/// Writing objects; Bedrock's S3 delivery needs nothing else.
pub const S3_PUT_OBJECT: &[&str] = &["s3:PutObject"];
/// Reading and writing one object (the logging handler's saved state).
pub const S3_READ_WRITE_OBJECT: &[&str] = &["s3:GetObject", "s3:PutObject", "s3:DeleteObject"];

/// The Bedrock logging-configuration API. These actions have no resource-level permissions.
pub const BEDROCK_LOGGING_CONFIGURATION: &[&str] = &[
    "bedrock:GetModelInvocationLoggingConfiguration",
    "bedrock:PutModelInvocationLoggingConfiguration",
    "bedrock:DeleteModelInvocationLoggingConfiguration",
];

/// Passing the delivery role to Bedrock when the logging configuration names it.
pub const IAM_PASS_ROLE: &[&str] = &["iam:PassRole"];

/// A publisher encrypting a message for an encrypted topic, or a service writing an encrypted
/// object: the data key and the decrypt SNS performs. Listed exactly (no `GenerateDataKey*`).
pub const KMS_ENCRYPT_FOR_SERVICE: &[&str] = &["kms:Decrypt", "kms:GenerateDataKey"];

/// CloudWatch Logs encrypting a log group with a customer-managed key.
pub const KMS_LOGS_GROUP_ENCRYPTION: &[&str] = &[
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:DescribeKey",
];

/// Administration of a key by the account (delegated to IAM policies of the account), listed
/// explicitly instead of `kms:*`. Without these the key could become unmanageable, which is why
/// CloudFormation's lockout safety check insists on them.
pub const KMS_KEY_ADMINISTRATION: &[&str] = &[
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:CreateGrant",
    "kms:Decrypt",
    "kms:DeleteAlias",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListAliases",
    "kms:ListGrants",
    "kms:ListKeyPolicies",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:RetireGrant",
    "kms:RevokeGrant",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
];

/// Publishing to a topic (CloudWatch alarms).
pub const SNS_PUBLISH: &[&str] = &["sns:Publish"];

/// Reading Bedrock's metrics for the scheduled report (no resource-level permissions).
pub const CLOUDWATCH_METRIC_READS: &[&str] = &["cloudwatch:GetMetricData", "cloudwatch:ListMetrics"];
/// Starting a Logs Insights query on one log group.
pub const LOGS_START_QUERY: &[&str] = &["logs:StartQuery"];
/// Fetching a query's results by id (no resource-level permissions).
pub const LOGS_QUERY_RESULTS: &[&str] = &["logs:GetQueryResults"];
/// Sending the scheduled report as one verified SES identity.
pub const SES_SEND_EMAIL: &[&str] = &["ses:SendEmail"];

/// Writing the Lambda function's own log stream.
pub const LOGS_FUNCTION_LOGGING: &[&str] = &["logs:CreateLogStream", "logs:PutLogEvents"];

/// What the quota functions need to block and unblock IAM users and roles.
pub const IAM_QUOTA_BLOCK: &[&str] = &[
    "iam:PutUserPolicy",
    "iam:DeleteUserPolicy",
    "iam:GetRole",
    "iam:GetRolePolicy",
    "iam:PutRolePolicy",
    "iam:DeleteRolePolicy",
];

/// What the quota functions need to block IAM Identity Center users through a permission set.
pub const SSO_QUOTA_BLOCK: &[&str] = &[
    "sso:GetInlinePolicyForPermissionSet",
    "sso:PutInlinePolicyToPermissionSet",
    "sso:DeleteInlinePolicyFromPermissionSet",
    "sso:ProvisionPermissionSet",
    "sso:DescribePermissionSetProvisioningStatus",
];

/// Quota counters and block state: items read, written atomically and deleted.
pub const DYNAMODB_COUNTERS: &[&str] = &[
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:Query",
    "dynamodb:Scan",
];

/// The audit trail is append-only for the functions.
pub const DYNAMODB_APPEND: &[&str] = &["dynamodb:PutItem"];

/// Using the stack key directly (DynamoDB and SNS encrypted with it).
pub const KMS_USE_KEY: &[&str] = &["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"];
