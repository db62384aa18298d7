//! `AWS::S3::BucketPolicy`: always starts by denying any request not made over TLS.

use crate::cfn::{CfnError, Map, Resource, ResourceRef, Sub, Template, Value};
use crate::iam::{Condition, PolicyDocument, Principal, Statement};

use super::BucketRef;

/// Every S3 action, used only in the TLS Deny: denying more is never a privilege, and listing
/// actions would miss the ones S3 adds later.
const ALL_S3_ACTIONS: &[&str] = &["s3:*"];

#[derive(Debug, Clone)]
pub struct BucketPolicy {
    logical_id: String,
    bucket: BucketRef,
    statements: Vec<Statement>,
}

impl BucketPolicy {
    pub fn new(logical_id: impl Into<String>, bucket: &BucketRef) -> Self {
        BucketPolicy { logical_id: logical_id.into(), bucket: bucket.clone(), statements: Vec::new() }
    }

    pub fn statement(mut self, s: Statement) -> Self {
        self.statements.push(s);
        self
    }

    pub fn build(self, template: &mut Template) -> Result<ResourceRef, CfnError> {
        let deny_insecure = Statement::deny(ALL_S3_ACTIONS, vec![self.bucket.arn(), self.bucket.objects_arn(Sub::new().text("*"))])
            .sid("DenyInsecureTransport")
            .principal(Principal::Anyone)
            // A JSON boolean, as the Guard registry's S3_BUCKET_SSL_REQUESTS_ONLY compares it (IAM
            // accepts a boolean or the string "false" alike).
            .condition(Condition::new("Bool", "aws:SecureTransport", Value::Bool(false)));
        let doc = PolicyDocument::new().statement(deny_insecure).statements(self.statements);
        let props = Map::new().with("Bucket", self.bucket.name()).with("PolicyDocument", doc.to_value());
        template.add(&self.logical_id, Resource::new("AWS::S3::BucketPolicy", props))
    }
}
