//! A deliberate deviation from a common rule pack (checkov, the AWS Control Tower proactive-control
//! Guard rules run by cfn-guard), with the reason a reviewer reads.
//!
//! One value answers one decision: it names every rule id it answers in every pack, so the same
//! reason is never retyped per tool. A resource gets deviations through
//! [`Resource::deviate`](super::Resource::deviate), which writes both forms the tools read:
//!
//! ```yaml
//! Metadata:
//!   checkov:
//!     skip:
//!       - id: CKV_AWS_18
//!         comment: <reason>
//!   guard:
//!     SuppressedRules:
//!       - s3_bucket_logging_enabled_check
//!     Reasons:
//!       s3_bucket_logging_enabled_check: <reason>
//! ```
//!
//! checkov reads `checkov.skip`; the Control Tower rules read no metadata, so `.ci/guard_templates.py`
//! removes a resource from the copy of the template a rule is evaluated on when the resource's
//! `guard.SuppressedRules` names that rule; `guard.Reasons` is for people (both tools ignore it).

use super::value::{Map, Value};

/// One deliberate deviation. Built only by [`Deviation::new`], which refuses (at compile time
/// for constants) an empty or multi-line reason, a deviation answering no rule, and empty or
/// malformed rule ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deviation {
    name: &'static str,
    checkov: &'static [&'static str],
    guard: &'static [&'static str],
    reason: &'static str,
}

impl Deviation {
    /// `name` identifies the decision in `validate`'s listing (kebab-case); `checkov` holds
    /// checkov check ids (`CKV_AWS_18`), `guard` Control Tower Guard rule names (`s3_bucket_logging_enabled_check`);
    /// `reason` is one line.
    ///
    /// # Panics
    /// When the reason is blank or has a line break, no rule id is given, or an id or the name is
    /// empty or has characters other than `A-Z 0-9 _` (checkov ids) / `a-z 0-9 _` (Guard rule names) / `a-z 0-9 -` (name). Constants are
    /// evaluated by the compiler, so for them the panic is a build error.
    pub const fn new(name: &'static str, checkov: &'static [&'static str], guard: &'static [&'static str], reason: &'static str) -> Deviation {
        assert!(is_one_line_text(reason), "a deviation's reason must be one non-blank line");
        assert!(!checkov.is_empty() || !guard.is_empty(), "a deviation must name the rule ids it answers");
        assert!(is_name(name), "a deviation's name must be kebab-case (a-z, 0-9, -)");
        let mut i = 0;
        while i < checkov.len() {
            assert!(is_rule_id(checkov[i]), "checkov ids are A-Z, 0-9 and _");
            i += 1;
        }
        let mut i = 0;
        while i < guard.len() {
            assert!(is_guard_rule(guard[i]), "Guard rule names are a-z, 0-9 and _");
            i += 1;
        }
        Deviation { name, checkov, guard, reason }
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    pub fn checkov_ids(&self) -> &'static [&'static str] {
        self.checkov
    }

    pub fn guard_rules(&self) -> &'static [&'static str] {
        self.guard
    }

    pub fn reason(&self) -> &'static str {
        self.reason
    }

    /// Every rule id the deviation answers, checkov's first.
    pub fn rule_ids(&self) -> impl Iterator<Item = &'static str> {
        self.checkov.iter().chain(self.guard.iter()).copied()
    }

    /// True when `rule` (a checkov id or Guard rule name) is one this deviation answers.
    pub fn answers(&self, rule: &str) -> bool {
        self.rule_ids().any(|r| r == rule)
    }
}

const fn is_one_line_text(s: &str) -> bool {
    let b = s.as_bytes();
    let mut visible = false;
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\n' || b[i] == b'\r' {
            return false;
        }
        if !b[i].is_ascii_whitespace() {
            visible = true;
        }
        i += 1;
    }
    visible
}

/// Checkov ids: `A-Z 0-9 _`.
const fn is_rule_id(s: &str) -> bool {
    is_token(s, Token::Upper)
}

/// Guard rule names (the `rule <name> when` identifier of a Control Tower rule): `a-z 0-9 _`.
const fn is_guard_rule(s: &str) -> bool {
    is_token(s, Token::Snake)
}

/// Deviation names: kebab-case `a-z 0-9 -`.
const fn is_name(s: &str) -> bool {
    is_token(s, Token::Kebab)
}

#[derive(Clone, Copy)]
enum Token {
    Upper,
    Snake,
    Kebab,
}

/// Non-empty, and every byte a digit or a letter of the given case with `_` (`Upper`, `Snake`)
/// or `-` (`Kebab`) (const fns take no closures, hence the enum).
const fn is_token(s: &str, kind: Token) -> bool {
    let b = s.as_bytes();
    if b.is_empty() {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let ok = c.is_ascii_digit()
            || match kind {
                Token::Upper => c.is_ascii_uppercase() || c == b'_',
                Token::Snake => c.is_ascii_lowercase() || c == b'_',
                Token::Kebab => c.is_ascii_lowercase() || c == b'-',
            };
        if !ok {
            return false;
        }
        i += 1;
    }
    true
}

/// Writes the `checkov` and `guard` entries of a resource's Metadata from all its deviations
/// (replacing the earlier entries in place). A rule answered by two
/// deviations is listed once for Guard, with both reasons.
pub(crate) fn write_metadata(metadata: &mut Map, deviations: &[Deviation]) {
    let mut skips = Vec::new();
    let mut seen_checkov: Vec<&str> = Vec::new();
    let mut rules: Vec<&'static str> = Vec::new();
    let mut reasons: Vec<(&'static str, String)> = Vec::new();
    for d in deviations {
        for id in d.checkov {
            if let Some(i) = seen_checkov.iter().position(|s| s == id) {
                // Same check answered twice: one entry with both reasons.
                if let Some(Value::Map(entry)) = skips.get_mut(i) {
                    let joined = format!("{}; {}", entry.get("comment").and_then(Value::as_str).unwrap_or_default(), d.reason);
                    entry.insert("comment", joined);
                }
                continue;
            }
            seen_checkov.push(id);
            skips.push(Value::Map(Map::new().with("id", *id).with("comment", d.reason)));
        }
        for rule in d.guard {
            match reasons.iter_mut().find(|(r, _)| r == rule) {
                Some((_, text)) => {
                    text.push_str("; ");
                    text.push_str(d.reason);
                }
                None => {
                    rules.push(rule);
                    reasons.push((rule, d.reason.to_owned()));
                }
            }
        }
    }
    // Deviations are only ever added, so inserting (in place) keeps the metadata equal to them.
    if !skips.is_empty() {
        metadata.insert("checkov", Map::new().with("skip", Value::List(skips)));
    }
    if !rules.is_empty() {
        let mut reason_map = Map::new();
        for (rule, text) in reasons {
            reason_map.insert(rule, text);
        }
        metadata.insert(
            "guard",
            Map::new().with("SuppressedRules", Value::list(rules.iter().copied())).with("Reasons", reason_map),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cfn::{render, Format, Resource, Template};

    const LOGGING: Deviation = Deviation::new("no-logging", &["CKV_AWS_18"], &["s3_bucket_logging_enabled_check"], "logs into itself would loop");
    const LOCK: Deviation = Deviation::new("no-lock", &[], &["s3_bucket_object_lock_enabled_check"], "expiry must delete");
    const LOGGING_TOO: Deviation = Deviation::new("also-logging", &["CKV_AWS_18"], &["s3_bucket_logging_enabled_check"], "second reason");

    fn bucket() -> Resource {
        Resource::new("AWS::S3::Bucket", Map::new())
    }

    #[test]
    fn renders_both_metadata_forms() {
        let r = bucket().deviate(LOGGING).deviate(LOCK);
        let mut t = Template::new("t");
        t.add("B", r).unwrap();
        let yaml = render(&t, Format::Yaml);
        let expected = "    Metadata:
      checkov:
        skip:
          - id: CKV_AWS_18
            comment: logs into itself would loop
      guard:
        SuppressedRules:
          - s3_bucket_logging_enabled_check
          - s3_bucket_object_lock_enabled_check
        Reasons:
          s3_bucket_logging_enabled_check: logs into itself would loop
          s3_bucket_object_lock_enabled_check: expiry must delete
";
        assert!(yaml.contains(expected), "{yaml}");
        let json: serde_json::Value = serde_json::from_str(&render(&t, Format::Json)).unwrap();
        let meta = &json["Resources"]["B"]["Metadata"];
        assert_eq!(meta["checkov"]["skip"][0]["id"], "CKV_AWS_18");
        assert_eq!(meta["guard"]["SuppressedRules"], serde_json::json!(["s3_bucket_logging_enabled_check", "s3_bucket_object_lock_enabled_check"]));
        assert_eq!(meta["guard"]["Reasons"]["s3_bucket_object_lock_enabled_check"], "expiry must delete");
    }

    #[test]
    fn guard_only_deviation_writes_no_checkov_entry() {
        let r = bucket().deviate(LOCK);
        assert!(r.metadata.get("checkov").is_none());
        assert!(r.metadata.get("guard").is_some());
        assert_eq!(r.deviations, vec![LOCK]);
    }

    #[test]
    fn the_same_deviation_twice_is_recorded_once_and_shared_rules_keep_both_reasons() {
        let r = bucket().deviate(LOGGING).deviate(LOGGING).deviate(LOGGING_TOO);
        assert_eq!(r.deviations, vec![LOGGING, LOGGING_TOO]);
        let guard = r.metadata.get("guard").unwrap().as_map().unwrap();
        assert_eq!(guard.get("SuppressedRules").unwrap().as_list().unwrap().len(), 1);
        let reason = guard.get("Reasons").unwrap().as_map().unwrap().get("s3_bucket_logging_enabled_check").unwrap().as_str().unwrap();
        assert_eq!(reason, "logs into itself would loop; second reason");
        let skips = r.metadata.get("checkov").unwrap().as_map().unwrap().get("skip").unwrap().as_list().unwrap();
        assert_eq!(skips.len(), 1);
        assert_eq!(skips[0].as_map().unwrap().get("comment").unwrap().as_str().unwrap(), "logs into itself would loop; second reason");
    }

    #[test]
    fn other_metadata_is_kept() {
        let mut r = bucket();
        r.metadata.insert("cfn-lint", Map::new().with("config", Map::new()));
        let r = r.deviate(LOCK);
        assert!(r.metadata.get("cfn-lint").is_some());
    }

    #[test]
    fn text_rules() {
        assert!(is_one_line_text("a reason"));
        assert!(!is_one_line_text(""));
        assert!(!is_one_line_text("   "));
        assert!(!is_one_line_text("two\nlines"));
        assert!(is_rule_id("CKV_AWS_18") && is_rule_id("LAMBDA_DLQ_CHECK"));
        assert!(!is_rule_id("") && !is_rule_id("ckv_aws_18") && !is_rule_id("A B"));
        assert!(is_guard_rule("s3_bucket_logging_enabled_check") && !is_guard_rule("S3_BUCKET_LOGGING") && !is_guard_rule("a-b") && !is_guard_rule(""));
        assert!(is_name("inline-policy-one-principal") && !is_name("Inline") && !is_name(""));
    }

    #[test]
    #[should_panic(expected = "one non-blank line")]
    fn a_blank_reason_is_refused() {
        let _ = Deviation::new("x", &["CKV_AWS_18"], &[], " ");
    }

    #[test]
    #[should_panic(expected = "must name the rule ids")]
    fn a_deviation_without_rules_is_refused() {
        let _ = Deviation::new("x", &[], &[], "reason");
    }
}
