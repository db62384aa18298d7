//! The DynamoDB items of the quota tables, built and read exactly as quota_core.py writes them
//! (its module docstring lists every attribute). Items travel as `serde_json` values so that
//! they can be compared with the Python side in tests; [`to_attr`] and [`from_attr`] convert
//! the way boto3's DynamoDB resource does (str → S, number → N, dict → M, list → L).

#[cfg(feature = "aws")]
use std::collections::HashMap;

#[cfg(feature = "aws")]
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{json, Map, Value};

use super::policy::Target;
use super::{AUDIT_PREFIX, PRINCIPAL_PREFIX, SK_BLOCK, SK_PROTECTED};

#[cfg(feature = "aws")]
pub type Item = HashMap<String, AttributeValue>;

#[cfg(feature = "aws")]
pub fn to_attr(v: &Value) -> AttributeValue {
    match v {
        Value::Null => AttributeValue::Null(true),
        Value::Bool(b) => AttributeValue::Bool(*b),
        Value::Number(n) => AttributeValue::N(n.to_string()),
        Value::String(s) => AttributeValue::S(s.clone()),
        Value::Array(a) => AttributeValue::L(a.iter().map(to_attr).collect()),
        Value::Object(m) => AttributeValue::M(m.iter().map(|(k, v)| (k.clone(), to_attr(v))).collect()),
    }
}

/// Numbers stay strings (`N` is decimal text of up to 38 digits); binary and sets are not
/// written by either side and read as null.
#[cfg(feature = "aws")]
pub fn from_attr(a: &AttributeValue) -> Value {
    match a {
        AttributeValue::S(s) | AttributeValue::N(s) => Value::String(s.clone()),
        AttributeValue::Bool(b) => Value::Bool(*b),
        AttributeValue::L(l) => Value::Array(l.iter().map(from_attr).collect()),
        AttributeValue::M(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            Value::Object(keys.into_iter().map(|k| (k.clone(), from_attr(&m[k]))).collect())
        }
        AttributeValue::Ss(s) | AttributeValue::Ns(s) => Value::Array(s.iter().map(|x| Value::String(x.clone())).collect()),
        _ => Value::Null,
    }
}

#[cfg(feature = "aws")]
pub fn to_item(v: &Value) -> Item {
    v.as_object().map(|m| m.iter().map(|(k, v)| (k.clone(), to_attr(v))).collect()).unwrap_or_default()
}

#[cfg(feature = "aws")]
pub fn from_item(item: &Item) -> Value {
    from_attr(&AttributeValue::M(item.clone()))
}

pub fn principal_key(principal: &str, sk: &str) -> Value {
    json!({"pk": format!("{PRINCIPAL_PREFIX}{principal}"), "sk": sk})
}

/// The block in force (`PRINCIPAL#<name>` / `BLOCK`).
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    pub principal: String,
    pub arn: String,
    pub until: String,
    pub reason: String,
    pub blocked_by: String,
    pub blocked_at: String,
    pub target: Target,
}

impl Block {
    pub fn to_json(&self) -> Value {
        let mut v = principal_key(&self.principal, SK_BLOCK);
        let m = v.as_object_mut().expect("object");
        for (k, val) in [
            ("principal", &self.principal),
            ("arn", &self.arn),
            ("until", &self.until),
            ("reason", &self.reason),
            ("blocked_by", &self.blocked_by),
            ("blocked_at", &self.blocked_at),
        ] {
            m.insert(k.into(), Value::from(val.as_str()));
        }
        m.insert("mechanism".into(), self.target.mechanism().into());
        m.insert("target".into(), self.target.to_json());
        v
    }

    /// Reads a block item; Err names what is wrong with it.
    pub fn from_json(v: &Value) -> Result<Block, String> {
        let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
        let principal = match v.get("principal").and_then(Value::as_str) {
            Some(p) => p.to_owned(),
            None => s("pk").strip_prefix(PRINCIPAL_PREFIX).ok_or("no principal and no PRINCIPAL# key")?.to_owned(),
        };
        let until = s("until");
        if until.is_empty() {
            return Err("no `until`".into());
        }
        let mechanism = v.get("mechanism").and_then(Value::as_str).ok_or("no `mechanism`")?;
        let target = Target::from_json(mechanism, v.get("target").unwrap_or(&Value::Null))?;
        Ok(Block { principal, arn: s("arn"), until, reason: s("reason"), blocked_by: s("blocked_by"), blocked_at: s("blocked_at"), target })
    }
}

/// `PRINCIPAL#<name>` / `PROTECTED` (quota_core `protect_principal`).
pub fn protected_item(principal: &str, actor: &str, at: &str, reason: &str) -> Value {
    let mut v = principal_key(principal, SK_PROTECTED);
    let m = v.as_object_mut().expect("object");
    m.insert("principal".into(), principal.into());
    m.insert("protected_by".into(), actor.into());
    m.insert("protected_at".into(), at.into());
    m.insert("reason".into(), reason.into());
    v
}

/// One audit entry (quota_core `audit`). `details` is stored as a JSON string with sorted keys.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub month: String,
    pub at: String,
    pub id: String,
    pub action: String,
    pub principal: String,
    pub actor: String,
    pub reason: String,
    pub result: String,
    pub until: Option<String>,
    pub details: Value,
}

/// JSON text with keys sorted at every level, as Python's `json.dumps(..., sort_keys=True)`.
pub fn sorted_json(v: &Value) -> String {
    fn sort(v: &Value) -> Value {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                Value::Object(keys.into_iter().map(|k| (k.clone(), sort(&m[k]))).collect::<Map<_, _>>())
            }
            Value::Array(a) => Value::Array(a.iter().map(sort).collect()),
            other => other.clone(),
        }
    }
    sort(v).to_string()
}

impl AuditEntry {
    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "pk": format!("{AUDIT_PREFIX}{}", self.month),
            "sk": format!("{}#{}", self.at, self.id),
            "action": self.action, "principal": self.principal, "actor": self.actor,
            "reason": self.reason, "result": self.result, "at": self.at,
            "details": sorted_json(&self.details),
        });
        if let Some(u) = self.until.as_ref().filter(|u| !u.is_empty()) {
            v["until"] = Value::from(u.as_str());
        }
        v
    }

    /// Reads an audit item leniently: the trail is for people, so a missing field prints empty.
    pub fn from_json(v: &Value) -> AuditEntry {
        let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
        let sk = s("sk");
        let (at_from_sk, id) = sk.split_once('#').map_or((sk.clone(), String::new()), |(a, i)| (a.to_owned(), i.to_owned()));
        let at = Some(s("at")).filter(|a| !a.is_empty()).unwrap_or(at_from_sk);
        let details = v.get("details").and_then(Value::as_str).and_then(|d| serde_json::from_str(d).ok()).unwrap_or(Value::Null);
        AuditEntry {
            month: s("pk").strip_prefix(AUDIT_PREFIX).unwrap_or("").to_owned(),
            at,
            id,
            action: s("action"),
            principal: s("principal"),
            actor: s("actor"),
            reason: s("reason"),
            result: s("result"),
            until: Some(s("until")).filter(|u| !u.is_empty()),
            details,
        }
    }
}

/// A random id in the form of a version-4 UUID (what quota_core's `uuid.uuid4()` gives).
pub fn random_id() -> String {
    let mut b = [0u8; 16];
    for x in &mut b {
        *x = fastrand::u8(..);
    }
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}
