//! Every deliberate deviation from the common rule packs (checkov, the AWS Control Tower
//! proactive-control Guard rules run by cfn-guard), named once with its reason so no builder
//! retypes it. Builders attach them with [`Resource::deviate`](crate::cfn::Resource::deviate);
//! `validate` lists them per resource.
//!
//! A deviation is a decision, not a silencer: each names the exact rule ids it answers (checkov
//! ids, Guard rule names as in `rule <name> when` of `ct-*.guard`), and anything a rule asks that
//! is a real weakness is fixed instead (server access logs for every data bucket, retained
//! function log groups, TLS-only bucket policies, dead-letter queues). Where cfn-guard 3.2.1
//! fails a Control Tower rule on a resource the rule's own description accepts, the deviation
//! says so in its reason.

use crate::cfn::Deviation;

// --- IAM -------------------------------------------------------------------------------------

/// Inline policies: CT.IAM.PR.1 fails on every non-empty one under cfn-guard 3.2.1.
pub const INLINE_POLICY_NO_ADMIN_STATEMENT: Deviation = Deviation::new(
    "inline-policy-no-admin-statement",
    &[],
    &["iam_inline_policy_no_statements_with_admin_access_check"],
    "no statement allows Action \"*\" (actions are named, `validate` checks least privilege); cfn-guard 3.2.1 fails CT.IAM.PR.1 on any non-empty inline policy (its statement filter yields nothing), so it cannot pass here",
);

/// The per-tool IAM users of `access` hold their invoke policy inline, outside any group.
pub const TOOL_USER_OWN_POLICY: Deviation = Deviation::new(
    "tool-user-own-policy",
    &["CKV_AWS_40"],
    &["iam_user_no_policies_check"],
    "one user per tool by design (runbook 3.3: no shared users, so no shared group); the inline policy lives and dies with the user; a quota block attaches the stack-owned deny policy and writes no policy text",
);

/// The quota block policies only deny.
pub const DENY_ONLY_MANAGED_POLICY: Deviation = Deviation::new(
    "deny-only-managed-policy",
    &[],
    &["iam_managed_policy_no_statements_with_admin_access_check", "iam_managed_policy_no_statements_with_full_access_check"],
    "the policy has only Deny statements and grants nothing; cfn-guard 3.2.1 fails CT.IAM.PR.2/PR.3 when their Allow-statement filter finds nothing to check",
);

// --- KMS -------------------------------------------------------------------------------------

/// The stack key is symmetric; CT.KMS.PR.2 is about RSA keys.
pub const SYMMETRIC_KEY_NOT_RSA: Deviation = Deviation::new(
    "symmetric-key-not-rsa",
    &[],
    &["kms_asymmetric_rsa_keyspec_check"],
    "a symmetric key (default key spec), not RSA; cfn-guard 3.2.1 fails CT.KMS.PR.2 on any key its RSA filter leaves out",
);


// --- S3 --------------------------------------------------------------------------------------

/// No cross-region replication on any bucket.
pub const NO_REPLICATION_PER_REGION: Deviation = Deviation::new(
    "no-replication-per-region",
    &["CKV_AWS_144"],
    &[],
    "cross-region replication is the account's decision (a bucket, role and cost in another region); each region's stack keeps its own data",
);

/// No Object Lock on any bucket.
pub const NO_OBJECT_LOCK_EXPIRY_MUST_DELETE: Deviation = Deviation::new(
    "no-object-lock-expiry-must-delete",
    &[],
    &["s3_bucket_object_lock_enabled_check"],
    "lifecycle expiry must delete objects when their retention ends and `destroy --purge` must be able to empty the bucket; Object Lock forbids both (and S3 delivers no access logs into a locked bucket)",
);

/// No S3 event notifications on any bucket.
pub const NO_EVENT_NOTIFICATIONS_NO_CONSUMER: Deviation = Deviation::new(
    "no-event-notifications-no-consumer",
    &[],
    &["s3_event_notifications_enabled_check"],
    "nothing consumes object events (logs are read by queries and reports; writes are audited by server access logs); EventBridge delivery, the one target needing no consumer, makes every delivered log object a billed opt-in data event",
);

/// The bucket that receives server access logs does not log itself.
pub const ACCESS_LOG_BUCKET_NOT_LOGGED: Deviation = Deviation::new(
    "access-log-bucket-not-logged",
    &["CKV_AWS_18"],
    &["s3_bucket_logging_enabled_check"],
    "this bucket receives the other buckets' server access logs; logging it into itself would loop (S3 advises against it) and into yet another bucket would only move the question",
);

/// Buckets encrypted with SSE-S3 rather than the stack's KMS key (the access-log and CUR export
/// buckets).
pub const SSE_S3_SERVICE_WRITTEN: Deviation = Deviation::new(
    "sse-s3-service-written",
    &[],
    &["s3_bucket_default_encryption_kms_check"],
    "written only by an AWS service (S3 server access logging, AWS Data Exports), not read by the stack's functions; SSE-S3 needs no key-policy grant to that writer, a customer key would need one per writing service",
);


// --- Lambda ----------------------------------------------------------------------------------

/// No VPC for any function.
pub const LAMBDA_NO_VPC_AWS_APIS_ONLY: Deviation = Deviation::new(
    "lambda-no-vpc-aws-apis-only",
    &["CKV_AWS_117"],
    &["lambda_inside_vpc_check"],
    "calls only AWS APIs; a VPC would need NAT or VPC endpoints and add nothing",
);

/// No reserved concurrency for any function.
pub const LAMBDA_NO_RESERVED_CONCURRENCY: Deviation = Deviation::new(
    "lambda-no-reserved-concurrency",
    &["CKV_AWS_115"],
    &[],
    "reserving concurrency fails in accounts at Lambda's minimum unreserved concurrency (new accounts); the handlers are correct at any concurrency (DynamoDB transactions keep quota counts exact)",
);

/// The custom-resource handler has no dead-letter queue.
pub const CUSTOM_RESOURCE_NO_DLQ: Deviation = Deviation::new(
    "custom-resource-no-dlq",
    &["CKV_AWS_116"],
    &[],
    "invoked synchronously by CloudFormation, which records failures; a dead-letter queue would never receive anything",
);

// --- SQS -------------------------------------------------------------------------------------

/// A dead-letter queue has no dead-letter queue of its own.
pub const DEAD_LETTER_QUEUE_IS_LAST: Deviation = Deviation::new(
    "dead-letter-queue-is-last",
    &[],
    &["sqs_dlq_check"],
    "this queue is itself the dead-letter queue of a function's failed events: an alarm fires on its depth and an operator re-drives or deletes its messages",
);

// --- CloudTrail ------------------------------------------------------------------------------

/// CloudWatch Logs delivery of the trail is opt-in.
pub const TRAIL_CLOUDWATCH_LOGS_OPT_IN: Deviation = Deviation::new(
    "trail-cloudwatch-logs-opt-in",
    &[],
    &["cloud_trail_cloud_watch_logs_enabled_check"],
    "cloudtrail.cloudwatch_logs is false: delivery to CloudWatch Logs is opt-in (it costs per GB); the trail's files are in its encrypted S3 bucket",
);

// --- CloudWatch Logs -------------------------------------------------------------------------

/// Function log groups keep their configured retention, under a year.
pub const FUNCTION_LOG_RETENTION_CONFIGURED: Deviation = Deviation::new(
    "function-log-retention-configured",
    &["CKV_AWS_338"],
    &["cloudwatch_log_group_retention_period_check"],
    "a function's own diagnostics, kept as long as configured (logging.retention_days, 30 days by default); a year would only add cost",
);

/// The invocation log group keeps logging.retention_days, under a year.
pub const INVOCATION_LOG_RETENTION_CONFIGURED: Deviation = Deviation::new(
    "invocation-log-retention-configured",
    &["CKV_AWS_338"],
    &["cloudwatch_log_group_retention_period_check"],
    "retention comes from logging.retention_days (design default 30 days); the full record is kept in the S3 bucket",
);

/// Every deviation the tool may write, for `validate` and the tests.
pub const ALL: &[&Deviation] = &[
    &INLINE_POLICY_NO_ADMIN_STATEMENT,
    &TOOL_USER_OWN_POLICY,
    &DENY_ONLY_MANAGED_POLICY,
    &SYMMETRIC_KEY_NOT_RSA,
    &NO_REPLICATION_PER_REGION,
    &NO_OBJECT_LOCK_EXPIRY_MUST_DELETE,
    &NO_EVENT_NOTIFICATIONS_NO_CONSUMER,
    &ACCESS_LOG_BUCKET_NOT_LOGGED,
    &SSE_S3_SERVICE_WRITTEN,
    &LAMBDA_NO_VPC_AWS_APIS_ONLY,
    &LAMBDA_NO_RESERVED_CONCURRENCY,
    &CUSTOM_RESOURCE_NO_DLQ,
    &DEAD_LETTER_QUEUE_IS_LAST,
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
    fn every_guard_rule_named_is_an_installed_control_tower_rule() {
        // Installed by .ci/test.sh stage 2, which runs before the Rust tests.
        let rules_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools/guard-rules/ct-0.0.62");
        if !rules_dir.is_dir() {
            assert!(std::env::var_os("CI").is_none(), "{} is missing: .ci/test.sh stage 2 installs it", rules_dir.display());
            eprintln!("SKIPPED the Guard rule-name check: {} is missing (run .ci/test.sh once to install it)", rules_dir.display());
            return;
        }
        let mut names = std::collections::BTreeSet::new();
        for service in std::fs::read_dir(&rules_dir).unwrap() {
            let service = service.unwrap().path();
            if !service.is_dir() {
                continue; // the .sha256 stamp
            }
            for f in std::fs::read_dir(service).unwrap() {
                let text = std::fs::read_to_string(f.unwrap().path()).unwrap();
                for line in text.lines() {
                    if let Some(rest) = line.strip_prefix("rule ") {
                        if let Some((name, _)) = rest.split_once(" when") {
                            names.insert(name.trim().to_string());
                        }
                    }
                }
            }
        }
        assert!(names.len() > 200, "only {} rule names read from {}", names.len(), rules_dir.display());
        for d in ALL {
            for rule in d.guard_rules() {
                assert!(names.contains(*rule), "{}: {rule} is no rule in {}", d.name(), rules_dir.display());
            }
        }
    }
}
