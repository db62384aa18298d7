//! `AWS::CloudWatch::Alarm` from a [`MetricSource`], with explicit comparison and missing-data
//! treatment, CloudWatch's limits enforced, and a description that says what the alarm means.

use crate::cfn::{CfnError, Map, Resource, ResourceRef, Template, Value};
use crate::sns::TopicRef;

use super::metric::{MetricSource, Query};

/// Most actions one alarm state may have.
pub const MAX_ACTIONS: usize = 5;
/// Most metrics a metric-math alarm may use.
pub const MAX_MATH_METRICS: usize = 10;
/// Period × evaluation periods may not exceed one day.
pub const MAX_EVALUATION_SECONDS: u32 = 86_400;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    GreaterThanThreshold,
    GreaterThanOrEqualToThreshold,
    LessThanThreshold,
    LessThanOrEqualToThreshold,
    /// Above an anomaly-detection band (set by [`Alarm::anomaly_band`]).
    GreaterThanUpperThreshold,
}

impl Comparison {
    pub fn as_str(self) -> &'static str {
        match self {
            Comparison::GreaterThanThreshold => "GreaterThanThreshold",
            Comparison::GreaterThanOrEqualToThreshold => "GreaterThanOrEqualToThreshold",
            Comparison::LessThanThreshold => "LessThanThreshold",
            Comparison::LessThanOrEqualToThreshold => "LessThanOrEqualToThreshold",
            Comparison::GreaterThanUpperThreshold => "GreaterThanUpperThreshold",
        }
    }

    fn symbol(self) -> &'static str {
        match self {
            Comparison::GreaterThanThreshold => ">",
            Comparison::GreaterThanOrEqualToThreshold => ">=",
            Comparison::LessThanThreshold => "<",
            Comparison::LessThanOrEqualToThreshold => "<=",
            Comparison::GreaterThanUpperThreshold => "above the band of",
        }
    }
}

/// What a period with no data counts as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MissingData {
    Breaching,
    NotBreaching,
    Ignore,
    Missing,
}

impl MissingData {
    pub fn as_str(self) -> &'static str {
        match self {
            MissingData::Breaching => "breaching",
            MissingData::NotBreaching => "notBreaching",
            MissingData::Ignore => "ignore",
            MissingData::Missing => "missing",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Alarm {
    logical_id: String,
    source: MetricSource,
    threshold: f64,
    comparison: Comparison,
    evaluation_periods: u32,
    datapoints_to_alarm: u32,
    missing: MissingData,
    name: Option<Value>,
    unit: String,
    runbook: Option<String>,
    actions: Vec<Value>,
    anomaly_band: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlarmRef(pub ResourceRef);

impl AlarmRef {
    pub fn arn(&self) -> Value {
        self.0.get_att("Arn")
    }

    pub fn logical_id(&self) -> &str {
        self.0.logical_id()
    }
}

impl Alarm {
    /// An alarm on `source` when it goes above `threshold` for one period. Missing data is not
    /// breaching: no Bedrock traffic is not an incident.
    pub fn new(logical_id: impl Into<String>, source: MetricSource, threshold: f64) -> Self {
        Alarm {
            logical_id: logical_id.into(),
            source,
            threshold,
            comparison: Comparison::GreaterThanThreshold,
            evaluation_periods: 1,
            datapoints_to_alarm: 1,
            missing: MissingData::NotBreaching,
            name: None,
            unit: String::new(),
            runbook: None,
            actions: Vec::new(),
            anomaly_band: None,
        }
    }

    /// Alarms when the value leaves CloudWatch's anomaly-detection band of `std_devs` standard
    /// deviations (the band models the metric's trailing behaviour, with daily and weekly
    /// patterns); the threshold is then unused.
    pub fn anomaly_band(mut self, std_devs: f64) -> Self {
        self.anomaly_band = Some(std_devs);
        self.comparison = Comparison::GreaterThanUpperThreshold;
        self
    }

    pub fn comparison(mut self, c: Comparison) -> Self {
        self.comparison = c;
        self
    }

    /// `datapoints` out of `periods` must breach (M of N). Default 1 of 1.
    pub fn evaluate(mut self, datapoints: u32, periods: u32) -> Self {
        self.datapoints_to_alarm = datapoints;
        self.evaluation_periods = periods;
        self
    }

    pub fn treat_missing(mut self, m: MissingData) -> Self {
        self.missing = m;
        self
    }

    pub fn alarm_name(mut self, name: impl Into<Value>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Unit shown in the description ("ms", "tokens").
    pub fn unit(mut self, unit: impl Into<String>) -> Self {
        self.unit = unit.into();
        self
    }

    /// What to check first when it fires; appended to the description.
    pub fn runbook(mut self, text: impl Into<String>) -> Self {
        self.runbook = Some(text.into());
        self
    }

    /// Notifies `topic` on ALARM and on OK.
    pub fn notify(mut self, topic: &TopicRef) -> Self {
        self.actions.push(topic.arn());
        self
    }

    /// "Average InvocationLatency > 10000 ms for 1 datapoint within 5 minutes".
    pub fn description(&self) -> String {
        let threshold = match self.anomaly_band {
            Some(band) => format!("{} standard deviations", format_number(band)),
            None => format_number(self.threshold),
        };
        let unit = if self.unit.is_empty() || self.anomaly_band.is_some() { String::new() } else { format!(" {}", self.unit) };
        let points = if self.datapoints_to_alarm == 1 { "datapoint" } else { "datapoints" };
        let mut d = format!(
            "{} {} {threshold}{unit} for {} {points} within {}",
            self.source.describe(),
            self.comparison.symbol(),
            self.datapoints_to_alarm,
            format_duration(self.source.period() * self.evaluation_periods)
        );
        if let Some(r) = &self.runbook {
            d.push_str(". ");
            d.push_str(r);
        }
        d
    }

    pub fn build(self, template: &mut Template) -> Result<AlarmRef, CfnError> {
        let id = &self.logical_id;
        let period = self.source.period();
        if self.actions.len() > MAX_ACTIONS {
            return Err(CfnError::invalid("cloudwatch::Alarm", format!("{id} has {} actions; at most {MAX_ACTIONS}", self.actions.len())));
        }
        if self.source.metric_count() > MAX_MATH_METRICS {
            return Err(CfnError::invalid(
                "cloudwatch::Alarm",
                format!("{id} uses {} metrics; a metric-math alarm may use at most {MAX_MATH_METRICS}", self.source.metric_count()),
            ));
        }
        if !(period == 10 || period == 30 || (period >= 60 && period % 60 == 0)) {
            return Err(CfnError::invalid("cloudwatch::Alarm", format!("{id}: period {period}s must be 10, 30 or a multiple of 60")));
        }
        if self.evaluation_periods == 0 || self.datapoints_to_alarm == 0 || self.datapoints_to_alarm > self.evaluation_periods {
            return Err(CfnError::invalid(
                "cloudwatch::Alarm",
                format!("{id}: datapoints to alarm ({}) must be between 1 and the evaluation periods ({})", self.datapoints_to_alarm, self.evaluation_periods),
            ));
        }
        if period.saturating_mul(self.evaluation_periods) > MAX_EVALUATION_SECONDS {
            return Err(CfnError::invalid(
                "cloudwatch::Alarm",
                format!("{id}: period {period}s × {} evaluation periods exceeds one day", self.evaluation_periods),
            ));
        }
        if !self.threshold.is_finite() {
            return Err(CfnError::invalid("cloudwatch::Alarm", format!("{id}: threshold must be a finite number")));
        }
        if self.anomaly_band.is_some_and(|b| !(b.is_finite() && b > 0.0)) {
            return Err(CfnError::invalid("cloudwatch::Alarm", format!("{id}: the anomaly band width must be a positive number")));
        }
        if self.anomaly_band.is_some() && matches!(self.source, MetricSource::Insights { .. }) {
            return Err(CfnError::invalid("cloudwatch::Alarm", format!("{id}: anomaly detection needs a metric or metric math, not a Metrics Insights query")));
        }
        let description = self.description();
        let mut props = Map::new()
            .with_opt("AlarmName", self.name)
            .with("AlarmDescription", description)
            .with("ActionsEnabled", true)
            .with("AlarmActions", Value::List(self.actions.clone()))
            .with("OKActions", Value::List(self.actions))
            .with("ComparisonOperator", self.comparison.as_str())
            .with_opt("Threshold", self.anomaly_band.is_none().then(|| Value::from(self.threshold)))
            .with_opt("ThresholdMetricId", self.anomaly_band.map(|_| "ad1"))
            .with("EvaluationPeriods", self.evaluation_periods)
            .with("DatapointsToAlarm", self.datapoints_to_alarm)
            .with("TreatMissingData", self.missing.as_str());
        match &self.source {
            MetricSource::Metric(m) if self.anomaly_band.is_some() => {
                let metric = Map::new().with("Id", "m1").with("MetricStat", m.to_metric_stat()).with("ReturnData", true);
                props.insert("Metrics", Value::list([Value::Map(metric), band(self.anomaly_band, "m1")]));
            }
            MetricSource::Metric(m) => {
                props.insert("Namespace", m.namespace.as_str());
                props.insert("MetricName", m.name.as_str());
                if !m.dimensions.is_empty() {
                    let dims = m.dimensions.iter().map(|(n, v)| Value::Map(Map::new().with("Name", n.as_str()).with("Value", v.as_str())));
                    props.insert("Dimensions", Value::list(dims));
                }
                match m.stat {
                    super::Stat::Percentile(_) => props.insert("ExtendedStatistic", m.stat.name()),
                    _ => props.insert("Statistic", m.stat.name()),
                };
                props.insert("Period", m.period);
            }
            MetricSource::Insights { sql, period, label } => {
                let q = Map::new().with("Id", "q1").with("Label", label.as_str()).with("Expression", sql.as_str()).with("Period", *period).with("ReturnData", true);
                props.insert("Metrics", Value::list([Value::Map(q)]));
            }
            MetricSource::Math { expression, inputs, label, period } => {
                let mut metrics = vec![Value::Map(
                    Map::new().with("Id", "e1").with("Label", label.as_str()).with("Expression", expression.as_str()).with("ReturnData", true),
                )];
                for (qid, q) in inputs {
                    let entry = match q {
                        Query::Metric(m) => Map::new().with("Id", qid.as_str()).with("MetricStat", m.to_metric_stat()).with("ReturnData", false),
                        Query::Expression { expression, .. } => {
                            Map::new().with("Id", qid.as_str()).with("Expression", expression.as_str()).with("ReturnData", false)
                        }
                        Query::Insights { sql, .. } => {
                            Map::new().with("Id", qid.as_str()).with("Expression", sql.as_str()).with("Period", *period).with("ReturnData", false)
                        }
                    };
                    metrics.push(Value::Map(entry));
                }
                if self.anomaly_band.is_some() {
                    metrics.push(band(self.anomaly_band, "e1"));
                }
                props.insert("Metrics", Value::List(metrics));
            }
        }
        template.add(&self.logical_id, Resource::new("AWS::CloudWatch::Alarm", props)).map(AlarmRef)
    }
}

/// The `ANOMALY_DETECTION_BAND` entry of an anomaly alarm.
fn band(std_devs: Option<f64>, of: &str) -> Value {
    let width = format_number(std_devs.unwrap_or(2.0));
    Value::Map(Map::new().with("Id", "ad1").with("Label", "Expected band").with("Expression", format!("ANOMALY_DETECTION_BAND({of}, {width})")).with("ReturnData", true))
}

fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// 300 → "5 minutes", 3600 → "1 hour".
pub fn format_duration(seconds: u32) -> String {
    let (n, unit) = if seconds % 86_400 == 0 {
        (seconds / 86_400, "day")
    } else if seconds % 3600 == 0 {
        (seconds / 3600, "hour")
    } else if seconds % 60 == 0 {
        (seconds / 60, "minute")
    } else {
        (seconds, "second")
    };
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloudwatch::{Metric, Stat};

    #[test]
    fn description_reads_like_a_sentence() {
        let a = Alarm::new("A", MetricSource::Metric(Metric::bedrock("InvocationLatency").stat(Stat::Average)), 10_000.0).unit("ms");
        assert_eq!(a.description(), "Average InvocationLatency > 10000 ms for 1 datapoint within 5 minutes");
    }

    #[test]
    fn limits_are_enforced() {
        let mut t = Template::new("t");
        let m = || MetricSource::Metric(Metric::bedrock("Invocations").period(3600));
        assert!(Alarm::new("A1", m(), 1.0).evaluate(25, 25).build(&mut t).unwrap_err().to_string().contains("one day"));
        assert!(Alarm::new("A2", m(), 1.0).evaluate(2, 1).build(&mut t).is_err());
        assert!(Alarm::new("A3", MetricSource::Metric(Metric::bedrock("Invocations").period(45)), 1.0).build(&mut t).is_err());
        let inputs = (0..11).map(|i| (format!("m{i}"), Query::Metric(Metric::bedrock("Invocations")))).collect();
        let math = MetricSource::Math { expression: "m0".into(), inputs, label: "x".into(), period: 300 };
        assert!(Alarm::new("A4", math, 1.0).build(&mut t).unwrap_err().to_string().contains("at most 10"));
        assert!(Alarm::new("A5", m(), 1.0).evaluate(24, 24).build(&mut t).is_ok());
    }

    #[test]
    fn durations() {
        assert_eq!(format_duration(300), "5 minutes");
        assert_eq!(format_duration(3600), "1 hour");
        assert_eq!(format_duration(86_400), "1 day");
        assert_eq!(format_duration(30), "30 seconds");
    }
}
