//! The Rust side of tests/data/quota-policies.json: the same Sids, targets, statements and
//! merged policies as quota_core.py (tests/python/test_quota_fixture.py checks the Python side).

use serde_json::Value;

use super::items::{AuditEntry, Block};
use super::refuse_protected;
use super::policy::*;
use crate::config::IdentityCenter;

fn fixture() -> Value {
    serde_json::from_str(include_str!("../../../tests/data/quota-policies.json")).expect("fixture is JSON")
}

fn identity_center(v: &Value) -> Option<IdentityCenter> {
    if v.is_null() {
        return None;
    }
    Some(serde_json::from_value(v.clone()).expect("identity_center"))
}

#[test]
fn block_targets_match_quota_core() {
    for case in fixture()["block_targets"].as_array().unwrap() {
        let arn = case["arn"].as_str().unwrap();
        let people = case["sessions_are_people"].as_bool().unwrap();
        let ic = identity_center(&case["identity_center"]);
        let caller = Caller::from_arn(arn, people);
        match (&case.get("error"), caller) {
            (Some(err), None) => assert!(err.as_str().unwrap().contains("is not an IAM user, role or IAM Identity Center user"), "{arn}"),
            (_, None) => panic!("{arn}: Rust found no caller, Python did"),
            (err, Some(caller)) => {
                assert_eq!(caller.principal(), case["principal"].as_str().unwrap(), "{arn}");
                match (err, block_target(&caller, ic.as_ref())) {
                    (Some(e), Err(msg)) => assert_eq!(msg, e.as_str().unwrap(), "{arn}"),
                    (None, Ok(t)) => {
                        assert_eq!(t.mechanism(), case["mechanism"].as_str().unwrap(), "{arn}");
                        assert_eq!(t.to_json(), case["target"], "{arn}");
                        assert_eq!(Target::from_json(t.mechanism(), &case["target"]).unwrap(), t, "{arn}: reads back");
                    }
                    (e, r) => panic!("{arn}: Python {e:?}, Rust {r:?}"),
                }
            }
        }
    }
}

#[test]
fn sids_and_statements_match_quota_core() {
    let f = fixture();
    for c in f["sids"].as_array().unwrap() {
        assert_eq!(sid_for(c["kind"].as_str().unwrap(), c["value"].as_str().unwrap()), c["sid"].as_str().unwrap());
    }
    for c in f["deny_statements"].as_array().unwrap() {
        assert_eq!(deny_statement(c["sid"].as_str().unwrap(), c["userid"].as_str()), c["statement"]);
    }
    assert_eq!(user_policy(), f["user_policy"]);
    assert_eq!(session_block_policy(), f["session_block_policy"]);
    let keys: Vec<String> = serde_json::from_value(f["session_tag_keys"].clone()).unwrap();
    assert_eq!(super::session_tag_keys(), keys);
}

#[test]
fn session_slots_and_tag_values_match_quota_core() {
    let f = fixture();
    let strings = |v: &Value| -> Vec<String> { serde_json::from_value(v.clone()).unwrap() };
    for c in f["session_slots"].as_array().unwrap() {
        let tags: Vec<(String, String)> = c["tags"].as_object().unwrap().iter().map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned())).collect();
        let session = c["session"].as_str().unwrap();
        assert_eq!(session_slots(&tags, session), (strings(&c["held"]), strings(&c["free"])), "{session}");
    }
    for c in f["tag_values"].as_array().unwrap() {
        assert_eq!(fits_tag_value(c["session"].as_str().unwrap()), c["fits"].as_bool().unwrap(), "{}", c["session"]);
    }
}

#[test]
fn merging_keeps_the_other_statements_as_quota_core_does() {
    for c in fixture()["merges"].as_array().unwrap() {
        let doc = match &c["document"] {
            Value::String(s) => Some(parse_document(s).unwrap()),
            Value::Null => None,
            other => Some(other.clone()),
        };
        let statement = Some(c["statement"].clone()).filter(|s| !s.is_null());
        let merged = merge_statement(doc.as_ref(), c["sid"].as_str().unwrap(), statement).unwrap();
        assert_eq!(merged.unwrap_or(Value::Null), c["result"], "{c}");
    }
}

#[test]
fn a_permission_set_policy_is_merged_into_not_replaced() {
    let existing = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Sid": "Team", "Effect": "Allow", "Action": "bedrock:*", "Resource": "*"}]});
    let stmt = deny_statement(&sid_for("User", "jane"), Some("*:jane"));
    let merged = merge_statement(Some(&existing), stmt["Sid"].as_str().unwrap(), Some(stmt.clone())).unwrap().unwrap();
    assert_eq!(merged["Statement"][0], existing["Statement"][0]);
    assert_eq!(merged["Statement"][1], stmt);
    let lifted = merge_statement(Some(&merged), stmt["Sid"].as_str().unwrap(), None).unwrap().unwrap();
    assert_eq!(lifted, existing, "unblocking restores exactly what was there");
    assert!(merge_statement(Some(&serde_json::json!("text")), "x", None).is_err());
    assert!(parse_document("%7Bnot").is_err());
}

#[test]
fn a_protected_principal_is_refused() {
    let by_config = refuse_protected("break-glass", Some("config".into())).unwrap_err();
    assert!(by_config.is_refusal());
    assert!(by_config.to_string().contains("quotas.protected"), "{by_config}");
    let by_op = refuse_protected("alice", Some("arn:aws:iam::1:user/ops".into())).unwrap_err();
    assert_eq!(by_op.to_string(), "alice is protected by arn:aws:iam::1:user/ops; run `bedrock-watch quota unprotect alice` first");
    assert!(refuse_protected("alice", None).is_ok());
}

#[test]
fn items_read_back_and_bad_items_are_errors_not_panics() {
    let b = Block {
        principal: "alice".into(),
        arn: "arn:aws:iam::1:user/alice".into(),
        until: "2026-12-02T00:00:00Z".into(),
        reason: "r".into(),
        blocked_by: "arn:aws:iam::1:user/ops".into(),
        blocked_at: "2026-12-01T20:00:00Z".into(),
        target: Target::UserPolicy { user_name: "alice".into() },
    };
    let v = b.to_json();
    assert_eq!(v["pk"], "PRINCIPAL#alice");
    assert_eq!(v["sk"], "BLOCK");
    assert_eq!(v["mechanism"], "user-policy");
    assert_eq!(Block::from_json(&v).unwrap(), b);
    #[cfg(feature = "aws")]
    assert_eq!(Block::from_json(&super::items::from_item(&super::items::to_item(&v))).unwrap(), b);
    for bad in [serde_json::json!({"pk": "PRINCIPAL#x"}), serde_json::json!({"pk": "PRINCIPAL#x", "until": "u", "mechanism": "teleport"}), serde_json::json!({"pk": "PRINCIPAL#x", "until": "u", "mechanism": "permission-set", "target": {"permission_sets": 3}}), serde_json::json!(42)] {
        assert!(Block::from_json(&bad).is_err(), "{bad}");
    }
    let a = AuditEntry::from_json(&serde_json::json!({"pk": "AUDIT#2026-12", "sk": "2026-12-01T20:00:00.000Z#id", "details": "not json"}));
    assert_eq!((a.month.as_str(), a.at.as_str(), a.details.clone()), ("2026-12", "2026-12-01T20:00:00.000Z", Value::Null));
}
