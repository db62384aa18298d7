//! CloudWatch Logs builders: log groups with retention and saved Logs Insights queries.

pub mod log_group;
pub mod metric_filter;
pub mod query_definition;
pub mod subscription_filter;

pub use log_group::{LogGroup, LogGroupRef, Retention};
pub use metric_filter::MetricFilter;
pub use query_definition::QueryDefinition;
pub use subscription_filter::SubscriptionFilter;
