//! SNS builders: the alert topic and its e-mail subscriptions.

pub mod topic;

pub use topic::{Topic, TopicRef};
