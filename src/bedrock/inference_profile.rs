//! Application inference profiles: user-made profiles whose ARN ends in an opaque id
//! (`arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/a1b2c3d4e5f6`), so
//! the model behind them, and its price, cannot be read from the id. `pricing.inference_profiles`
//! maps them to a model; at report time `GetInferenceProfile` resolves the ones the config does not
//! name (src/report/profiles.rs).
//!
//! ARN pattern (API reference, InferenceProfileSummary.inferenceProfileArn,
//! https://docs.aws.amazon.com/bedrock/latest/APIReference/API_InferenceProfileSummary.html):
//! `arn:aws(|-us-gov|-cn|-iso|-iso-b):bedrock:<region>:<12 digits>:(inference-profile|application-inference-profile)/[a-zA-Z0-9-:.]+`.

use std::collections::BTreeMap;

const MARKER: &str = ":application-inference-profile/";

/// The profile id of an application-inference-profile ARN (the part after the slash).
pub fn arn_id(arn: &str) -> Option<&str> {
    let (head, id) = arn.split_once(MARKER)?;
    let parts: Vec<&str> = head.split(':').collect();
    let partition_ok = matches!(parts.first().copied(), Some("arn")) && matches!(parts.get(1).copied(), Some("aws" | "aws-us-gov" | "aws-cn" | "aws-iso" | "aws-iso-b"));
    let service_ok = parts.get(2) == Some(&"bedrock");
    let region_ok = parts.get(3).is_some_and(|r| r.len() <= 20 && r.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'));
    let account_ok = parts.get(4).is_some_and(|a| a.len() == 12 && a.chars().all(|c| c.is_ascii_digit()));
    (parts.len() == 5 && partition_ok && service_ok && region_ok && account_ok && is_id(id)).then_some(id)
}

/// A bare application-profile id as configuration accepts it: 1 to 64 lowercase letters and
/// digits. The API allows `-`, `:` and `.` too, but then a bare id could not be told from a model
/// id (`amazon.nova-pro-v1:0`); such profiles are configured by their ARN.
fn is_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
}

/// Whether `key` may name a profile in `pricing.inference_profiles`: an application-inference-profile
/// ARN, or its bare id.
pub fn is_profile_key(key: &str) -> bool {
    arn_id(key).is_some() || is_id(key)
}

/// The configured model of `model_id` when it is a mapped application inference profile (by ARN
/// or by id), else `None`.
pub fn mapped<'a>(profiles: &'a BTreeMap<String, String>, model_id: &str) -> Option<&'a str> {
    if profiles.is_empty() {
        return None;
    }
    if let Some(m) = profiles.get(model_id) {
        return Some(m);
    }
    // An ARN matches a key that is its id; an id (as the Logs Insights expression names a
    // profile) matches a key that is an ARN ending in it.
    let id = arn_id(model_id).unwrap_or(model_id);
    profiles.get(id).or_else(|| profiles.iter().find(|(k, _)| arn_id(k) == Some(id)).map(|(_, m)| m)).map(String::as_str)
}

/// The id a Logs Insights `strcontains(modelId, ...)` test can look for: the ARN's id, or the key.
pub fn match_id(key: &str) -> &str {
    arn_id(key).unwrap_or(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/a1b2c3d4e5f6";

    #[test]
    fn recognises_application_profile_arns_and_ids_only() {
        assert_eq!(arn_id(ARN), Some("a1b2c3d4e5f6"));
        assert_eq!(arn_id("arn:aws-us-gov:bedrock:us-gov-west-1:111122223333:application-inference-profile/x9"), Some("x9"));
        assert_eq!(arn_id("arn:aws:bedrock:us-east-1:111122223333:inference-profile/us.amazon.nova-pro-v1:0"), None, "a system profile names its model");
        assert_eq!(arn_id("arn:aws:bedrock:us-east-1:12345:application-inference-profile/a1"), None, "account is 12 digits");
        assert_eq!(arn_id("arn:aws:s3:us-east-1:111122223333:application-inference-profile/a1"), None);
        assert!(is_profile_key("a1b2c3d4e5f6"));
        assert!(!is_profile_key("amazon.nova-pro-v1:0"));
        assert!(!is_profile_key(""));
        assert!(!is_profile_key("A1B2"), "ids are lowercase");
    }

    #[test]
    fn maps_by_arn_or_by_id_either_way_round() {
        let by_id: BTreeMap<String, String> = [("a1b2c3d4e5f6".to_owned(), "amazon.nova-pro-v1:0".to_owned())].into();
        assert_eq!(mapped(&by_id, ARN), Some("amazon.nova-pro-v1:0"));
        assert_eq!(mapped(&by_id, "a1b2c3d4e5f6"), Some("amazon.nova-pro-v1:0"));
        let by_arn: BTreeMap<String, String> = [(ARN.to_owned(), "amazon.nova-lite-v1:0".to_owned())].into();
        assert_eq!(mapped(&by_arn, ARN), Some("amazon.nova-lite-v1:0"));
        assert_eq!(mapped(&by_arn, "arn:aws:bedrock:eu-west-1:111122223333:application-inference-profile/a1b2c3d4e5f6"), Some("amazon.nova-lite-v1:0"), "the id identifies the profile");
        assert_eq!(mapped(&by_arn, "a1b2c3d4e5f6"), Some("amazon.nova-lite-v1:0"), "the id alone finds an ARN key");
        assert_eq!(mapped(&by_arn, "amazon.nova-pro-v1:0"), None);
        assert_eq!(match_id(ARN), "a1b2c3d4e5f6");
    }
}
