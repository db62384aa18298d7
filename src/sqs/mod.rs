//! SQS builders: the dead-letter queue of asynchronously invoked functions.

pub mod queue;

pub use queue::{DeadLetterQueue, QueueRef};
