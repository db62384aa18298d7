//! What it costs: estimated-cost metric math (tokens × price per model), alarms on estimated cost
//! per hour and per day, and an AWS Budgets budget on Amazon Bedrock spend.

use crate::bedrock::pricing::TokenKind;
use crate::budgets::budget::NotificationKind;
use crate::budgets::Budget;
use crate::cfn::{CfnError, Template};
use crate::cloudwatch::{Alarm, AlarmRef, Metric, MetricSource, Query, Stat};
use crate::config::Config;
use crate::sns::TopicRef;

/// Estimated cost in USD of `models` over `period` seconds: Σ tokens × price / 1000 for each
/// model and token kind in `kinds`. Each model and kind is one metric.
pub fn estimated_cost(config: &Config, region: &str, models: &[String], kinds: &[TokenKind], period: u32, label: &str) -> MetricSource {
    let table = config.pricing.table();
    let mut inputs = Vec::new();
    let mut terms = Vec::new();
    for model in models {
        let Some(price) = table.price(model, region) else { continue };
        for kind in kinds {
            let id = format!("m{}", inputs.len() + 1);
            terms.push(format!("FILL({id}, 0) * {}", crate::bedrock::pricing::format_price(kind.of(&price))));
            inputs.push((id, Query::Metric(Metric::bedrock(kind.metric()).model(model).stat(Stat::Sum).period(period))));
        }
    }
    let expression = if terms.is_empty() { "0".to_owned() } else { format!("({}) / 1000", terms.join(" + ")) };
    MetricSource::Math { expression, inputs, label: label.to_owned(), period }
}

pub fn alarms(template: &mut Template, config: &Config, region: &str, topic: &TopicRef) -> Result<Vec<AlarmRef>, CfnError> {
    let c = &config.cost;
    let stack = config.stack_name_for(region);
    let models = c.models.join(", ");
    let mut out = Vec::new();
    for (id, slug, period, limit, what) in [
        ("EstimatedHourlyCostAlarm", "estimated-hourly-cost", 3600u32, c.hourly_limit_usd, "per hour"),
        ("EstimatedDailyCostAlarm", "estimated-daily-cost", 86_400, c.daily_limit_usd, "per day"),
    ] {
        let Some(limit) = limit else { continue };
        let source = estimated_cost(config, region, &c.models, &[TokenKind::Input, TokenKind::Output], period, &format!("Estimated cost {what} ({models})"));
        let alarm = Alarm::new(id, source, limit)
            .alarm_name(format!("{stack}-{slug}"))
            .unit("USD")
            .runbook("Estimated from input and output tokens at the configured prices (cache tokens not included). Check the per-user cost query to see who drives it.")
            .notify(topic)
            .build(template)?;
        out.push(alarm);
    }
    Ok(out)
}

/// The monthly budget on Amazon Bedrock spend (primary region only: budgets are account-wide).
pub fn budget(template: &mut Template, config: &Config, topic: &TopicRef) -> Result<(), CfnError> {
    let Some(limit) = config.cost.monthly_budget_usd else { return Ok(()) };
    Budget::monthly("BedrockBudget", format!("{}-bedrock-monthly", config.stack_name), "Amazon Bedrock", limit)
        .notify_at(NotificationKind::Actual, 80.0)
        .notify_at(NotificationKind::Forecasted, 100.0)
        .topic(topic)
        .emails(&config.alerts.emails)
        .build(template)?;
    Ok(())
}
