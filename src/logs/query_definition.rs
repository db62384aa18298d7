//! `AWS::Logs::QueryDefinition`: a Logs Insights query saved in the account, scoped to log groups.

use crate::cfn::{CfnError, Map, Resource, ResourceRef, Template, Value};

use super::LogGroupRef;

#[derive(Debug, Clone)]
pub struct QueryDefinition {
    logical_id: String,
    name: String,
    query: String,
    log_groups: Vec<Value>,
}

impl QueryDefinition {
    pub fn new(logical_id: impl Into<String>, name: impl Into<String>, query: impl Into<String>) -> Self {
        QueryDefinition { logical_id: logical_id.into(), name: name.into(), query: query.into(), log_groups: Vec::new() }
    }

    pub fn log_group(mut self, group: &LogGroupRef) -> Self {
        self.log_groups.push(group.name());
        self
    }

    pub fn build(self, template: &mut Template) -> Result<ResourceRef, CfnError> {
        if self.query.trim().is_empty() {
            return Err(CfnError::invalid("logs::QueryDefinition", format!("query `{}` is empty", self.name)));
        }
        let props = Map::new()
            .with("Name", self.name)
            .with("QueryString", self.query)
            .with_opt("LogGroupNames", (!self.log_groups.is_empty()).then_some(Value::List(self.log_groups)));
        template.add(&self.logical_id, Resource::new("AWS::Logs::QueryDefinition", props))
    }
}
