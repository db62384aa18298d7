//! IAM builders: policy documents, roles, and the one list of actions the tool grants.

pub mod actions;
pub mod policy;
pub mod role;
pub mod user;

pub use policy::{Condition, Effect, PolicyDocument, Principal, Resources, Statement, WildcardResource};
pub use role::{Role, RoleRef};
pub use user::User;
