//! The `access` section: who may call Bedrock (runbook section 3), as CloudFormation.
//!
//! People get IAM Identity Center permission sets assigned to groups, never to individual users
//! (runbook 3.2: a user assignment is a config error that says why). Tools that cannot log in
//! through Identity Center get one IAM user each, so every tool is its own principal in
//! `identity.arn`, in reports and in quotas, instead of one shared static key (runbook 3.3).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::load::Problem;

/// Who may use Bedrock. Off by default: an account may manage Identity Center elsewhere.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Access {
    pub enabled: bool,
    /// `arn:aws:sso:::instance/ssoins-...` of the organization's IAM Identity Center; needed for
    /// permission sets and assignments (leave unset for tools only).
    pub identity_center_instance_arn: Option<String>,
    /// The developer permission set: the four Bedrock invoke actions on the configured models.
    pub developer: PermissionSetSettings,
    /// The optional admin permission set: what the developer may, plus reading the monitoring
    /// (dashboards, Logs Insights on the stack's group, `report` and `quota status`).
    pub admin: AdminPermissionSet,
    /// Identity Center groups by name: name → group id from the identity store.
    pub groups: BTreeMap<String, String>,
    /// Which group gets which permission set on which accounts.
    pub assignments: Vec<Assignment>,
    /// Per-tool IAM users (one principal per tool), each allowed only the Bedrock invoke actions
    /// and Bedrock API keys.
    pub tools: BTreeMap<String, Tool>,
    /// Bedrock API keys expire after this many days (`access key create` default and limit;
    /// `verify` flags older keys).
    pub key_max_age_days: u32,
}

impl Default for Access {
    fn default() -> Self {
        Access {
            enabled: false,
            identity_center_instance_arn: None,
            developer: PermissionSetSettings::default(),
            admin: AdminPermissionSet::default(),
            groups: BTreeMap::new(),
            assignments: Vec::new(),
            tools: BTreeMap::new(),
            key_max_age_days: DEFAULT_KEY_MAX_AGE_DAYS,
        }
    }
}

/// The default age limit of Bedrock API keys.
pub const DEFAULT_KEY_MAX_AGE_DAYS: u32 = 90;
/// The longest expiry `CreateServiceSpecificCredential` accepts (`CredentialAgeDays`, IAM API reference).
pub const MAX_KEY_AGE_DAYS: u32 = 36_600;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct PermissionSetSettings {
    /// Name as in `AWSReservedSSO_<name>_...` (1-32 letters, digits and `+=,.@-_`).
    pub name: String,
    /// Hours a session lasts (1-12), written as ISO-8601 `PT<n>H`.
    pub session_duration_hours: u32,
    /// Tags on the permission set (Team, CostCenter, ...), for cost allocation and quotas.
    pub tags: BTreeMap<String, String>,
}

impl Default for PermissionSetSettings {
    fn default() -> Self {
        PermissionSetSettings { name: DEVELOPER.into(), session_duration_hours: 8, tags: BTreeMap::new() }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct AdminPermissionSet {
    pub enabled: bool,
    pub name: String,
    pub session_duration_hours: u32,
    pub tags: BTreeMap<String, String>,
}

impl Default for AdminPermissionSet {
    fn default() -> Self {
        AdminPermissionSet { enabled: false, name: ADMIN.into(), session_duration_hours: 4, tags: BTreeMap::new() }
    }
}

pub const DEVELOPER: &str = "BedrockDeveloper";
pub const ADMIN: &str = "BedrockAdmin";

/// One group → permission set assignment. `user` exists only to be refused with the reason.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Assignment {
    /// A name from `access.groups`.
    pub group: Option<String>,
    /// Not allowed: assign groups, never individual users (runbook 3.2).
    pub user: Option<String>,
    /// The permission set's name (`access.developer.name` or `access.admin.name`).
    pub permission_set: String,
    /// 12-digit account ids; default: the account the stack is deployed in.
    pub accounts: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Tool {
    /// What the tool is, for the IAM user's tags and the reviewer.
    pub description: Option<String>,
    /// Tags on the tool's user (Team, ...) besides the quota tag.
    pub tags: BTreeMap<String, String>,
}

impl Access {
    /// The permission sets the config defines, developer first.
    pub fn permission_set_names(&self) -> Vec<&str> {
        let mut names = vec![self.developer.name.as_str()];
        if self.admin.enabled {
            names.push(self.admin.name.as_str());
        }
        names
    }

    /// The IAM user name of a tool: a fixed prefix (no clash with people's users) and the tool
    /// name, so `identity.arn` names the tool.
    pub fn tool_user_name(tool: &str) -> String {
        format!("bedrock-tool-{tool}")
    }
}

fn problem(key: impl Into<String>, value: impl std::fmt::Display, allowed: impl Into<String>) -> Problem {
    Problem { key: key.into(), value: value.to_string(), allowed: allowed.into() }
}

fn is_permission_set_name(s: &str) -> bool {
    (1..=32).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@-_".contains(c))
}

/// Tool names become IAM user names and logical ids: lowercase letters, digits and single
/// hyphens keep both unique and readable.
pub fn is_tool_name(s: &str) -> bool {
    (1..=50).contains(&s.len())
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && !s.ends_with('-')
        && !s.contains("--")
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// Identity store group ids: a UUID, optionally prefixed by a 10-character store prefix
/// (`9067c1a2b3-...`); letters, digits and hyphens.
fn is_group_id(s: &str) -> bool {
    (1..=47).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

fn tag_problems(p: &mut Vec<Problem>, key: &str, tags: &BTreeMap<String, String>) {
    for (k, v) in tags {
        if k.is_empty() || k.len() > 128 || k.to_ascii_lowercase().starts_with("aws:") || v.len() > 256 {
            p.push(problem(format!("{key}.{k}"), format!("{v:?}"), "tag keys are 1-128 characters not starting with aws:, values at most 256"));
        }
    }
    if tags.len() > 45 {
        p.push(problem(key, format!("{} tags", tags.len()), "at most 45 (50 per resource, some are set by bedrock-watch)"));
    }
}

/// Every invalid value of the `access` section.
pub fn validate(a: &Access) -> Vec<Problem> {
    let mut p = Vec::new();
    if !a.enabled {
        return p;
    }
    let needs_instance = !a.assignments.is_empty();
    match &a.identity_center_instance_arn {
        Some(arn) if !(arn.starts_with("arn:") && arn.contains(":sso:::instance/ssoins-")) => {
            p.push(problem("access.identity_center_instance_arn", format!("{arn:?}"), "allowed: arn:aws:sso:::instance/ssoins-<id> (IAM Identity Center → Settings)"));
        }
        None if needs_instance => {
            p.push(problem("access.identity_center_instance_arn", "unset", "set it to your IAM Identity Center instance ARN (arn:aws:sso:::instance/ssoins-...) when access.assignments are listed"));
        }
        _ => {}
    }
    let sets: [(&str, &str, u32, &BTreeMap<String, String>, bool); 2] = [
        ("access.developer", &a.developer.name, a.developer.session_duration_hours, &a.developer.tags, true),
        ("access.admin", &a.admin.name, a.admin.session_duration_hours, &a.admin.tags, a.admin.enabled),
    ];
    for (key, name, hours, tags, on) in sets {
        if !on {
            continue;
        }
        if !is_permission_set_name(name) {
            p.push(problem(format!("{key}.name"), format!("{name:?}"), "allowed: 1-32 letters, digits and + = , . @ - _"));
        }
        if !(1..=12).contains(&hours) {
            p.push(problem(format!("{key}.session_duration_hours"), hours, "allowed: 1 to 12 hours (IAM Identity Center session limit)"));
        }
        tag_problems(&mut p, &format!("{key}.tags"), tags);
    }
    if a.admin.enabled && a.admin.name == a.developer.name {
        p.push(problem("access.admin.name", format!("{:?}", a.admin.name), "must differ from access.developer.name"));
    }
    for (name, id) in &a.groups {
        if !is_group_id(id) {
            p.push(problem(format!("access.groups.{name}"), format!("{id:?}"), "allowed: an Identity Center group id (IAM Identity Center → Groups → the group's ID), letters, digits and hyphens"));
        }
    }
    let names = a.permission_set_names();
    for (i, asg) in a.assignments.iter().enumerate() {
        let key = format!("access.assignments[{i}]");
        if let Some(user) = &asg.user {
            p.push(problem(
                format!("{key}.user"),
                format!("{user:?}"),
                "assign permission sets to groups only (runbook 3.2: individual user assignments bypass group reviews and leave access behind when people move); put the user in a group and name it under access.groups",
            ));
            continue;
        }
        match &asg.group {
            None => p.push(problem(format!("{key}.group"), "unset", "name a group of access.groups")),
            Some(g) if !a.groups.contains_key(g) => {
                let known = a.groups.keys().cloned().collect::<Vec<_>>().join(", ");
                p.push(problem(format!("{key}.group"), format!("{g:?}, an unknown group"), format!("allowed: a name under access.groups ({})", if known.is_empty() { "none defined".into() } else { known })));
            }
            _ => {}
        }
        if !names.contains(&asg.permission_set.as_str()) {
            p.push(problem(format!("{key}.permission_set"), format!("{:?}", asg.permission_set), format!("allowed: {}", names.join(", "))));
        }
        for (j, acct) in asg.accounts.iter().enumerate() {
            if acct.len() != 12 || !acct.chars().all(|c| c.is_ascii_digit()) {
                p.push(problem(format!("{key}.accounts[{j}]"), format!("{acct:?}"), "allowed: a 12-digit AWS account id (quote it in YAML)"));
            }
        }
    }
    for (name, tool) in &a.tools {
        if !is_tool_name(name) {
            p.push(problem(format!("access.tools.{name}"), format!("{name:?}, an invalid tool name"), "allowed: 1-50 lowercase letters, digits and single hyphens, starting with a letter (it becomes the IAM user bedrock-tool-<name>)"));
        }
        tag_problems(&mut p, &format!("access.tools.{name}.tags"), &tool.tags);
        if tool.description.as_ref().is_some_and(|d| d.len() > 256) {
            p.push(problem(format!("access.tools.{name}.description"), "longer than 256 characters", "at most 256 characters (a tag value)"));
        }
    }
    if !(1..=MAX_KEY_AGE_DAYS).contains(&a.key_max_age_days) {
        p.push(problem("access.key_max_age_days", a.key_max_age_days, format!("allowed: 1 to {MAX_KEY_AGE_DAYS} days (a Bedrock API key must expire; 0 would make every key expired)")));
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enabled() -> Access {
        let mut a = Access { enabled: true, identity_center_instance_arn: Some("arn:aws:sso:::instance/ssoins-1234567890abcdef".into()), ..Access::default() };
        a.groups.insert("dev-bedrock-pilot".into(), "9067c1a2b3-11112222-3333-4444-5555-666677778888".into());
        a.assignments.push(Assignment { group: Some("dev-bedrock-pilot".into()), permission_set: DEVELOPER.into(), ..Assignment::default() });
        a
    }

    fn keys(a: &Access) -> Vec<String> {
        validate(a).into_iter().map(|p| p.key).collect()
    }

    #[test]
    fn a_group_assignment_is_valid_and_disabled_is_never_checked() {
        assert!(validate(&enabled()).is_empty(), "{:?}", validate(&enabled()));
        let off = Access { key_max_age_days: 0, ..Access::default() };
        assert!(validate(&off).is_empty());
    }

    #[test]
    fn user_assignments_are_refused_with_the_reason() {
        let mut a = enabled();
        a.assignments.push(Assignment { user: Some("jane@example.com".into()), permission_set: DEVELOPER.into(), ..Assignment::default() });
        let p = validate(&a);
        assert_eq!(p[0].key, "access.assignments[1].user");
        assert!(p[0].allowed.contains("groups only") && p[0].allowed.contains("3.2"), "{}", p[0].allowed);
    }

    #[test]
    fn unknown_groups_and_permission_sets_name_what_exists() {
        let mut a = enabled();
        a.assignments[0].group = Some("nobody".into());
        a.assignments[0].permission_set = ADMIN.into();
        let p = validate(&a);
        assert_eq!(p[0].key, "access.assignments[0].group");
        assert!(p[0].allowed.contains("dev-bedrock-pilot"), "{}", p[0].allowed);
        assert_eq!(p[1].key, "access.assignments[0].permission_set");
        assert!(p[1].allowed.contains("BedrockDeveloper"), "admin is disabled: {}", p[1].allowed);
    }

    #[test]
    fn tool_names_key_age_and_durations() {
        let mut a = enabled();
        a.tools.insert("Support Bot".into(), Tool::default());
        a.tools.insert("support-bot".into(), Tool::default());
        a.key_max_age_days = 0;
        a.developer.session_duration_hours = 13;
        assert_eq!(keys(&a), ["access.developer.session_duration_hours", "access.tools.Support Bot", "access.key_max_age_days"]);
        for ok in ["a", "support-bot", "ci2"] {
            assert!(is_tool_name(ok), "{ok}");
        }
        for bad in ["", "-a", "a-", "a--b", "A", "a_b", "1a", &"a".repeat(51)] {
            assert!(!is_tool_name(bad), "{bad}");
        }
    }

    #[test]
    fn instance_arn_is_needed_for_assignments() {
        let mut a = enabled();
        a.identity_center_instance_arn = None;
        assert_eq!(keys(&a), ["access.identity_center_instance_arn"]);
        a.assignments.clear();
        assert!(validate(&a).is_empty());
    }
}
