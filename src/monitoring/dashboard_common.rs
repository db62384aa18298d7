//! What the dashboards share: the header that says what a dashboard is for and links to the
//! others, and the models priced on cost widgets.

use crate::bedrock::pricing::TokenKind;
use crate::cloudwatch::{MetricSource, Widget};
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

/// Models priced on cost widgets: the configured list, else the whole price table. Without a
/// list only input and output tokens are priced, to keep the dashboard body small.
pub fn cost_models(config: &Config) -> (Vec<String>, Vec<TokenKind>) {
    if config.models.is_empty() {
        (config.pricing.table().model_ids().map(str::to_owned).collect(), vec![TokenKind::Input, TokenKind::Output])
    } else {
        (config.models.clone(), TokenKind::ALL.to_vec())
    }
}

/// Estimated cost of all cost models over `period`, as one series.
pub fn total_cost(config: &Config, region: &str, period: u32, label: &str) -> MetricSource {
    let (models, kinds) = cost_models(config);
    super::cost::estimated_cost(config, region, &models, &kinds, period, label)
}
