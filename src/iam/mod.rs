//! IAM builders: policy documents, roles, and the one list of actions the tool grants.

pub mod actions;
pub mod managed_policy;
pub mod policy;
pub mod role;
pub mod user;

pub use policy::{Condition, Effect, PolicyDocument, Principal, Resources, Statement, WildcardResource};
pub use managed_policy::{ManagedPolicy, ManagedPolicyRef};
pub use role::{Role, RoleRef};
pub use user::User;
