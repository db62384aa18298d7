//! The user's configuration: a YAML file where every key is optional and unknown keys are errors.
//!
//! Parsing is two steps, as in ripgrep and typos: serde turns the text into [`Config`] (type
//! errors carry the key path and line), then [`Config::validate`] checks values against what AWS
//! accepts and names the key, the bad value and what is allowed. Nothing downstream re-checks.

pub mod access;
mod load;
mod model;
pub mod regions;
pub mod reports;
pub mod billing;
mod syntax;
pub mod values;
pub mod zone;

pub mod organization;

pub use load::{load_file, parse, validate as load_problems, ConfigError, Problem};
pub use regions::is_known as is_region;
pub use access::Access;
pub use model::*;
