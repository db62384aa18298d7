//! The block mechanism as data: which principal kind is blocked how, the deny statement, the
//! Sid scheme and merging a statement into a policy that holds others. Pure functions, mirrored
//! one to one by quota_core.py (`sid_for`, `deny_statement`, `block_target`,
//! `merge_statement`); `tests/data/quota-policies.json` pins both to the same output.

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::{BLOCKED_ACTIONS, SID_PREFIX};
use crate::bedrock::identity::SSO_ROLE_PREFIX;
use crate::config::IdentityCenter;

/// A caller as the block mechanism needs it: what to edit to deny it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    IamUser { name: String },
    /// The whole role (`sessions_are_people` false).
    Role { role: String },
    RoleSession { role: String, session: String },
    SsoUser { permission_set: String, user: String },
}

impl Caller {
    /// The principal name the identity rule gives this caller.
    pub fn principal(&self) -> String {
        match self {
            Caller::IamUser { name } => name.clone(),
            Caller::Role { role } => role.clone(),
            Caller::RoleSession { role, session } => format!("{role}/{session}"),
            Caller::SsoUser { user, .. } => user.clone(),
        }
    }

    /// Parses a caller ARN as quota_core `block_target` does; None for other ARNs.
    pub fn from_arn(arn: &str, sessions_are_people: bool) -> Option<Caller> {
        let resource = arn.splitn(6, ':').nth(5)?;
        let parts: Vec<&str> = resource.split('/').collect();
        match parts.as_slice() {
            ["assumed-role", role, session, ..] if role.starts_with(SSO_ROLE_PREFIX) => {
                let rest = &role[SSO_ROLE_PREFIX.len()..];
                let permission_set = rest.rsplit_once('_').map_or(rest, |(ps, _)| ps);
                Some(Caller::SsoUser { permission_set: permission_set.to_owned(), user: (*session).to_owned() })
            }
            ["assumed-role", role, session, ..] if sessions_are_people => Some(Caller::RoleSession { role: (*role).to_owned(), session: (*session).to_owned() }),
            ["assumed-role", role, ..] => Some(Caller::Role { role: (*role).to_owned() }),
            ["user", .., name] => Some(Caller::IamUser { name: (*name).to_owned() }),
            _ => None,
        }
    }
}

/// How a block is applied; stored as the block item's `mechanism` and `target`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    UserPolicy { user_name: String },
    /// `session` empty: the statement has no condition (the whole role).
    RoleStatement { role_name: String, sid: String, session: String },
    PermissionSet { instance_arn: String, region: String, permission_sets: Vec<(String, String)>, sid: String, user: String },
}

impl Target {
    pub fn mechanism(&self) -> &'static str {
        match self {
            Target::UserPolicy { .. } => "user-policy",
            Target::RoleStatement { .. } => "role-statement",
            Target::PermissionSet { .. } => "permission-set",
        }
    }

    /// The `target` attribute as quota_core writes it.
    pub fn to_json(&self) -> Value {
        match self {
            Target::UserPolicy { user_name } => json!({"user_name": user_name}),
            Target::RoleStatement { role_name, sid, session } => json!({"role_name": role_name, "sid": sid, "session": session}),
            Target::PermissionSet { instance_arn, region, permission_sets, sid, user } => {
                let sets: Map<String, Value> = permission_sets.iter().map(|(k, v)| (k.clone(), Value::from(v.as_str()))).collect();
                json!({"instance_arn": instance_arn, "region": region, "permission_sets": sets, "sid": sid, "user": user})
            }
        }
    }

    /// Reads a stored `mechanism` and `target`, whichever side wrote them.
    pub fn from_json(mechanism: &str, target: &Value) -> Result<Target, String> {
        let field = |name: &str| -> Result<String, String> {
            match target.get(name) {
                Some(Value::String(s)) => Ok(s.clone()),
                None | Some(Value::Null) => Err(format!("target has no `{name}`")),
                Some(other) => Err(format!("target `{name}` is not a string: {other}")),
            }
        };
        let optional = |name: &str| target.get(name).and_then(Value::as_str).unwrap_or("").to_owned();
        match mechanism {
            "user-policy" => Ok(Target::UserPolicy { user_name: field("user_name")? }),
            "role-statement" => Ok(Target::RoleStatement { role_name: field("role_name")?, sid: field("sid")?, session: optional("session") }),
            "permission-set" => {
                let sets = target.get("permission_sets").and_then(Value::as_object).ok_or("target has no `permission_sets` map")?;
                let mut permission_sets = Vec::new();
                for (k, v) in sets {
                    let arn = v.as_str().ok_or_else(|| format!("permission set {k} has no ARN string"))?;
                    permission_sets.push((k.clone(), arn.to_owned()));
                }
                permission_sets.sort();
                Ok(Target::PermissionSet { instance_arn: field("instance_arn")?, region: optional("region"), permission_sets, sid: field("sid")?, user: field("user")? })
            }
            other => Err(format!("unknown mechanism `{other}`")),
        }
    }
}

/// An IAM Sid (letters and digits only), readable and unique per value (quota_core `sid_for`).
pub fn sid_for(kind: &str, value: &str) -> String {
    let clean: String = value.chars().filter(char::is_ascii_alphanumeric).take(40).collect();
    let digest = Sha256::digest(value.as_bytes());
    let hex: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
    format!("{SID_PREFIX}{kind}{clean}{hex}")
}

/// The deny statement of a block, conditioned on `aws:userid` when given.
pub fn deny_statement(sid: &str, userid: Option<&str>) -> Value {
    let mut stmt = json!({"Sid": sid, "Effect": "Deny", "Action": BLOCKED_ACTIONS, "Resource": "*"});
    if let Some(u) = userid.filter(|u| !u.is_empty()) {
        stmt["Condition"] = json!({"StringLike": {"aws:userid": u}});
    }
    stmt
}

/// How `caller` is blocked (quota_core `block_target`); Err says why it cannot be.
pub fn block_target(caller: &Caller, identity_center: Option<&IdentityCenter>) -> Result<Target, String> {
    Ok(match caller {
        Caller::IamUser { name } => Target::UserPolicy { user_name: name.clone() },
        Caller::Role { role } => Target::RoleStatement { role_name: role.clone(), sid: sid_for("Role", role), session: String::new() },
        Caller::RoleSession { role, session } => Target::RoleStatement { role_name: role.clone(), sid: sid_for("Session", session), session: session.clone() },
        Caller::SsoUser { permission_set, user } => {
            let Some(ic) = identity_center else {
                return Err(format!(
                    "{user} is an IAM Identity Center user (permission set {permission_set}); the reserved AWSReservedSSO roles cannot be edited and identity_center is not configured, so the block must be applied by hand (e.g. remove the account assignment)"
                ));
            };
            if !ic.permission_set_arns.contains_key(permission_set) {
                return Err(format!("{user} uses permission set {permission_set}, which is not in identity_center.permission_set_arns"));
            }
            Target::PermissionSet {
                instance_arn: ic.instance_arn.clone(),
                region: String::new(),
                permission_sets: ic.permission_set_arns.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                sid: sid_for("User", user),
                user: user.clone(),
            }
        }
    })
}

/// A policy document as IAM returns it: JSON, or URL-encoded JSON (GetRolePolicy).
pub fn parse_document(text: &str) -> Result<Value, String> {
    let text = text.trim();
    let decoded = if text.starts_with('{') { text.to_owned() } else { percent_decode(text)? };
    serde_json::from_str(&decoded).map_err(|e| format!("not JSON: {e}"))
}

fn percent_decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).map_err(|_| "bad percent escape")?;
                out.push(u8::from_str_radix(hex, 16).map_err(|_| format!("bad percent escape %{hex}"))?);
                i += 3;
            }
            b'%' => return Err("truncated percent escape".into()),
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| "not UTF-8 after URL decoding".into())
}

/// The policy with the statement `sid` removed and, if given, `statement` added; None when no
/// statement is left. Other statements are kept as they are (quota_core `merge_statement`).
pub fn merge_statement(document: Option<&Value>, sid: &str, statement: Option<Value>) -> Result<Option<Value>, String> {
    let (version, mut statements) = match document {
        None | Some(Value::Null) => ("2012-10-17".to_owned(), Vec::new()),
        Some(Value::Object(doc)) => {
            let version = doc.get("Version").and_then(Value::as_str).filter(|v| !v.is_empty()).unwrap_or("2012-10-17").to_owned();
            let statements = match doc.get("Statement") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(a)) => a.clone(),
                Some(obj @ Value::Object(_)) => vec![obj.clone()],
                Some(other) => return Err(format!("Statement is neither a list nor an object: {other}")),
            };
            (version, statements)
        }
        Some(other) => return Err(format!("policy is not a JSON object: {other}")),
    };
    statements.retain(|s| s.get("Sid").and_then(Value::as_str) != Some(sid));
    if let Some(s) = statement {
        statements.push(s);
    }
    Ok((!statements.is_empty()).then(|| json!({"Version": version, "Statement": statements})))
}

/// The document of the stack's block policy ([`super::BLOCK_POLICY_ID`]), attached to a blocked
/// IAM user or whole role.
pub fn user_policy() -> Value {
    json!({"Version": "2012-10-17", "Statement": [deny_statement(super::USER_BLOCK_SID, None)]})
}

/// The `aws:userid` patterns of the session block policy: one per slot tag, read through a
/// policy variable with a default that matches no caller when the tag is unset.
pub fn session_userid_patterns() -> Vec<String> {
    super::session_tag_keys().iter().map(|k| format!("*:${{aws:PrincipalTag/{k}, '{}'}}", super::NO_SESSION)).collect()
}

/// The document of the session block policy ([`super::SESSION_BLOCK_POLICY_ID`]).
pub fn session_block_policy() -> Value {
    let mut stmt = deny_statement(super::SESSION_BLOCK_SID, None);
    stmt["Condition"] = json!({"StringLike": {"aws:userid": session_userid_patterns()}});
    json!({"Version": "2012-10-17", "Statement": [stmt]})
}

/// Characters IAM allows in a tag value (quota_core `TAG_VALUE`); a role session name may also
/// hold a comma, which then cannot be written into a slot tag.
pub fn fits_tag_value(session: &str) -> bool {
    (1..=256).contains(&session.len()) && session.chars().all(|c| c.is_ascii_alphanumeric() || "_.:/=+@ -".contains(c))
}

/// (slot keys holding `session`, free slot keys) among a role's tags (quota_core `session_slots`).
pub fn session_slots(tags: &[(String, String)], session: &str) -> (Vec<String>, Vec<String>) {
    let keys = super::session_tag_keys();
    let held = keys.iter().filter(|k| tags.iter().any(|(tk, tv)| tk == *k && tv == session)).cloned().collect();
    let free = keys.iter().filter(|k| !tags.iter().any(|(tk, _)| tk == *k)).cloned().collect();
    (held, free)
}
