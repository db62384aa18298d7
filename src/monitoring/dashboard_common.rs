//! What the dashboards share: the header that says what a dashboard is for and links to the
//! others, and the models priced on cost widgets.

use crate::bedrock::pricing::TokenKind;
use crate::cloudwatch::dashboard::mantle_per_model;
use crate::cloudwatch::{MetricSource, Stat, Widget};
use crate::config::Config;

/// The dashboards of the config, as (name, what it is for), operations first.
pub fn dashboard_index(config: &Config) -> Vec<(&str, &'static str)> {
    let d = &config.dashboards;
    let mut out = Vec::new();
    if config.dashboard.enabled {
        out.push((config.dashboard.name.as_str(), "technical operations"));
    }
    if d.management.enabled {
        out.push((d.management.name.as_str(), "management"));
    }
    if d.security.enabled {
        out.push((d.security.name.as_str(), "security"));
    }
    if d.cost.enabled {
        out.push((d.cost.name.as_str(), "cost and usage"));
    }
    out
}

/// A text widget: the dashboard's purpose, then links to the other dashboards.
pub fn header(config: &Config, name: &str, title: &str, purpose: &str) -> Widget {
    let links: Vec<String> = dashboard_index(config)
        .into_iter()
        .filter(|(n, _)| *n != name)
        .map(|(n, what)| format!("[{what}](#dashboards:name={n})"))
        .collect();
    let mut text = format!("# {title}\n{purpose}");
    if !links.is_empty() {
        text.push_str(&format!("\n\nOther dashboards: {}", links.join(" · ")));
    }
    Widget::text(text).size(24, 3)
}

/// The most listed models the dashboards draw and price one by one. Past this a graph of 50
/// lines no longer reads, and pricing costs metrics per model (a widget holds 500) and template
/// bytes (1 MB from S3); graphs then show every model through SEARCH, and per-model and
/// per-user cost come from `bedrock-watch report`, which prices any number of models.
pub const MAX_MODELS_DRAWN: usize = 50;

/// Whether the config lists more models than the dashboards draw one by one.
pub fn too_many_models(config: &Config) -> bool {
    config.models.len() > MAX_MODELS_DRAWN
}

/// Models priced on cost widgets: the configured list, else the whole price table; `None` when
/// the list is longer than [`MAX_MODELS_DRAWN`]. Without a list only input and output tokens
/// are priced, to keep the dashboard body small.
pub fn cost_models(config: &Config) -> Option<(Vec<String>, Vec<TokenKind>)> {
    if too_many_models(config) {
        None
    } else if config.models.is_empty() {
        Some((config.pricing.table().model_ids().map(str::to_owned).collect(), vec![TokenKind::Input, TokenKind::Output]))
    } else {
        Some((config.models.clone(), TokenKind::ALL.to_vec()))
    }
}

/// Estimated cost of all cost models over `period`, as one series (`None`: see [`cost_models`]).
pub fn total_cost(config: &Config, region: &str, period: u32, label: &str) -> Option<MetricSource> {
    let (models, kinds) = cost_models(config)?;
    Some(super::cost::estimated_cost(config, region, &models, &kinds, period, label))
}

/// The running total of a cost series (spend so far in the period shown).
pub fn running_sum(cost: MetricSource) -> MetricSource {
    match cost {
        MetricSource::Math { expression, inputs, label, period } => MetricSource::Math { expression: format!("RUNNING_SUM({expression})"), inputs, label, period },
        other => other,
    }
}

/// What a dashboard shows instead of estimated-cost graphs when the model list is too long.
pub fn cost_elsewhere(config: &Config) -> Widget {
    Widget::text(format!(
        "`models` lists {} models, more than the {MAX_MODELS_DRAWN} the dashboards price one by one. Estimated cost per model and per user: `bedrock-watch report`. The bill: the AWS Budgets budget (`cost.monthly_budget_usd`).",
        config.models.len()
    ))
    .size(24, 2)
}

/// Tokens of the bedrock-mantle endpoint by model, labelled unattributed: those calls are not in
/// the invocation logs and their metrics carry no principal, so no per-user view or quota
/// counts them (README "What can bypass a quota").
pub fn mantle_tokens(title: String, period: u32, per: &str) -> Widget {
    Widget::graph(
        title,
        vec![mantle_per_model("TotalInputTokens", Stat::Sum, period), mantle_per_model("TotalOutputTokens", Stat::Sum, period)],
    )
    .stacked()
    .y_label(format!("Tokens / {per}, no principal"))
}
