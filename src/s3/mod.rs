//! S3 builders: the log bucket and its resource policy, and server access logs for every bucket.

pub mod access_logs;
pub mod bucket;
pub mod bucket_policy;

pub use bucket::{Bucket, BucketEncryption, BucketRef, Lifecycle};
pub use bucket_policy::BucketPolicy;
