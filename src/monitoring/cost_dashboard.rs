//! The cost and usage dashboard: estimated cost per model and day, cost per 1,000 requests, top
//! users by estimated cost, spend against the budget, and what prompt caching saved.

use crate::bedrock::pricing::{format_price, TokenKind};
use crate::cfn::Value;
use crate::cloudwatch::dashboard::bedrock_per_model;
use crate::cloudwatch::metric::bedrock_sum_all_models;
use crate::cloudwatch::{Dashboard, Metric, MetricSource, Query, Stat, Widget};
use crate::config::Config;

use super::dashboard_common::{cost_elsewhere, cost_models, header, running_sum};

const DAY: u32 = 86_400;

/// Cache savings of one model per period: cache-read tokens × (input − cache-read price) / 1000.
fn cache_savings(config: &Config, region: &str, model: &str) -> Option<MetricSource> {
    let price = config.pricing.table().price(model, region)?;
    let saving = price.input - price.cache_read();
    (saving > 0.0).then(|| MetricSource::Math {
        expression: format!("FILL(r, 0) * {} / 1000", format_price(saving)),
        inputs: vec![("r".into(), Query::Metric(Metric::bedrock(TokenKind::CacheRead.metric()).model(model).stat(Stat::Sum).period(DAY)))],
        label: format!("{model} (USD)"),
        period: DAY,
    })
}

/// Estimated cost per model per day, per 1,000 requests, against the budget, and what caching
/// saved, for the priced `models`.
fn priced_widgets(config: &Config, region: &str, models: &[String], kinds: &[TokenKind], title: &dyn Fn(&str) -> String) -> Vec<Widget> {
    let per_model: Vec<MetricSource> = models
        .iter()
        .filter(|m| !config.models.is_empty() || config.pricing.table().price(m, region).is_some())
        .map(|m| super::cost::estimated_cost(config, region, std::slice::from_ref(m), kinds, DAY, &format!("{m} (USD)")))
        .collect();
    let savings: Vec<MetricSource> = models.iter().filter_map(|m| cache_savings(config, region, m)).collect();
    let mut widgets = vec![Widget::graph(title("Estimated cost per model per day"), per_model).stacked().y_label("USD / day").size(24, 7)];
    if config.models.is_empty() {
        // Every priced model is on the graph above; repeating all of them in derived graphs
        // would multiply the dashboard's size. A model list enables them.
        widgets.push(Widget::text("List the models you use under `models` in the config to add cost per 1,000 requests and spend against the budget.").size(24, 2));
    } else {
        let total = |label: &str| super::cost::estimated_cost(config, region, models, kinds, DAY, label);
        let per_thousand = match total("Estimated cost per 1,000 requests, USD") {
            MetricSource::Math { expression, mut inputs, label, period } => {
                inputs.push(("inv".into(), bedrock_sum_all_models("Invocations", Stat::Sum, DAY)));
                MetricSource::Math { expression: format!("1000 * ({expression}) / inv"), inputs, label, period }
            }
            other => other,
        };
        widgets.push(Widget::graph(title("Estimated cost per 1,000 requests"), vec![per_thousand]).y_label("USD"));
        let mut budget = Widget::graph(title("Spend against the budget"), vec![running_sum(total("Estimated spend, running total, USD"))]).y_label("USD");
        if let Some(limit) = config.cost.monthly_budget_usd {
            budget = budget.threshold_line("Monthly budget", limit);
        }
        widgets.push(budget);
    }
    if !savings.is_empty() {
        widgets.push(Widget::graph(title("Saved by prompt caching"), savings).stacked().y_label("USD / day"));
    }
    widgets
}

/// `primary_cost` is the primary region's per-record cost expression
/// ([`super::attribution::cost_expression`]), which the stack has already built.
pub fn dashboard(config: &Config, log_group: &Value, primary_cost: &str) -> Dashboard {
    let c = &config.dashboards.cost;
    let mut d = Dashboard::new("CostDashboard", c.name.as_str()).widget(header(
        config,
        &c.name,
        &format!("Bedrock cost and usage: {}", config.project),
        "Estimated from token counts at the configured prices (USD); the bill is the authority. Per-user cost comes from the invocation logs.",
    ));
    let primary = config.primary_region();
    let priced = cost_models(config);
    for region in &config.regions {
        let title = |t: &str| if config.regions.len() == 1 { t.to_owned() } else { format!("{t} ({region})") };
        let mut widgets = match &priced {
            Some((models, kinds)) => priced_widgets(config, region, models, kinds, &title),
            // Tokens by model still show who uses what; the prices are left to `report`.
            None => vec![
                cost_elsewhere(config),
                Widget::graph(
                    title("Input and output tokens per model per day"),
                    vec![bedrock_per_model("InputTokenCount", Stat::Sum, DAY), bedrock_per_model("OutputTokenCount", Stat::Sum, DAY)],
                )
                .stacked()
                .y_label("Tokens / day")
                .size(24, 7),
            ],
        };
        widgets.push(super::dashboard_common::mantle_tokens(title("Unattributed (Mantle): bedrock-mantle tokens per model per day"), DAY, "day"));
        if config.attribution.enabled {
            let group = if region == primary { log_group.clone() } else { Value::str(config.logging.log_group_name.as_str()) };
            let who = crate::bedrock::identity::insights_commands(config.attribution.sessions_are_people);
            let (query, priced) = super::attribution::within_query_limit(
                format!(
                    "{}\n| {who}\n| stats sum(cost_usd) as estimated_cost_usd, count(*) as calls by principal\n| sort estimated_cost_usd desc\n| limit 20",
                    super::attribution::usage_fields(&format!(
                        "{} as cost_usd",
                        if region == primary { primary_cost.to_owned() } else { super::attribution::cost_expression(config, region) }
                    ))
                ),
                || format!("fields coalesce(input.inputTokenCount, 0) + coalesce(output.outputTokenCount, 0) as tokens\n| {who}\n| stats sum(tokens) as total_tokens, count(*) as calls by principal\n| sort total_tokens desc\n| limit 20"),
            );
            let top = if priced { "Top users by estimated cost" } else { "Top users by tokens" };
            widgets.push(Widget::logs(title(top), vec![group], query));
        }
        for w in widgets {
            d = d.widget(w.in_region(region));
        }
    }
    d
}
