//! CloudWatch builders: metrics, alarms and dashboards.

pub mod alarm;
pub mod dashboard;
pub mod metric;

pub use alarm::{Alarm, AlarmRef, Comparison, MissingData};
pub use dashboard::{Dashboard, DashboardRef, Widget, WidgetKind};
pub use metric::{Metric, MetricSource, Query, Stat};
