//! The AWS side of `report --reconcile`: the stack's log group (as `report` finds it), the
//! export bucket from the us-east-1 stack, the manifest and data files of each billing period
//! from S3, and `report`'s per-user Logs Insights query over the period.

use super::billed::{Billed, Scope};
use super::{assemble, cur, period, ReconcileError, Reconciliation, Request, Sources};
use crate::aws::{Aws, AwsError};
use crate::bcm_data_exports::BUCKET_ID;
use crate::config::billing::EXPORT_REGION;
use crate::config::Config;
use crate::report::{insights, stack, Progress, ReportError};

/// The export bucket's name and the account of the us-east-1 stack (from its stack id).
pub async fn export_bucket(aws: &Aws, stack: &str) -> Result<(String, Option<String>), ReconcileError> {
    let resp = match aws.cloudformation().describe_stack_resources().stack_name(stack).logical_resource_id(BUCKET_ID).send().await {
        Ok(r) => r,
        Err(e) => {
            let e = aws.error("DescribeStackResources", e);
            return Err(if e.is_not_found() {
                ReconcileError::Report(ReportError::StackNotFound { stack: stack.to_owned(), region: aws.region.clone() })
            } else {
                ReconcileError::Aws(e)
            });
        }
    };
    let r = resp.stack_resources().iter().find(|r| r.logical_resource_id() == Some(BUCKET_ID));
    let bucket = r.and_then(|r| r.physical_resource_id()).ok_or_else(|| ReconcileError::NoExportBucket { stack: stack.to_owned() })?;
    let account = r.and_then(|r| r.stack_id()).and_then(|id| id.split(':').nth(4)).filter(|a| !a.is_empty()).map(str::to_owned);
    Ok((bucket.to_owned(), account))
}

enum Get {
    Missing,
    Failed(ReconcileError),
}

async fn get(aws: &Aws, client: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Result<Vec<u8>, Get> {
    let resp = match client.get_object().bucket(bucket).key(key).send().await {
        Ok(r) => r,
        Err(e) => {
            let e = aws.error("GetObject", e);
            return Err(match &e {
                AwsError::Service { code, .. } if code == "NoSuchKey" || code == "NotFound" => Get::Missing,
                _ => Get::Failed(ReconcileError::Aws(e)),
            });
        }
    };
    let body = resp.body.collect().await.map_err(|e| Get::Failed(ReconcileError::BadExport { bucket: bucket.to_owned(), key: key.to_owned(), message: format!("reading the object failed: {e}") }))?;
    Ok(body.into_bytes().to_vec())
}

/// Reads both sides for `req.period` in `aws.region` and reconciles them.
pub async fn generate(aws: &Aws, config: &Config, req: &Request, progress: &mut dyn Progress) -> Result<Reconciliation, ReconcileError> {
    let c = &config.billing.cur_export;
    if !c.enabled {
        return Err(ReconcileError::NotEnabled);
    }
    let stack_name = config.stack_name_for(&aws.region);
    progress.step(&format!("finding stack {stack_name}"));
    let log_group = stack::invocation_log_group(aws, &stack_name).await.map_err(ReconcileError::Report)?;

    let home = aws.in_region(EXPORT_REGION);
    let export_stack = config.stack_name_for(EXPORT_REGION);
    progress.step(&format!("finding the billing export bucket of stack {export_stack} ({EXPORT_REGION})"));
    let (bucket, account) = export_bucket(&home, &export_stack).await?;
    let export_name = c.name(&config.project);
    let s3 = home.s3();
    let scope = Scope { region: aws.region.clone(), account, period: req.period, sessions_are_people: config.attribution.sessions_are_people };
    let mut billed = Billed::default();
    let mut data_files = 0;
    for bp in period::billing_periods(&req.period) {
        let key = cur::manifest_key(&export_name, &bp);
        progress.step(&format!("reading s3://{bucket}/{key}"));
        let manifest = get(&home, &s3, &bucket, &key).await.map_err(|e| match e {
            Get::Missing => ReconcileError::NotDelivered { bucket: bucket.clone(), key: key.clone(), billing_period: bp.clone() },
            Get::Failed(e) => e,
        })?;
        let keys = cur::data_files(&manifest, &bucket, &export_name).map_err(|message| ReconcileError::BadExport { bucket: bucket.clone(), key: key.clone(), message })?;
        for k in keys {
            progress.step(&format!("reading s3://{bucket}/{k}"));
            let bytes = get(&home, &s3, &bucket, &k).await.map_err(|e| match e {
                Get::Missing => ReconcileError::BadExport { bucket: bucket.clone(), key: k.clone(), message: "the manifest lists it, but it does not exist".into() },
                Get::Failed(e) => e,
            })?;
            cur::read_csv_gz(&bytes, |l| billed.add(&l, &scope)).map_err(|message| ReconcileError::BadExport { bucket: bucket.clone(), key: k.clone(), message })?;
            data_files += 1;
        }
    }

    progress.step(&format!("running the per-user Logs Insights query on {log_group}"));
    let query = insights::user_query(config, &aws.region).map_err(ReconcileError::Report)?;
    let logs = insights::SdkLogs { aws, client: aws.logs() };
    let rows = insights::run(&logs, &log_group, &req.period, &query).await.map_err(ReconcileError::Report)?;
    let (logged, ignored) = insights::sum_by_principal_and_model(&rows);
    let src = Sources {
        region: &aws.region,
        stack_name: &stack_name,
        log_group: &log_group,
        bucket: &bucket,
        export_name: &export_name,
        data_files,
        billed: &billed,
        logged: &logged,
        logs_truncated: rows.len() >= insights::MAX_ROWS,
        ignored_log_rows: ignored,
    };
    assemble(&src, req, &config.pricing.table(), config.pricing.max_age_days())
}
