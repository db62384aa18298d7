//! DynamoDB builders: tables for the quota counters and the audit trail.

pub mod table;

pub use table::{Table, TableRef};
