//! S3 builders: the log bucket and its resource policy.

pub mod bucket;
pub mod bucket_policy;

pub use bucket::{Bucket, BucketEncryption, BucketRef, Lifecycle};
pub use bucket_policy::BucketPolicy;
