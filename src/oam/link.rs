//! `AWS::Oam::Link`: a member account's connection to the monitoring account's sink.

use crate::cfn::{CfnError, Map, Resource, ResourceRef, Template, Value};

#[derive(Debug, Clone)]
pub struct Link {
    logical_id: String,
    sink_arn: String,
    resource_types: Vec<String>,
    label_template: String,
}

impl Link {
    /// A link to `sink_arn` sharing [`super::SHARED_RESOURCE_TYPES`], labelled with the
    /// account's name (`$AccountName`) in the monitoring account's console.
    pub fn new(logical_id: impl Into<String>, sink_arn: impl Into<String>) -> Self {
        Link {
            logical_id: logical_id.into(),
            sink_arn: sink_arn.into(),
            resource_types: super::SHARED_RESOURCE_TYPES.iter().map(|s| (*s).to_owned()).collect(),
            label_template: "$AccountName".into(),
        }
    }

    /// Replaces the label (default `$AccountName`; `$AccountEmail`, `$AccountEmailNoDomain` or text).
    pub fn label_template(mut self, label: impl Into<String>) -> Self {
        self.label_template = label.into();
        self
    }

    pub fn build(self, template: &mut Template) -> Result<ResourceRef, CfnError> {
        if !is_sink_arn(&self.sink_arn) {
            return Err(CfnError::invalid("oam::Link", format!("`{}` is not a sink ARN (arn:<partition>:oam:<region>:<account>:sink/<id>)", self.sink_arn)));
        }
        let props = Map::new()
            .with("LabelTemplate", self.label_template.as_str())
            .with("ResourceTypes", Value::list(self.resource_types.iter().map(|s| Value::str(s.as_str()))))
            .with("SinkIdentifier", self.sink_arn.as_str());
        template.add(&self.logical_id, Resource::new("AWS::Oam::Link", props))
    }
}

/// `arn:<partition>:oam:<region>:<12 digits>:sink/<id>`.
pub fn is_sink_arn(s: &str) -> bool {
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && !parts[1].is_empty()
        && parts[2] == "oam"
        && crate::config::is_region(parts[3])
        && crate::config::organization::is_account_id(parts[4])
        && parts[5].strip_prefix("sink/").is_some_and(|id| !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
}

/// The region of a sink ARN (links must point to a sink in their own region).
pub fn sink_region(s: &str) -> Option<&str> {
    s.split(':').nth(3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_shares_metrics_and_log_groups() {
        let mut t = Template::new("t");
        Link::new("MonitoringLink", "arn:aws:oam:eu-west-1:111111111111:sink/a1b2-c3").build(&mut t).unwrap();
        let r = t.resource("MonitoringLink").unwrap();
        assert_eq!(r.resource_type, "AWS::Oam::Link");
        assert_eq!(r.properties.get("SinkIdentifier").and_then(Value::as_str), Some("arn:aws:oam:eu-west-1:111111111111:sink/a1b2-c3"));
        let types: Vec<&str> = r.properties.get("ResourceTypes").and_then(Value::as_list).unwrap().iter().filter_map(Value::as_str).collect();
        assert_eq!(types, ["AWS::CloudWatch::Metric", "AWS::Logs::LogGroup"]);
        assert_eq!(r.properties.get("LabelTemplate").and_then(Value::as_str), Some("$AccountName"));
    }

    #[test]
    fn a_malformed_sink_arn_is_refused() {
        let mut t = Template::new("t");
        for bad in ["arn:aws:oam:eu-west-1:111:sink/x", "arn:aws:logs:eu-west-1:111111111111:sink/x", "sink/x", "arn:aws:oam:eu-west-1:111111111111:link/x"] {
            assert!(Link::new("L", bad).build(&mut t).is_err(), "{bad}");
        }
    }
}
