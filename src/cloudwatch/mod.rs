//! CloudWatch builders: metrics, alarms and dashboards.

pub mod alarm;
pub mod composite_alarm;
pub mod dashboard;
pub mod insight_rule;
pub mod invocation_rates;
pub mod metric;

pub use alarm::{Alarm, AlarmRef, Comparison, MissingData};
pub use composite_alarm::{CompositeAlarm, Rule};
pub use dashboard::{Dashboard, DashboardRef, Widget, WidgetKind};
pub use insight_rule::{Aggregate, InsightRule};
pub use metric::{Metric, MetricSource, Query, Stat};
