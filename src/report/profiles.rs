//! Application inference profiles seen at report time: the ones `pricing.inference_profiles` does
//! not map are resolved with bedrock `GetInferenceProfile` (its `models[].modelArn` names the
//! foundation model), so their calls are priced instead of listed as unpriced. The mapping used is
//! written into the report's notes. moto has no GetInferenceProfile; the SDK path is tested on
//! recorded answers (tests/data/recorded/bedrock-get-inference-profile*.json).

use std::collections::BTreeMap;

use crate::bedrock::inference_profile;
use crate::bedrock::pricing::base_model_id;

/// Application-profile ARNs among `model_ids` that `configured` does not map, sorted, once each.
pub fn unmapped<'a>(model_ids: impl IntoIterator<Item = &'a str>, configured: &BTreeMap<String, String>) -> Vec<String> {
    let mut out: Vec<String> = model_ids
        .into_iter()
        .filter(|m| inference_profile::arn_id(m).is_some() && inference_profile::mapped(configured, m).is_none())
        .map(str::to_owned)
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The model id a profile's model ARNs name (`arn:aws:bedrock:us-east-1::foundation-model/<id>`);
/// a profile spanning regions lists the same model once per region. `Err` when they differ.
pub fn model_of(model_arns: &[String]) -> Result<String, String> {
    let mut ids: Vec<&str> = model_arns.iter().map(|a| base_model_id(a)).collect();
    ids.sort_unstable();
    ids.dedup();
    match ids.as_slice() {
        [one] => Ok((*one).to_owned()),
        [] => Err("it lists no model".to_owned()),
        many => Err(format!("it lists several models ({}); map it under `pricing.inference_profiles`", many.join(", "))),
    }
}

/// The mapping in effect: configured entries, then resolved ones; and the note that shows it.
pub fn merge(configured: &BTreeMap<String, String>, resolved: &BTreeMap<String, String>) -> (BTreeMap<String, String>, Option<String>) {
    let mut all = configured.clone();
    all.extend(resolved.iter().map(|(k, v)| (k.clone(), v.clone())));
    if all.is_empty() {
        return (all, None);
    }
    let parts: Vec<String> = all
        .iter()
        .map(|(k, m)| format!("{} → {m} ({})", inference_profile::match_id(k), if configured.contains_key(k) { "config" } else { "GetInferenceProfile" }))
        .collect();
    (all, Some(format!("application inference profiles priced as their model: {}", parts.join(", "))))
}

/// Resolves each ARN with GetInferenceProfile: (ARN → model id, one note per ARN that failed).
#[cfg(feature = "aws")]
pub async fn resolve(aws: &crate::aws::Aws, arns: &[String]) -> (BTreeMap<String, String>, Vec<String>) {
    let client = aws_sdk_bedrock::Client::new(&aws.config);
    let mut found = BTreeMap::new();
    let mut notes = Vec::new();
    for arn in arns {
        let answer = client.get_inference_profile().inference_profile_identifier(arn).send().await;
        let outcome = match answer {
            Ok(r) => model_of(&r.models().iter().filter_map(|m| m.model_arn().map(str::to_owned)).collect::<Vec<_>>()),
            Err(e) => Err(aws.error("GetInferenceProfile", e).to_string()),
        };
        match outcome {
            Ok(model) => {
                found.insert(arn.clone(), model);
            }
            Err(why) => notes.push(format!("application inference profile {arn} left unpriced: {why}; map it under `pricing.inference_profiles`")),
        }
    }
    (found, notes)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/a1b2c3d4e5f6";

    #[test]
    fn only_unmapped_application_profiles_are_looked_up() {
        let configured: BTreeMap<String, String> = [("b2c3d4e5f6a1".to_owned(), "amazon.nova-pro-v1:0".to_owned())].into();
        let seen = [ARN, ARN, "us.amazon.nova-pro-v1:0", "arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/b2c3d4e5f6a1", "anthropic.x"];
        assert_eq!(unmapped(seen, &configured), vec![ARN.to_owned()]);
    }

    #[test]
    fn a_profile_names_one_model_across_regions() {
        let arns = |ids: &[&str]| ids.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let same = arns(&["arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0", "arn:aws:bedrock:us-west-2::foundation-model/amazon.nova-pro-v1:0"]);
        assert_eq!(model_of(&same), Ok("amazon.nova-pro-v1:0".to_owned()));
        assert!(model_of(&[]).unwrap_err().contains("no model"));
        let two = arns(&["arn:aws:bedrock:us-east-1::foundation-model/a.x-v1:0", "arn:aws:bedrock:us-east-1::foundation-model/b.y-v1:0"]);
        assert!(model_of(&two).unwrap_err().contains("a.x-v1:0, b.y-v1:0"));
    }

    #[test]
    fn the_note_shows_every_mapping_and_where_it_came_from() {
        let configured: BTreeMap<String, String> = [("b2c3d4e5f6a1".to_owned(), "amazon.nova-pro-v1:0".to_owned())].into();
        let resolved: BTreeMap<String, String> = [(ARN.to_owned(), "anthropic.claude-haiku-4-5-20251001-v1:0".to_owned())].into();
        let (all, note) = merge(&configured, &resolved);
        assert_eq!(all.len(), 2);
        assert_eq!(
            note.unwrap(),
            "application inference profiles priced as their model: a1b2c3d4e5f6 → anthropic.claude-haiku-4-5-20251001-v1:0 (GetInferenceProfile), b2c3d4e5f6a1 → amazon.nova-pro-v1:0 (config)"
        );
        assert_eq!(merge(&BTreeMap::new(), &BTreeMap::new()), (BTreeMap::new(), None));
    }
}

#[cfg(all(test, feature = "aws"))]
mod recorded_tests {
    use super::*;
    use crate::aws::sdk_replay::{aws as replay, event, run};

    const ARN: &str = "arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/a1b2c3d4e5f6";
    const JSON: &str = "application/json";

    #[test]
    fn get_inference_profile_resolves_the_model_behind_a_profile() {
        let (aws, client) = replay("us-east-1", vec![event(200, JSON, "bedrock-get-inference-profile.json")]);
        let (found, notes) = run(resolve(&aws, &[ARN.to_owned()]));
        assert_eq!(found.get(ARN).map(String::as_str), Some("anthropic.claude-haiku-4-5-20251001-v1:0"));
        assert!(notes.is_empty(), "{notes:?}");
        let uri = client.actual_requests().next().unwrap().uri().to_owned();
        assert!(uri.contains("/inference-profiles/") && uri.contains("a1b2c3d4e5f6"), "{uri}");
    }

    #[test]
    fn a_profile_that_cannot_be_read_is_named_in_a_note() {
        let (aws, _) = replay("us-east-1", vec![event(404, JSON, "bedrock-get-inference-profile-not-found.json")]);
        let (found, notes) = run(resolve(&aws, &[ARN.to_owned()]));
        assert!(found.is_empty());
        assert_eq!(notes.len(), 1);
        assert!(notes[0].contains(ARN) && notes[0].contains("GetInferenceProfile") && notes[0].contains("pricing.inference_profiles"), "{notes:?}");
    }
}
