//! CloudWatch Logs builders: log groups with retention and saved Logs Insights queries.

pub mod log_group;
pub mod query_definition;

pub use log_group::{LogGroup, LogGroupRef, Retention};
pub use query_definition::QueryDefinition;
