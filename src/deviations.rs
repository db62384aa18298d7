//! Every deliberate deviation from the common rule packs (checkov, the AWS Guard Rules Registry
//! run by cfn-guard), named once with its reason so no builder retypes it. Builders attach them
//! with [`Resource::deviate`](crate::cfn::Resource::deviate); `validate` lists them per resource.
//!
//! A deviation is a decision, not a silencer: each names the exact rule ids it answers, and
//! anything a rule asks that is a real weakness is fixed instead (server access logs for every
//! data bucket, retained function log groups, TLS-only bucket policies).

use crate::cfn::Deviation;

// --- IAM -------------------------------------------------------------------------------------

/// Roles carry their permissions as inline policies.
pub const INLINE_POLICY_ONE_PRINCIPAL: Deviation = Deviation::new(
    "inline-policy-one-principal",
    &[],
    &["IAM_NO_INLINE_POLICY_CHECK"],
    "the policy serves this one role and lives and dies with it; inline, anything depending on the role also waits for its permissions (Bedrock checks the delivery role when logging is configured)",
);

/// The per-tool IAM users of `access` hold their invoke policy inline, outside any group.
pub const TOOL_USER_OWN_POLICY: Deviation = Deviation::new(
    "tool-user-own-policy",
    &["CKV_AWS_40"],
    &["IAM_NO_INLINE_POLICY_CHECK", "IAM_USER_NO_POLICIES_CHECK", "IAM_USER_MISSING_GROUP_RULE"],
    "one user per tool by design (runbook 3.3: no shared users, so no shared group); the inline policy lives and dies with the user; a quota block attaches the stack-owned deny policy and writes no policy text",
);

/// The per-tool IAM users have no console password.
pub const TOOL_USER_NO_CONSOLE: Deviation = Deviation::new(
    "tool-user-no-console",
    &[],
    &["IAM_USER_LOGIN_PROFILE_PASSWORD_RESET_RULE", "IAM_USER_LOGIN_PROFILE_NO_PLAINTEXT_PASSWORD"],
    "a tool's user has no console password (no LoginProfile) by design: it calls Bedrock with expiring API keys issued by `bedrock-watch access key create`",
);

/// A statement says `Resource: "*"` only through a declared exception
/// (`iam::policy::WILDCARD_EXCEPTIONS`).
pub const DECLARED_WILDCARD_RESOURCE: Deviation = Deviation::new(
    "declared-wildcard-resource",
    &[],
    &["IAM_POLICYDOCUMENT_NO_WILDCARD_RESOURCE"],
    "Resource \"*\" only for actions AWS offers no resource-level permission for, each a declared least-privilege exception that `validate` lists",
);

// --- S3 --------------------------------------------------------------------------------------

/// No cross-region replication on any bucket.
pub const NO_REPLICATION_PER_REGION: Deviation = Deviation::new(
    "no-replication-per-region",
    &["CKV_AWS_144"],
    &["S3_BUCKET_REPLICATION_ENABLED"],
    "cross-region replication is the account's decision (a bucket, role and cost in another region); each region's stack keeps its own data",
);

/// No Object Lock on any bucket.
pub const NO_OBJECT_LOCK_EXPIRY_MUST_DELETE: Deviation = Deviation::new(
    "no-object-lock-expiry-must-delete",
    &[],
    &["S3_BUCKET_DEFAULT_LOCK_ENABLED"],
    "lifecycle expiry must delete objects when their retention ends and `destroy --purge` must be able to empty the bucket; Object Lock forbids both (and S3 delivers no access logs into a locked bucket)",
);

/// `AccessControl` is left unset because ACLs are disabled.
pub const ACLS_DISABLED_BY_OWNERSHIP: Deviation = Deviation::new(
    "acls-disabled-by-ownership",
    &[],
    &["S3_BUCKET_NO_PUBLIC_RW_ACL"],
    "ACLs are disabled (ObjectOwnership BucketOwnerEnforced) so AccessControl is not set; the rule counts the absent property as a failure",
);

/// The bucket that receives server access logs does not log itself.
pub const ACCESS_LOG_BUCKET_NOT_LOGGED: Deviation = Deviation::new(
    "access-log-bucket-not-logged",
    &["CKV_AWS_18"],
    &["S3_BUCKET_LOGGING_ENABLED"],
    "this bucket receives the other buckets' server access logs; logging it into itself would loop (S3 advises against it) and into yet another bucket would only move the question",
);

// --- Lambda ----------------------------------------------------------------------------------

/// No VPC for any function.
pub const LAMBDA_NO_VPC_AWS_APIS_ONLY: Deviation = Deviation::new(
    "lambda-no-vpc-aws-apis-only",
    &["CKV_AWS_117"],
    &["LAMBDA_INSIDE_VPC"],
    "calls only AWS APIs; a VPC would need NAT or VPC endpoints and add nothing",
);

/// No reserved concurrency for any function.
pub const LAMBDA_NO_RESERVED_CONCURRENCY: Deviation = Deviation::new(
    "lambda-no-reserved-concurrency",
    &["CKV_AWS_115"],
    &["LAMBDA_CONCURRENCY_CHECK"],
    "reserving concurrency fails in accounts at Lambda's minimum unreserved concurrency (new accounts); the handlers are correct at any concurrency (DynamoDB transactions keep quota counts exact)",
);

/// The custom-resource handler has no dead-letter queue.
pub const CUSTOM_RESOURCE_NO_DLQ: Deviation = Deviation::new(
    "custom-resource-no-dlq",
    &["CKV_AWS_116"],
    &["LAMBDA_DLQ_CHECK"],
    "invoked synchronously by CloudFormation, which records failures; a dead-letter queue would never receive anything",
);

/// The trail's KMS key is the stack key, referenced rather than written as a literal.
pub const TRAIL_KEY_BY_REFERENCE: Deviation = Deviation::new(
    "trail-key-by-reference",
    &[],
    &["CLOUD_TRAIL_ENCRYPTION_ENABLED"],
    "the trail is encrypted with the stack's customer-managed key, named by !GetAtt EncryptionKey.Arn; the rule accepts only a literal string",
);

/// The trail records management events, not S3 data events.
pub const TRAIL_NO_S3_DATA_EVENTS: Deviation = Deviation::new(
    "trail-no-s3-data-events",
    &[],
    &["CLOUDTRAIL_S3_DATAEVENTS_ENABLED"],
    "the trail audits Bedrock calls (management events); S3 data events for every bucket of the account are an account-wide cost decision, and the stack's buckets record server access logs",
);

/// CloudWatch Logs delivery of the trail is opt-in.
pub const TRAIL_CLOUDWATCH_LOGS_OPT_IN: Deviation = Deviation::new(
    "trail-cloudwatch-logs-opt-in",
    &[],
    &["CLOUD_TRAIL_CLOUD_WATCH_LOGS_ENABLED"],
    "cloudtrail.cloudwatch_logs is false: delivery to CloudWatch Logs is opt-in (it costs per GB); the trail's files are in its encrypted S3 bucket",
);

// --- CloudWatch Logs -------------------------------------------------------------------------

/// Function log groups keep their configured retention, under a year.
pub const FUNCTION_LOG_RETENTION_CONFIGURED: Deviation = Deviation::new(
    "function-log-retention-configured",
    &["CKV_AWS_338"],
    &[],
    "a function's own diagnostics, kept as long as configured (logging.retention_days, 30 days by default); a year would only add cost",
);

/// The invocation log group keeps logging.retention_days, under a year.
pub const INVOCATION_LOG_RETENTION_CONFIGURED: Deviation = Deviation::new(
    "invocation-log-retention-configured",
    &["CKV_AWS_338"],
    &[],
    "retention comes from logging.retention_days (design default 30 days); the full record is kept in the S3 bucket",
);

/// Every deviation the tool may write, for `validate` and the tests.
pub const ALL: &[&Deviation] = &[
    &INLINE_POLICY_ONE_PRINCIPAL,
    &TOOL_USER_OWN_POLICY,
    &TOOL_USER_NO_CONSOLE,
    &DECLARED_WILDCARD_RESOURCE,
    &NO_REPLICATION_PER_REGION,
    &NO_OBJECT_LOCK_EXPIRY_MUST_DELETE,
    &ACLS_DISABLED_BY_OWNERSHIP,
    &ACCESS_LOG_BUCKET_NOT_LOGGED,
    &LAMBDA_NO_VPC_AWS_APIS_ONLY,
    &LAMBDA_NO_RESERVED_CONCURRENCY,
    &CUSTOM_RESOURCE_NO_DLQ,
    &TRAIL_KEY_BY_REFERENCE,
    &TRAIL_NO_S3_DATA_EVENTS,
    &TRAIL_CLOUDWATCH_LOGS_OPT_IN,
    &FUNCTION_LOG_RETENTION_CONFIGURED,
    &INVOCATION_LOG_RETENTION_CONFIGURED,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_deviation_has_a_reason_rules_and_a_unique_name() {
        let mut names: Vec<&str> = ALL.iter().map(|d| d.name()).collect();
        for d in ALL {
            assert!(!d.reason().trim().is_empty(), "{}", d.name());
            assert!(!d.reason().contains('\n'), "{}", d.name());
            assert!(d.rule_ids().next().is_some(), "{}", d.name());
        }
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len(), "deviation names must be unique");
    }

    #[test]
    fn every_guard_rule_named_is_a_suppression_the_vendored_registry_reads() {
        let rules_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/guard-rules");
        let mut text = String::new();
        for service in std::fs::read_dir(&rules_dir).unwrap() {
            let service = service.unwrap().path();
            if service.is_dir() {
                for f in std::fs::read_dir(&service).unwrap() {
                    text.push_str(&std::fs::read_to_string(f.unwrap().path()).unwrap());
                }
            }
        }
        for d in ALL {
            for rule in d.guard_rules() {
                // The name a registry rule's filter compares `Metadata.guard.SuppressedRules` with
                // (usually, not always, the rule's own name).
                assert!(text.contains(&format!("SuppressedRules.* != \"{rule}\"")), "{}: no registry rule reads the suppression {rule}", d.name());
            }
        }
    }
}
