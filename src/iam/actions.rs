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

/// Lambda delivering a failed asynchronous event to the function's dead-letter queue (it acts
/// with the execution role).
pub const SQS_SEND_MESSAGE: &[&str] = &["sqs:SendMessage"];

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

/// Attaching and detaching the stack's quota block policy to IAM users (granted only with an
/// `iam:PolicyARN` condition naming that policy).
pub const IAM_QUOTA_ATTACH_USER: &[&str] = &["iam:AttachUserPolicy", "iam:DetachUserPolicy"];
/// The same for roles (the block policy and the session block policy).
pub const IAM_QUOTA_ATTACH_ROLE: &[&str] = &["iam:AttachRolePolicy", "iam:DetachRolePolicy"];
/// Writing a blocked session's name into a slot tag of its role (granted only with an
/// `aws:TagKeys` condition naming the slot keys), and reading the role's tags.
pub const IAM_QUOTA_SESSION_TAGS: &[&str] = &["iam:GetRole", "iam:TagRole", "iam:UntagRole"];
/// Everything the quota functions may do to IAM users and roles: the union of the three above.
pub const IAM_QUOTA_BLOCK: &[&str] = &[
    "iam:AttachUserPolicy",
    "iam:DetachUserPolicy",
    "iam:AttachRolePolicy",
    "iam:DetachRolePolicy",
    "iam:GetRole",
    "iam:TagRole",
    "iam:UntagRole",
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

/// Calling models. The runbook (3.1) lists four operations, but IAM has two actions for them:
/// Converse is authorized by `bedrock:InvokeModel` and ConverseStream by
/// `bedrock:InvokeModelWithResponseStream` (Bedrock API reference, Converse: "requires permission
/// for the bedrock:InvokeModel action"); `bedrock:Converse` is no IAM action (cfn-lint W3037
/// rejects it). Granting these two allows exactly the four runtime calls.
pub const BEDROCK_INVOKE: &[&str] = &["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"];

/// Using a Bedrock API key (bearer token) at all; the invoke actions still decide which models.
pub const BEDROCK_BEARER_TOKEN: &[&str] = &["bedrock:CallWithBearerToken"];

/// What `bedrock-watch report` calls on the stack (src/report/stack.rs, metrics.rs, insights.rs)
/// besides the metrics: finding the stack's resources and querying its log group.
pub const REPORT_STACK_READ: &[&str] = &["cloudformation:DescribeStacks", "cloudformation:DescribeStackResources"];
/// `report` resolves application inference profiles the config does not map
/// (src/report/profiles.rs); the grant names the account's application-inference-profile ARNs.
pub const REPORT_PROFILE_READ: &[&str] = &["bedrock:GetInferenceProfile"];
/// `report` reads Bedrock metrics (ListMetrics, GetMetricData): no resource-level permissions.
pub const REPORT_METRICS_READ: &[&str] = &["cloudwatch:ListMetrics", "cloudwatch:GetMetricData"];
/// `report`'s per-user figures and the dashboards' log widgets: Logs Insights on the stack's group.
pub const LOGS_INSIGHTS_QUERY: &[&str] = &["logs:StartQuery"];
/// Reading a query's results or stopping it names a query id, not a log group.
pub const LOGS_INSIGHTS_RESULTS: &[&str] = &["logs:GetQueryResults", "logs:StopQuery"];
/// `report --reconcile` reads the billing export's manifests and data files
/// (src/report/reconcile/fetch.rs): objects only, no listing (the manifest names the files).
pub const REPORT_RECONCILE_READ: &[&str] = &["s3:GetObject"];
/// `bedrock-watch quota status` and `quota audit` (src/quotas/admin/ops.rs): reads only.
pub const QUOTA_STATUS_READ: &[&str] = &["dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan"];
/// `quota status --untracked` (src/quotas/admin/tracking.rs): every IAM user of the account.
pub const IAM_LIST_USERS: &[&str] = &["iam:ListUsers"];
/// `quota status --untracked` per user: its tags and its Bedrock API keys (metadata; IAM never
/// returns a key's secret again).
pub const QUOTA_UNTRACKED_READ: &[&str] = &["iam:ListUserTags", "iam:ListServiceSpecificCredentials"];
/// `quota track`: reading the user named.
pub const QUOTA_TRACK_READ: &[&str] = &["iam:GetUser"];
/// `quota track`: adding the quota tag, granted only with `aws:TagKeys` and `aws:RequestTag`
/// conditions naming that one tag (tagging can only subject a user to quota blocks).
pub const QUOTA_TRACK_TAG: &[&str] = &["iam:TagUser"];
/// Everything the quota operator does to IAM users for `--untracked` and `track`: the union.
pub const QUOTA_TRACKING_USER_ACTIONS: &[&str] = &["iam:ListUserTags", "iam:ListServiceSpecificCredentials", "iam:GetUser", "iam:TagUser"];
/// Opening the stack's dashboards.
pub const DASHBOARD_READ: &[&str] = &["cloudwatch:GetDashboard"];
