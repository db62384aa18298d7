//! `AWS::SNS::TopicPolicy`: lets a service (AWS Budgets) publish to the alert topic.

use crate::cfn::{CfnError, Map, Resource, ResourceRef, Template, Value};
use crate::iam::actions::SNS_PUBLISH;
use crate::iam::{Condition, PolicyDocument, Principal, Statement};

use super::TopicRef;

#[derive(Debug, Clone)]
pub struct TopicPolicy {
    logical_id: String,
    topic: TopicRef,
    statements: Vec<Statement>,
}

impl TopicPolicy {
    pub fn new(logical_id: impl Into<String>, topic: &TopicRef) -> Self {
        TopicPolicy { logical_id: logical_id.into(), topic: topic.clone(), statements: Vec::new() }
    }

    /// `service` may publish to the topic, under `conditions`.
    pub fn allow_service_publish(mut self, sid: &str, service: &str, conditions: Vec<Condition>) -> Self {
        let mut s = Statement::allow(SNS_PUBLISH, vec![self.topic.arn()]).sid(sid).principal(Principal::service(service));
        s.conditions = conditions;
        self.statements.push(s);
        self
    }

    pub fn build(self, template: &mut Template) -> Result<ResourceRef, CfnError> {
        let doc = PolicyDocument::new().statements(self.statements);
        let props = Map::new().with("Topics", Value::list([self.topic.arn()])).with("PolicyDocument", doc.to_value());
        template.add(&self.logical_id, Resource::new("AWS::SNS::TopicPolicy", props))
    }
}
