//! IAM users that can call Bedrock but that quotas do not reach (`quota status --untracked`),
//! and what "under management" means (`quota track`).
//!
//! A long-term Bedrock API key belongs to an IAM user: the Bedrock console makes one named
//! `BedrockAPIKey-<id>` at path `/` with no tags; IAM's `CreateServiceSpecificCredential` for
//! `bedrock.amazonaws.com` gives any user such a key. The quota functions may attach their deny
//! policy only to users under `quotas.managed_path` that carry `quotas.managed_tag` (their IAM
//! grant is scoped to exactly that), so such a user is counted when it calls Bedrock but can
//! never be blocked. This module classifies users from plain facts; `tracking.rs` reads the facts
//! from IAM and tags users.
//!
//! **Under management** means both conditions the functions' grant checks: the path and the tag.
//! `quota track` adds the tag only. It never moves a user to another path: `UpdateUser` with a
//! new path changes the user's ARN, which breaks every policy, trust policy or key policy that
//! names the old ARN, and the grant for it (`iam:UpdateUser`) would also allow renaming users.
//! A user outside the managed path is reported as needing an operator decision instead.

use serde_json::{json, Value};

use crate::config::Quotas;
use crate::verify::facts::ApiKey;

/// Name prefix of the IAM users the Bedrock console creates for long-term API keys.
pub const CONSOLE_KEY_USER_PREFIX: &str = "BedrockAPIKey-";
/// The path the console puts those users at.
pub const CONSOLE_KEY_USER_PATH: &str = "/";
/// `quota status --untracked --format json` layout; bumped on a breaking change.
pub const UNTRACKED_SCHEMA: &str = "bedrock-watch/quota-untracked/v1";

/// The quota tag as (key, value), from `quotas.managed_tag` (`key=value`).
pub fn managed_tag(q: &Quotas) -> (&str, &str) {
    q.managed_tag.split_once('=').unwrap_or(("bedrock-watch-quota", "managed"))
}

/// Whether a principal is within what the quota functions may edit, per condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scope {
    /// The path is under `quotas.managed_path`.
    pub path: bool,
    /// The principal carries `quotas.managed_tag`.
    pub tag: bool,
}

impl Scope {
    pub fn managed(self) -> bool {
        self.path && self.tag
    }
}

/// The scope of a user or role with this path and these tags.
pub fn scope(q: &Quotas, path: &str, tags: &[(String, String)]) -> Scope {
    let (key, value) = managed_tag(q);
    Scope { path: path.starts_with(&q.managed_path), tag: tags.iter().any(|(k, v)| k == key && v == value) }
}

/// What IAM says about one user (no secrets: IAM never returns a key's secret again).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UserFacts {
    pub name: String,
    pub arn: String,
    pub path: String,
    /// RFC 3339.
    pub created: String,
    pub tags: Vec<(String, String)>,
    /// Its Bedrock API keys (service-specific credentials for bedrock.amazonaws.com).
    pub keys: Vec<ApiKey>,
}

/// Why a user was flagged as able to call Bedrock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Flag {
    /// Named `BedrockAPIKey-...` at path `/`: made by the Bedrock console for a long-term key.
    ConsoleApiKeyUser,
    /// Holds at least one Bedrock API key.
    HoldsBedrockApiKeys,
}

impl Flag {
    pub fn code(self) -> &'static str {
        match self {
            Flag::ConsoleApiKeyUser => "console-api-key-user",
            Flag::HoldsBedrockApiKeys => "bedrock-api-keys",
        }
    }

    pub fn text(self) -> &'static str {
        match self {
            Flag::ConsoleApiKeyUser => "made by the Bedrock console for a long-term API key (BedrockAPIKey-*, path /)",
            Flag::HoldsBedrockApiKeys => "holds Bedrock API keys (service-specific credentials for bedrock.amazonaws.com)",
        }
    }
}

/// A user that can call Bedrock outside quota management.
#[derive(Debug, Clone, PartialEq)]
pub struct Untracked {
    pub user: UserFacts,
    pub flags: Vec<Flag>,
    pub scope: Scope,
}

impl Untracked {
    /// What `quota track` would need to do, in words.
    pub fn remedy(&self, q: &Quotas) -> String {
        let (key, value) = managed_tag(q);
        match (self.scope.path, self.scope.tag) {
            (true, false) => format!("`bedrock-watch quota track {}` tags it {key}={value}", self.user.name),
            (false, _) => format!("its path {} is outside quotas.managed_path {}: set quotas.managed_path to a prefix of it, or recreate the user under that path", self.user.path, q.managed_path),
            (true, true) => "already managed".into(),
        }
    }
}

/// The outcome of `quota status --untracked`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UntrackedView {
    pub users: Vec<Untracked>,
    /// Users looked at (all IAM users of the account).
    pub examined: usize,
    /// Set when the Bedrock API keys could not be listed: then only console-made users were
    /// found by their name, and a user holding keys under another name may be missing.
    pub keys_unavailable: Option<String>,
}

/// Which of `user`'s facts flag it; empty when it shows no sign of calling Bedrock.
pub fn flags(user: &UserFacts) -> Vec<Flag> {
    let mut out = Vec::new();
    if user.name.starts_with(CONSOLE_KEY_USER_PREFIX) && user.path == CONSOLE_KEY_USER_PATH {
        out.push(Flag::ConsoleApiKeyUser);
    }
    if !user.keys.is_empty() {
        out.push(Flag::HoldsBedrockApiKeys);
    }
    out
}

/// Whether `user` needs its tags read to be classified (the flags need no tags).
pub fn is_candidate(user: &UserFacts) -> bool {
    !flags(user).is_empty()
}

/// The flagged users outside management, sorted by name.
pub fn classify(q: &Quotas, users: &[UserFacts]) -> Vec<Untracked> {
    let mut out: Vec<Untracked> = users
        .iter()
        .filter_map(|u| {
            let flags = flags(u);
            let scope = scope(q, &u.path, &u.tags);
            (!flags.is_empty() && !scope.managed()).then(|| Untracked { user: u.clone(), flags, scope })
        })
        .collect();
    out.sort_by(|a, b| a.user.name.cmp(&b.user.name));
    out
}

fn key_text(k: &ApiKey) -> String {
    let expires = k.expires.as_deref().map_or("never expires".to_owned(), |e| format!("expires {e}"));
    format!("{} {} (created {}, {expires})", k.id, k.status, k.created)
}

/// The table `quota status --untracked` prints.
pub fn render(q: &Quotas, v: &UntrackedView) -> String {
    let (key, value) = managed_tag(q);
    let mut out = format!(
        "IAM users that can call Bedrock outside quota management ({} examined; managed = path under {} and tag {key}={value}):\n",
        v.examined, q.managed_path
    );
    if v.users.is_empty() {
        out.push_str("none\n");
    } else {
        let rows: Vec<Vec<String>> = v
            .users
            .iter()
            .map(|u| {
                let keys = if u.user.keys.is_empty() { "-".to_owned() } else { u.user.keys.iter().map(key_text).collect::<Vec<_>>().join("; ") };
                vec![u.user.name.clone(), u.user.arn.clone(), u.flags.iter().map(|f| f.code()).collect::<Vec<_>>().join(", "), keys]
            })
            .collect();
        out.push_str(&super::status::table(&["USER", "ARN", "FLAGGED AS", "BEDROCK API KEYS"], &rows));
        out.push_str("\nWhy flagged:\n");
        let mut seen = Vec::new();
        for f in v.users.iter().flat_map(|u| u.flags.iter()) {
            if !seen.contains(f) {
                seen.push(*f);
            }
        }
        seen.sort();
        for f in seen {
            out.push_str(&format!("  {}: {}\n", f.code(), f.text()));
        }
        out.push_str("\nTo bring them under management:\n");
        for u in &v.users {
            out.push_str(&format!("  {}: {}\n", u.user.name, u.remedy(q)));
        }
    }
    if let Some(why) = &v.keys_unavailable {
        out.push_str(&format!(
            "\nwarning: the Bedrock API keys could not be listed ({why}); only users made by the Bedrock console were found, by their name. Grant iam:ListServiceSpecificCredentials to see users holding keys under other names.\n"
        ));
    }
    out
}

/// `quota status --untracked --format json`.
pub fn to_json(q: &Quotas, v: &UntrackedView) -> Value {
    let (key, value) = managed_tag(q);
    let users: Vec<Value> = v
        .users
        .iter()
        .map(|u| {
            json!({
                "name": u.user.name, "arn": u.user.arn, "path": u.user.path, "created": u.user.created,
                "flags": u.flags.iter().map(|f| f.code()).collect::<Vec<_>>(),
                "reasons": u.flags.iter().map(|f| f.text()).collect::<Vec<_>>(),
                "in_managed_path": u.scope.path, "has_quota_tag": u.scope.tag,
                "remedy": u.remedy(q),
                "api_keys": u.user.keys.iter().map(|k| json!({"id": k.id, "status": k.status, "created": k.created, "expires": k.expires})).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "schema": UNTRACKED_SCHEMA,
        "managed_path": q.managed_path,
        "managed_tag": {"key": key, "value": value},
        "examined": v.examined,
        "api_keys_listed": v.keys_unavailable.is_none(),
        "warning": v.keys_unavailable,
        "users": users,
    })
}

/// The quota operator's statements for `quota status --untracked` and `quota track`: list the
/// users (no resource type), read every user's tags and API-key metadata, read users under the
/// managed path, and tag them with exactly the quota tag. No action writes policy text.
pub fn operator_statements(q: &Quotas) -> Vec<crate::iam::Statement> {
    use crate::cfn::{Pseudo, Sub, Value};
    use crate::iam::actions::{IAM_LIST_USERS, QUOTA_TRACK_READ, QUOTA_TRACK_TAG, QUOTA_UNTRACKED_READ};
    use crate::iam::{Condition, Statement};
    let users = |path: &str| Sub::new().text("arn:").pseudo(Pseudo::Partition).text(":iam::").pseudo(Pseudo::AccountId).text(&format!(":user{path}*")).build();
    let (key, value) = managed_tag(q);
    vec![
        Statement::on_any_resource(&crate::iam::policy::IAM_LIST_USERS_API, IAM_LIST_USERS).sid("ListUsersForUntracked"),
        Statement::allow(QUOTA_UNTRACKED_READ, vec![users("/")]).sid("ReadUserTagsAndApiKeys"),
        Statement::allow(QUOTA_TRACK_READ, vec![users(&q.managed_path)]).sid("ReadManagedPathUsers"),
        Statement::allow(QUOTA_TRACK_TAG, vec![users(&q.managed_path)])
            .sid("TagWithTheQuotaTagOnly")
            .condition(Condition { operator: "ForAllValues:StringEquals", key: "aws:TagKeys".into(), values: vec![Value::str(key)] })
            .condition(Condition::new("StringEquals", format!("aws:RequestTag/{key}"), value)),
    ]
}

/// What `quota track` did to one user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrackOutcome {
    Tagged,
    AlreadyTracked,
    /// Not under `quotas.managed_path`: tagging alone would not bring it under management.
    OutsidePath { path: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q() -> Quotas {
        Quotas { managed_path: "/".into(), managed_tag: "bedrock-watch-quota=managed".into(), ..Quotas::default() }
    }

    fn user(name: &str, path: &str, tags: &[(&str, &str)], keys: usize) -> UserFacts {
        UserFacts {
            name: name.into(),
            arn: format!("arn:aws:iam::123456789012:user{path}{name}"),
            path: path.into(),
            created: "2026-11-01T09:00:00Z".into(),
            tags: tags.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
            keys: (0..keys)
                .map(|i| ApiKey { user: name.into(), id: format!("ACCA{i}"), status: "Active".into(), created: "2026-11-02T10:00:00Z".into(), expires: None })
                .collect(),
        }
    }

    #[test]
    fn console_users_and_key_holders_are_flagged_unless_managed() {
        let users = vec![
            user("BedrockAPIKey-ab12", "/", &[], 1),
            user("BedrockAPIKey-cd34", "/", &[("bedrock-watch-quota", "managed")], 1),
            user("carol", "/", &[], 2),
            user("dave", "/", &[], 0),
            user("BedrockAPIKey-lookalike", "/team/", &[], 0),
            user("erin", "/", &[("bedrock-watch-quota", "other")], 1),
        ];
        let found = classify(&q(), &users);
        let got: Vec<(&str, Vec<Flag>)> = found.iter().map(|u| (u.user.name.as_str(), u.flags.clone())).collect();
        assert_eq!(
            got,
            vec![
                ("BedrockAPIKey-ab12", vec![Flag::ConsoleApiKeyUser, Flag::HoldsBedrockApiKeys]),
                ("carol", vec![Flag::HoldsBedrockApiKeys]),
                ("erin", vec![Flag::HoldsBedrockApiKeys]),
            ],
            "a managed console user, a user without keys and a look-alike at another path are not flagged"
        );
        assert!(found.iter().all(|u| u.scope == Scope { path: true, tag: false }));
    }

    #[test]
    fn a_user_outside_the_managed_path_needs_more_than_a_tag() {
        let mut quotas = q();
        quotas.managed_path = "/bedrock/".into();
        let found = classify(&quotas, &[user("BedrockAPIKey-ab12", "/", &[("bedrock-watch-quota", "managed")], 0), user("tool", "/bedrock/", &[], 1)]);
        assert_eq!(found.len(), 2, "tagged but outside the path is not managed");
        assert_eq!(found[0].scope, Scope { path: false, tag: true });
        assert!(found[0].remedy(&quotas).contains("outside quotas.managed_path /bedrock/"), "{}", found[0].remedy(&quotas));
        assert_eq!(found[1].remedy(&quotas), "`bedrock-watch quota track tool` tags it bedrock-watch-quota=managed");
    }

    #[test]
    fn table_and_json_show_keys_without_secrets_and_say_when_keys_were_not_listed() {
        let quotas = q();
        let v = UntrackedView { users: classify(&quotas, &[user("carol", "/", &[], 1)]), examined: 4, keys_unavailable: None };
        let text = render(&quotas, &v);
        assert!(text.contains("(4 examined; managed = path under / and tag bedrock-watch-quota=managed)"), "{text}");
        assert!(text.contains("carol  arn:aws:iam::123456789012:user/carol  bedrock-api-keys  ACCA0 Active (created 2026-11-02T10:00:00Z, never expires)"), "{text}");
        assert!(!text.contains("warning"), "{text}");
        let j = to_json(&quotas, &v);
        assert_eq!(j["schema"], UNTRACKED_SCHEMA);
        assert_eq!(j["users"][0]["api_keys"][0], json!({"id": "ACCA0", "status": "Active", "created": "2026-11-02T10:00:00Z", "expires": null}));
        assert_eq!(j["users"][0]["flags"], json!(["bedrock-api-keys"]));
        assert_eq!(j["api_keys_listed"], true);

        let partial = UntrackedView { users: vec![], examined: 2, keys_unavailable: Some("ListServiceSpecificCredentials failed".into()) };
        let text = render(&quotas, &partial);
        assert!(text.contains("none\n") && text.contains("warning: the Bedrock API keys could not be listed (ListServiceSpecificCredentials failed)"), "{text}");
        assert_eq!(to_json(&quotas, &partial)["api_keys_listed"], false);
    }

    #[test]
    fn the_operator_policy_tags_only_the_quota_tag_and_passes_the_checks() {
        use crate::cfn::Template;
        use crate::iam::{PolicyDocument, Role};
        let mut quotas = q();
        quotas.managed_path = "/bedrock/".into();
        let mut t = Template::new("t");
        Role::new("QuotaOperator")
            .assumed_by_service("lambda.amazonaws.com", vec![])
            .inline_policy("quota-tracking", PolicyDocument::new().statements(operator_statements(&quotas)))
            .build(&mut t)
            .unwrap();
        assert!(crate::checks::least_privilege::check(&t).is_empty(), "{:?}", crate::checks::least_privilege::check(&t));
        assert!(crate::checks::permissions_management::check(&t).is_empty(), "{:?}", crate::checks::permissions_management::check(&t));
        let json: Value = serde_json::from_str(&crate::cfn::render::render(&t, crate::cfn::render::Format::Json)).unwrap();
        let doc = &json["Resources"]["QuotaOperator"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"];
        let tag = doc.as_array().unwrap().iter().find(|s| s["Sid"] == "TagWithTheQuotaTagOnly").unwrap();
        assert_eq!(tag["Action"], json!("iam:TagUser"));
        assert_eq!(tag["Condition"]["ForAllValues:StringEquals"]["aws:TagKeys"], json!("bedrock-watch-quota"));
        assert_eq!(tag["Condition"]["StringEquals"]["aws:RequestTag/bedrock-watch-quota"], json!("managed"));
        assert_eq!(tag["Resource"], json!({"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:user/bedrock/*"}));
        let actions: Vec<String> = doc.as_array().unwrap().iter().flat_map(|s| match &s["Action"] {
            serde_json::Value::Array(a) => a.iter().map(|x| x.as_str().unwrap().to_owned()).collect(),
            x => vec![x.as_str().unwrap().to_owned()],
        }).collect();
        assert_eq!(actions, vec!["iam:ListUsers", "iam:ListUserTags", "iam:ListServiceSpecificCredentials", "iam:GetUser", "iam:TagUser"]);
    }

    #[test]
    fn scope_follows_the_configured_tag() {
        let mut quotas = q();
        quotas.managed_tag = "cost-center=ai".into();
        let tags = vec![("cost-center".to_owned(), "ai".to_owned())];
        assert!(scope(&quotas, "/", &tags).managed());
        assert!(!scope(&quotas, "/", &[("bedrock-watch-quota".to_owned(), "managed".to_owned())]).managed());
    }
}
