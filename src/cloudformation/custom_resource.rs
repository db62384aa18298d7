//! `Custom::<Name>` resources: CloudFormation calls the function on create, update and delete
//! and waits for its answer, so whatever the function configures follows the stack's lifecycle.

use crate::cfn::{CfnError, Map, Resource, ResourceRef, Template, Value};
use crate::lambda::FunctionRef;

#[derive(Debug, Clone)]
pub struct CustomResource {
    logical_id: String,
    type_name: String,
    service_token: Value,
    properties: Map,
    depends_on: Vec<String>,
}

impl CustomResource {
    /// `type_name` becomes `Custom::<type_name>`.
    pub fn new(logical_id: impl Into<String>, type_name: &str, provider: &FunctionRef) -> Self {
        CustomResource {
            logical_id: logical_id.into(),
            type_name: format!("Custom::{type_name}"),
            service_token: provider.arn(),
            properties: Map::new(),
            depends_on: Vec::new(),
        }
    }

    /// A property passed to the function. CloudFormation hands every value over as a string,
    /// so booleans arrive as "true"/"false".
    pub fn property(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.properties.insert(key.to_owned(), value);
        self
    }

    /// Waits for `logical_id` before calling the function, beyond what references imply.
    pub fn depends_on(mut self, logical_id: &str) -> Self {
        self.depends_on.push(logical_id.to_owned());
        self
    }

    pub fn build(self, template: &mut Template) -> Result<ResourceRef, CfnError> {
        let mut props = Map::new().with("ServiceToken", self.service_token);
        props.0.extend(self.properties.0);
        let mut resource = Resource::new(self.type_name, props);
        for d in self.depends_on {
            resource = resource.depends_on(d);
        }
        template.add(&self.logical_id, resource)
    }
}
