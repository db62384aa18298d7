//! `AWS::S3::BucketPolicy`: always starts by denying any request not made over TLS.

use crate::cfn::{CfnError, Map, Resource, ResourceRef, Template, Value};
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
        // The objects as `!Join ["", [!GetAtt B.Arn, "/*"]]`, the one local-reference form
        // Control Tower's CT.S3.PR.8 recognises (it reads no `!Sub`).
        let objects = Value::join("", vec![self.bucket.arn(), Value::str("/*")]);
        let deny_insecure = Statement::deny(ALL_S3_ACTIONS, vec![self.bucket.arn(), objects])
            .sid("DenyInsecureTransport")
            .principal(Principal::Anyone)
            // The string "false", as Control Tower's CT.S3.PR.8 compares it (IAM reads the string
            // and a JSON boolean alike).
            .condition(Condition::new("Bool", "aws:SecureTransport", "false"));
        let doc = PolicyDocument::new().statement(deny_insecure).statements(self.statements);
        let props = Map::new().with("Bucket", self.bucket.name()).with("PolicyDocument", doc.to_value());
        template.add(&self.logical_id, Resource::new("AWS::S3::BucketPolicy", props))
    }
}
