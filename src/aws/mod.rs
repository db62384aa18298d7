//! The one place bedrock-watch meets AWS: loading the SDK configuration exactly as the AWS CLI
//! resolves it (profiles, SSO, credential processes, `AWS_REGION`, `AWS_ENDPOINT_URL`), handing
//! out service clients, and turning SDK failures into errors that say what to do.
//!
//! `deploy`, `diff`, `destroy`, `report` and `quota` all start here, so a missing credential or
//! a wrong region reads the same in every command. Retries (throttling, 5xx, dropped
//! connections) are the SDK's standard retry strategy configured once in [`Aws::connect`], never
//! hand-made loops.
//!
//! Only `sdk.rs` touches the SDK (feature `aws`); the errors, their classification and the
//! connection target are plain values, so the library builds without the SDK.

mod error;
#[cfg(feature = "aws")]
mod sdk;

pub use error::*;
#[cfg(feature = "aws")]
pub use sdk::Aws;
#[cfg(all(test, feature = "aws"))]
pub(crate) use sdk::replay as sdk_replay;

/// A single-threaded runtime for the CLI: every command is a short sequence of API calls, and
/// polling is I/O-bound, so one thread is enough and starts fastest.
pub fn runtime() -> Result<tokio::runtime::Runtime, AwsError> {
    tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(AwsError::Runtime)
}
