//! The billed side, from CUR 2.0 lines to cost per principal and model. Pure: the lines come
//! from `cur` (which reads the export files); this module decides which lines are Bedrock
//! token usage of the region, account and period, names the principal with the shared
//! identity rule and the model from the resource id or the usage type, and sums the cost.
//!
//! How the bill names things (Bedrock user guide, "Understanding your Amazon Bedrock Cost and
//! Usage Report data", and "IAM principal attribution"):
//! - Usage types carry the token kind: `*-input-tokens`, `*-output-tokens`,
//!   `*-cache-read-input-token-count`, `*-cache-write-input-token-count`, and for bedrock-mantle
//!   `*-mantle-input-tokens-*` / `*-mantle-output-tokens-*`; before it, a region code and the
//!   model's billing name (`USE1-Claude4.6Sonnet-input-tokens`).
//! - `line_item_iam_principal` is the caller's ARN (IAM user, or the assumed-role session).
//! - Calls through an inference profile carry its ARN in `line_item_resource_id`.
//! - Anthropic models are billed as their own products (`line_item_product_code` is not
//!   `AmazonBedrock`); their `product_product_family` is `Amazon Bedrock`.

use std::collections::{BTreeMap, BTreeSet};

use crate::bedrock::identity;
use crate::bedrock::pricing::{base_model_id, TokenKind};
use crate::report::period::Period;

/// How the reconciliation names usage the bill attributes to no principal.
pub const NO_PRINCIPAL: &str = "(no principal)";

/// One line of a CUR 2.0 export, with the columns the reconciliation reads (empty when absent).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CurLine {
    pub line_item_type: String,
    /// `line_item_usage_start_date` in epoch seconds; `None` when empty or unreadable.
    pub usage_start: Option<i64>,
    pub usage_account_id: String,
    pub iam_principal: String,
    pub product_code: String,
    pub product_family: String,
    pub usage_type: String,
    pub resource_id: String,
    pub unblended_cost: f64,
    pub currency: String,
    pub region: String,
}

/// A token usage type taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageType {
    /// The model's billing name (`Claude3.5Haiku`).
    pub model_name: String,
    pub kind: TokenKind,
    pub mantle: bool,
}

/// Markers of the token kinds, most specific first (a mantle input line also contains
/// `-input-tokens`).
const MARKERS: &[(&str, TokenKind, bool)] = &[
    ("-mantle-input-tokens", TokenKind::Input, true),
    ("-mantle-output-tokens", TokenKind::Output, true),
    ("-cache-read-input-token-count", TokenKind::CacheRead, false),
    ("-cache-write-input-token-count", TokenKind::CacheWrite, false),
    ("-input-tokens", TokenKind::Input, false),
    ("-output-tokens", TokenKind::Output, false),
];

/// Region codes of usage types: upper-case letters and digits, with a digit (`USE1`, `APS3`)
/// or `EU`. A model name such as `GPT-OSS` has no digit in its first part, so it is kept.
fn is_region_code(s: &str) -> bool {
    (2..=5).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) && (s == "EU" || s.bytes().any(|b| b.is_ascii_digit()))
}

/// `USE1-Claude3.5Haiku-input-tokens` → (`Claude3.5Haiku`, input); `None` when the usage type
/// is not a token usage type.
pub fn parse_usage_type(usage_type: &str) -> Option<UsageType> {
    let lower = usage_type.to_ascii_lowercase();
    let (at, kind, mantle) = MARKERS.iter().find_map(|(m, k, mantle)| lower.find(m).map(|at| (at, *k, *mantle)))?;
    let head = &usage_type[..at];
    let name = match head.split_once('-') {
        Some((region, rest)) if is_region_code(region) => rest,
        _ if is_region_code(head) => "",
        _ => head,
    };
    (!name.is_empty()).then(|| UsageType { model_name: name.to_owned(), kind, mantle })
}

/// The model id of a Bedrock resource ARN (`foundation-model/<id>`, `inference-profile/<id>`),
/// without a cross-region prefix; `None` for other resources (application inference profiles
/// have an opaque id).
pub fn model_from_resource(resource_id: &str) -> Option<String> {
    if !resource_id.contains(":bedrock:") {
        return None;
    }
    ["foundation-model/", "inference-profile/"].iter().find_map(|t| {
        let at = resource_id.find(t)?;
        // `application-inference-profile/` also ends in `inference-profile/`: its id is no model.
        if resource_id[..at].ends_with("application-") {
            return None;
        }
        let id = resource_id[at + t.len()..].split('/').next()?;
        (!id.is_empty()).then(|| base_model_id(id).to_owned())
    })
}

/// Words a billing name may carry for the tier or routing, not the model.
const VARIANT_WORDS: &[&str] = &["cross", "region", "crossregion", "global", "priority", "flex", "standard"];

fn tokens_of(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut prev: Option<char> = None;
    for c in text.chars() {
        if !c.is_ascii_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev = None;
            continue;
        }
        let boundary = match prev {
            Some(p) => (p.is_ascii_digit() != c.is_ascii_digit()) || (p.is_ascii_lowercase() && c.is_ascii_uppercase()),
            None => false,
        };
        if boundary && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        cur.push(c.to_ascii_lowercase());
        prev = Some(c);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out.retain(|t| !(t.len() == 8 && t.bytes().all(|b| b.is_ascii_digit())) && !VARIANT_WORDS.contains(&t.as_str()));
    out.sort();
    out
}

/// The key a model id and a billing name share: its words and numbers, sorted, without the
/// vendor, the version suffix and release dates. `anthropic.claude-3-5-haiku-20241022-v1:0`
/// and `Claude3.5Haiku` both give `3 5 claude haiku`.
pub fn model_key_of_id(model_id: &str) -> String {
    let id = base_model_id(crate::bedrock::service_tier::split_tier_suffix(model_id).0);
    let id = id.split_once('.').map_or(id, |(_, rest)| rest);
    let mut id = id.split(':').next().unwrap_or(id);
    if let Some(at) = id.rfind("-v") {
        if id[at + 2..].bytes().all(|b| b.is_ascii_digit()) && at + 2 < id.len() {
            id = &id[..at];
        }
    }
    tokens_of(id).join(" ")
}

/// [`model_key_of_id`] for the model name of a usage type.
pub fn model_key_of_name(name: &str) -> String {
    tokens_of(name).join(" ")
}

/// The principal by the shared identity rule, with IAM role ARNs (`role/<path>/<name>`) named
/// by the role as an assumed-role session of it would be.
pub fn principal_name(arn: &str, sessions_are_people: bool) -> String {
    let arn = arn.trim();
    if arn.is_empty() {
        return NO_PRINCIPAL.to_owned();
    }
    let resource = arn.splitn(6, ':').nth(5).unwrap_or("");
    if let Some(path) = resource.strip_prefix("role/") {
        return path.rsplit('/').next().unwrap_or(path).to_owned();
    }
    identity::principal(arn, sessions_are_people).name
}

/// Which lines to compare.
#[derive(Debug, Clone)]
pub struct Scope {
    pub region: String,
    /// The stack's account; lines of other accounts (a payer's export) are left out.
    pub account: Option<String>,
    pub period: Period,
    pub sessions_are_people: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct BilledKey {
    pub principal: String,
    /// [`model_key_of_id`] / [`model_key_of_name`].
    pub model_key: String,
    pub mantle: bool,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct BilledGroup {
    pub cost_usd: f64,
    pub usage_names: BTreeSet<String>,
    /// Model ids read from inference-profile or foundation-model resource ids.
    pub model_ids: BTreeSet<String>,
}

/// What a line is, when it is not compared.
pub const NOT_TOKENS: &str = "Bedrock charges other than tokens (provisioned throughput, storage, guardrails, ...)";
pub const NOT_USAGE: &str = "Bedrock credits, refunds, taxes and fees";
pub const OTHER_REGIONS: &str = "Bedrock usage in other regions (reconcile each with --region)";
pub const OTHER_ACCOUNTS: &str = "Bedrock usage of other accounts";
pub const OUTSIDE_PERIOD: &str = "Bedrock usage outside the period";

/// Line item types that are usage at the billed rate.
const USAGE_TYPES: &[&str] = &["Usage", "DiscountedUsage", "SavingsPlanCoveredUsage"];

/// The billed side, summed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Billed {
    pub groups: BTreeMap<BilledKey, BilledGroup>,
    /// Kind ([`NOT_TOKENS`], ...) → (lines, cost).
    pub not_compared: BTreeMap<&'static str, (usize, f64)>,
    pub currencies: BTreeSet<String>,
    pub lines_read: usize,
}

fn is_bedrock(l: &CurLine) -> bool {
    l.product_code == "AmazonBedrock" || l.product_family.eq_ignore_ascii_case("Amazon Bedrock") || l.resource_id.contains(":bedrock:")
}

impl Billed {
    /// Counts one line: into a group when it is Bedrock token usage in scope, into
    /// `not_compared` when it is another Bedrock line, nowhere when it is another service.
    pub fn add(&mut self, l: &CurLine, scope: &Scope) {
        self.lines_read += 1;
        if !is_bedrock(l) {
            return;
        }
        let mut skip = |what: &'static str| {
            let e = self.not_compared.entry(what).or_default();
            e.0 += 1;
            e.1 += l.unblended_cost;
        };
        if !l.line_item_type.is_empty() && !USAGE_TYPES.contains(&l.line_item_type.as_str()) {
            return skip(NOT_USAGE);
        }
        if let (Some(acct), false) = (&scope.account, l.usage_account_id.is_empty()) {
            if &l.usage_account_id != acct {
                return skip(OTHER_ACCOUNTS);
            }
        }
        if l.usage_start.is_some_and(|t| t < scope.period.start || t >= scope.period.end) {
            return skip(OUTSIDE_PERIOD);
        }
        if !l.region.is_empty() && l.region != scope.region {
            return skip(OTHER_REGIONS);
        }
        let Some(u) = parse_usage_type(&l.usage_type) else {
            return skip(NOT_TOKENS);
        };
        let from_resource = model_from_resource(&l.resource_id);
        let model_key = from_resource.as_deref().map_or_else(|| model_key_of_name(&u.model_name), model_key_of_id);
        let key = BilledKey { principal: principal_name(&l.iam_principal, scope.sessions_are_people), model_key, mantle: u.mantle };
        if !l.currency.is_empty() {
            self.currencies.insert(l.currency.clone());
        }
        let g = self.groups.entry(key).or_default();
        g.cost_usd += l.unblended_cost;
        g.usage_names.insert(u.model_name);
        g.model_ids.extend(from_resource);
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    #[test]
    fn usage_types_give_model_name_kind_and_mantle() {
        let u = parse_usage_type("USE1-Claude4.6Sonnet-input-tokens").unwrap();
        assert_eq!((u.model_name.as_str(), u.kind, u.mantle), ("Claude4.6Sonnet", TokenKind::Input, false));
        assert_eq!(parse_usage_type("USW2-Claude3.5Haiku-output-tokens").unwrap().kind, TokenKind::Output);
        assert_eq!(parse_usage_type("EU-Claude3.5Haiku-cache-read-input-token-count").unwrap().kind, TokenKind::CacheRead);
        let w = parse_usage_type("APS1-Claude3.5Haiku-cache-write-input-token-count").unwrap();
        assert_eq!((w.model_name.as_str(), w.kind), ("Claude3.5Haiku", TokenKind::CacheWrite));
        let m = parse_usage_type("USE1-GPT-OSS-120B-mantle-output-tokens-standard").unwrap();
        assert_eq!((m.model_name.as_str(), m.kind, m.mantle), ("GPT-OSS-120B", TokenKind::Output, true));
        // No region code: the whole head is the name.
        assert_eq!(parse_usage_type("GPT-OSS-20B-input-tokens").unwrap().model_name, "GPT-OSS-20B");
        for not_tokens in ["USE1-ProvisionedThroughput-ModelUnits", "USE1-Requests", "", "USE1-input-tokens"] {
            assert_eq!(parse_usage_type(not_tokens), None, "{not_tokens}");
        }
    }

    #[test]
    fn model_keys_meet_between_ids_and_billing_names() {
        let pairs = [
            ("anthropic.claude-3-5-haiku-20241022-v1:0", "Claude3.5Haiku"),
            ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "Claude4.5Sonnet"),
            ("anthropic.claude-sonnet-4-20250514-v1:0", "Claude-Sonnet-4"),
            ("amazon.nova-micro-v1:0", "Nova-Micro"),
            ("amazon.nova-pro-v1:0", "NovaPro"),
            ("meta.llama3-1-70b-instruct-v1:0", "Llama3.1-70B-Instruct"),
            ("arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0", "Nova-Lite-cross-region-global"),
        ];
        for (id, name) in pairs {
            assert_eq!(model_key_of_id(id), model_key_of_name(name), "{id} vs {name}");
        }
        assert_eq!(model_key_of_id("anthropic.claude-3-5-haiku-20241022-v1:0"), "3 5 claude haiku");
        assert_ne!(model_key_of_id("amazon.nova-micro-v1:0"), model_key_of_id("amazon.nova-lite-v1:0"));
        assert_ne!(model_key_of_name("Claude3.5Haiku"), model_key_of_name("Claude3Haiku"));
    }

    #[test]
    fn resource_ids_name_the_model_of_profiles_and_foundation_models() {
        assert_eq!(model_from_resource("arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-5-haiku-20241022-v1:0").as_deref(), Some("anthropic.claude-3-5-haiku-20241022-v1:0"));
        assert_eq!(model_from_resource("arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-micro-v1:0").as_deref(), Some("amazon.nova-micro-v1:0"));
        assert_eq!(model_from_resource("arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3"), None);
        assert_eq!(model_from_resource("arn:aws:s3:::bucket/foundation-model/x"), None);
        assert_eq!(model_from_resource(""), None);
    }

    #[test]
    fn principals_follow_the_identity_rule() {
        let sso = "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_BedrockDeveloper_0a1b2c3d/jane.doe@example.com";
        assert_eq!(principal_name(sso, false), "jane.doe@example.com");
        assert_eq!(principal_name("arn:aws:iam::123456789012:user/ops/raj", false), "raj");
        assert_eq!(principal_name("arn:aws:sts::123456789012:assumed-role/chatbot-prod/i-0abc", false), "chatbot-prod");
        assert_eq!(principal_name("arn:aws:sts::123456789012:assumed-role/chatbot-prod/i-0abc", true), "chatbot-prod/i-0abc");
        assert_eq!(principal_name("arn:aws:iam::123456789012:role/service/chatbot-prod", false), "chatbot-prod");
        assert_eq!(principal_name("  ", false), NO_PRINCIPAL);
    }

    /// A Bedrock usage line of the test account in us-east-1, at second 1,000.
    pub fn line(principal: &str, usage_type: &str, cost: f64) -> CurLine {
        CurLine {
            line_item_type: "Usage".into(),
            usage_start: Some(1_000),
            usage_account_id: "123456789012".into(),
            iam_principal: principal.into(),
            product_code: "AmazonBedrock".into(),
            usage_type: usage_type.into(),
            unblended_cost: cost,
            currency: "USD".into(),
            region: "us-east-1".into(),
            ..CurLine::default()
        }
    }

    #[test]
    fn lines_are_grouped_or_set_aside_with_their_cost() {
        let scope = Scope { region: "us-east-1".into(), account: Some("123456789012".into()), period: Period { start: 0, end: 3600 }, sessions_are_people: false };
        let raj = "arn:aws:iam::123456789012:user/raj";
        let mut b = Billed::default();
        let mut claude = line(raj, "USE1-Claude3.5Haiku-input-tokens", 0.5);
        claude.product_code = "7zgyu5r4examplecode".into();
        claude.product_family = "Amazon Bedrock".into();
        b.add(&claude, &scope);
        b.add(&line(raj, "USE1-Claude3.5Haiku-output-tokens", 0.25), &scope);
        let mut tax = line(raj, "USE1-Claude3.5Haiku-input-tokens", 0.07);
        tax.line_item_type = "Tax".into();
        b.add(&tax, &scope);
        let mut other_region = line(raj, "USW2-Claude3.5Haiku-input-tokens", 1.0);
        other_region.region = "us-west-2".into();
        b.add(&other_region, &scope);
        let mut other_account = line(raj, "USE1-Claude3.5Haiku-input-tokens", 2.0);
        other_account.usage_account_id = "999999999999".into();
        b.add(&other_account, &scope);
        let mut late = line(raj, "USE1-Claude3.5Haiku-input-tokens", 4.0);
        late.usage_start = Some(3600);
        b.add(&late, &scope);
        b.add(&line(raj, "USE1-ProvisionedThroughput-ModelUnits", 8.0), &scope);
        let mut s3 = line(raj, "USE1-TimedStorage-ByteHrs", 16.0);
        s3.product_code = "AmazonS3".into();
        b.add(&s3, &scope);

        assert_eq!(b.lines_read, 8);
        assert_eq!(b.groups.len(), 1);
        let (k, g) = b.groups.iter().next().unwrap();
        assert_eq!((k.principal.as_str(), k.model_key.as_str(), k.mantle), ("raj", "3 5 claude haiku", false));
        assert!((g.cost_usd - 0.75).abs() < 1e-12);
        assert_eq!(g.usage_names.iter().collect::<Vec<_>>(), vec!["Claude3.5Haiku"]);
        let nc: Vec<(&str, usize, f64)> = b.not_compared.iter().map(|(k, (n, c))| (*k, *n, *c)).collect();
        assert_eq!(nc, vec![(NOT_TOKENS, 1, 8.0), (NOT_USAGE, 1, 0.07), (OTHER_REGIONS, 1, 1.0), (OTHER_ACCOUNTS, 1, 2.0), (OUTSIDE_PERIOD, 1, 4.0)]);
        assert_eq!(b.currencies.iter().collect::<Vec<_>>(), vec!["USD"]);
    }
}
