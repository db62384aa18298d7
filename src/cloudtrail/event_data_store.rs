//! `AWS::CloudTrail::EventDataStore`: CloudTrail Lake, management events of every region, kept
//! for a configured number of days and queryable with SQL.

use crate::cfn::{CfnError, Map, Resource, ResourceRef, Template, Value};
use crate::kms::KeyRef;

/// Retention CloudTrail Lake accepts (days).
pub const RETENTION_RANGE: std::ops::RangeInclusive<u32> = 7..=3653;

#[derive(Debug, Clone)]
pub struct EventDataStore {
    logical_id: String,
    name: String,
    retention_days: u32,
    key: Option<KeyRef>,
}

impl EventDataStore {
    pub fn new(logical_id: impl Into<String>, name: impl Into<String>, retention_days: u32) -> Self {
        EventDataStore { logical_id: logical_id.into(), name: name.into(), retention_days, key: None }
    }

    pub fn encryption_key(mut self, key: &KeyRef) -> Self {
        self.key = Some(key.clone());
        self
    }

    pub fn build(self, template: &mut Template) -> Result<ResourceRef, CfnError> {
        if !RETENTION_RANGE.contains(&self.retention_days) {
            return Err(CfnError::invalid("cloudtrail::EventDataStore", format!("retention {} days must be 7 to 3653", self.retention_days)));
        }
        let selector = Map::new().with("Name", "Management events").with(
            "FieldSelectors",
            Value::list([Value::Map(Map::new().with("Field", "eventCategory").with("Equals", Value::list(["Management"])))]),
        );
        let props = Map::new()
            .with("Name", self.name.as_str())
            .with("MultiRegionEnabled", true)
            .with("OrganizationEnabled", false)
            .with("RetentionPeriod", self.retention_days)
            .with("TerminationProtectionEnabled", true)
            .with("AdvancedEventSelectors", Value::list([Value::Map(selector)]))
            .with_opt("KmsKeyId", self.key.as_ref().map(KeyRef::arn));
        template.add(&self.logical_id, Resource::new("AWS::CloudTrail::EventDataStore", props).retained())
    }
}
