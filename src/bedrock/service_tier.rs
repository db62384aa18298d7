//! Bedrock's on-demand service tiers and what each costs relative to Standard.
//!
//! A call runs on the Standard tier unless it asks for another (`serviceTier: {type: "flex"}` in
//! a Converse request, the `X-Amzn-Bedrock-Service-Tier` header of InvokeModel). The tier that
//! served a call is in the API response (Converse: `serviceTier.type`, "priority | default | flex
//! | reserved", https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ServiceTier.html),
//! and CloudWatch publishes the metrics of Priority and Flex calls "under model-id+priority and
//! model-id+flex" (https://docs.aws.amazon.com/bedrock/latest/userguide/service-tiers-inference.html).
//! The pricing page gives Flex "a pricing discount" and Priority "a price premium over standard
//! on-demand pricing"; the factors are configuration (`pricing.service_tiers`) with the defaults
//! below, dated like every other price.

/// The date the default multipliers were set, and where they come from.
pub const TIERS_DATE: jiff::civil::Date = jiff::civil::date(2026, 12, 7);
pub const TIERS_SOURCE: &str = "https://aws.amazon.com/bedrock/pricing/ (Priority and Flex columns: Priority 1.75 x and Flex 0.5 x Standard for the models offering them; not checked against the page by bedrock-watch, confirm for your models)";

/// Default price multipliers: Flex half of Standard, Priority 1.75 × Standard. Reserved capacity
/// is billed per reserved tokens-per-minute and month, not per token, so its calls add nothing.
pub const DEFAULT_FLEX: f64 = 0.5;
pub const DEFAULT_PRIORITY: f64 = 1.75;
pub const DEFAULT_RESERVED: f64 = 0.0;

/// The tier that served a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ServiceTier {
    #[default]
    Standard,
    Flex,
    Priority,
    Reserved,
}

impl ServiceTier {
    pub const ALL: [ServiceTier; 4] = [ServiceTier::Standard, ServiceTier::Flex, ServiceTier::Priority, ServiceTier::Reserved];

    /// The API's `serviceTier.type` (`default` is Standard); `None` for anything else.
    pub fn parse(text: &str) -> Option<ServiceTier> {
        match text.trim().to_ascii_lowercase().as_str() {
            "default" | "standard" => Some(ServiceTier::Standard),
            "flex" => Some(ServiceTier::Flex),
            "priority" => Some(ServiceTier::Priority),
            "reserved" => Some(ServiceTier::Reserved),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ServiceTier::Standard => "standard",
            ServiceTier::Flex => "flex",
            ServiceTier::Priority => "priority",
            ServiceTier::Reserved => "reserved",
        }
    }
}

/// A CloudWatch `ModelId` of a Priority or Flex call (`<model>+flex`) split into the model and
/// its tier; any other id is returned whole with no tier. `+reserved` is not CloudWatch's but
/// [`with_tier_suffix`]'s, for reserved calls read from the invocation logs.
pub fn split_tier_suffix(model_id: &str) -> (&str, Option<ServiceTier>) {
    for tier in [ServiceTier::Flex, ServiceTier::Priority, ServiceTier::Reserved] {
        if let Some(m) = model_id.strip_suffix(tier.as_str()).and_then(|m| m.strip_suffix('+')) {
            return (m, Some(tier));
        }
    }
    (model_id, None)
}

/// `model` keyed by its tier the way CloudWatch names Flex and Priority series (`<model>+flex`),
/// so that sums of log rows price through the same [`split_tier_suffix`]; Standard keeps the id.
pub fn with_tier_suffix(model: &str, tier: ServiceTier) -> String {
    match tier {
        ServiceTier::Standard => model.to_owned(),
        other => format!("{model}+{}", other.as_str()),
    }
}

/// `pricing.service_tiers`: multipliers on the Standard price. A value left out keeps its default;
/// the set's date is the config's `as_of` once any value is configured, else [`TIERS_DATE`].
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct TierSettings {
    /// Flex price as a multiple of Standard (default 0.5).
    pub flex: Option<f64>,
    /// Priority price as a multiple of Standard (default 1.75).
    pub priority: Option<f64>,
    /// Reserved-tier calls per token (default 0: reserved capacity is billed per reservation).
    pub reserved: Option<f64>,
    /// When these multipliers were taken from their source (`YYYY-MM-DD`).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "super::pricing::as_of_serde")]
    #[schemars(with = "Option<String>")]
    pub as_of: Option<jiff::civil::Date>,
}

/// The multipliers in effect.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct TierMultipliers {
    pub flex: f64,
    pub priority: f64,
    pub reserved: f64,
    #[serde(serialize_with = "super::pricing::row_date")]
    pub as_of: Option<jiff::civil::Date>,
    /// `built-in` or `config`.
    #[serde(skip)]
    pub configured: bool,
}

impl Default for TierMultipliers {
    fn default() -> Self {
        TierMultipliers { flex: DEFAULT_FLEX, priority: DEFAULT_PRIORITY, reserved: DEFAULT_RESERVED, as_of: Some(TIERS_DATE), configured: false }
    }
}

impl TierSettings {
    pub fn multipliers(&self) -> TierMultipliers {
        let configured = self.flex.is_some() || self.priority.is_some() || self.reserved.is_some();
        TierMultipliers {
            flex: self.flex.unwrap_or(DEFAULT_FLEX),
            priority: self.priority.unwrap_or(DEFAULT_PRIORITY),
            reserved: self.reserved.unwrap_or(DEFAULT_RESERVED),
            as_of: if configured { self.as_of } else { self.as_of.or(Some(TIERS_DATE)) },
            configured,
        }
    }
}

impl TierMultipliers {
    /// The multiplier of `tier` (Standard is 1).
    pub fn of(&self, tier: ServiceTier) -> f64 {
        match tier {
            ServiceTier::Standard => 1.0,
            ServiceTier::Flex => self.flex,
            ServiceTier::Priority => self.priority,
            ServiceTier::Reserved => self.reserved,
        }
    }

    /// `built-in: <url>` or `config: pricing.service_tiers`.
    pub fn source(&self) -> String {
        if self.configured { "config: pricing.service_tiers".to_owned() } else { format!("built-in: {TIERS_SOURCE}") }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_api_values_and_the_metric_suffix() {
        assert_eq!(ServiceTier::parse("default"), Some(ServiceTier::Standard));
        assert_eq!(ServiceTier::parse("FLEX"), Some(ServiceTier::Flex));
        assert_eq!(ServiceTier::parse("priority"), Some(ServiceTier::Priority));
        assert_eq!(ServiceTier::parse("reserved"), Some(ServiceTier::Reserved));
        assert_eq!(ServiceTier::parse("batch"), None);
        assert_eq!(split_tier_suffix("openai.gpt-oss-120b-1:0+flex"), ("openai.gpt-oss-120b-1:0", Some(ServiceTier::Flex)));
        assert_eq!(split_tier_suffix("amazon.nova-pro-v1:0+priority"), ("amazon.nova-pro-v1:0", Some(ServiceTier::Priority)));
        assert_eq!(split_tier_suffix("amazon.nova-pro-v1:0"), ("amazon.nova-pro-v1:0", None));
        assert_eq!(split_tier_suffix("vendor.flex"), ("vendor.flex", None), "only a +tier suffix is a tier");
        for tier in ServiceTier::ALL {
            let keyed = with_tier_suffix("amazon.nova-pro-v1:0", tier);
            assert_eq!(split_tier_suffix(&keyed), ("amazon.nova-pro-v1:0", (tier != ServiceTier::Standard).then_some(tier)));
        }
    }

    #[test]
    fn configured_multipliers_replace_defaults_and_carry_their_own_date() {
        let d = TierSettings::default().multipliers();
        assert_eq!((d.flex, d.priority, d.reserved, d.as_of, d.configured), (0.5, 1.75, 0.0, Some(TIERS_DATE), false));
        assert_eq!(d.of(ServiceTier::Standard), 1.0);
        let c = TierSettings { flex: Some(0.6), ..TierSettings::default() }.multipliers();
        assert_eq!((c.flex, c.priority, c.as_of, c.configured), (0.6, 1.75, None, true), "a configured set without as_of is undated");
        assert_eq!(c.source(), "config: pricing.service_tiers");
    }
}
