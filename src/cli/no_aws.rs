//! What the commands that call AWS say in a build without the `aws` feature (the synth-only
//! build for CI): which feature is missing and how to get a build that has it.

use clap::Args;

use super::Report;

/// Appended to `--help` of a synth-only build.
pub const AFTER_HELP: &str = "This build has no AWS support (built with --no-default-features): deploy, diff, destroy, watch, quota, report (except --from-json), org, verify, access and serve need the default feature `aws`.";

/// Takes whatever follows the command, `--help` included, so that every invocation gets the
/// same explanation.
#[derive(Debug, Args)]
#[command(disable_help_flag = true)]
pub struct NoAws {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    pub args: Vec<String>,
}

/// The error for `command` (exit 2, like any other usage error).
pub fn unavailable(command: &str) -> Report {
    Report {
        message: format!("`{command}` talks to AWS, and this build of bedrock-watch has no AWS support (it was built with --no-default-features)"),
        help: Some(HOW_TO_INSTALL.into()),
        code: 2,
    }
}

/// How to get the full CLI.
pub const HOW_TO_INSTALL: &str = "install the full CLI with default features: `cargo install --locked --path .` (or run it with `cargo run -- ...`, without --no-default-features)";
