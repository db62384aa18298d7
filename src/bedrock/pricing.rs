//! Token prices and the cost arithmetic every part of the tool shares (cost widgets, cost alarm,
//! per-user queries, reports).
//!
//! Prices are USD per 1,000 tokens for on-demand inference. The built-in table was taken on
//! [`TABLE_DATE`] from [`TABLE_SOURCE`]; prices change, so the config can override or extend it
//! (custom or fine-tuned models, negotiated discounts, regional prices).

use std::collections::BTreeMap;

use super::inference_profile;
pub use super::log_usage::Usage;
use super::log_usage;
use super::service_tier::{split_tier_suffix, ServiceTier, TierMultipliers};

pub const TABLE_DATE: jiff::civil::Date = jiff::civil::date(2026, 11, 22);
pub const TABLE_SOURCE: &str = "https://aws.amazon.com/bedrock/pricing/ (on-demand, US East (N. Virginia)), cross-checked with published third-party summaries of the same page";

/// USD per 1,000 tokens of each kind.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Price {
    pub input: f64,
    pub output: f64,
    /// Cache reads; when absent, charged like input (the conservative choice).
    #[serde(default)]
    pub cache_read: Option<f64>,
    /// Cache writes with the default 5-minute lifetime; when absent, charged like input.
    #[serde(default)]
    pub cache_write: Option<f64>,
    /// Cache writes with a 1-hour lifetime (`cacheDetails[].ttl = "1h"`); when absent, charged
    /// like 5-minute writes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write_1h: Option<f64>,
    /// The date this price was taken from its source (`YYYY-MM-DD`). Built-in prices carry
    /// [`TABLE_DATE`]; a config override without it is "undated", and `prices --check` fails on it.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "as_of_serde")]
    #[schemars(with = "Option<String>")]
    pub as_of: Option<jiff::civil::Date>,
}

/// `as_of` as a `YYYY-MM-DD` string.
pub(crate) mod as_of_serde {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Option<jiff::civil::Date>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_str(&d.to_string()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<jiff::civil::Date>, D::Error> {
        let Some(text) = Option::<String>::deserialize(d)? else { return Ok(None) };
        super::parse_as_of(&text).map(Some).map_err(serde::de::Error::custom)
    }
}

/// Parses an `as_of` date; the error names the field and the expected form.
pub fn parse_as_of(text: &str) -> Result<jiff::civil::Date, String> {
    let bad = || format!("as_of: `{text}` is not a date; expected YYYY-MM-DD, e.g. 2026-11-22");
    if text.len() != 10 {
        return Err(bad());
    }
    text.parse::<jiff::civil::Date>().map_err(|_| bad())
}

impl Price {
    const fn new(input: f64, output: f64) -> Price {
        Price { input, output, cache_read: None, cache_write: None, cache_write_1h: None, as_of: Some(TABLE_DATE) }
    }

    /// Anthropic prompt caching: 5-minute writes cost 1.25 × input, 1-hour writes 2 × input
    /// ([`ANTHROPIC_1H_SOURCE`]), reads 0.1 × input.
    const fn anthropic(input: f64, output: f64) -> Price {
        Price { input, output, cache_read: Some(input * 0.1), cache_write: Some(input * 1.25), cache_write_1h: Some(input * 2.0), as_of: Some(TABLE_DATE) }
    }

    /// Amazon Nova prompt caching: reads cost a quarter of input, writes nothing extra.
    const fn nova(input: f64, output: f64) -> Price {
        Price { input, output, cache_read: Some(input * 0.25), cache_write: Some(0.0), cache_write_1h: None, as_of: Some(TABLE_DATE) }
    }

    /// A price with only input and output set (cache tokens charged like input), undated.
    pub const fn per_1k(input: f64, output: f64) -> Price {
        Price { input, output, cache_read: None, cache_write: None, cache_write_1h: None, as_of: None }
    }

    pub fn cache_read(&self) -> f64 {
        self.cache_read.unwrap_or(self.input)
    }

    pub fn cache_write(&self) -> f64 {
        self.cache_write.unwrap_or(self.input)
    }

    pub fn cache_write_1h(&self) -> f64 {
        self.cache_write_1h.unwrap_or_else(|| self.cache_write())
    }

    /// Cost in USD of the given token counts.
    pub fn cost(&self, tokens: &Tokens) -> f64 {
        (tokens.input as f64 * self.input
            + tokens.output as f64 * self.output
            + tokens.cache_read as f64 * self.cache_read()
            + tokens.cache_write as f64 * self.cache_write()
            + tokens.cache_write_1h as f64 * self.cache_write_1h())
            / 1000.0
    }

    /// Every price times `factor` (a discount or a service-tier multiplier).
    pub fn scaled(self, factor: f64) -> Price {
        Price {
            input: self.input * factor,
            output: self.output * factor,
            cache_read: self.cache_read.map(|p| p * factor),
            cache_write: self.cache_write.map(|p| p * factor),
            cache_write_1h: self.cache_write_1h.map(|p| p * factor),
            as_of: self.as_of,
        }
    }
}

/// Source of the built-in 1-hour cache-write prices: Anthropic prices a 1-hour cache write at
/// 2 × the input price (its service-tier page counts 1-hour writes as 2 tokens per token, "these
/// burndown rates reflect the relative pricing of each token type"). The Bedrock pricing page was
/// not checked for this relation; override `cache_write_1h` per model where it differs.
pub const ANTHROPIC_1H_SOURCE: &str = "https://docs.anthropic.com/en/api/service-tiers (1-hour cache writes 2 x input)";

/// Token counts of one call or a sum of calls.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tokens {
    pub input: u64,
    pub output: u64,
    pub cache_read: u64,
    /// Cache writes with the 5-minute lifetime (or an unknown one).
    pub cache_write: u64,
    /// Cache writes with the 1-hour lifetime.
    pub cache_write_1h: u64,
}

impl Tokens {
    /// Every count, in [`TokenKind::ALL`] order plus 1-hour writes last.
    pub fn total(&self) -> u64 {
        self.input + self.output + self.cache_read + self.cache_write + self.cache_write_1h
    }
}

/// The built-in table: model id → price, us-east-1 on-demand. Every entry's `as_of` is set (the
/// constructors give [`TABLE_DATE`]; an entry re-checked later can say `Price { as_of: .. }`), and
/// its source is [`BUILT_IN_SOURCES`]'s entry for the model, else [`TABLE_SOURCE`].
pub const BUILT_IN: &[(&str, Price)] = &[
    ("anthropic.claude-opus-4-1-20250805-v1:0", Price::anthropic(0.015, 0.075)),
    ("anthropic.claude-opus-4-20250514-v1:0", Price::anthropic(0.015, 0.075)),
    ("anthropic.claude-sonnet-4-5-20250929-v1:0", Price::anthropic(0.003, 0.015)),
    ("anthropic.claude-sonnet-4-20250514-v1:0", Price::anthropic(0.003, 0.015)),
    ("anthropic.claude-3-7-sonnet-20250219-v1:0", Price::anthropic(0.003, 0.015)),
    ("anthropic.claude-3-5-sonnet-20241022-v2:0", Price::anthropic(0.003, 0.015)),
    ("anthropic.claude-3-5-sonnet-20240620-v1:0", Price::anthropic(0.003, 0.015)),
    ("anthropic.claude-haiku-4-5-20251001-v1:0", Price::anthropic(0.001, 0.005)),
    ("anthropic.claude-3-5-haiku-20241022-v1:0", Price::anthropic(0.0008, 0.004)),
    ("anthropic.claude-3-haiku-20240307-v1:0", Price::anthropic(0.00025, 0.00125)),
    ("anthropic.claude-3-opus-20240229-v1:0", Price::anthropic(0.015, 0.075)),
    ("amazon.nova-premier-v1:0", Price::nova(0.0025, 0.0125)),
    ("amazon.nova-pro-v1:0", Price::nova(0.0008, 0.0032)),
    ("amazon.nova-lite-v1:0", Price::nova(0.00006, 0.00024)),
    ("amazon.nova-micro-v1:0", Price::nova(0.000035, 0.00014)),
    ("amazon.titan-text-premier-v1:0", Price::new(0.0005, 0.0015)),
    ("amazon.titan-text-express-v1", Price::new(0.0002, 0.0006)),
    ("amazon.titan-text-lite-v1", Price::new(0.00015, 0.0002)),
    ("amazon.titan-embed-text-v2:0", Price::new(0.00002, 0.0)),
    ("meta.llama3-3-70b-instruct-v1:0", Price::new(0.00072, 0.00072)),
    ("meta.llama3-1-70b-instruct-v1:0", Price::new(0.00072, 0.00072)),
    ("meta.llama3-1-8b-instruct-v1:0", Price::new(0.00022, 0.00022)),
    ("meta.llama3-2-3b-instruct-v1:0", Price::new(0.00015, 0.00015)),
    ("mistral.mistral-large-2407-v1:0", Price::new(0.002, 0.006)),
    ("mistral.mistral-large-2402-v1:0", Price::new(0.004, 0.012)),
    ("mistral.mistral-small-2402-v1:0", Price::new(0.001, 0.003)),
    ("mistral.mixtral-8x7b-instruct-v0:1", Price::new(0.00045, 0.0007)),
    ("mistral.mistral-7b-instruct-v0:2", Price::new(0.00015, 0.0002)),
    ("cohere.command-r-plus-v1:0", Price::new(0.003, 0.015)),
    ("cohere.command-r-v1:0", Price::new(0.0005, 0.0015)),
    ("cohere.embed-english-v3", Price::new(0.0001, 0.0)),
    ("cohere.embed-multilingual-v3", Price::new(0.0001, 0.0)),
];

/// Model id → source, for built-in entries taken from somewhere other than [`TABLE_SOURCE`].
pub const BUILT_IN_SOURCES: &[(&str, &str)] = &[];

/// Where a price in effect comes from.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PriceRow {
    pub model: String,
    /// The region the row applies in (a regional price), or the region asked for.
    pub region: String,
    /// USD per 1,000 tokens, discount applied.
    pub input: f64,
    pub output: f64,
    pub cache_read: f64,
    /// 5-minute cache writes.
    pub cache_write: f64,
    /// 1-hour cache writes.
    pub cache_write_1h: f64,
    /// `built-in: <url>`, `config: pricing.models`, `config: pricing.regions.<region>`.
    pub source: String,
    /// `None`: an undated config override.
    #[serde(serialize_with = "row_date")]
    pub as_of: Option<jiff::civil::Date>,
}

pub(crate) fn row_date<S: serde::Serializer>(d: &Option<jiff::civil::Date>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_str(&d.to_string()),
        None => s.serialize_none(),
    }
}

impl PriceRow {
    /// Days between `as_of` and `today`; `None` when undated.
    pub fn age_days(&self, today: jiff::civil::Date) -> Option<i64> {
        let d = self.as_of?;
        Some(i64::from((today - d).get_days()))
    }

    /// Why this price is stale against `max_age_days`, or `None` when fresh.
    pub fn staleness(&self, today: jiff::civil::Date, max_age_days: u32) -> Option<String> {
        match self.age_days(today) {
            None => Some(format!("{} ({}, {}): no as_of date", self.model, self.region, self.source)),
            Some(age) if age > i64::from(max_age_days) => Some(format!(
                "{} ({}, {}): as of {}, {age} days old (limit {max_age_days})",
                self.model,
                self.region,
                self.source,
                self.as_of.map(|d| d.to_string()).unwrap_or_default()
            )),
            Some(_) => None,
        }
    }
}

/// Geographic prefixes of cross-region inference profiles (`us.anthropic...`).
const PROFILE_PREFIXES: &[&str] = &["us.", "eu.", "apac.", "global.", "us-gov.", "ca.", "jp.", "au."];

/// The model id a price is keyed by: the last ARN segment, without an inference-profile prefix.
pub fn base_model_id(model_id: &str) -> &str {
    let id = model_id.rsplit('/').next().unwrap_or(model_id);
    PROFILE_PREFIXES.iter().find_map(|p| id.strip_prefix(p)).unwrap_or(id)
}

/// The built-in table keyed by id, built once per process.
static BUILT_IN_BY_ID: std::sync::LazyLock<BTreeMap<&'static str, Price>> = std::sync::LazyLock::new(|| BUILT_IN.iter().copied().collect());

static NO_OVERRIDES: BTreeMap<String, Price> = BTreeMap::new();
static NO_REGIONAL: BTreeMap<String, BTreeMap<String, Price>> = BTreeMap::new();
static NO_PROFILES: BTreeMap<String, String> = BTreeMap::new();

/// Prices in effect: the built-in table with the config's overrides and discount applied, the
/// application-inference-profile mapping and the service-tier multipliers.
/// Borrows the config's prices, so making one is free (synth asks for it once per model).
#[derive(Debug, Clone, PartialEq)]
pub struct PriceTable<'a> {
    overrides: &'a BTreeMap<String, Price>,
    regional: &'a BTreeMap<String, BTreeMap<String, Price>>,
    profiles: &'a BTreeMap<String, String>,
    tiers: TierMultipliers,
    discount_factor: f64,
}

impl<'a> PriceTable<'a> {
    /// `overrides` replace or add models; `regional` prices apply in one region only;
    /// `discount_percent` lowers every price.
    pub fn new(overrides: &'a BTreeMap<String, Price>, regional: &'a BTreeMap<String, BTreeMap<String, Price>>, discount_percent: f64) -> Self {
        PriceTable { overrides, regional, profiles: &NO_PROFILES, tiers: TierMultipliers::default(), discount_factor: 1.0 - discount_percent / 100.0 }
    }

    pub fn built_in() -> PriceTable<'static> {
        PriceTable::new(&NO_OVERRIDES, &NO_REGIONAL, 0.0)
    }

    /// Application inference profile (ARN or id) → model id (`pricing.inference_profiles`).
    pub fn with_profiles(mut self, profiles: &'a BTreeMap<String, String>) -> Self {
        self.profiles = profiles;
        self
    }

    /// Service-tier multipliers (`pricing.service_tiers`; default [`TierMultipliers::default`]).
    pub fn with_tiers(mut self, tiers: TierMultipliers) -> Self {
        self.tiers = tiers;
        self
    }

    pub fn profiles(&self) -> &'a BTreeMap<String, String> {
        self.profiles
    }

    pub fn tiers(&self) -> TierMultipliers {
        self.tiers
    }

    fn global(&self, id: &str) -> Option<&Price> {
        self.overrides.get(id).or_else(|| BUILT_IN_BY_ID.get(id))
    }

    /// The model whose price applies to `model_id`: the mapped model of an application inference
    /// profile, else `model_id` itself (without a `+flex`/`+priority` metric suffix).
    pub fn resolve<'s>(&'s self, model_id: &'s str) -> &'s str {
        let (id, _) = split_tier_suffix(model_id);
        inference_profile::mapped(self.profiles, id).unwrap_or(id)
    }

    fn standard_price(&self, model_id: &str, region: &str) -> Option<Price> {
        let model_id = self.resolve(model_id);
        let id = base_model_id(model_id);
        let regional = self.regional.get(region).and_then(|m| m.get(model_id).or_else(|| m.get(id)));
        regional.or_else(|| self.global(model_id)).or_else(|| self.global(id)).map(|p| p.scaled(self.discount_factor))
    }

    /// The price of `model_id` (any form: id, profile id, ARN, application-profile ARN, a CloudWatch
    /// `<model>+flex` id) in `region`, on the tier its id names (Standard when none).
    pub fn price(&self, model_id: &str, region: &str) -> Option<Price> {
        let tier = split_tier_suffix(model_id).1.unwrap_or_default();
        self.price_on(model_id, region, tier)
    }

    /// The price of `model_id` in `region` on `tier` (the tier a log record names wins over an id suffix).
    pub fn price_on(&self, model_id: &str, region: &str, tier: ServiceTier) -> Option<Price> {
        let p = self.standard_price(model_id, region)?;
        Some(if tier == ServiceTier::Standard { p } else { p.scaled(self.tiers.of(tier)) })
    }

    /// Cost in USD of one call's (or a sum of calls') usage, `None` when the model has no price.
    pub fn cost(&self, usage: &Usage, region: &str) -> Option<f64> {
        self.price_on(&usage.model, region, usage.tier).map(|p| p.cost(&usage.tokens))
    }

    pub fn knows(&self, model_id: &str) -> bool {
        let model_id = self.resolve(model_id);
        let id = base_model_id(model_id);
        self.global(model_id).is_some() || self.global(id).is_some() || self.regional.values().any(|m| m.contains_key(model_id) || m.contains_key(id))
    }

    /// Every price in effect in `region`, sorted by model id, with its source and date.
    pub fn rows(&self, region: &str) -> Vec<PriceRow> {
        let mut ids: Vec<&str> = self.model_ids().collect();
        if let Some(r) = self.regional.get(region) {
            ids.extend(r.keys().map(String::as_str));
        }
        ids.sort_unstable();
        ids.dedup();
        ids.into_iter()
            .filter_map(|id| {
                let p = self.price(id, region)?;
                let source = if self.regional.get(region).is_some_and(|m| m.contains_key(id) || m.contains_key(base_model_id(id))) {
                    format!("config: pricing.regions.{region}")
                } else if self.overrides.contains_key(id) {
                    "config: pricing.models".to_owned()
                } else {
                    let s = BUILT_IN_SOURCES.iter().find(|(m, _)| *m == id).map_or(TABLE_SOURCE, |(_, s)| *s);
                    format!("built-in: {s}")
                };
                Some(PriceRow {
                    model: id.to_owned(),
                    region: region.to_owned(),
                    input: p.input,
                    output: p.output,
                    cache_read: p.cache_read(),
                    cache_write: p.cache_write(),
                    cache_write_1h: p.cache_write_1h(),
                    source,
                    as_of: p.as_of,
                })
            })
            .collect()
    }

    /// Every priced model id, sorted.
    pub fn model_ids(&self) -> impl Iterator<Item = &str> {
        let mut ids: Vec<&str> = BUILT_IN_BY_ID.keys().copied().chain(self.overrides.keys().map(String::as_str)).collect();
        ids.sort_unstable();
        ids.dedup();
        ids.into_iter()
    }

    /// A Logs Insights expression giving, for the record's `modelId`, the value `price_of` picks
    /// from the model's price, for the models in `models` (how: [`PricedIds::value_expression`]).
    pub fn insights_value_expression(&self, models: &[&str], region: &str, price_of: impl Fn(&Price) -> f64) -> String {
        self.priced_ids(models, region).value_expression(price_of)
    }

    /// The distinct priced ids of `models`, shortest first, with which shorter ids each one
    /// contains: worked out once for all four token kinds.
    fn priced_ids<'m>(&self, models: &[&'m str], region: &str) -> PricedIds<'m> {
        let mut ids: Vec<&str> = models.iter().map(|m| base_model_id(m)).collect();
        ids.sort_by_key(|id| (id.len(), *id));
        ids.dedup();
        let priced: Vec<(&str, Price)> = ids.into_iter().filter_map(|id| Some((id, self.price(id, region)?))).collect();
        // Ids are sorted by length, so only earlier ones can be inside a later one.
        let contains = (0..priced.len())
            .map(|i| (0..i).filter(|&j| contains_id(priced[i].0.as_bytes(), priced[j].0.as_bytes())).collect())
            .collect();
        PricedIds { priced, contains }
    }

    /// A Logs Insights expression for the estimated cost in USD of one invocation record, read
    /// after [`log_usage::insights_commands`] (its tier and 1-hour-write fields). Cache tokens are
    /// charged at the input price plus a per-model difference, so only models with their own
    /// cache prices add terms; 1-hour writes, counted in the record's one cache-write count too,
    /// add their difference to the 5-minute price; the tier multiplies the whole.
    pub fn insights_cost_expression(&self, models: &[&str], region: &str) -> String {
        let field = |k: TokenKind| format!("coalesce({}, 0)", k.log_field());
        let ids = self.priced_ids(models, region);
        let input = ids.value_expression(|p| p.input);
        let output = ids.value_expression(|p| p.output);
        let read_extra = ids.value_expression(|p| p.cache_read() - p.input);
        let write_extra = ids.value_expression(|p| p.cache_write() - p.input);
        let hour_extra = ids.value_expression(|p| p.cache_write_1h() - p.cache_write());
        let mut terms = vec![
            format!("({} + {} + {}) * ({input})", field(TokenKind::Input), field(TokenKind::CacheRead), field(TokenKind::CacheWrite)),
            format!("{} * ({output})", field(TokenKind::Output)),
        ];
        if read_extra != "0" {
            terms.push(format!("{} * ({read_extra})", field(TokenKind::CacheRead)));
        }
        if write_extra != "0" {
            terms.push(format!("{} * ({write_extra})", field(TokenKind::CacheWrite)));
        }
        if hour_extra != "0" {
            terms.push(format!("{} * ({hour_extra})", log_usage::INSIGHTS_HOUR_WRITES_FIELD));
        }
        format!("({}) / 1000{}", terms.join(" + "), self.insights_tier_factor())
    }

    /// ` * (1 - 0.5 * strcontains(service_tier, "flex") + ...)`: the tier's multiplier on the
    /// Standard price, one term per tier that differs from Standard; empty when none does.
    fn insights_tier_factor(&self) -> String {
        let mut factor = String::from("1");
        for tier in [ServiceTier::Flex, ServiceTier::Priority, ServiceTier::Reserved] {
            let d = self.tiers.of(tier) - 1.0;
            if d.abs() > 1e-15 {
                let sign = if d < 0.0 { '-' } else { '+' };
                factor.push_str(&format!(" {sign} {} * strcontains({}, \"{}\")", format_price(d.abs()), log_usage::INSIGHTS_TIER_FIELD, tier.as_str()));
            }
        }
        if factor == "1" {
            String::new()
        } else {
            format!(" * ({factor})")
        }
    }
}

/// Whether `needle` occurs in `hay`: a first-byte scan, cheaper than `str::contains` for ids a
/// few dozen bytes long (it is asked for every pair of priced models).
fn contains_id(hay: &[u8], needle: &[u8]) -> bool {
    let Some(&first) = needle.first() else { return true };
    needle.len() <= hay.len() && (0..=hay.len() - needle.len()).any(|i| hay[i] == first && &hay[i..i + needle.len()] == needle)
}

/// Priced ids of a query and which shorter ids each contains (see [`PriceTable::priced_ids`]).
struct PricedIds<'m> {
    priced: Vec<(&'m str, Price)>,
    contains: Vec<Vec<usize>>,
}

impl PricedIds<'_> {
    /// Logs Insights has no CASE, but `strcontains` returns 1 or 0, so the value is a sum of
    /// `strcontains(modelId, id) * v`, with models of equal value sharing one term. Where one id
    /// contains another (`x-v2` and `x-v2:1`), the longer id's term carries only the difference,
    /// so every id still sums to its own value.
    fn value_expression(&self, price_of: impl Fn(&Price) -> f64) -> String {
        let mut effective: Vec<(&str, f64)> = Vec::with_capacity(self.priced.len());
        for ((id, price), inside) in self.priced.iter().zip(&self.contains) {
            let contained: f64 = inside.iter().map(|&j| effective[j].1).sum();
            effective.push((id, price_of(price) - contained));
        }
        let mut groups: Vec<(f64, String, Vec<&str>)> = Vec::new();
        for (id, e) in effective.iter().filter(|(_, e)| e.abs() > 1e-15) {
            let v = format_price(e.abs());
            match groups.iter_mut().find(|(sign, value, _)| *value == v && sign.signum() == e.signum()) {
                Some((_, _, members)) => members.push(id),
                None => groups.push((*e, v, vec![id])),
            }
        }
        if groups.is_empty() {
            return "0".to_owned();
        }
        // Negative differences are subtracted, so the expression never needs a unary minus.
        let mut out = String::new();
        for (i, (sign, v, members)) in groups.iter().enumerate() {
            let tests: Vec<String> = members.iter().map(|id| format!("strcontains(modelId, \"{id}\")")).collect();
            let term = if tests.len() == 1 { format!("{} * {v}", tests[0]) } else { format!("({}) * {v}", tests.join(" + ")) };
            match (i, *sign < 0.0) {
                (0, false) => out.push_str(&term),
                (0, true) => out.push_str(&format!("0 - {term}")),
                (_, false) => out.push_str(&format!(" + {term}")),
                (_, true) => out.push_str(&format!(" - {term}")),
            }
        }
        out
    }

}

/// Which token count a price applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Input,
    Output,
    CacheRead,
    CacheWrite,
}

impl TokenKind {
    pub const ALL: [TokenKind; 4] = [TokenKind::Input, TokenKind::Output, TokenKind::CacheRead, TokenKind::CacheWrite];

    pub fn of(self, p: &Price) -> f64 {
        match self {
            TokenKind::Input => p.input,
            TokenKind::Output => p.output,
            TokenKind::CacheRead => p.cache_read(),
            TokenKind::CacheWrite => p.cache_write(),
        }
    }

    /// The invocation-log field holding this count.
    pub fn log_field(self) -> &'static str {
        match self {
            TokenKind::Input => "input.inputTokenCount",
            TokenKind::Output => "output.outputTokenCount",
            TokenKind::CacheRead => "input.cacheReadInputTokenCount",
            TokenKind::CacheWrite => "input.cacheWriteInputTokenCount",
        }
    }

    /// The `AWS/Bedrock` metric holding this count.
    pub fn metric(self) -> &'static str {
        match self {
            TokenKind::Input => "InputTokenCount",
            TokenKind::Output => "OutputTokenCount",
            TokenKind::CacheRead => "CacheReadInputTokens",
            TokenKind::CacheWrite => "CacheWriteInputTokens",
        }
    }
}

/// Prices printed without float noise (`0.00025`, not `0.00025000000000000006`).
pub fn format_price(p: f64) -> String {
    // Fast path: a non-negative price scaled to 10 decimals is an integer well inside f64's exact
    // range; rounding it gives the digits `{:.10}` gives unless the scaled value sits next to a
    // half, where the exact decimal expansion decides and the formatter is asked instead.
    let scaled = p * 1e10;
    if p >= 0.0 && scaled < 1e15 && ((scaled - scaled.floor()) - 0.5).abs() > 1e-6 {
        let units = scaled.round() as u64;
        let (whole, fraction) = (units / 10_000_000_000, units % 10_000_000_000);
        if fraction == 0 {
            return whole.to_string();
        }
        let digits = format!("{fraction:010}");
        return format!("{whole}.{}", digits.trim_end_matches('0'));
    }
    let s = format!("{:.10}", p);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s.is_empty() || s == "-" {
        "0".to_owned()
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_price_fast_path_matches_the_formatter() {
        let slow = |p: f64| {
            let s = format!("{p:.10}");
            let s = s.trim_end_matches('0').trim_end_matches('.').to_owned();
            if s.is_empty() || s == "-" { "0".to_owned() } else { s }
        };
        let mut p = 1e-11;
        while p < 2e4 {
            for x in [p, p * 0.9, p * 1.25, p * 0.1, p - p * 0.3] {
                assert_eq!(format_price(x), slow(x), "{x:e}");
            }
            p *= 1.0173;
        }
        for x in [0.0, 0.00006, 0.0008, 0.000035, 0.00000000005, 0.00000000015, 1.0, 12.5, -0.001] {
            assert_eq!(format_price(x), slow(x), "{x:e}");
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn hand_computed_costs() {
        let t = PriceTable::built_in();
        // Claude 3.5 Haiku: 1,000,000 in × $0.0008 + 200,000 out × $0.004 per 1K = $0.80 + $0.80.
        let haiku = t.price("anthropic.claude-3-5-haiku-20241022-v1:0", "us-east-1").unwrap();
        assert!(close(haiku.cost(&Tokens { input: 1_000_000, output: 200_000, ..Tokens::default() }), 1.60));
        // With caching: 100,000 cache reads at $0.00008 = $0.008; 10,000 writes at $0.001 = $0.01.
        let cached = Tokens { input: 0, output: 0, cache_read: 100_000, cache_write: 10_000, cache_write_1h: 0 };
        assert!(close(haiku.cost(&cached), 0.018));
        // Nova Pro: 50,000 in × $0.0008 + 10,000 out × $0.0032 = $0.04 + $0.032; 40,000 cache reads × $0.0002 = $0.008.
        let nova = t.price("us.amazon.nova-pro-v1:0", "us-east-1").unwrap();
        assert!(close(nova.cost(&Tokens { input: 50_000, output: 10_000, cache_read: 40_000, cache_write: 0, cache_write_1h: 0 }), 0.08));
        // Llama 3.1 8B: 3,000 in and 1,000 out at $0.00022 = $0.00088.
        let llama = t.price("arn:aws:bedrock:us-east-1::foundation-model/meta.llama3-1-8b-instruct-v1:0", "us-east-1").unwrap();
        assert!(close(llama.cost(&Tokens { input: 3_000, output: 1_000, ..Tokens::default() }), 0.00088));
        // Titan Text Lite has no cache price: cache tokens are charged like input.
        let titan = t.price("amazon.titan-text-lite-v1", "us-east-1").unwrap();
        assert!(close(titan.cost(&Tokens { cache_read: 1_000, ..Tokens::default() }), 0.00015));
    }

    #[test]
    fn overrides_regions_and_discounts() {
        let mut o = BTreeMap::new();
        o.insert("custom.my-model".to_owned(), Price { input: 0.01, output: 0.02, cache_read: None, cache_write: None, cache_write_1h: None, as_of: None });
        let mut eu = BTreeMap::new();
        eu.insert("amazon.nova-pro-v1:0".to_owned(), Price::new(0.001, 0.004));
        let mut regional = BTreeMap::new();
        regional.insert("eu-central-1".to_owned(), eu);
        let t = PriceTable::new(&o, &regional, 10.0);
        assert!(close(t.price("custom.my-model", "us-east-1").unwrap().input, 0.009));
        assert!(close(t.price("eu.amazon.nova-pro-v1:0", "eu-central-1").unwrap().output, 0.0036));
        assert!(close(t.price("amazon.nova-pro-v1:0", "us-east-1").unwrap().input, 0.00072));
        assert!(t.price("unknown.model", "us-east-1").is_none());
    }

    /// Evaluates a generated value expression the way Logs Insights would, for one modelId.
    fn eval(expr: &str, model_id: &str) -> f64 {
        if expr == "0" {
            return 0.0;
        }
        let mut total = 0.0;
        let mut depth = 0;
        let mut start = 0;
        let bytes: Vec<char> = expr.chars().collect();
        let mut terms = Vec::new();
        let mut sign = 1.0;
        for (i, c) in bytes.iter().enumerate() {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                '+' | '-' if depth == 0 && i > 0 && bytes[i - 1] == ' ' => {
                    terms.push((sign, bytes[start..i].iter().collect::<String>()));
                    sign = if *c == '-' { -1.0 } else { 1.0 };
                    start = i + 1;
                }
                _ => {}
            }
        }
        terms.push((sign, bytes[start..].iter().collect::<String>()));
        for (sign, term) in terms {
            if term.trim() == "0" {
                continue;
            }
            let (lhs, v) = term.trim().rsplit_once(" * ").unwrap();
            let v: f64 = sign * v.parse::<f64>().unwrap();
            let matches = lhs.split("strcontains(modelId, \"").skip(1).filter(|rest| model_id.contains(rest.split('"').next().unwrap())).count();
            total += v * matches as f64;
        }
        total
    }

    #[test]
    fn insights_expression_prices_every_model_even_when_ids_nest() {
        let mut o = BTreeMap::new();
        o.insert("vendor.model-v2".to_owned(), Price::new(0.001, 0.002));
        o.insert("vendor.model-v2:1".to_owned(), Price::new(0.005, 0.007));
        let t = PriceTable::new(&o, &NO_REGIONAL, 0.0);
        let models: Vec<&str> = t.model_ids().collect();
        for kind in TokenKind::ALL {
            let expr = t.insights_value_expression(&models, "us-east-1", |p| kind.of(p));
            for m in &models {
                let want = kind.of(&t.price(m, "us-east-1").unwrap());
                for form in [m.to_string(), format!("us.{m}"), format!("arn:aws:bedrock:us-east-1:1:inference-profile/eu.{m}")] {
                    assert!(close(eval(&expr, &form), want), "{kind:?} {form}: {} != {want}\n{expr}", eval(&expr, &form));
                }
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod cost_expression_tests {
    use super::*;

    #[test]
    fn cost_expression_matches_price_cost_for_every_built_in_model() {
        let t = PriceTable::built_in();
        let models: Vec<&str> = t.model_ids().collect();
        let expr = t.insights_cost_expression(&models, "us-east-1");
        // Leaves room in the 10,000-character Logs Insights limit for the rest of the query.
        assert!(expr.len() < 8000, "cost expression is {} characters", expr.len());
        let tokens = Tokens { input: 1234, output: 567, cache_read: 8901, cache_write: 234, cache_write_1h: 0 };
        for m in &models {
            // Substitute the counts and evaluate the expression's structure by hand: every
            // strcontains term is 1 for ids contained in the model id.
            let want = t.price(m, "us-east-1").unwrap().cost(&tokens);
            let got = evaluate_cost(&expr, m, &tokens);
            assert!((got - want).abs() < 1e-9, "{m}: {got} != {want}");
        }
    }

    #[test]
    fn cost_expression_prices_every_tier_and_both_cache_lifetimes() {
        let t = PriceTable::built_in();
        let models: Vec<&str> = t.model_ids().collect();
        let expr = t.insights_cost_expression(&models, "us-east-1");
        let tokens = Tokens { input: 1234, output: 567, cache_read: 8901, cache_write: 234, cache_write_1h: 4321 };
        for m in &models {
            for tier in ServiceTier::ALL {
                let logged = if tier == ServiceTier::Standard { "default" } else { tier.as_str() };
                let want = t.price_on(m, "us-east-1", tier).unwrap().cost(&tokens);
                let got = evaluate_cost_on(&expr, m, logged, &tokens);
                assert!((got - want).abs() < 1e-9, "{m} on {tier:?}: {got} != {want}");
            }
        }
        // Multipliers of 1 add no tier terms.
        let flat = TierMultipliers { flex: 1.0, priority: 1.0, reserved: 1.0, ..TierMultipliers::default() };
        assert!(!t.clone().with_tiers(flat).insights_cost_expression(&models, "us-east-1").contains("service_tier"));
    }

    #[test]
    fn cost_expression_prices_a_mapped_application_profile_as_its_model() {
        let profiles: BTreeMap<String, String> =
            [("arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/a1b2c3d4e5f6".to_owned(), "amazon.nova-pro-v1:0".to_owned())].into();
        let t = PriceTable::built_in().with_profiles(&profiles);
        let models = ["amazon.nova-lite-v1:0", "a1b2c3d4e5f6"];
        let expr = t.insights_cost_expression(&models, "us-east-1");
        let tokens = Tokens { input: 1000, output: 500, cache_read: 200, cache_write: 0, cache_write_1h: 0 };
        let arn = "arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/a1b2c3d4e5f6";
        let want = t.price("amazon.nova-pro-v1:0", "us-east-1").unwrap().cost(&tokens);
        assert!((evaluate_cost(&expr, arn, &tokens) - want).abs() < 1e-12, "{expr}");
        assert!((t.price(arn, "us-east-1").unwrap().cost(&tokens) - want).abs() < 1e-15);
        assert!(PriceTable::built_in().price(arn, "us-east-1").is_none(), "unmapped profiles have no price");
    }

    #[test]
    fn tiers_scale_every_price_and_metric_suffixes_name_the_tier() {
        let t = PriceTable::built_in();
        let std = t.price("amazon.nova-pro-v1:0", "us-east-1").unwrap();
        let flex = t.price("amazon.nova-pro-v1:0+flex", "us-east-1").unwrap();
        let prio = t.price_on("us.amazon.nova-pro-v1:0", "us-east-1", ServiceTier::Priority).unwrap();
        assert_eq!((flex.input, flex.output, flex.cache_read), (std.input * 0.5, std.output * 0.5, std.cache_read.map(|p| p * 0.5)));
        assert_eq!(prio.output, std.output * 1.75);
        assert_eq!(t.price_on("amazon.nova-pro-v1:0", "us-east-1", ServiceTier::Reserved).unwrap().cost(&Tokens { input: 9, ..Tokens::default() }), 0.0);
        // 1-hour writes: Anthropic 2 x input; without a 1-hour price, the 5-minute one.
        let haiku = t.price("anthropic.claude-3-5-haiku-20241022-v1:0", "us-east-1").unwrap();
        assert!((haiku.cost(&Tokens { cache_write_1h: 1000, ..Tokens::default() }) - 0.0016).abs() < 1e-15);
        let titan = t.price("amazon.titan-text-lite-v1", "us-east-1").unwrap();
        assert_eq!(titan.cache_write_1h(), titan.cache_write());
    }

    /// A tiny evaluator for the generated grammar: numbers, `+`, `-`, `*`, `/`, parentheses,
    /// `coalesce(field, 0)`, the 1-hour-write field, `strcontains(modelId, "id")` and
    /// `strcontains(service_tier, "tier")`, for a record of `model_id` on `tier` (the value
    /// [`log_usage::insights_commands`] sets) whose 5-minute and 1-hour writes are `t`'s.
    pub(crate) fn evaluate_cost_on(expr: &str, model_id: &str, tier: &str, t: &Tokens) -> f64 {
        let mut s = expr.to_owned();
        for (field, v) in [
            ("coalesce(input.inputTokenCount, 0)", t.input),
            ("coalesce(output.outputTokenCount, 0)", t.output),
            ("coalesce(input.cacheReadInputTokenCount, 0)", t.cache_read),
            // The record's one count holds writes of both lifetimes.
            ("coalesce(input.cacheWriteInputTokenCount, 0)", t.cache_write + t.cache_write_1h),
            (log_usage::INSIGHTS_HOUR_WRITES_FIELD, t.cache_write_1h),
        ] {
            s = s.replace(field, &v.to_string());
        }
        for (field, value) in [("modelId", model_id), (log_usage::INSIGHTS_TIER_FIELD, tier)] {
            let call = format!("strcontains({field}, \"");
            while let Some(start) = s.find(&call) {
                let rest = &s[start + call.len()..];
                let end = rest.find("\")").unwrap();
                let v = if value.contains(&rest[..end]) { "1" } else { "0" };
                s = format!("{}{}{}", &s[..start], v, &rest[end + 2..]);
            }
        }
        let tokens: Vec<char> = s.chars().filter(|c| !c.is_whitespace()).collect();
        let mut pos = 0;
        let v = parse_sum(&tokens, &mut pos);
        assert_eq!(pos, tokens.len(), "unparsed rest: {}", tokens[pos..].iter().collect::<String>());
        v
    }

    fn evaluate_cost(expr: &str, model_id: &str, t: &Tokens) -> f64 {
        evaluate_cost_on(expr, model_id, "default", t)
    }

    /// Sums and products of numbers and parentheses (also used by the invocation-rate tests).
    pub(crate) fn parse_sum(t: &[char], pos: &mut usize) -> f64 {
        let mut v = parse_product(t, pos);
        while *pos < t.len() && (t[*pos] == '+' || t[*pos] == '-') {
            let op = t[*pos];
            *pos += 1;
            let r = parse_product(t, pos);
            v = if op == '+' { v + r } else { v - r };
        }
        v
    }

    fn parse_product(t: &[char], pos: &mut usize) -> f64 {
        let mut v = parse_atom(t, pos);
        while *pos < t.len() && (t[*pos] == '*' || t[*pos] == '/') {
            let op = t[*pos];
            *pos += 1;
            let r = parse_atom(t, pos);
            v = if op == '*' { v * r } else { v / r };
        }
        v
    }

    fn parse_atom(t: &[char], pos: &mut usize) -> f64 {
        if t[*pos] == '(' {
            *pos += 1;
            let v = parse_sum(t, pos);
            *pos += 1;
            return v;
        }
        let start = *pos;
        while *pos < t.len() && (t[*pos].is_ascii_digit() || t[*pos] == '.') {
            *pos += 1;
        }
        t[start..*pos].iter().collect::<String>().parse().unwrap()
    }
}

/// What `bedrock-watch prices` prints: the table in use for one region, and with `check` the
/// prices older than `max_age_days` (or undated) on `today`. Pure: the caller passes the date,
/// so the same inputs give the same bytes.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PricesView {
    pub region: String,
    pub today: String,
    pub max_age_days: u32,
    pub rows: Vec<PriceRow>,
    /// Service-tier multipliers on the Standard prices, with their source and date.
    pub service_tiers: TierRow,
    /// Application inference profile (ARN or id) → the model it is priced as (`pricing.inference_profiles`).
    pub inference_profiles: BTreeMap<String, String>,
    /// One message per stale price (empty: all fresh).
    pub stale: Vec<String>,
}

/// The service-tier multipliers as `prices` shows them.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TierRow {
    pub standard: f64,
    pub flex: f64,
    pub priority: f64,
    pub reserved: f64,
    pub source: String,
    #[serde(serialize_with = "row_date")]
    pub as_of: Option<jiff::civil::Date>,
}

impl PricesView {
    pub fn new(table: &PriceTable<'_>, region: &str, today: jiff::civil::Date, max_age_days: u32) -> PricesView {
        let rows = table.rows(region);
        let t = table.tiers();
        let service_tiers = TierRow { standard: 1.0, flex: t.flex, priority: t.priority, reserved: t.reserved, source: t.source(), as_of: t.as_of };
        let tier_check = PriceRow {
            model: "service tier multipliers".to_owned(),
            region: region.to_owned(),
            input: 0.0,
            output: 0.0,
            cache_read: 0.0,
            cache_write: 0.0,
            cache_write_1h: 0.0,
            source: service_tiers.source.clone(),
            as_of: t.as_of,
        };
        let stale = rows.iter().chain(std::iter::once(&tier_check)).filter_map(|r| r.staleness(today, max_age_days)).collect();
        PricesView { region: region.to_owned(), today: today.to_string(), max_age_days, rows, service_tiers, inference_profiles: table.profiles().clone(), stale }
    }

    /// The table, prices in USD per 1,000 tokens, aligned columns.
    pub fn render(&self) -> String {
        let cells: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|r| {
                vec![
                    r.model.clone(),
                    format!("{:.6}", r.input),
                    format!("{:.6}", r.output),
                    format!("{:.6}", r.cache_read),
                    format!("{:.6}", r.cache_write),
                    format!("{:.6}", r.cache_write_1h),
                    r.as_of.map_or_else(|| "undated".to_owned(), |d| d.to_string()),
                    r.source.clone(),
                ]
            })
            .collect();
        let mut text = format!("{} price(s) in {}, USD per 1,000 tokens\n", self.rows.len(), self.region);
        text.push_str(&crate::quotas::admin::status::table(&["MODEL", "INPUT", "OUTPUT", "CACHE READ", "CACHE WRITE 5M", "CACHE WRITE 1H", "AS OF", "SOURCE"], &cells));
        text.push_str(&format!("built-in 1-hour cache writes of Anthropic models: {ANTHROPIC_1H_SOURCE}\n"));
        let t = &self.service_tiers;
        text.push_str("\nService tiers, price multiple of Standard\n");
        let tier_cells = vec![vec![
            "1".to_owned(),
            format_price(t.flex),
            format_price(t.priority),
            format_price(t.reserved),
            t.as_of.map_or_else(|| "undated".to_owned(), |d| d.to_string()),
            t.source.clone(),
        ]];
        text.push_str(&crate::quotas::admin::status::table(&["STANDARD", "FLEX", "PRIORITY", "RESERVED", "AS OF", "SOURCE"], &tier_cells));
        if self.inference_profiles.is_empty() {
            text.push_str("\nApplication inference profiles: none mapped (pricing.inference_profiles; `report` resolves the others with GetInferenceProfile)\n");
        } else {
            text.push_str(&format!("\nApplication inference profiles ({}), priced as their model\n", self.inference_profiles.len()));
            let cells: Vec<Vec<String>> = self.inference_profiles.iter().map(|(k, m)| vec![k.clone(), m.clone()]).collect();
            text.push_str(&crate::quotas::admin::status::table(&["PROFILE", "MODEL"], &cells));
        }
        text
    }

    /// The `--check` verdict: one line per stale price, or that all are fresh.
    pub fn render_check(&self) -> String {
        if self.stale.is_empty() {
            return format!("all {} price(s) in {} are at most {} days old on {}\n", self.rows.len() + 1, self.region, self.max_age_days, self.today);
        }
        // The service-tier multipliers are checked like one more price.
        let mut text = format!("{} of {} price(s) in {} are older than {} days on {} (or undated):\n", self.stale.len(), self.rows.len() + 1, self.region, self.max_age_days, self.today);
        for s in &self.stale {
            text.push_str(&format!("  {s}\n"));
        }
        text.push_str("update them in pricing.models / pricing.regions / pricing.service_tiers with a new as_of (https://aws.amazon.com/bedrock/pricing/), or raise pricing.max_age_days\n");
        text
    }
}

#[cfg(test)]
mod prices_view_tests {
    use super::*;
    use crate::config::Config;

    fn date(s: &str) -> jiff::civil::Date {
        s.parse().unwrap()
    }

    #[test]
    fn built_in_prices_carry_the_table_date_and_source() {
        let config = Config::default();
        let v = PricesView::new(&config.pricing.table(), "us-east-1", TABLE_DATE, 180);
        assert!(!v.rows.is_empty());
        assert!(v.rows.iter().all(|r| r.as_of == Some(TABLE_DATE) && r.source == format!("built-in: {TABLE_SOURCE}")));
        assert!(v.stale.is_empty(), "{:?}", v.stale);
        assert!(v.render().lines().nth(1).unwrap().starts_with("MODEL"));
    }

    #[test]
    fn old_and_undated_overrides_are_stale_fresh_ones_are_not() {
        let mut config = Config::default();
        let mut old = config.pricing.table().price("amazon.nova-lite-v1:0", "us-east-1").unwrap();
        old.as_of = Some(date("2025-01-01"));
        let mut undated = old.clone();
        undated.as_of = None;
        let mut fresh = old.clone();
        fresh.as_of = Some(date("2026-11-30"));
        config.pricing.models.insert("acme.old-v1".into(), old);
        config.pricing.models.insert("acme.undated-v1".into(), undated);
        config.pricing.models.insert("acme.fresh-v1".into(), fresh);
        let v = PricesView::new(&config.pricing.table(), "us-east-1", date("2026-12-02"), 180);
        assert_eq!(v.stale.len(), 2, "{:?}", v.stale);
        assert!(v.stale.iter().any(|s| s.starts_with("acme.old-v1 (us-east-1, config: pricing.models): as of 2025-01-01, 700 days old (limit 180)")), "{:?}", v.stale);
        assert!(v.stale.iter().any(|s| s.starts_with("acme.undated-v1") && s.ends_with("no as_of date")), "{:?}", v.stale);
        assert!(v.render_check().contains("2 of "), "{}", v.render_check());
        assert!(v.render().contains("undated"));
    }
}
