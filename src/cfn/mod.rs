//! The typed CloudFormation core: values and intrinsic functions, the template, its rendering and
//! its structural validation. Nothing here knows about Bedrock; the service modules build on it.

pub mod deviation;
pub mod graph;
pub mod render;
pub mod template;
pub mod validate;
pub mod yaml;
pub mod value;

pub use deviation::Deviation;
pub use render::{render, Format};
pub use template::{Output, Parameter, RemovalPolicy, Resource, ResourceRef, Template};
pub use template::logical_id_fragment;
pub use value::{sub_references as sub_references_of, Intrinsic, Map, Pseudo, RefTarget, Reference, Sub, Value};

/// Errors in building or validating a template.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CfnError {
    #[error("invalid logical id `{id}`: {reason}")]
    InvalidLogicalId { id: String, reason: &'static str },
    #[error("logical id `{id}` is used twice")]
    DuplicateLogicalId { id: String },
    #[error("{location} refers to `{name}`, which is not a resource, parameter or pseudo parameter of the template")]
    UnresolvedReference { location: String, name: String },
    #[error("{location} uses condition `{name}`, which the template does not define")]
    UnknownCondition { location: String, name: String },
    #[error("the template has {count} {what}; CloudFormation allows at most {max}")]
    LimitExceeded { what: &'static str, count: usize, max: usize },
    #[error("{builder}: {message}")]
    InvalidProperty { builder: &'static str, message: String },
}

impl CfnError {
    /// A builder rejecting a contradictory or out-of-range setting.
    pub fn invalid(builder: &'static str, message: impl Into<String>) -> Self {
        CfnError::InvalidProperty { builder, message: message.into() }
    }
}
