//! `AWS::BCMDataExports::Export`: a CUR 2.0 export with the calling IAM principal
//! (`INCLUDE_IAM_PRINCIPAL_DATA`), delivered as gzipped CSV into a retained, encrypted, versioned,
//! TLS-only bucket with lifecycle expiry. Built only when `billing.cur_export.enabled`, and only
//! in the us-east-1 stack (AWS Data Exports creates exports only there).

use crate::cfn::{CfnError, Map, Pseudo, Resource, Sub, Template, Value};
use crate::config::billing::EXPORT_REGION;
use crate::config::Config;
use crate::iam::{Condition, Principal, Statement};
use crate::s3::{Bucket, BucketPolicy, Lifecycle};

pub const EXPORT_ID: &str = "CurExport";
pub const BUCKET_ID: &str = "CurExportBucket";
pub const BUCKET_POLICY_ID: &str = "CurExportBucketPolicy";
/// Key prefix the export writes under.
pub const PREFIX: &str = "cur2";
/// The CUR 2.0 table.
pub const TABLE: &str = "COST_AND_USAGE_REPORT";

/// CUR 2.0 columns the reconcile needs: who (IAM principal), when, which service and usage
/// type (Bedrock model and token kind), which resource, and the billed cost. The line item type
/// sets credits, refunds and taxes apart from usage; the product family finds Bedrock lines
/// whose product code is not `AmazonBedrock` (Anthropic models are billed as their own
/// products, family `Amazon Bedrock`).
pub const COLUMNS: &[&str] = &[
    "identity_line_item_id",
    "line_item_line_item_type",
    "line_item_usage_start_date",
    "line_item_usage_end_date",
    "line_item_usage_account_id",
    "line_item_iam_principal",
    "line_item_product_code",
    "product_product_family",
    "line_item_usage_type",
    "line_item_operation",
    "line_item_resource_id",
    "line_item_usage_amount",
    "line_item_unblended_cost",
    "line_item_currency_code",
    "product_region_code",
];

/// The export's SQL statement (Data Exports rejects `SELECT *`).
pub fn query_statement() -> String {
    format!("SELECT {} FROM {TABLE}", COLUMNS.join(", "))
}

/// Service principals that deliver exports and check the bucket policy.
const DELIVERY_SERVICES: &[&str] = &["billingreports.amazonaws.com", "bcm-data-exports.amazonaws.com"];

pub fn build(t: &mut Template, config: &Config, region: &str) -> Result<(), CfnError> {
    let c = &config.billing.cur_export;
    if !c.enabled || region != EXPORT_REGION {
        return Ok(());
    }
    let bucket = Bucket::new(BUCKET_ID)
        .lifecycle(Lifecycle { expire_after_days: Some(c.retention_days), noncurrent_expire_after_days: Some(30), abort_incomplete_upload_after_days: 7, prefixes: Vec::new() })
        .build(t)?;
    let account = || Value::pseudo(Pseudo::AccountId);
    let source_arns = Condition {
        operator: "StringLike",
        key: "aws:SourceArn".into(),
        values: vec![
            Sub::new().text("arn:").pseudo(Pseudo::Partition).text(":cur:us-east-1:").pseudo(Pseudo::AccountId).text(":definition/*").build(),
            Sub::new().text("arn:").pseudo(Pseudo::Partition).text(":bcm-data-exports:us-east-1:").pseudo(Pseudo::AccountId).text(":export/*").build(),
        ],
    };
    let source_account = Condition { operator: "StringLike", key: "aws:SourceAccount".into(), values: vec![account()] };
    let services = || Principal::service(Value::list(DELIVERY_SERVICES.iter().copied()));
    let put = Statement::allow(&["s3:PutObject"], vec![bucket.objects_arn(Sub::new().text(PREFIX).text("/*"))])
        .sid("AllowDataExportsDelivery")
        .principal(services())
        .condition(source_arns.clone())
        .condition(source_account.clone());
    let read_policy = Statement::allow(&["s3:GetBucketPolicy"], vec![bucket.arn()])
        .sid("AllowDataExportsPolicyCheck")
        .principal(services())
        .condition(source_arns)
        .condition(source_account);
    BucketPolicy::new(BUCKET_POLICY_ID, &bucket).statement(put).statement(read_policy).build(t)?;

    let table_config = Map::new().with(
        TABLE,
        Map::new()
            .with("INCLUDE_IAM_PRINCIPAL_DATA", "TRUE")
            .with("INCLUDE_RESOURCES", "TRUE")
            .with("INCLUDE_MANUAL_DISCOUNT_COMPATIBILITY", "FALSE")
            .with("INCLUDE_SPLIT_COST_ALLOCATION_DATA", "FALSE")
            .with("TIME_GRANULARITY", "HOURLY"),
    );
    let output = Map::new().with("Compression", "GZIP").with("Format", "TEXT_OR_CSV").with("OutputType", "CUSTOM").with("Overwrite", "OVERWRITE_REPORT");
    let s3 = Map::new().with("S3Bucket", bucket.name()).with("S3Prefix", PREFIX).with("S3Region", Value::pseudo(Pseudo::Region)).with("S3OutputConfigurations", output);
    let export = Map::new()
        .with("Name", c.name(&config.project))
        .with("Description", format!("bedrock-watch {}: Bedrock billed cost per IAM principal and model", config.project))
        .with("DataQuery", Map::new().with("QueryStatement", query_statement()).with("TableConfigurations", table_config))
        .with("DestinationConfigurations", Map::new().with("S3Destination", s3))
        .with("RefreshCadence", Map::new().with("Frequency", "SYNCHRONOUS"));
    t.add(EXPORT_ID, Resource::new("AWS::BCMDataExports::Export", Map::new().with("Export", export)).depends_on(BUCKET_POLICY_ID))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(enabled: bool) -> Config {
        let mut c = Config::default();
        c.billing.cur_export.enabled = enabled;
        c.billing.cur_export.retention_days = 123;
        c
    }

    fn yaml(t: &Template) -> String {
        crate::cfn::render(t, crate::cfn::Format::Yaml)
    }

    #[test]
    fn nothing_when_disabled_or_outside_us_east_1() {
        for (enabled, region) in [(false, "us-east-1"), (true, "eu-west-1")] {
            let mut t = Template::new("x");
            build(&mut t, &config(enabled), region).unwrap();
            assert!(t.resource(EXPORT_ID).is_none() && t.resource(BUCKET_ID).is_none(), "{enabled} {region}");
        }
    }

    #[test]
    fn export_bucket_and_scoped_policy() {
        let mut t = Template::new("x");
        build(&mut t, &config(true), "us-east-1").unwrap();
        let export = t.resource(EXPORT_ID).expect("export");
        assert_eq!(export.resource_type, "AWS::BCMDataExports::Export");
        assert!(export.depends_on.contains(&BUCKET_POLICY_ID.to_string()));
        assert!(t.resource(BUCKET_ID).expect("bucket").is_retained());
        let y = yaml(&t);
        assert!(y.contains("INCLUDE_IAM_PRINCIPAL_DATA: 'TRUE'") || y.contains("INCLUDE_IAM_PRINCIPAL_DATA: \"TRUE\""), "{y}");
        assert!(y.contains("line_item_iam_principal"));
        assert!(y.contains("Compression: GZIP") && y.contains("Format: TEXT_OR_CSV"));
        assert!(y.contains("ExpirationInDays: 123"), "{y}");
        assert!(y.contains("aws:SourceArn") && y.contains("aws:SourceAccount") && y.contains("bcm-data-exports.amazonaws.com"));
        assert!(y.contains("aws:SecureTransport"));
        assert!(!y.contains("Action: '*'") && !y.contains("bcm-data-exports:*"));
    }

    #[test]
    fn query_selects_every_column_once_and_no_star() {
        let q = query_statement();
        assert!(!q.contains('*'));
        for c in COLUMNS {
            assert_eq!(q.matches(&format!("{c},")).count() + q.matches(&format!("{c} FROM")).count(), 1, "{c}");
        }
    }
}
