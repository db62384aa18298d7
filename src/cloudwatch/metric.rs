//! Metrics first, alarms and graphs from metrics (CDK's `metric.ts`): a metric, a Metrics
//! Insights query or a math expression over them is one [`MetricSource`] that both an alarm and a
//! dashboard widget can take.

use crate::cfn::{Map, Value};

/// The namespace Bedrock publishes its runtime metrics in.
pub const BEDROCK_NAMESPACE: &str = "AWS/Bedrock";

/// Bedrock runtime metrics (aws-facts.md, "CloudWatch metrics"); dashboards and alarms may use
/// only these, or metrics the stack itself defines.
pub const BEDROCK_METRICS: &[&str] = &[
    "Invocations",
    "InvocationLatency",
    "InvocationClientErrors",
    "InvocationServerErrors",
    "InvocationThrottles",
    "InputTokenCount",
    "OutputTokenCount",
    "CacheReadInputTokens",
    "CacheWriteInputTokens",
    "TimeToFirstToken",
    "EstimatedTPMQuotaUsage",
    "OutputImageCount",
    "LegacyModelInvocations",
    "ModelInvocationLogsCloudWatchDeliverySuccess",
    "ModelInvocationLogsCloudWatchDeliveryFailure",
    "ModelInvocationLogsS3DeliverySuccess",
    "ModelInvocationLogsS3DeliveryFailure",
    "ModelInvocationLargeDataS3DeliverySuccess",
    "ModelInvocationLargeDataS3DeliveryFailure",
];

/// The namespace of the bedrock-mantle endpoint's metrics (OpenAI- and Anthropic-compatible
/// APIs): per account, project and model, never per principal (Bedrock user guide,
/// "monitoring-mantle-metrics").
pub const MANTLE_NAMESPACE: &str = "AWS/BedrockMantle";
/// The dimension of its model-level series.
pub const MANTLE_MODEL_DIMENSION: &str = "Model";
/// bedrock-mantle metrics the documentation lists; dashboards may use only these there.
pub const MANTLE_METRICS: &[&str] = &["Inferences", "InferenceClientErrors", "TotalInputTokens", "TotalOutputTokens", "InputTokens"];

/// A statistic.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stat {
    Sum,
    Average,
    Minimum,
    Maximum,
    SampleCount,
    /// A percentile, `Percentile(99.0)` → `p99`.
    Percentile(f64),
}

impl Stat {
    pub fn name(self) -> String {
        match self {
            Stat::Sum => "Sum".into(),
            Stat::Average => "Average".into(),
            Stat::Minimum => "Minimum".into(),
            Stat::Maximum => "Maximum".into(),
            Stat::SampleCount => "SampleCount".into(),
            Stat::Percentile(p) if p.fract() == 0.0 => format!("p{}", p as u32),
            Stat::Percentile(p) => format!("p{p}"),
        }
    }

    /// Metrics Insights function name (`SUM`, `AVG`, ...); percentiles are not available there.
    pub fn insights_function(self) -> Option<&'static str> {
        match self {
            Stat::Sum => Some("SUM"),
            Stat::Average => Some("AVG"),
            Stat::Minimum => Some("MIN"),
            Stat::Maximum => Some("MAX"),
            Stat::SampleCount => Some("COUNT"),
            Stat::Percentile(_) => None,
        }
    }
}

/// One CloudWatch metric with its statistic and period.
#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    pub namespace: String,
    pub name: String,
    pub dimensions: Vec<(String, String)>,
    pub stat: Stat,
    /// Seconds.
    pub period: u32,
    pub label: Option<String>,
    /// Region of the metric when a dashboard shows another region's data.
    pub region: Option<String>,
}

impl Metric {
    pub fn new(namespace: &str, name: &str) -> Self {
        Metric {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            dimensions: Vec::new(),
            stat: Stat::Sum,
            period: 300,
            label: None,
            region: None,
        }
    }

    /// A Bedrock runtime metric; Sum over 5 minutes unless changed.
    pub fn bedrock(name: &str) -> Self {
        Metric::new(BEDROCK_NAMESPACE, name)
    }

    pub fn dimension(mut self, name: &str, value: &str) -> Self {
        self.dimensions.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Narrows a Bedrock metric to one model.
    pub fn model(self, model_id: &str) -> Self {
        self.dimension("ModelId", model_id)
    }

    pub fn stat(mut self, stat: Stat) -> Self {
        self.stat = stat;
        self
    }

    pub fn period(mut self, seconds: u32) -> Self {
        self.period = seconds;
        self
    }

    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// `MetricStat` as an alarm's `Metrics` entry needs it.
    pub fn to_metric_stat(&self) -> Value {
        let dims = self
            .dimensions
            .iter()
            .map(|(n, v)| Value::Map(Map::new().with("Name", n.as_str()).with("Value", v.as_str())))
            .collect::<Vec<_>>();
        let metric = Map::new()
            .with("Namespace", self.namespace.as_str())
            .with("MetricName", self.name.as_str())
            .with_opt("Dimensions", (!dims.is_empty()).then_some(Value::List(dims)));
        Map::new().with("Metric", metric).with("Period", self.period).with("Stat", self.stat.name()).into()
    }
}

/// An input of a math expression: a metric or a Metrics Insights query.
#[derive(Debug, Clone, PartialEq)]
pub enum Query {
    Metric(Metric),
    /// A Metrics Insights `SELECT` returning one time series (e.g. a sum over all models).
    Insights { sql: String, period: u32 },
    /// A nested expression, such as `SUM(SEARCH(...))` on a dashboard.
    Expression { expression: String, period: u32 },
}

impl Query {
    pub fn period(&self) -> u32 {
        match self {
            Query::Metric(m) => m.period,
            Query::Insights { period, .. } | Query::Expression { period, .. } => *period,
        }
    }

    /// Metric names the query reads, for the completeness checks.
    pub fn metric_names(&self) -> Vec<String> {
        match self {
            Query::Metric(m) => vec![m.name.clone()],
            Query::Insights { sql, .. } => insights_metric_names(sql),
            Query::Expression { expression, .. } => search_metric_names(expression),
        }
    }
}

/// What an alarm watches or a graph draws.
#[derive(Debug, Clone, PartialEq)]
pub enum MetricSource {
    Metric(Metric),
    Insights { sql: String, period: u32, label: String },
    /// `expression` over `inputs`, each bound to an id (`m1`, `q1`, ...).
    Math { expression: String, inputs: Vec<(String, Query)>, label: String, period: u32 },
}

impl MetricSource {
    /// Sum over all models of a Bedrock metric, as one time series (Metrics Insights), so an
    /// account-wide alarm needs no per-model list and follows new models automatically.
    pub fn bedrock_all_models(metric: &str, stat: Stat, period: u32) -> MetricSource {
        MetricSource::Insights { sql: bedrock_insights_sql(metric, stat), period, label: format!("{} {metric} (all models)", stat.name()) }
    }

    pub fn period(&self) -> u32 {
        match self {
            MetricSource::Metric(m) => m.period,
            MetricSource::Insights { period, .. } | MetricSource::Math { period, .. } => *period,
        }
    }

    /// How many metrics CloudWatch counts for an alarm on this source.
    pub fn metric_count(&self) -> usize {
        match self {
            MetricSource::Metric(_) | MetricSource::Insights { .. } => 1,
            MetricSource::Math { inputs, .. } => inputs.len(),
        }
    }

    pub fn label(&self) -> String {
        match self {
            MetricSource::Metric(m) => m.label.clone().unwrap_or_else(|| m.name.clone()),
            MetricSource::Insights { label, .. } | MetricSource::Math { label, .. } => label.clone(),
        }
    }

    /// Statistic words for alarm descriptions ("Sum of", "Average").
    pub fn describe(&self) -> String {
        match self {
            MetricSource::Metric(m) => {
                let scope = m.dimensions.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ");
                if scope.is_empty() {
                    format!("{} {}", m.stat.name(), m.name)
                } else {
                    format!("{} {} ({scope})", m.stat.name(), m.name)
                }
            }
            MetricSource::Insights { label, .. } | MetricSource::Math { label, .. } => label.clone(),
        }
    }

    /// Every metric name this source reads.
    pub fn metric_names(&self) -> Vec<String> {
        match self {
            MetricSource::Metric(m) => vec![m.name.clone()],
            MetricSource::Insights { sql, .. } => insights_metric_names(sql),
            MetricSource::Math { expression, inputs, .. } => {
                let mut names = search_metric_names(expression);
                names.extend(inputs.iter().flat_map(|(_, q)| q.metric_names()));
                names
            }
        }
    }
}

/// `SELECT SUM(InputTokenCount) FROM SCHEMA("AWS/Bedrock", ModelId)`.
pub fn bedrock_insights_sql(metric: &str, stat: Stat) -> String {
    let f = stat.insights_function().unwrap_or("SUM");
    format!("SELECT {f}({metric}) FROM SCHEMA(\"{BEDROCK_NAMESPACE}\", ModelId)")
}

/// Metric names in a Metrics Insights query: the identifiers inside `FUNC(...)`.
pub fn insights_metric_names(sql: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = sql;
    while let Some(open) = rest.find('(') {
        let before = rest[..open].trim_end();
        let func = before.rsplit(|c: char| !c.is_ascii_alphabetic()).next().unwrap_or("");
        let after = &rest[open + 1..];
        let Some(close) = after.find(')') else { break };
        let inner = after[..close].trim();
        // Only `FUNC(Metric)`: metric math such as `SUM(SEARCH(...))` has no metric name there.
        if ["SUM", "AVG", "MIN", "MAX", "COUNT"].contains(&func) && !inner.is_empty() && inner.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            names.push(inner.to_owned());
        }
        rest = &after[close + 1..];
    }
    names
}

/// Metric names in `SEARCH('{...} MetricName="X"', ...)` expressions.
pub fn search_metric_names(expression: &str) -> Vec<String> {
    expression
        .split("MetricName=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_owned)
        .collect()
}

/// `SUM(SEARCH(...))`: one series summing a Bedrock metric over every model, over the metric's
/// whole retention (Metrics Insights queries only reach recent data).
pub fn bedrock_sum_all_models(metric: &str, stat: Stat, period: u32) -> Query {
    Query::Expression { expression: format!("SUM(SEARCH('{{AWS/Bedrock,ModelId}} MetricName=\"{metric}\"', '{}', {period}))", stat.name()), period }
}

/// Math-expression ids used in `expression` (`m1 + m2` → `m1`, `m2`), for checking that each is
/// defined. Function names (`SUM`, `SEARCH`) are upper case and skipped; quoted text is skipped.
pub fn expression_ids(expression: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut in_quote = false;
    let mut word = String::new();
    let flush = |word: &mut String, ids: &mut Vec<String>| {
        if word.starts_with(|c: char| c.is_ascii_lowercase()) && !ids.contains(word) {
            ids.push(word.clone());
        }
        word.clear();
    };
    for c in expression.chars() {
        if c == '"' || c == '\'' {
            in_quote = !in_quote;
            word.clear();
            continue;
        }
        if in_quote {
            continue;
        }
        if c.is_ascii_alphanumeric() || c == '_' {
            word.push(c);
        } else {
            flush(&mut word, &mut ids);
        }
    }
    flush(&mut word, &mut ids);
    ids
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_names() {
        assert_eq!(Stat::Percentile(99.0).name(), "p99");
        assert_eq!(Stat::Percentile(99.9).name(), "p99.9");
    }

    #[test]
    fn finds_metric_names_in_insights_sql() {
        let sql = bedrock_insights_sql("InputTokenCount", Stat::Sum);
        assert_eq!(sql, "SELECT SUM(InputTokenCount) FROM SCHEMA(\"AWS/Bedrock\", ModelId)");
        assert_eq!(insights_metric_names(&sql), vec!["InputTokenCount"]);
    }

    #[test]
    fn expression_ids_skip_functions_and_quotes() {
        assert_eq!(expression_ids("m1 + m2 * 2"), vec!["m1", "m2"]);
        assert_eq!(expression_ids("SUM(SEARCH('{AWS/Bedrock,ModelId} m9', 'Sum', 300))"), Vec::<String>::new());
        assert_eq!(expression_ids("FILL(q1, 0) + q2"), vec!["q1", "q2"]);
    }
}
