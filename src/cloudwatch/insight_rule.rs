//! `AWS::CloudWatch::InsightRule`: a Contributor Insights rule over a log group, ranking the
//! top contributors (callers, models) by a summed field or by count. Unlike a metric filter with
//! a user dimension, a rule scales to any number of contributors.

use crate::cfn::render::embedded_json;
use crate::cfn::{CfnError, Map, Resource, ResourceRef, Template, Value};

/// How contributions are aggregated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregate {
    /// Sum of `value_of` per contributor.
    Sum,
    /// Number of matching log events per contributor.
    Count,
}

#[derive(Debug, Clone)]
pub struct InsightRule {
    logical_id: String,
    name: String,
    log_groups: Vec<Value>,
    keys: Vec<String>,
    value_of: Option<String>,
    aggregate: Aggregate,
}

impl InsightRule {
    /// A rule named `name` ranking by `keys` (JSON paths such as `$.identity.arn`, at most 4).
    pub fn new(logical_id: impl Into<String>, name: impl Into<String>, keys: &[&str], aggregate: Aggregate) -> Self {
        InsightRule {
            logical_id: logical_id.into(),
            name: name.into(),
            log_groups: Vec::new(),
            keys: keys.iter().map(|k| (*k).to_owned()).collect(),
            value_of: None,
            aggregate,
        }
    }

    pub fn log_group(mut self, name: Value) -> Self {
        self.log_groups.push(name);
        self
    }

    /// The field summed per contributor (with [`Aggregate::Sum`]).
    pub fn value_of(mut self, path: &str) -> Self {
        self.value_of = Some(path.to_owned());
        self
    }

    /// The JSON paths the rule reads, for schema checks.
    pub fn fields(&self) -> Vec<&str> {
        self.keys.iter().map(String::as_str).chain(self.value_of.as_deref()).collect()
    }

    pub fn build(self, template: &mut Template) -> Result<ResourceRef, CfnError> {
        if self.keys.is_empty() || self.keys.len() > 4 {
            return Err(CfnError::invalid("cloudwatch::InsightRule", format!("{}: a rule has 1 to 4 keys", self.name)));
        }
        if (self.aggregate == Aggregate::Sum) != self.value_of.is_some() {
            return Err(CfnError::invalid("cloudwatch::InsightRule", format!("{}: Sum needs a value_of field and Count must not have one", self.name)));
        }
        if self.log_groups.is_empty() {
            return Err(CfnError::invalid("cloudwatch::InsightRule", format!("{}: no log group", self.name)));
        }
        let mut contribution = Map::new().with("Keys", Value::list(self.keys.iter().map(String::as_str)));
        if let Some(v) = &self.value_of {
            contribution.insert("ValueOf", v.as_str());
        }
        contribution.insert("Filters", Value::List(Vec::new()));
        let body = Map::new()
            .with("Schema", Map::new().with("Name", "CloudWatchLogRule").with("Version", 1))
            .with("LogGroupNames", Value::List(self.log_groups))
            .with("LogFormat", "JSON")
            .with("Contribution", contribution)
            .with("AggregateOn", if self.aggregate == Aggregate::Sum { "Sum" } else { "Count" });
        let props = Map::new().with("RuleName", self.name.as_str()).with("RuleState", "ENABLED").with("RuleBody", embedded_json(&body.into()));
        template.add(&self.logical_id, Resource::new("AWS::CloudWatch::InsightRule", props))
    }
}
