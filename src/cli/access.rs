//! `bedrock-watch access key create|list|revoke`: Bedrock API keys for the tools of
//! `access.tools`. The secret is printed once, to standard output only, and never logged.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::{io_report, load, Outcome, Report};
use crate::access::{self, AccessError};
use crate::aws::{self, Aws, Target};

#[derive(Debug, Args)]
pub struct AccessArgs {
    /// Configuration file (YAML) with `access.tools`.
    #[arg(long, short, global = true)]
    pub config: Option<PathBuf>,
    /// AWS profile (default: as the AWS CLI resolves it).
    #[arg(long, global = true)]
    pub profile: Option<String>,
    #[command(subcommand)]
    pub command: AccessCommand,
}

#[derive(Debug, Subcommand)]
pub enum AccessCommand {
    /// Bedrock API keys of a tool's IAM user.
    #[command(subcommand)]
    Key(KeyCommand),
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Issue a Bedrock API key for TOOL and print it once.
    Create {
        tool: String,
        /// Days until the key expires (default and maximum: access.key_max_age_days).
        #[arg(long)]
        expires_in: Option<u32>,
    },
    /// List TOOL's keys (ids, status, creation and expiry; never secrets).
    List { tool: String },
    /// Delete key KEY_ID of TOOL.
    Revoke { tool: String, key_id: String },
}

fn report(e: AccessError) -> Report {
    let code = if matches!(e, AccessError::UnknownKey { .. }) { 1 } else { 2 };
    Report { message: e.to_string(), help: Some(e.help()), code }
}

pub fn run(args: AccessArgs, out: &mut dyn Write) -> Result<Outcome, Report> {
    let config = load(args.config.as_deref())?;
    let target = Target { region: None, profile: args.profile.clone() };
    let rt = aws::runtime().map_err(|e| Report { message: e.to_string(), help: Some(e.help()), code: 2 })?;
    let region = config.primary_region().to_owned();
    let AccessCommand::Key(command) = args.command;
    rt.block_on(async {
        let aws = Aws::connect(&target, &region).await;
        aws.check_credentials().await.map_err(|e| report(e.into()))?;
        match command {
            KeyCommand::Create { tool, expires_in } => {
                let issued = access::create_key(&aws, &config, &tool, expires_in).await.map_err(report)?;
                let k = &issued.key;
                writeln!(out, "created Bedrock API key {} for {} (user {}), expires {}", k.id, tool, k.user, k.expires.as_deref().unwrap_or("never")).map_err(io_report)?;
                writeln!(out, "secret (shown once; store it now, e.g. as AWS_BEARER_TOKEN_BEDROCK):\n{}", issued.secret).map_err(io_report)?;
            }
            KeyCommand::List { tool } => {
                let keys = access::list_tool_keys(&aws, &config, &tool).await.map_err(report)?;
                if keys.is_empty() {
                    writeln!(out, "{tool} has no Bedrock API keys").map_err(io_report)?;
                }
                for k in keys {
                    writeln!(out, "{}  {}  created {}  expires {}", k.id, k.status, k.created, k.expires.as_deref().unwrap_or("never")).map_err(io_report)?;
                }
            }
            KeyCommand::Revoke { tool, key_id } => {
                access::revoke_key(&aws, &config, &tool, &key_id).await.map_err(report)?;
                writeln!(out, "revoked {key_id} of {tool}").map_err(io_report)?;
            }
        }
        Ok(Outcome::Ok)
    })
}
