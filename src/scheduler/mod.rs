//! EventBridge Scheduler builders: schedules that run in a named time zone.

pub mod schedule;

pub use schedule::Schedule;
