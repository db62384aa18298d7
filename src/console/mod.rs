//! `bedrock-watch serve`: a web console over the deployed stack, for operators who work from a
//! browser rather than with `report` and `quota`.
//!
//! It is a view and a remote control, not a second implementation: usage and cost come from
//! [`crate::report::generate`] (the queries of `report --by`), counters, limits, blocks and the
//! audit trail from [`crate::quotas::admin::ops::Session`] (the functions `quota` calls, which
//! record the operator's ARN), identity and prices from the shared rule and table.
//!
//! Layers: [`auth`] (tokens, cookies, CSRF, headers), [`tables`] and [`pages`] (pure rendering,
//! unit-tested), [`csv`]; [`server`] is the only part that talks to AWS and HTTP.

pub mod auth;
pub mod csv;
pub mod pages;
pub mod server;
pub mod tables;

use crate::aws::AwsError;
use crate::quotas::admin::AdminError;

#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    #[error(transparent)]
    Admin(#[from] AdminError),
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error("cannot listen on {addr}: {source}")]
    Listen { addr: std::net::SocketAddr, source: std::io::Error },
    #[error("the operating system gave no random bytes for the session token: {0}")]
    Random(String),
    #[error("the console stopped: {0}")]
    Serve(std::io::Error),
}

impl ConsoleError {
    pub fn help(&self) -> Option<String> {
        match self {
            ConsoleError::Admin(e) => e.help(),
            ConsoleError::Aws(e) => Some(e.help()),
            ConsoleError::Listen { .. } => Some("pick a free port with --listen 127.0.0.1:PORT (port 0: any free port)".into()),
            ConsoleError::Random(_) => Some("the machine's random source (getrandom, /dev/urandom) is unavailable; the console refuses to start with a guessable token".into()),
            ConsoleError::Serve(_) => None,
        }
    }
}
