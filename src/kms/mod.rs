//! KMS builders: the customer-managed key that encrypts the stack's logs, bucket and topic.

pub mod key;

pub use key::{Key, KeyRef};
