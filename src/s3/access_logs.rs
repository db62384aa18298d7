//! S3 server access logs for every data bucket of a template, into one separate bucket.
//!
//! Who read the invocation logs, the audit trail or the billing export is itself audit data:
//! each data bucket logs its requests under `<LogicalId>/` of `AccessLogBucket`. That bucket is
//! retained, versioned, TLS-only, expires its objects, and is encrypted with SSE-S3: server
//! access log delivery writes with the logging service's own credentials, and the S3 user guide
//! documents SSE-S3 as the default encryption the destination may use. It does not log itself
//! (a loop) and has no Object Lock (S3 delivers no access logs into a locked bucket). Only
//! `logging.s3.amazonaws.com` may write, only under each source's prefix, only for that source
//! bucket (`aws:SourceArn`) of this account (`aws:SourceAccount`).

use crate::cfn::{CfnError, Map, Pseudo, Sub, Template, Value};
use crate::deviations::ACCESS_LOG_BUCKET_NOT_LOGGED;
use crate::iam::actions::S3_PUT_OBJECT;
use crate::iam::{Condition, Principal, Statement};

use super::{Bucket, BucketEncryption, BucketPolicy, BucketRef, Lifecycle};

pub const BUCKET_ID: &str = "AccessLogBucket";
pub const POLICY_ID: &str = "AccessLogBucketPolicy";
/// The service principal that delivers server access logs.
pub const LOGGING_SERVICE: &str = "logging.s3.amazonaws.com";
/// How long access logs are kept: a year of "who read what", like CloudTrail's default here.
pub const EXPIRE_AFTER_DAYS: u32 = 365;

/// Turns on server access logging for every bucket of `template` that neither logs already nor
/// carries a deviation from the logging rule, into one new access-log bucket. Returns that
/// bucket, or `None` when no bucket needed it. Call it after every bucket is built.
pub fn enable(template: &mut Template) -> Result<Option<BucketRef>, CfnError> {
    let sources: Vec<String> = template
        .resources_of_type("AWS::S3::Bucket")
        .filter(|(_, r)| r.properties.get("LoggingConfiguration").is_none() && !r.deviates_from("s3_bucket_logging_enabled_check"))
        .map(|(id, _)| id.to_owned())
        .collect();
    if sources.is_empty() {
        return Ok(None);
    }
    let bucket = Bucket::new(BUCKET_ID)
        .encryption(BucketEncryption::S3Managed)
        .lifecycle(Lifecycle { expire_after_days: Some(EXPIRE_AFTER_DAYS), ..Lifecycle::default() })
        .deviate(ACCESS_LOG_BUCKET_NOT_LOGGED)
        .build(template)?;
    let mut policy = BucketPolicy::new(POLICY_ID, &bucket);
    for source in &sources {
        let logging = Map::new().with("DestinationBucketName", bucket.name()).with("LogFilePrefix", format!("{source}/"));
        if let Some(r) = template.resource_mut(source) {
            r.properties.insert("LoggingConfiguration", logging);
        }
        policy = policy.statement(
            Statement::allow(S3_PUT_OBJECT, vec![bucket.objects_arn(Sub::new().text(source).text("/*"))])
                .sid(format!("{source}ServerAccessLogs"))
                .principal(Principal::service(LOGGING_SERVICE))
                .condition(Condition::new("ArnLike", "aws:SourceArn", Value::get_att(source.as_str(), "Arn")))
                .condition(Condition::new("StringEquals", "aws:SourceAccount", Value::pseudo(Pseudo::AccountId))),
        );
    }
    policy.build(template)?;
    Ok(Some(bucket))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bucket_logs_into_the_access_log_bucket_under_its_own_prefix() {
        let mut t = Template::new("t");
        Bucket::new("Data").build(&mut t).unwrap();
        Bucket::new("Other").build(&mut t).unwrap();
        let target = enable(&mut t).unwrap().unwrap();
        assert_eq!(target.logical_id(), BUCKET_ID);
        for source in ["Data", "Other"] {
            let logging = t.resource(source).unwrap().properties.get("LoggingConfiguration").unwrap().as_map().unwrap();
            assert_eq!(logging.get("DestinationBucketName"), Some(&Value::reference(BUCKET_ID)));
            assert_eq!(logging.get("LogFilePrefix"), Some(&Value::str(format!("{source}/"))));
        }
        let access = t.resource(BUCKET_ID).unwrap();
        assert!(access.properties.get("LoggingConfiguration").is_none());
        assert!(access.deviates_from("CKV_AWS_18") && access.deviates_from("s3_bucket_logging_enabled_check"));
        assert!(access.is_retained());
        let yaml = crate::cfn::render(&t, crate::cfn::Format::Yaml);
        assert!(yaml.contains("SSEAlgorithm: AES256"), "{yaml}");
        assert!(yaml.contains("logging.s3.amazonaws.com"));
        assert!(yaml.contains("aws:SourceArn: !GetAtt Data.Arn") && yaml.contains("aws:SourceArn: !GetAtt Other.Arn"), "{yaml}");
        // The sources here have no TLS policy of their own; the access-log bucket passes every check.
        let findings: Vec<_> = crate::checks::security::check(&t).into_iter().filter(|f| f.location == BUCKET_ID).collect();
        assert!(findings.is_empty(), "{findings:?}");
        assert!(crate::checks::security::check(&t).iter().all(|f| !f.message.contains("server access logs")));
    }

    #[test]
    fn nothing_without_buckets_and_enabling_twice_adds_nothing() {
        let mut t = Template::new("t");
        assert!(enable(&mut t).unwrap().is_none());
        Bucket::new("Data").build(&mut t).unwrap();
        enable(&mut t).unwrap();
        let count = t.resources.len();
        assert!(enable(&mut t).unwrap().is_none());
        assert_eq!(t.resources.len(), count);
    }
}
