//! Lambda builders: functions with inline code, their own log group and execution role.

pub mod function;

pub use function::{Function, FunctionRef};
