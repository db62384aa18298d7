//! `AWS::DynamoDB::Table`, secure by default: on-demand, encrypted with a customer-managed key,
//! point-in-time recovery on, deletion protection on, and retained when the stack goes (usage
//! counters and the audit trail are records, not cache).

use crate::cfn::{CfnError, Map, RemovalPolicy, Resource, ResourceRef, Template, Value};
use crate::iam::Statement;
use crate::kms::KeyRef;

#[derive(Debug, Clone)]
pub struct Table {
    logical_id: String,
    partition_key: String,
    sort_key: Option<String>,
    ttl_attribute: Option<String>,
    key: KeyRef,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableRef(pub ResourceRef);

impl TableRef {
    pub fn name(&self) -> Value {
        self.0.reference()
    }

    pub fn arn(&self) -> Value {
        self.0.get_att("Arn")
    }

    pub fn logical_id(&self) -> &str {
        self.0.logical_id()
    }

    /// Lets the holder use `actions` on this table only. The builder makes no secondary
    /// index, so there is no `<table>/index/*` to grant.
    pub fn grant(&self, actions: &[&'static str]) -> Statement {
        Statement::allow(actions, vec![self.arn()])
    }
}

impl Table {
    /// A table keyed by string attributes `partition_key` (and `sort_key`), encrypted with `key`.
    pub fn new(logical_id: impl Into<String>, partition_key: &str, sort_key: Option<&str>, key: &KeyRef) -> Self {
        Table {
            logical_id: logical_id.into(),
            partition_key: partition_key.to_owned(),
            sort_key: sort_key.map(str::to_owned),
            ttl_attribute: None,
            key: key.clone(),
        }
    }

    /// Items expire at the epoch seconds in this attribute.
    pub fn ttl(mut self, attribute: &str) -> Self {
        self.ttl_attribute = Some(attribute.to_owned());
        self
    }

    pub fn build(self, template: &mut Template) -> Result<TableRef, CfnError> {
        let mut keys = vec![Value::Map(Map::new().with("AttributeName", self.partition_key.as_str()).with("KeyType", "HASH"))];
        let mut attributes = vec![Value::Map(Map::new().with("AttributeName", self.partition_key.as_str()).with("AttributeType", "S"))];
        if let Some(sk) = &self.sort_key {
            keys.push(Value::Map(Map::new().with("AttributeName", sk.as_str()).with("KeyType", "RANGE")));
            attributes.push(Value::Map(Map::new().with("AttributeName", sk.as_str()).with("AttributeType", "S")));
        }
        let props = Map::new()
            .with("BillingMode", "PAY_PER_REQUEST")
            .with("KeySchema", Value::List(keys))
            .with("AttributeDefinitions", Value::List(attributes))
            .with("SSESpecification", Map::new().with("SSEEnabled", true).with("SSEType", "KMS").with("KMSMasterKeyId", self.key.arn()))
            .with("PointInTimeRecoverySpecification", Map::new().with("PointInTimeRecoveryEnabled", true))
            .with("DeletionProtectionEnabled", true)
            .with_opt(
                "TimeToLiveSpecification",
                self.ttl_attribute.as_deref().map(|a| Map::new().with("AttributeName", a).with("Enabled", true)),
            );
        let mut resource = Resource::new("AWS::DynamoDB::Table", props);
        resource.deletion_policy = Some(RemovalPolicy::Retain);
        resource.update_replace_policy = Some(RemovalPolicy::Retain);
        template.add(&self.logical_id, resource).map(TableRef)
    }
}
