//! AWS Budgets builders.

pub mod budget;

pub use budget::Budget;
