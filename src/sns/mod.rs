//! SNS builders: the alert topic and its e-mail subscriptions.

pub mod topic;
pub mod topic_policy;

pub use topic::{Topic, TopicRef};
pub use topic_policy::TopicPolicy;
