//! `bedrock-watch verify`: parses, gathers through [`crate::verify::gather`], judges with
//! [`crate::verify::checks`], prints. Exit 0 when nothing failed, 1 on any FAIL, 2 on usage,
//! config or AWS errors.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::{io_report, load, Outcome, Report};
use crate::aws::{self, Aws, Target};
use crate::verify::{checks, gather, render, Status, Verification, SCHEMA_VERSION};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum VerifyFormat {
    Table,
    Json,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Configuration file (YAML) the stack was deployed from.
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// Region of the stack (default: the config's first region).
    #[arg(long)]
    pub region: Option<String>,
    /// AWS profile (default: as the AWS CLI resolves it); the identity check judges its caller.
    #[arg(long)]
    pub profile: Option<String>,
    /// Minutes back that logs, metrics and CloudTrail events are read.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u32).range(5..=10080))]
    pub window: u32,
    #[arg(long, value_enum, default_value_t = VerifyFormat::Table)]
    pub format: VerifyFormat,
}

pub fn run(args: VerifyArgs, out: &mut dyn Write) -> Result<Outcome, Report> {
    let config = load(args.config.as_deref())?;
    let target = Target { region: args.region.clone(), profile: args.profile.clone() };
    let rt = aws::runtime().map_err(|e| Report { message: e.to_string(), help: Some(e.help()), code: 2 })?;
    let region = config.primary_region().to_owned();
    if std::io::stderr().is_terminal() {
        eprintln!("reading the stack, logging configuration, logs, metrics, CloudTrail and IAM ...");
    }
    let facts = rt
        .block_on(async {
            let aws = Aws::connect(&target, &region).await;
            gather::gather(&aws, &target, &config, args.window).await
        })
        .map_err(|e| Report { message: e.to_string(), help: Some(e.help()), code: 2 })?;
    let verification = Verification {
        schema_version: SCHEMA_VERSION,
        stack: config.stack_name_for(&facts.region),
        region: facts.region.clone(),
        window_minutes: args.window,
        results: checks::run(&config, &facts),
    };
    let text = match args.format {
        VerifyFormat::Table => render::table(&verification),
        VerifyFormat::Json => render::json(&verification) + "\n",
    };
    out.write_all(text.as_bytes()).map_err(io_report)?;
    Ok(if verification.worst() == Status::Fail { Outcome::Failed } else { Outcome::Ok })
}
