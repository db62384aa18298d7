//! Secure defaults: encryption at rest everywhere, TLS-only and private buckets that expire
//! objects and old versions and record server access logs, log retention set, and audit data
//! (logs, bucket, key) retained when the stack goes.
//!
//! Where a rule pack's demand is deliberately not met, the resource carries a
//! [`Deviation`](crate::cfn::Deviation) naming the rule; these checks accept exactly that and
//! nothing else (a bucket without access logs must say why).

use crate::cfn::{Template, Value};

use super::{finding, Check, Finding};

pub fn check(t: &Template) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut flag = |id: &str, msg: &str| out.push(finding(Check::Security, id, msg));
    for (id, r) in &t.resources {
        let p = &r.properties;
        match r.resource_type.as_str() {
            "AWS::S3::Bucket" => {
                if p.get("BucketEncryption").is_none() {
                    flag(id, "bucket is not encrypted");
                }
                let block = p.get("PublicAccessBlockConfiguration").and_then(Value::as_map);
                let all_blocked = block.is_some_and(|b| {
                    ["BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"]
                        .iter()
                        .all(|k| b.get(k) == Some(&Value::Bool(true)))
                });
                if !all_blocked {
                    flag(id, "bucket does not block all public access");
                }
                let versioning = p.get("VersioningConfiguration").and_then(Value::as_map).and_then(|v| v.get("Status")).and_then(Value::as_str);
                if versioning != Some("Enabled") {
                    flag(id, "bucket is not versioned");
                }
                if !r.is_retained() || r.update_replace_policy != Some(crate::cfn::RemovalPolicy::Retain) {
                    flag(id, "bucket is not retained on stack deletion and replacement");
                }
                let rules = p.get("LifecycleConfiguration").and_then(Value::as_map).and_then(|l| l.get("Rules")).and_then(Value::as_list).unwrap_or_default();
                let has = |key: &str| rules.iter().filter_map(Value::as_map).any(|rule| rule.get("Status").and_then(Value::as_str) == Some("Enabled") && rule.get(key).is_some());
                if !has("ExpirationInDays") {
                    flag(id, "bucket keeps objects forever: no enabled lifecycle rule expires them");
                }
                if !has("NoncurrentVersionExpiration") {
                    flag(id, "bucket keeps old object versions forever: no enabled lifecycle rule expires noncurrent versions");
                }
                if !t.resources_of_type("AWS::S3::BucketPolicy").any(|(_, bp)| denies_insecure_transport(&bp.properties, id)) {
                    flag(id, "no bucket policy denies requests without TLS");
                }
                if p.get("LoggingConfiguration").is_none() && !r.deviates_from("s3_bucket_logging_enabled_check") {
                    flag(id, "bucket records no server access logs and no deviation says why");
                }
            }
            "AWS::Logs::LogGroup" => {
                if p.get("RetentionInDays").is_none() {
                    flag(id, "log group keeps logs forever: set a retention");
                }
                if p.get("KmsKeyId").is_none() {
                    flag(id, "log group is not encrypted with a customer-managed key");
                }
                if !r.is_retained() || r.update_replace_policy != Some(crate::cfn::RemovalPolicy::Retain) {
                    flag(id, "log group is not retained: its log data would be deleted with the stack (only `destroy --purge` may delete it)");
                }
            }
            "AWS::SNS::Topic" => match p.get("KmsMasterKeyId") {
                None => flag(id, "topic is not encrypted"),
                Some(Value::Str(s)) if s == "alias/aws/sns" => {
                    flag(id, "topic uses the AWS-managed key, which CloudWatch alarms cannot publish with")
                }
                _ => {}
            },
            "AWS::SQS::Queue" => {
                if p.get("KmsMasterKeyId").is_none() {
                    flag(id, "queue is not encrypted with a customer-managed key");
                }
            }
            "AWS::DynamoDB::Table" => {
                let sse = p.get("SSESpecification").and_then(Value::as_map);
                if sse.and_then(|m| m.get("SSEEnabled")) != Some(&Value::Bool(true)) || sse.and_then(|m| m.get("KMSMasterKeyId")).is_none() {
                    flag(id, "table is not encrypted with a customer-managed key");
                }
                let pitr = p.get("PointInTimeRecoverySpecification").and_then(Value::as_map).and_then(|m| m.get("PointInTimeRecoveryEnabled"));
                if pitr != Some(&Value::Bool(true)) {
                    flag(id, "table has no point-in-time recovery");
                }
                if !r.is_retained() {
                    flag(id, "table is not retained: usage counters and the audit trail would be lost");
                }
            }
            "AWS::KMS::Key" => {
                if p.get("EnableKeyRotation") != Some(&Value::Bool(true)) {
                    flag(id, "key rotation is off");
                }
                if !r.is_retained() {
                    flag(id, "key is not retained: retained logs encrypted with it would become unreadable");
                }
            }
            _ => {}
        }
    }
    out
}

fn denies_insecure_transport(policy: &crate::cfn::Map, bucket_id: &str) -> bool {
    let for_bucket = policy.get("Bucket").and_then(Value::as_intrinsic).is_some_and(|f| {
        matches!(f, crate::cfn::Intrinsic::Ref(crate::cfn::RefTarget::Logical(id)) if id == bucket_id)
    });
    let statements = policy.get("PolicyDocument").and_then(Value::as_map).and_then(|d| d.get("Statement")).and_then(Value::as_list);
    for_bucket
        && statements.into_iter().flatten().filter_map(Value::as_map).any(|s| {
            // The string "false": the form Control Tower's CT.S3.PR.8 matches.
            let insecure = s
                .get("Condition")
                .and_then(Value::as_map)
                .and_then(|c| c.get("Bool"))
                .and_then(Value::as_map)
                .and_then(|b| b.get("aws:SecureTransport"))
                .and_then(Value::as_str)
                == Some("false");
            s.get("Effect").and_then(Value::as_str) == Some("Deny") && insecure
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::s3::{Bucket, Lifecycle};

    fn lifecycle_findings(l: Lifecycle) -> Vec<String> {
        let mut t = Template::new("t");
        Bucket::new("B").lifecycle(l).build(&mut t).unwrap();
        check(&t).into_iter().filter(|f| f.message.contains("forever")).map(|f| f.message).collect()
    }

    #[test]
    fn buckets_must_expire_objects_and_old_versions() {
        assert_eq!(lifecycle_findings(Lifecycle::default()), Vec::<String>::new());
        let keep_all = lifecycle_findings(Lifecycle { expire_after_days: None, noncurrent_expire_after_days: None, ..Lifecycle::default() });
        assert_eq!(keep_all.len(), 2, "{keep_all:?}");
        let keep_versions = lifecycle_findings(Lifecycle { noncurrent_expire_after_days: None, ..Lifecycle::default() });
        assert_eq!(keep_versions.len(), 1);
        assert!(keep_versions[0].contains("noncurrent"));
    }

    #[test]
    fn a_bucket_without_access_logs_needs_a_deviation() {
        let mut t = Template::new("t");
        Bucket::new("B").build(&mut t).unwrap();
        let no_logs = |t: &Template| check(t).into_iter().any(|f| f.message.contains("server access logs"));
        assert!(no_logs(&t));
        let mut t = Template::new("t");
        Bucket::new("B").deviate(crate::deviations::ACCESS_LOG_BUCKET_NOT_LOGGED).build(&mut t).unwrap();
        assert!(!no_logs(&t));
    }

    #[test]
    fn a_log_group_deleted_with_the_stack_is_a_finding() {
        let mut t = Template::new("t");
        let retention = crate::logs::Retention::days(30).unwrap();
        crate::logs::LogGroup::new("G", retention).removal_policy(crate::cfn::RemovalPolicy::Delete).build(&mut t).unwrap();
        assert!(check(&t).iter().any(|f| f.location == "G" && f.message.contains("not retained")));
    }

    #[test]
    fn the_tls_deny_must_compare_the_string_false() {
        let policy = |v: Value| {
            let cond = crate::cfn::Map::new().with("Bool", crate::cfn::Map::new().with("aws:SecureTransport", v));
            let st = crate::cfn::Map::new().with("Effect", "Deny").with("Condition", cond);
            crate::cfn::Map::new()
                .with("Bucket", Value::reference("B"))
                .with("PolicyDocument", crate::cfn::Map::new().with("Statement", Value::list([Value::Map(st)])))
        };
        assert!(denies_insecure_transport(&policy(Value::str("false")), "B"));
        assert!(!denies_insecure_transport(&policy(Value::Bool(false)), "B"));
    }

    #[test]
    fn the_default_trail_bucket_expires_its_objects() {
        let mut config = crate::config::Config::default();
        config.cloudtrail.mode = crate::config::CloudTrailMode::Trail;
        for r in crate::synth::synthesize(&config, crate::cfn::Format::Yaml).unwrap() {
            assert!(r.content.contains("ExpirationInDays: 365"), "{}", r.stack_name);
        }
    }
}
