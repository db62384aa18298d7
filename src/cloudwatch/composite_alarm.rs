//! `AWS::CloudWatch::CompositeAlarm`: fires only when a rule over other alarms holds, so a page
//! means several signals agree rather than one noisy metric.

use crate::cfn::{CfnError, Map, Resource, ResourceRef, Sub, Template, Value};
use crate::sns::TopicRef;

use super::alarm::MAX_ACTIONS;
use super::AlarmRef;

/// A rule over alarms: `ALARM(a) AND (ALARM(b) OR ALARM(c))`.
#[derive(Debug, Clone)]
pub enum Rule {
    Alarm(AlarmRef),
    All(Vec<Rule>),
    Any(Vec<Rule>),
}

impl Rule {
    fn write(&self, sub: Sub, top: bool) -> Sub {
        match self {
            Rule::Alarm(a) => sub.text("ALARM(").reference(a.logical_id()).text(")"),
            Rule::All(rules) | Rule::Any(rules) => {
                let op = if matches!(self, Rule::All(_)) { " AND " } else { " OR " };
                let mut s = if top { sub } else { sub.text("(") };
                for (i, r) in rules.iter().enumerate() {
                    if i > 0 {
                        s = s.text(op);
                    }
                    s = r.write(s, false);
                }
                if top {
                    s
                } else {
                    s.text(")")
                }
            }
        }
    }

    fn alarm_count(&self) -> usize {
        match self {
            Rule::Alarm(_) => 1,
            Rule::All(r) | Rule::Any(r) => r.iter().map(Rule::alarm_count).sum(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct CompositeAlarm {
    logical_id: String,
    name: String,
    rule: Rule,
    description: String,
    actions: Vec<Value>,
}

impl CompositeAlarm {
    pub fn new(logical_id: impl Into<String>, name: impl Into<String>, rule: Rule, description: impl Into<String>) -> Self {
        CompositeAlarm { logical_id: logical_id.into(), name: name.into(), rule, description: description.into(), actions: Vec::new() }
    }

    pub fn notify(mut self, topic: &TopicRef) -> Self {
        self.actions.push(topic.arn());
        self
    }

    pub fn build(self, template: &mut Template) -> Result<ResourceRef, CfnError> {
        if self.rule.alarm_count() < 2 {
            return Err(CfnError::invalid("cloudwatch::CompositeAlarm", format!("{}: a composite alarm combines at least two alarms", self.name)));
        }
        if self.actions.len() > MAX_ACTIONS {
            return Err(CfnError::invalid("cloudwatch::CompositeAlarm", format!("{}: at most {MAX_ACTIONS} actions", self.name)));
        }
        let props = Map::new()
            .with("AlarmName", self.name.as_str())
            .with("AlarmDescription", self.description.as_str())
            .with("AlarmRule", self.rule.write(Sub::new(), true).build())
            .with("ActionsEnabled", true)
            .with("AlarmActions", Value::List(self.actions.clone()))
            .with("OKActions", Value::List(self.actions));
        template.add(&self.logical_id, Resource::new("AWS::CloudWatch::CompositeAlarm", props))
    }
}
