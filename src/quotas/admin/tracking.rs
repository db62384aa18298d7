//! The AWS side of `quota status --untracked` and `quota track`: reads the account's IAM users,
//! their Bedrock API keys and tags, and adds the quota tag (never anything else). What counts as
//! untracked and why `track` never moves a user are in [`super::untracked`].

use aws_sdk_iam::error::ProvideErrorMetadata;
use serde_json::json;

use super::ops::Session;
use super::untracked::{self, managed_tag, TrackOutcome, UntrackedView, UserFacts};
use super::AdminError;
use crate::aws::{Aws, AwsError};
use crate::config::Quotas;
use crate::verify::gather::rfc3339;

/// Every IAM user of the account (ListUsers, all pages), without tags or keys.
async fn list_users(aws: &Aws) -> Result<Vec<UserFacts>, AwsError> {
    let mut out = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let r = aws.iam().list_users().set_marker(marker.take()).send().await.map_err(|e| aws.error("ListUsers", e))?;
        out.extend(r.users().iter().map(|u| UserFacts {
            name: u.user_name().to_owned(),
            arn: u.arn().to_owned(),
            path: u.path().to_owned(),
            created: rfc3339(u.create_date()),
            ..UserFacts::default()
        }));
        match r.marker() {
            Some(m) if r.is_truncated() && !m.is_empty() => marker = Some(m.to_owned()),
            _ => break,
        }
    }
    Ok(out)
}

/// A user's tags (ListUserTags, all pages).
async fn user_tags(aws: &Aws, name: &str) -> Result<Vec<(String, String)>, AwsError> {
    let mut out = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let r = aws.iam().list_user_tags().user_name(name).set_marker(marker.take()).send().await.map_err(|e| aws.error("ListUserTags", e))?;
        out.extend(r.tags().iter().map(|t| (t.key().to_owned(), t.value().to_owned())));
        match r.marker() {
            Some(m) if r.is_truncated() && !m.is_empty() => marker = Some(m.to_owned()),
            _ => break,
        }
    }
    Ok(out)
}

/// An SDK error as one readable clause: the SDK appends a debug dump of an unparsable answer
/// (HTML of a 500) after the message, which says nothing an operator can act on.
fn brief(text: &str) -> String {
    let cut = text.find(" (ServiceError(").map_or(text, |i| &text[..i]);
    cut.chars().take(300).collect()
}

/// The users that can call Bedrock outside quota management. The keys of each user are listed
/// (one ListServiceSpecificCredentials per user); when that is refused or fails, the rest of
/// the account is classified by name only and the view says so.
pub async fn find_untracked(aws: &Aws, q: &Quotas) -> Result<UntrackedView, AwsError> {
    let mut users = list_users(aws).await?;
    let mut keys_unavailable = None;
    for u in &mut users {
        if keys_unavailable.is_some() {
            break;
        }
        match crate::access::list_keys(aws, &u.name).await {
            Ok(keys) => u.keys = keys,
            // Deleted since ListUsers: nothing to flag.
            Err(e) if e.is_not_found() => {}
            Err(e) => keys_unavailable = Some(brief(&e.to_string())),
        }
    }
    let mut candidates = Vec::new();
    for mut u in users.iter().filter(|u| untracked::is_candidate(u)).cloned() {
        match user_tags(aws, &u.name).await {
            Ok(tags) => u.tags = tags,
            Err(e) if e.is_not_found() => continue,
            Err(e) => return Err(e),
        }
        candidates.push(u);
    }
    Ok(UntrackedView { users: untracked::classify(q, &candidates), examined: users.len(), keys_unavailable })
}

/// Tags `name` with the quota tag when it is under the managed path and not tagged yet.
/// An unknown user is an error naming it; nothing is changed for it.
pub async fn track_user(aws: &Aws, q: &Quotas, name: &str) -> Result<(TrackOutcome, UserFacts), AdminError> {
    let user = match aws.iam().get_user().user_name(name).send().await {
        Ok(r) => r.user().cloned(),
        Err(e) if e.code() == Some("NoSuchEntity") => None,
        Err(e) => return Err(aws.error("GetUser", e).into()),
    };
    let Some(user) = user else {
        return Err(AdminError::UnknownUser(name.to_owned()));
    };
    let facts = UserFacts {
        name: user.user_name().to_owned(),
        arn: user.arn().to_owned(),
        path: user.path().to_owned(),
        created: rfc3339(user.create_date()),
        tags: user.tags().iter().map(|t| (t.key().to_owned(), t.value().to_owned())).collect(),
        keys: Vec::new(),
    };
    let scope = untracked::scope(q, &facts.path, &facts.tags);
    if !scope.path {
        return Ok((TrackOutcome::OutsidePath { path: facts.path.clone() }, facts));
    }
    if scope.tag {
        return Ok((TrackOutcome::AlreadyTracked, facts));
    }
    let (key, value) = managed_tag(q);
    let tag = aws_sdk_iam::types::Tag::builder().key(key).value(value).build().map_err(|e| AdminError::Refused(e.to_string()))?;
    aws.iam().tag_user().user_name(name).tags(tag).send().await.map_err(|e| aws.error("TagUser", e))?;
    Ok((TrackOutcome::Tagged, facts))
}

impl Session {
    /// `quota status --untracked`.
    pub async fn untracked(&self) -> Result<UntrackedView, AdminError> {
        Ok(find_untracked(&self.aws, &self.config.quotas).await?)
    }

    /// `quota track USER...` (or every untracked user with `all_untracked`): tags each, records
    /// every change in the audit trail, and returns what happened to each, in order. Every
    /// named user must exist before anything is changed.
    pub async fn track(&self, names: &[String], all_untracked: bool) -> Result<Vec<(String, TrackOutcome)>, AdminError> {
        let q = &self.config.quotas;
        let mut wanted: Vec<String> = names.to_vec();
        if all_untracked {
            wanted.extend(self.untracked().await?.users.into_iter().map(|u| u.user.name));
        }
        let mut seen = std::collections::BTreeSet::new();
        wanted.retain(|n| seen.insert(n.clone()));
        for n in names {
            if matches!(self.aws.iam().get_user().user_name(n).send().await, Err(ref e) if e.code() == Some("NoSuchEntity")) {
                return Err(AdminError::UnknownUser(n.clone()));
            }
        }
        let (key, value) = managed_tag(q);
        let mut out = Vec::new();
        for n in wanted {
            let (outcome, facts) = track_user(&self.aws, q, &n).await?;
            if outcome == TrackOutcome::Tagged {
                let details = json!({"arn": facts.arn, "tag": format!("{key}={value}")});
                self.audit("track", &n, "brought under quota management (`quota track`)", None, details, "ok").await?;
            }
            out.push((n, outcome));
        }
        Ok(out)
    }
}

/// Recorded IAM answers (moto 5.2.5 answers HTTP 500 for service-specific credentials): the
/// listing through the real SDK deserializers, in the order the calls are made.
#[cfg(test)]
mod recorded {
    use super::*;
    use crate::aws::sdk_replay::{aws as replay, event, run, sent};
    use crate::quotas::admin::untracked::Flag;

    const XML: &str = "text/xml";

    fn quotas() -> Quotas {
        Quotas::default()
    }

    #[test]
    fn console_users_and_key_holders_without_the_tag_are_untracked() {
        let (aws, client) = replay(
            "us-east-1",
            vec![
                event(200, XML, "iam-list-users.xml"),
                event(200, XML, "iam-list-service-specific-credentials-console-user.xml"),
                event(200, XML, "iam-list-service-specific-credentials.xml"),
                event(200, XML, "iam-list-service-specific-credentials-carol.xml"),
                event(200, XML, "iam-list-service-specific-credentials-none.xml"),
                event(200, XML, "iam-list-user-tags-none.xml"),
                event(200, XML, "iam-list-user-tags-managed.xml"),
                event(200, XML, "iam-list-user-tags-team.xml"),
            ],
        );
        let v = run(find_untracked(&aws, &quotas())).unwrap();
        assert_eq!(v.examined, 4);
        assert_eq!(v.keys_unavailable, None);
        let got: Vec<(&str, &[Flag], usize)> = v.users.iter().map(|u| (u.user.name.as_str(), u.flags.as_slice(), u.user.keys.len())).collect();
        // The tagged tool user holds keys but is managed; dave has no key and no console name.
        assert_eq!(got, vec![("BedrockAPIKey-ab12", &[Flag::ConsoleApiKeyUser, Flag::HoldsBedrockApiKeys][..], 1), ("carol", &[Flag::HoldsBedrockApiKeys][..], 1)]);
        let key = &v.users[0].user.keys[0];
        assert_eq!((key.id.as_str(), key.status.as_str(), key.created.as_str(), key.expires.as_deref()), ("ACCAQEXAMPLE0000000011", "Active", "2026-11-03T08:00:05Z", Some("2027-02-01T08:00:05Z")));
        assert_eq!(v.users[0].user.created, "2026-11-03T08:00:00Z");
        assert_eq!(v.users[1].user.tags, vec![("Team".to_owned(), "analytics".to_owned())]);
        assert!(sent(&client, 0).contains("Action=ListUsers"));
        for (n, user) in [(1, "BedrockAPIKey-ab12"), (2, "bedrock-tool-support-bot"), (3, "carol"), (4, "dave")] {
            let body = sent(&client, n);
            assert!(body.contains("Action=ListServiceSpecificCredentials") && body.contains(&format!("UserName={user}")) && body.contains("ServiceName=bedrock.amazonaws.com"), "{body}");
        }
        // Tags are read only for the three users with a sign of Bedrock use.
        assert_eq!(client.actual_requests().count(), 8);
        assert!(sent(&client, 7).contains("Action=ListUserTags") && sent(&client, 7).contains("UserName=carol"));
    }

    #[test]
    fn an_unparsable_answer_is_cut_to_its_message() {
        let text = "ListServiceSpecificCredentials failed in eu-central-1: UnknownError: service error: unhandled error: error parsing XML: no root element (ServiceError(ServiceError { raw: Response { status: 500 } }))";
        assert_eq!(brief(text), "ListServiceSpecificCredentials failed in eu-central-1: UnknownError: service error: unhandled error: error parsing XML: no root element");
        assert_eq!(brief(&"x".repeat(500)).len(), 300);
    }

    #[test]
    fn without_access_to_the_keys_console_users_are_still_found_and_the_gap_is_said() {
        let (aws, client) = replay(
            "us-east-1",
            vec![
                event(200, XML, "iam-list-users.xml"),
                event(403, XML, "iam-error-access-denied-service-specific-credentials.xml"),
                event(200, XML, "iam-list-user-tags-none.xml"),
            ],
        );
        let v = run(find_untracked(&aws, &quotas())).unwrap();
        let why = v.keys_unavailable.as_deref().unwrap();
        assert!(why.contains("access denied on ListServiceSpecificCredentials"), "{why}");
        assert_eq!(v.users.iter().map(|u| u.user.name.as_str()).collect::<Vec<_>>(), vec!["BedrockAPIKey-ab12"]);
        assert_eq!(v.users[0].flags, vec![Flag::ConsoleApiKeyUser]);
        assert_eq!(client.actual_requests().count(), 3, "one refused key listing stops the others");
        let text = crate::quotas::admin::untracked::render(&quotas(), &v);
        assert!(text.contains("warning: the Bedrock API keys could not be listed"), "{text}");
    }
}
