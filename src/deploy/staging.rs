//! Templates over CloudFormation's inline limit go through an S3 staging bucket.

use std::io::Write;

use super::client::{CloudFormation, TemplateSource};
use super::DeployError;
use crate::cfn::template::MAX_INLINE_BODY_BYTES;

/// Decides, uploads when needed, and returns what CreateChangeSet gets.
pub async fn source<C: CloudFormation>(api: &C, stack: &str, region: &str, body: &str, bucket: Option<&str>, prefix: &str, out: &mut dyn Write) -> Result<TemplateSource, DeployError> {
    match decide(stack, region, body, bucket, prefix) {
        Staging::Inline => Ok(TemplateSource::Body(body.to_owned())),
        Staging::Missing => Err(DeployError::NeedsStaging { stack: stack.into(), bytes: body.len() }),
        Staging::Upload { bucket, key, url } => {
            api.upload_template(&bucket, &key, body).await?;
            writeln!(out, "{stack}: staged the template ({} bytes) at s3://{bucket}/{key}", body.len())?;
            Ok(TemplateSource::Url(url))
        }
    }
}

/// How a template of a given size reaches CloudFormation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Staging {
    Inline,
    /// Upload to `bucket`/`key`, then pass `url` as TemplateURL.
    Upload { bucket: String, key: String, url: String },
    /// Too large to pass inline and no bucket configured.
    Missing,
}

/// Inline up to 51,200 bytes, through the bucket above. The key carries a content hash, so a
/// template never overwrites another one a pending change set still reads.
pub fn decide(stack: &str, region: &str, body: &str, bucket: Option<&str>, prefix: &str) -> Staging {
    if body.len() <= MAX_INLINE_BODY_BYTES {
        return Staging::Inline;
    }
    let Some(bucket) = bucket else { return Staging::Missing };
    let prefix = prefix.trim_matches('/');
    let name = format!("{stack}-{:016x}.yaml", fnv1a(body.as_bytes()));
    let key = if prefix.is_empty() { name } else { format!("{prefix}/{name}") };
    // Path-style regional URL: valid for every bucket name (dots included) and what
    // CloudFormation's own examples use.
    let url = format!("https://s3.{region}.amazonaws.com/{bucket}/{key}");
    Staging::Upload { bucket: bucket.to_owned(), key, url }
}

/// FNV-1a: a stable, dependency-free content hash (not for security).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_is_51200_bytes_inclusive() {
        let at = "x".repeat(51_200);
        assert_eq!(decide("s", "eu-west-1", &at, None, "p"), Staging::Inline);
        let over = "x".repeat(51_201);
        assert_eq!(decide("s", "eu-west-1", &over, None, "p"), Staging::Missing);
        match decide("s", "eu-west-1", &over, Some("b"), "bedrock-watch/templates/") {
            Staging::Upload { bucket, key, url } => {
                assert_eq!(bucket, "b");
                assert!(key.starts_with("bedrock-watch/templates/s-") && key.ends_with(".yaml"), "{key}");
                assert_eq!(url, format!("https://s3.eu-west-1.amazonaws.com/b/{key}"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn keys_change_with_content() {
        let a = decide("s", "r", &"a".repeat(60_000), Some("b"), "");
        let b = decide("s", "r", &"b".repeat(60_000), Some("b"), "");
        assert_ne!(a, b);
        assert_eq!(a, decide("s", "r", &"a".repeat(60_000), Some("b"), ""));
    }
}
