//! `bedrock-watch verify`: parses, gathers through [`crate::verify::gather`], judges with
//! [`crate::verify::checks`], prints. Exit 0 when nothing failed, 1 on any FAIL, 2 on usage,
//! config or AWS errors.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};

use super::{io_report, load, Outcome, Report};
use crate::aws::{self, Aws, Target};
use crate::verify::{checks, follow, gather, invoke, render, Status, Verification, SCHEMA_VERSION};

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
    /// Make one tiny Converse call to MODEL (a few tokens) and follow it through the invocation
    /// logs, the AWS/Bedrock metrics and CloudTrail, printing how long each took.
    #[arg(long, value_name = "MODEL")]
    pub invoke: Option<String>,
    /// With --invoke: how long to wait for the call's traces (60s to 1h; 90s, 10m, 1h).
    #[arg(long, default_value = "10m", requires = "invoke")]
    pub deadline: String,
    /// With --invoke: time between looks (5s to 5m).
    #[arg(long, default_value = "15s", requires = "invoke")]
    pub poll: String,
}

/// `--deadline` and `--poll` checked before any call; the error names the flag.
fn timing(args: &VerifyArgs) -> Result<(Duration, Duration), Report> {
    let usage = |m: String| Report::usage(m, "for example: --invoke amazon.nova-micro-v1:0 --deadline 10m --poll 15s");
    let deadline = invoke::parse_duration("deadline", &args.deadline, &invoke::DEADLINE_RANGE).map_err(usage)?;
    let poll = invoke::parse_duration("poll", &args.poll, &invoke::POLL_RANGE).map_err(usage)?;
    if poll >= deadline {
        return Err(usage(format!("--poll {} must be shorter than --deadline {}", args.poll, args.deadline)));
    }
    Ok((deadline, poll))
}

/// The waiting parts on standard error: one line rewritten in place on a terminal, otherwise a
/// plain line whenever a signal arrives or gives up (standard output stays the report).
struct WaitProgress {
    terminal: bool,
    reported: Vec<follow::Signal>,
}

impl follow::Progress for WaitProgress {
    fn update(&mut self, elapsed_ms: i64, deadline: Duration, signals: &[(follow::Signal, follow::Outcome)]) {
        let mut err = std::io::stderr().lock();
        if self.terminal {
            let _ = write!(err, "\r\x1b[2K{}", follow::progress_line(elapsed_ms, deadline, signals));
            if !signals.iter().any(|(_, o)| *o == follow::Outcome::Waiting) {
                let _ = writeln!(err);
            }
        } else {
            for (s, o) in signals {
                if *o != follow::Outcome::Waiting && !self.reported.contains(s) {
                    self.reported.push(*s);
                    let _ = writeln!(err, "  {}", follow::progress_line(elapsed_ms, deadline, std::slice::from_ref(&(*s, o.clone()))));
                }
            }
        }
        let _ = err.flush();
    }
}

pub fn run(args: VerifyArgs, out: &mut dyn Write) -> Result<Outcome, Report> {
    let config = load(args.config.as_deref())?;
    let timing = args.invoke.as_ref().map(|_| timing(&args)).transpose()?;
    let target = Target { region: args.region.clone(), profile: args.profile.clone() };
    let rt = aws::runtime().map_err(|e| Report { message: e.to_string(), help: Some(e.help()), code: 2 })?;
    let region = config.primary_region().to_owned();
    if std::io::stderr().is_terminal() {
        eprintln!("reading the stack, logging configuration, logs, metrics, CloudTrail and IAM ...");
    }
    let terminal = std::io::stderr().is_terminal();
    let (facts, invoked) = rt
        .block_on(async {
            let aws = Aws::connect(&target, &region).await;
            let facts = gather::gather(&aws, &target, &config, args.window).await?;
            let invoked = match (&args.invoke, timing) {
                (Some(model), Some((deadline, poll))) => {
                    if terminal {
                        eprintln!("calling {model} once (a few tokens), then following the call for up to {} ...", follow::duration_text(deadline.as_millis() as i64));
                    }
                    let req = invoke::Request { model: model.clone(), deadline, poll };
                    let mut progress = WaitProgress { terminal, reported: Vec::new() };
                    Some(invoke::run(&aws, &config, &facts, &req, &mut invoke::SystemClock, &mut progress).await)
                }
                _ => None,
            };
            Ok::<_, crate::verify::VerifyError>((facts, invoked))
        })
        .map_err(|e| Report { message: e.to_string(), help: Some(e.help()), code: 2 })?;
    let mut results = checks::run(&config, &facts);
    let summary = invoked.map(|(summary, lines)| {
        results.extend(lines);
        summary
    });
    let verification = Verification {
        schema_version: SCHEMA_VERSION,
        stack: config.stack_name_for(&facts.region),
        region: facts.region.clone(),
        window_minutes: args.window,
        invoke: summary,
        results,
    };
    let text = match args.format {
        VerifyFormat::Table => render::table(&verification),
        VerifyFormat::Json => render::json(&verification) + "\n",
    };
    out.write_all(text.as_bytes()).map_err(io_report)?;
    Ok(if verification.worst() == Status::Fail { Outcome::Failed } else { Outcome::Ok })
}
