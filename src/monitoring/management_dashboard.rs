//! The management dashboard: is Bedrock used, by how many people, reliably, fast enough, and
//! what does it cost. Daily trends; success rate against the SLA; latency against its target;
//! estimated spend per day and accumulated.

use crate::cloudwatch::metric::bedrock_sum_all_models;
use crate::cloudwatch::{Dashboard, MetricSource, Stat, Widget};
use crate::config::Config;

use super::dashboard_common::{cost_elsewhere, header, running_sum, total_cost};

const DAY: u32 = 86_400;
const HOUR: u32 = 3600;

fn math(expression: &str, inputs: Vec<(&str, crate::cloudwatch::Query)>, label: &str, period: u32) -> MetricSource {
    MetricSource::Math {
        expression: expression.to_owned(),
        inputs: inputs.into_iter().map(|(id, q)| (id.to_owned(), q)).collect(),
        label: label.to_owned(),
        period,
    }
}

pub fn dashboard(config: &Config) -> Dashboard {
    let m = &config.dashboards.management;
    let mut d = Dashboard::new("ManagementDashboard", m.name.as_str()).widget(header(
        config,
        &m.name,
        &format!("Bedrock for management: {}", config.project),
        "Adoption, reliability, speed and estimated spend, per day. Figures cover every model; costs are estimates from token counts and the configured prices.",
    ));
    for region in &config.regions {
        let title = |t: &str| if config.regions.len() == 1 { t.to_owned() } else { format!("{t} ({region})") };
        let invocations = math("i", vec![("i", bedrock_sum_all_models("Invocations", Stat::Sum, DAY))], "Invocations per day", DAY);
        let tokens = math(
            "FILL(a, 0) + FILL(b, 0)",
            vec![("a", bedrock_sum_all_models("InputTokenCount", Stat::Sum, DAY)), ("b", bedrock_sum_all_models("OutputTokenCount", Stat::Sum, DAY))],
            "Tokens per day",
            DAY,
        );
        let success = math(
            crate::cloudwatch::invocation_rates::SUCCESS_PERCENT.0,
            vec![
                ("i", bedrock_sum_all_models("Invocations", Stat::Sum, HOUR)),
                ("c", bedrock_sum_all_models("InvocationClientErrors", Stat::Sum, HOUR)),
                ("s", bedrock_sum_all_models("InvocationServerErrors", Stat::Sum, HOUR)),
            ],
            "Success rate, %",
            HOUR,
        );
        let latency = math("l", vec![("l", bedrock_sum_all_models("InvocationLatency", Stat::Average, HOUR))], "Average latency, ms (mean of models)", HOUR);
        let mut widgets = vec![
            Widget::graph(title("Invocations per day"), vec![invocations]).y_label("Invocations"),
            Widget::graph(title("Tokens per day (input + output)"), vec![tokens]).y_label("Tokens"),
        ];
        if config.attribution.enabled {
            let rule = format!("{}-top-callers-invocations", config.stack_name_for(region));
            let users = MetricSource::Math {
                expression: format!("INSIGHT_RULE_METRIC('{rule}', 'UniqueContributors')"),
                inputs: Vec::new(),
                label: "Active callers".into(),
                period: DAY,
            };
            widgets.push(Widget::graph(title("Active callers per day"), vec![users]).y_label("Callers"));
        }
        widgets.push(Widget::graph(title("Success rate against the SLA"), vec![success]).y_label("%").threshold_line("SLA", m.sla_success_percent));
        widgets.push(Widget::graph(title("Average latency against the target"), vec![latency]).y_label("ms").threshold_line("Target", m.latency_target_ms as f64));
        match total_cost(config, region, DAY, "Estimated spend per day, USD") {
            None => widgets.push(cost_elsewhere(config)),
            Some(spend) => {
                widgets.push(Widget::graph(title("Estimated spend per day"), vec![spend]).y_label("USD"));
                // Without a model list every priced model is on the graph; a second copy for the
                // running total would double the dashboard's size for little.
                if let Some(cumulative) = total_cost(config, region, DAY, "Estimated spend, running total over the period shown, USD").filter(|_| !config.models.is_empty()) {
                    let mut running = Widget::graph(title("Estimated spend, running total"), vec![running_sum(cumulative)]).y_label("USD");
                    if let Some(budget) = config.cost.monthly_budget_usd {
                        running = running.threshold_line("Monthly budget", budget);
                    }
                    widgets.push(running);
                }
            }
        }
        for w in widgets {
            d = d.widget(w.in_region(region));
        }
    }
    d
}
