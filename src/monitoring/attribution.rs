//! Who used Bedrock and how much: Contributor Insights rules ranking callers and models, saved
//! Logs Insights queries with per-user tokens and cost, and per-caller metric filters for an
//! explicit, bounded list of principals. All read the invocation log group; the metrics carry no
//! user.

use crate::bedrock::identity;
use crate::bedrock::log_usage::{self, INSIGHTS_HOUR_WRITES_FIELD as HOUR, INSIGHTS_TIER_FIELD as TIER};
use crate::bedrock::pricing::TokenKind;
use crate::cfn::{CfnError, ResourceRef, Template};
use crate::cloudwatch::{Aggregate, InsightRule};
use crate::config::Config;
use crate::logs::{LogGroupRef, MetricFilter, QueryDefinition};

/// Namespace of the metrics the stack's metric filters publish.
pub const NAMESPACE: &str = "BedrockWatch/Attribution";
/// Logs Insights rejects longer queries.
pub const MAX_QUERY_LENGTH: usize = 10_000;

pub struct Attribution {
    pub rules: Vec<ResourceRef>,
    pub queries: Vec<ResourceRef>,
    pub filters: Vec<ResourceRef>,
}

/// The Contributor Insights rules: (logical id, name suffix, keys, summed field).
pub fn rule_specs() -> Vec<(&'static str, &'static str, Vec<&'static str>, Option<&'static str>)> {
    vec![
        ("TopCallersByInputTokensRule", "top-callers-input-tokens", vec!["$.identity.arn"], Some("$.input.inputTokenCount")),
        ("TopCallersByOutputTokensRule", "top-callers-output-tokens", vec!["$.identity.arn"], Some("$.output.outputTokenCount")),
        ("TopCallersByInvocationsRule", "top-callers-invocations", vec!["$.identity.arn"], None),
        ("TopModelsPerCallerRule", "top-models-per-caller", vec!["$.identity.arn", "$.modelId"], None),
    ]
}

/// Models whose prices go into the queries: the ones the config names, else the whole table.
pub fn priced_models(config: &Config) -> Vec<String> {
    let mut named: Vec<String> = config
        .models
        .iter()
        .chain(&config.alerts.models)
        .chain(&config.cost.models)
        .cloned()
        .chain(config.pricing.models.keys().cloned())
        .collect();
    if named.is_empty() {
        named = config.pricing.table().model_ids().map(str::to_owned).collect();
    }
    // A mapped application profile is priced by its id (`strcontains(modelId, "<id>")`).
    named.extend(config.pricing.inference_profiles.keys().map(|k| crate::bedrock::inference_profile::match_id(k).to_owned()));
    named.sort();
    named.dedup();
    named
}

/// `estimated cost in USD` of a record, as a Logs Insights expression.
pub fn cost_expression(config: &Config, region: &str) -> String {
    let models = priced_models(config);
    let refs: Vec<&str> = models.iter().map(String::as_str).collect();
    config.pricing.table().insights_cost_expression(&refs, region)
}

/// Room kept under [`MAX_QUERY_LENGTH`] for the row limit `bedrock-watch report` appends.
const REPORT_SUFFIX_ROOM: usize = 32;

/// `with_cost` when Logs Insights accepts it, else `without_cost`. Pricing each model in the
/// query costs characters per model; past a few dozen priced models the text passes Logs
/// Insights' limit, and the query keeps the token counts, which `bedrock-watch report` prices.
pub fn within_query_limit(with_cost: String, without_cost: impl FnOnce() -> String) -> (String, bool) {
    if with_cost.len() + REPORT_SUFFIX_ROOM <= MAX_QUERY_LENGTH {
        (with_cost, true)
    } else {
        (without_cost(), false)
    }
}

/// Logs Insights' maximum number of result rows.
pub const MAX_QUERY_ROWS: usize = 10_000;

/// The per-user query of `bedrock-watch report` and of the scheduled report: the saved
/// "tokens and estimated cost per user, model and day" query (same text, same identity rule)
/// with the row limit raised to the maximum. `Err` carries the length when it is too long.
pub fn per_user_report_query(config: &Config, region: &str) -> Result<String, usize> {
    let text = queries(config, region).into_iter().find(|(id, _, _)| *id == "TokensAndCostPerUserQuery").map(|(_, _, t)| t).unwrap_or_default();
    let q = format!("{text}\n| limit {MAX_QUERY_ROWS}");
    if q.len() > MAX_QUERY_LENGTH {
        return Err(q.len());
    }
    Ok(q)
}

/// `cache_write_tokens` counts writes of both lifetimes (the record's one count);
/// `cache_write_1h_tokens` the 1-hour ones among them.
const TOKEN_SUMS: &str = "count(*) as calls, sum(input.inputTokenCount) as input_tokens, sum(output.outputTokenCount) as output_tokens, sum(input.cacheReadInputTokenCount) as cache_read_tokens, sum(input.cacheWriteInputTokenCount) as cache_write_tokens, sum(cache_write_1h) as cache_write_1h_tokens";

/// The record's tier and 1-hour writes ([`log_usage::insights_commands`]), then `fields` with
/// `rest`: every query that prices or groups by tier starts so.
pub fn usage_fields(rest: &str) -> String {
    format!("{}\n| fields {rest}", log_usage::insights_commands())
}

/// The saved queries: (logical id, name, query text).
pub fn queries(config: &Config, region: &str) -> Vec<(&'static str, String, String)> {
    queries_pricing_with(config, region, &cost_expression(config, region))
}

/// [`queries`] with the region's [`cost_expression`] already worked out (the stack needs it
/// twice, and it is one of the longer strings to build).
pub fn queries_pricing_with(config: &Config, region: &str, cost: &str) -> Vec<(&'static str, String, String)> {
    let who = identity::insights_commands(config.attribution.sessions_are_people);
    let folder = format!("bedrock-watch/{}", config.stack_name_for(region));
    let (per_user, priced) = within_query_limit(
        format!(
            "{}\n| {who}\n| stats {TOKEN_SUMS}, sum(cost_usd) as estimated_cost_usd by principal, modelId, {TIER}, datefloor(@timestamp, 1d) as day\n| sort day desc, estimated_cost_usd desc",
            usage_fields(&format!("@timestamp, modelId, {TIER}, {HOUR}, {cost} as cost_usd"))
        ),
        || format!("{}\n| {who}\n| stats {TOKEN_SUMS} by principal, modelId, {TIER}, datefloor(@timestamp, 1d) as day\n| sort day desc, input_tokens desc", usage_fields(&format!("@timestamp, modelId, {TIER}, {HOUR}"))),
    );
    let per_user_name = if priced { "Tokens and estimated cost per user, model and day" } else { "Tokens per user, model and day (priced by bedrock-watch report)" };
    let mut q = vec![
        ("TokensAndCostPerUserQuery", format!("{folder}/{per_user_name}"), per_user),
        (
            "DailyTrendPerUserQuery",
            format!("{folder}/Daily tokens per user"),
            format!(
                "fields @timestamp\n| {who}\n| stats sum(input.inputTokenCount) as input_tokens, sum(output.outputTokenCount) as output_tokens, count(*) as calls by principal, datefloor(@timestamp, 1d) as day\n| sort principal asc, day asc"
            ),
        ),
        (
            "FirstAndLastCallPerUserQuery",
            format!("{folder}/First and last call per user"),
            format!("fields @timestamp, modelId\n| {who}\n| stats min(@timestamp) as first_call, max(@timestamp) as last_call, count(*) as calls by principal\n| sort last_call desc"),
        ),
    ];
    let keys = &config.attribution.request_metadata_keys;
    if !keys.is_empty() {
        let fields = keys.iter().map(|k| format!("requestMetadata.{k}")).collect::<Vec<_>>().join(", ");
        let (text, priced) = within_query_limit(
            format!(
                "{}\n| stats count(*) as calls, sum(input.inputTokenCount) as input_tokens, sum(output.outputTokenCount) as output_tokens, sum(cost_usd) as estimated_cost_usd by {fields}\n| sort estimated_cost_usd desc",
                usage_fields(&format!("@timestamp, {cost} as cost_usd"))
            ),
            || format!("fields @timestamp\n| stats count(*) as calls, sum(input.inputTokenCount) as input_tokens, sum(output.outputTokenCount) as output_tokens by {fields}\n| sort input_tokens desc"),
        );
        let name = if priced { "Calls and cost by request metadata" } else { "Calls and tokens by request metadata" };
        q.push(("CallsByRequestMetadataQuery", format!("{folder}/{name}"), text));
    }
    q
}

pub fn build(template: &mut Template, config: &Config, region: &str, log_group: &LogGroupRef, cost: &str) -> Result<Attribution, CfnError> {
    let mut out = Attribution { rules: Vec::new(), queries: Vec::new(), filters: Vec::new() };
    if !config.attribution.enabled {
        return Ok(out);
    }
    let stack = config.stack_name_for(region);
    for (id, suffix, keys, value_of) in rule_specs() {
        let aggregate = if value_of.is_some() { Aggregate::Sum } else { Aggregate::Count };
        let mut rule = InsightRule::new(id, format!("{stack}-{suffix}"), &keys, aggregate).log_group(log_group.name());
        if let Some(v) = value_of {
            rule = rule.value_of(v);
        }
        out.rules.push(rule.build(template)?);
    }
    for (id, name, text) in queries_pricing_with(config, region, cost) {
        if text.len() > MAX_QUERY_LENGTH {
            return Err(CfnError::invalid(
                "monitoring::attribution",
                format!("query `{name}` is {} characters, over Logs Insights' {MAX_QUERY_LENGTH}; list fewer keys under `attribution.request_metadata_keys`", text.len()),
            ));
        }
        out.queries.push(QueryDefinition::new(id, name, text).log_group(log_group).build(template)?);
    }
    // One filter pair per group of principals whose pattern fits CloudWatch Logs' limit.
    for (group, principals) in principal_groups(&config.attribution.tracked_principals).iter().enumerate() {
        let pattern = tracked_pattern(principals);
        for (kind, metric) in [(TokenKind::Input, "InputTokens"), (TokenKind::Output, "OutputTokens")] {
            let suffix = if group == 0 { String::new() } else { (group + 1).to_string() };
            let filter = MetricFilter::new(format!("Tracked{metric}Filter{suffix}"), log_group, &pattern, NAMESPACE, metric, &format!("$.{}", kind.log_field()))
                .dimension("Principal", "$.identity.arn");
            out.filters.push(filter.build(template)?);
        }
    }
    Ok(out)
}

/// Longest metric-filter pattern CloudWatch Logs accepts.
pub const MAX_FILTER_PATTERN: usize = 1024;

/// `{ ($.identity.arn = "a") || ($.identity.arn = "b") }`.
pub fn tracked_pattern(principals: &[&str]) -> String {
    format!("{{ {} }}", principals.iter().map(|arn| format!("($.identity.arn = \"{arn}\")")).collect::<Vec<_>>().join(" || "))
}

/// Splits the tracked principals into groups whose filter pattern fits the limit.
pub fn principal_groups(principals: &[String]) -> Vec<Vec<&str>> {
    let mut groups: Vec<Vec<&str>> = Vec::new();
    for p in principals {
        let fits = groups.last().is_some_and(|g| {
            let mut candidate = g.clone();
            candidate.push(p);
            tracked_pattern(&candidate).len() <= MAX_FILTER_PATTERN
        });
        match groups.last_mut() {
            Some(g) if fits => g.push(p),
            _ => groups.push(vec![p]),
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bedrock::pricing::Price;

    fn per_user(config: &Config) -> (String, String) {
        let (_, name, text) = queries(config, "us-east-1").into_iter().find(|(id, ..)| *id == "TokensAndCostPerUserQuery").unwrap();
        (name, text)
    }

    #[test]
    fn per_user_query_prices_in_logs_insights_while_it_fits() {
        let (name, text) = per_user(&Config::default());
        assert!(name.ends_with("Tokens and estimated cost per user, model and day"), "{name}");
        assert!(text.contains("sum(cost_usd) as estimated_cost_usd") && text.len() <= MAX_QUERY_LENGTH);

        let mut many = Config::default();
        for i in 0..300 {
            many.pricing.models.insert(format!("vendor.model-{i:03}-v1:0"), Price { input: 0.001 * f64::from(i % 3 + 1), output: 0.005, cache_read: None, cache_write: None, cache_write_1h: None, as_of: None });
        }
        let (name, text) = per_user(&many);
        assert!(name.ends_with("(priced by bedrock-watch report)"), "{name}");
        assert!(!text.contains("cost_usd") && text.contains("sum(input.inputTokenCount) as input_tokens"), "{text}");
        assert!(text.len() <= MAX_QUERY_LENGTH);
    }
}
