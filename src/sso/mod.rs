//! IAM Identity Center (`sso` in CloudFormation): permission sets and their group assignments.

pub mod assignment;
pub mod permission_set;

pub use assignment::Assignment;
pub use permission_set::{PermissionSet, PermissionSetRef};
