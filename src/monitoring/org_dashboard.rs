//! The central dashboard of the organization's monitoring account: one graph per measure with
//! a line per member account, for every region of the rollout.
//!
//! With CloudWatch cross-account observability the monitoring account reads the metrics every
//! member's `AWS::Oam::Link` shares. A Metrics Insights query run there covers the linked
//! accounts, and `GROUP BY AWS.AccountId` splits it by account, so the dashboard needs no
//! account list and follows accounts that join later (a list of `accountId` metrics would
//! cost a metric per account and model against the 500 per widget). A query returns at most
//! 500 series: each graph keeps the [`TOP_ACCOUNTS`] accounts with the highest sum.
//!
//! Estimated cost per account is not drawn: it needs each model's price applied before the
//! sum by account, which one grouped query cannot do and a priced expression per account and
//! model would not fit a widget. `bedrock-watch report --org` prices it from the same metrics.

use crate::cloudwatch::{Dashboard, MetricSource, Widget};

/// Name of the dashboard in the monitoring account.
pub const DASHBOARD_NAME: &str = "BedrockOrganization";
/// Accounts drawn per graph (the highest sums); `report --org` lists every account.
pub const TOP_ACCOUNTS: u32 = 100;
/// Hourly points: a day or a week reads well, and it matches `report`'s hourly sums.
const PERIOD: u32 = 3600;

/// The measures drawn by account, as (title, metric).
pub const BY_ACCOUNT: [(&str, &str); 6] = [
    ("Invocations by account", "Invocations"),
    ("Input tokens by account", "InputTokenCount"),
    ("Output tokens by account", "OutputTokenCount"),
    ("Client errors by account", "InvocationClientErrors"),
    ("Server errors by account", "InvocationServerErrors"),
    ("Throttles by account", "InvocationThrottles"),
];

/// `SELECT SUM(<metric>) FROM SCHEMA("AWS/Bedrock", ModelId) GROUP BY AWS.AccountId ORDER BY
/// SUM() DESC LIMIT 100`: every model summed, one series per account.
pub fn by_account_sql(metric: &str) -> String {
    format!("SELECT SUM({metric}) FROM SCHEMA(\"AWS/Bedrock\", ModelId) GROUP BY AWS.AccountId ORDER BY SUM() DESC LIMIT {TOP_ACCOUNTS}")
}

/// A graph of `metric` with one line per account. The label is left to CloudWatch, which
/// names each grouped series by its account id.
fn by_account(title: &str, metric: &str, region: &str) -> Widget {
    Widget::graph(format!("{title} ({region})"), vec![MetricSource::Insights { sql: by_account_sql(metric), period: PERIOD, label: String::new() }]).in_region(region)
}

/// The organization's totals in a region: every linked account summed.
fn totals(region: &str) -> Widget {
    let total = |metric: &str, label: &str| MetricSource::Insights { sql: crate::cloudwatch::metric::bedrock_insights_sql(metric, crate::cloudwatch::Stat::Sum), period: PERIOD, label: label.into() };
    Widget::single_value(
        format!("All linked accounts, latest hour ({region})"),
        vec![total("Invocations", "Invocations"), total("InputTokenCount", "Input tokens"), total("OutputTokenCount", "Output tokens"), total("InvocationThrottles", "Throttles")],
    )
    .size(24, 4)
    .in_region(region)
}

/// The dashboard for `regions` (the rollout's): a text widget saying what it shows and its
/// limits, then per region the totals and the by-account graphs.
pub fn dashboard(regions: &[String]) -> Dashboard {
    let mut d = Dashboard::new("OrganizationDashboard", DASHBOARD_NAME).widget(
        Widget::text(format!(
            "# Bedrock across the organization\nEvery account linked to this monitoring account (CloudWatch cross-account observability), one line per account: the {TOP_ACCOUNTS} accounts with the highest sum in each graph (Metrics Insights `GROUP BY AWS.AccountId`; a query returns at most 500 series). Estimated cost per account and every account's figures: `bedrock-watch report --org`, one account: `report --account ID`."
        ))
        .size(24, 3),
    );
    for region in regions {
        d = d.widget(Widget::text(format!("## {region}")).size(24, 1)).widget(totals(region));
        for (title, metric) in BY_ACCOUNT {
            d = d.widget(by_account(title, metric, region));
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cfn::Template;
    use crate::cloudwatch::dashboard::body_text;

    fn body(regions: &[&str]) -> serde_json::Value {
        let mut t = Template::new("t");
        dashboard(&regions.iter().map(|r| (*r).to_owned()).collect::<Vec<_>>()).build(&mut t).unwrap();
        let r = t.resource("OrganizationDashboard").unwrap();
        serde_json::from_str(body_text(&r.properties).unwrap()).unwrap()
    }

    #[test]
    fn each_region_has_the_totals_and_a_graph_per_measure_grouped_by_account() {
        let b = body(&["us-east-1", "eu-west-1"]);
        let widgets = b["widgets"].as_array().unwrap();
        assert_eq!(widgets.len(), 1 + 2 * (2 + BY_ACCOUNT.len()));
        let grouped: Vec<&serde_json::Value> = widgets.iter().filter(|w| w["properties"]["metrics"][0][0]["expression"].as_str().is_some_and(|e| e.contains("GROUP BY AWS.AccountId"))).collect();
        assert_eq!(grouped.len(), 2 * BY_ACCOUNT.len());
        for w in &grouped {
            let q = &w["properties"]["metrics"][0][0];
            assert!(q.get("label").is_none(), "CloudWatch names each account's series: {q}");
            assert!(q["expression"].as_str().unwrap().ends_with("ORDER BY SUM() DESC LIMIT 100"));
            assert_eq!(q["period"], 3600);
        }
        assert_eq!(grouped[0]["properties"]["region"], "us-east-1");
        assert_eq!(grouped[BY_ACCOUNT.len()]["properties"]["region"], "eu-west-1");
        let titles: Vec<&str> = grouped.iter().map(|w| w["properties"]["title"].as_str().unwrap()).collect();
        assert!(titles.contains(&"Throttles by account (eu-west-1)"), "{titles:?}");
    }

    #[test]
    fn the_queries_read_bedrock_metrics_that_exist() {
        for (_, metric) in BY_ACCOUNT {
            let names = crate::cloudwatch::metric::insights_metric_names(&by_account_sql(metric));
            assert_eq!(names, [metric]);
        }
    }
}
