//! Removing what a stack deletion kept (`destroy --purge`): the calls behind a trait so the
//! order and the confirmation rules are testable without an account.

#[cfg(feature = "aws")]
use crate::aws::Aws;
use crate::aws::AwsError;

#[allow(async_fn_in_trait)]
pub trait Purge {
    /// Deletes every object version and delete marker, then the bucket; returns how many.
    async fn empty_and_delete_bucket(&self, bucket: &str) -> Result<usize, AwsError>;
    async fn delete_log_group(&self, name: &str) -> Result<(), AwsError>;
    async fn delete_table(&self, name: &str) -> Result<(), AwsError>;
    /// Schedules deletion with the minimum window (7 days); returns the date when known.
    async fn schedule_key_deletion(&self, key_id: &str) -> Result<Option<String>, AwsError>;
}

/// The minimum waiting period KMS allows before a key is deleted.
pub const KEY_DELETION_DAYS: i32 = 7;

#[cfg(feature = "aws")]
pub struct SdkPurge<'a> {
    pub aws: &'a Aws,
}

#[cfg(feature = "aws")]
impl Purge for SdkPurge<'_> {
    async fn empty_and_delete_bucket(&self, bucket: &str) -> Result<usize, AwsError> {
        use aws_sdk_s3::types::{Delete, ObjectIdentifier};
        let s3 = self.aws.s3();
        let mut count = 0;
        loop {
            // Always the first page: each round deletes what it lists.
            let page = s3.list_object_versions().bucket(bucket).max_keys(1000).send().await.map_err(|e| self.aws.error("ListObjectVersions", e))?;
            let mut ids = Vec::new();
            for v in page.versions() {
                ids.push((v.key().unwrap_or_default().to_owned(), v.version_id().map(str::to_owned)));
            }
            for m in page.delete_markers() {
                ids.push((m.key().unwrap_or_default().to_owned(), m.version_id().map(str::to_owned)));
            }
            if ids.is_empty() {
                break;
            }
            let objects: Vec<ObjectIdentifier> = ids.iter().filter_map(|(k, v)| ObjectIdentifier::builder().key(k).set_version_id(v.clone()).build().ok()).collect();
            let n = objects.len();
            let delete = Delete::builder().set_objects(Some(objects)).quiet(true).build().map_err(|e| AwsError::Service {
                operation: "DeleteObjects",
                region: self.aws.region.clone(),
                code: "ClientError".into(),
                message: e.to_string(),
            })?;
            s3.delete_objects().bucket(bucket).delete(delete).send().await.map_err(|e| self.aws.error("DeleteObjects", e))?;
            count += n;
        }
        s3.delete_bucket().bucket(bucket).send().await.map_err(|e| self.aws.error("DeleteBucket", e))?;
        Ok(count)
    }

    async fn delete_log_group(&self, name: &str) -> Result<(), AwsError> {
        self.aws.logs().delete_log_group().log_group_name(name).send().await.map_err(|e| self.aws.error("DeleteLogGroup", e))?;
        Ok(())
    }

    async fn delete_table(&self, name: &str) -> Result<(), AwsError> {
        self.aws.dynamodb().delete_table().table_name(name).send().await.map_err(|e| self.aws.error("DeleteTable", e))?;
        Ok(())
    }

    async fn schedule_key_deletion(&self, key_id: &str) -> Result<Option<String>, AwsError> {
        let a = self.aws.kms().schedule_key_deletion().key_id(key_id).pending_window_in_days(KEY_DELETION_DAYS).send().await.map_err(|e| self.aws.error("ScheduleKeyDeletion", e))?;
        Ok(a.deletion_date().map(|d| d.to_string()))
    }
}
