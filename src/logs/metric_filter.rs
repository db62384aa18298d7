//! `AWS::Logs::MetricFilter`: turns matching log events into a metric. Dimensions and a default
//! value are mutually exclusive (CloudFormation rejects both), at most three dimensions, and a
//! dimension with unbounded values disables the filter at 1,000 distinct values per hour — so
//! the stack only adds dimensioned filters for an explicit, bounded list (see `monitoring`).

use crate::cfn::{CfnError, Map, Resource, ResourceRef, Template, Value};

use super::LogGroupRef;

pub const MAX_DIMENSIONS: usize = 3;

#[derive(Debug, Clone)]
pub struct MetricFilter {
    logical_id: String,
    log_group: LogGroupRef,
    pattern: String,
    namespace: String,
    metric_name: String,
    value: String,
    dimensions: Vec<(String, String)>,
    default_value: Option<f64>,
}

impl MetricFilter {
    /// Publishes `value` (a `$.field` or a number) as `namespace/metric_name` for events matching `pattern`.
    pub fn new(logical_id: impl Into<String>, log_group: &LogGroupRef, pattern: &str, namespace: &str, metric_name: &str, value: &str) -> Self {
        MetricFilter {
            logical_id: logical_id.into(),
            log_group: log_group.clone(),
            pattern: pattern.to_owned(),
            namespace: namespace.to_owned(),
            metric_name: metric_name.to_owned(),
            value: value.to_owned(),
            dimensions: Vec::new(),
            default_value: None,
        }
    }

    /// A dimension taken from a JSON field of the event (`$.modelId`).
    pub fn dimension(mut self, name: &str, field: &str) -> Self {
        self.dimensions.push((name.to_owned(), field.to_owned()));
        self
    }

    pub fn default_value(mut self, v: f64) -> Self {
        self.default_value = Some(v);
        self
    }

    pub fn build(self, template: &mut Template) -> Result<ResourceRef, CfnError> {
        if self.dimensions.len() > MAX_DIMENSIONS {
            return Err(CfnError::invalid("logs::MetricFilter", format!("{}: at most {MAX_DIMENSIONS} dimensions", self.metric_name)));
        }
        if !self.dimensions.is_empty() && self.default_value.is_some() {
            return Err(CfnError::invalid("logs::MetricFilter", format!("{}: a default value and dimensions cannot be combined", self.metric_name)));
        }
        if !self.dimensions.is_empty() && !self.pattern.trim_start().starts_with('{') {
            return Err(CfnError::invalid("logs::MetricFilter", format!("{}: dimensions need a JSON pattern", self.metric_name)));
        }
        let mut transformation = Map::new()
            .with("MetricNamespace", self.namespace.as_str())
            .with("MetricName", self.metric_name.as_str())
            .with("MetricValue", self.value.as_str());
        if let Some(d) = self.default_value {
            transformation.insert("DefaultValue", Value::from(d));
        }
        if !self.dimensions.is_empty() {
            let dims = self.dimensions.iter().map(|(k, v)| Value::Map(Map::new().with("Key", k.as_str()).with("Value", v.as_str())));
            transformation.insert("Dimensions", Value::list(dims));
        }
        let props = Map::new()
            .with("LogGroupName", self.log_group.name())
            .with("FilterPattern", self.pattern.as_str())
            .with("MetricTransformations", Value::list([Value::Map(transformation)]));
        template.add(&self.logical_id, Resource::new("AWS::Logs::MetricFilter", props))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::{LogGroup, Retention};

    #[test]
    fn dimensions_and_default_value_are_exclusive() {
        let mut t = Template::new("t");
        let g = LogGroup::new("G", Retention::days(30).unwrap()).name("/g").build(&mut t).unwrap();
        let f = MetricFilter::new("F", &g, "{ $.modelId = * }", "ns", "m", "1").dimension("ModelId", "$.modelId").default_value(0.0);
        assert!(f.build(&mut t).unwrap_err().to_string().contains("cannot be combined"));
        let four = (0..4).fold(MetricFilter::new("F2", &g, "{ $.a = * }", "ns", "m", "1"), |f, i| f.dimension(&format!("D{i}"), "$.a"));
        assert!(four.build(&mut t).is_err());
    }
}
