//! The command line: parses arguments, calls the library, prints, and maps the outcome to an exit
//! code (0 ok, 1 findings or stale templates, 2 bad usage or bad config). No logic lives here
//! that a library caller could not reach.
//!
//! Without the `aws` feature the commands that call AWS stay in the command list, so a CI job
//! running such a build by mistake gets a message naming the feature (exit 2) instead of
//! clap's "unrecognized subcommand".

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

pub mod preview;

use crate::cfn::Format;
use crate::config::{self, Config};
use crate::iam::policy::WILDCARD_EXCEPTIONS;
use crate::synth::{self, Rendered};

#[cfg(feature = "aws")]
mod quota;
#[cfg(feature = "aws")]
mod deploy;
#[cfg(feature = "aws")]
mod org;
mod deploy_policy;
mod prices;
#[cfg(not(feature = "aws"))]
mod no_aws;
pub mod report;
mod reconcile;
#[cfg(feature = "aws")]
mod verify;
#[cfg(feature = "aws")]
mod access;

#[cfg(feature = "aws")]
use self::deploy::{DeployArgs, DestroyArgs, DiffArgs, WatchArgs};
#[cfg(feature = "aws")]
use self::quota::QuotaArgs;
#[cfg(not(feature = "aws"))]
use self::no_aws::{NoAws as QuotaArgs, NoAws as DeployArgs, NoAws as DiffArgs, NoAws as DestroyArgs, NoAws as WatchArgs};
#[cfg(feature = "aws")]
use self::{access::AccessArgs, org::OrgArgs, serve::ServeArgs, verify::VerifyArgs};
#[cfg(not(feature = "aws"))]
use self::no_aws::{NoAws as AccessArgs, NoAws as OrgArgs, NoAws as ServeArgs, NoAws as VerifyArgs};
#[cfg(feature = "aws")]
mod serve;

#[derive(Debug, Parser)]
#[command(name = "bedrock-watch", version, about = "Synthesizes CloudFormation that monitors AWS Bedrock: invocation logging, alarms, dashboards")]
#[cfg_attr(not(feature = "aws"), command(after_help = no_aws::AFTER_HELP))]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write one template per region's stack (default into templates/).
    Synth {
        /// Configuration file (YAML). Without it the built-in defaults apply.
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// Output folder.
        #[arg(long, short, default_value = "templates")]
        out: PathBuf,
        #[arg(long, value_enum, default_value_t = OutputFormat::Yaml)]
        format: OutputFormat,
        /// Write nothing; exit 1, name the files that differ from what would be written and show
        /// a unified diff of each (first 60 lines).
        #[arg(long)]
        check: bool,
        /// Print the templates to standard output instead of writing files.
        #[arg(long, conflicts_with = "check")]
        stdout: bool,
    },
    /// Run the built-in checks and print findings and the declared least-privilege exceptions.
    Validate {
        #[arg(long, short)]
        config: Option<PathBuf>,
    },
    /// Print the JSON Schema of the configuration file.
    Schema,
    /// Quotas of the deployed stack: status, block, unblock, protect, unprotect, audit, track (and `status --untracked`).
    Quota(QuotaArgs),
    /// Draw each dashboard's layout as an SVG or HTML file for review (default into preview/).
    Preview(preview::PreviewArgs),
    /// Print the stack's resources and their references as a Mermaid flowchart.
    Graph(preview::GraphArgs),
    /// Deploy each region's stack through a CloudFormation change set.
    Deploy(DeployArgs),
    /// Show what a deploy would change (exit 1 when something would).
    Diff(DiffArgs),
    /// Delete the stacks; retained data stores are kept unless --purge.
    Destroy(DestroyArgs),
    /// Follow a stack's running operation until it settles.
    Watch(WatchArgs),
    /// Print the least-privilege IAM policy for the principal that deploys.
    DeployPolicy(deploy_policy::PolicyArgs),
    /// Usage, estimated cost and performance of a period, from a deployed stack.
    Report(report::ReportArgs),
    /// Organization-wide rollout through CloudFormation StackSets: plan, synth, deploy, diff, status, destroy.
    Org(OrgArgs),
    /// Prove traceability on a deployed stack: identity, logging, delivery, CloudTrail, tokens, cost, prohibited patterns.
    Verify(VerifyArgs),
    /// Bedrock API keys for the tools of access.tools: key create|list|revoke.
    Access(AccessArgs),
    /// Web console on 127.0.0.1: usage, teams, details, blocking, CSV export.
    Serve(ServeArgs),
    /// The price table in use (source and date of each price); --check fails on old prices.
    Prices(prices::PricesArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum OutputFormat {
    Yaml,
    Json,
}

impl From<OutputFormat> for Format {
    fn from(f: OutputFormat) -> Self {
        match f {
            OutputFormat::Yaml => Format::Yaml,
            OutputFormat::Json => Format::Json,
        }
    }
}

/// Outcome of a command, mapped to an exit code in one place.
#[derive(Debug)]
pub enum Outcome {
    Ok,
    /// Findings, stale templates: something for the user to fix in what they asked for.
    Failed,
}

/// An error for the top-level report: what went wrong and what to do.
#[derive(Debug)]
pub struct Report {
    pub message: String,
    pub help: Option<String>,
    pub code: u8,
}

impl Report {
    fn usage(message: impl Into<String>, help: impl Into<String>) -> Self {
        Report { message: message.into(), help: Some(help.into()), code: 2 }
    }
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match run(cli, &mut out) {
        Ok(Outcome::Ok) => ExitCode::SUCCESS,
        Ok(Outcome::Failed) => ExitCode::from(1),
        Err(report) => {
            let _ = out.flush();
            eprintln!("error: {}", report.message);
            if let Some(help) = report.help {
                eprintln!("help: {help}");
            }
            ExitCode::from(report.code)
        }
    }
}

/// Runs a parsed command, writing its normal output to `out`.
pub fn run(cli: Cli, out: &mut dyn Write) -> Result<Outcome, Report> {
    match cli.command {
        #[cfg(feature = "aws")]
        Command::Quota(args) => quota::run(args, out),
        #[cfg(feature = "aws")]
        Command::Deploy(args) => deploy::run_deploy(args, out),
        #[cfg(feature = "aws")]
        Command::Diff(args) => deploy::run_diff(args, out),
        #[cfg(feature = "aws")]
        Command::Destroy(args) => deploy::run_destroy(args, out),
        #[cfg(feature = "aws")]
        Command::Watch(args) => deploy::run_watch(args, out),
        #[cfg(not(feature = "aws"))]
        Command::Quota(_) => Err(no_aws::unavailable("quota")),
        #[cfg(not(feature = "aws"))]
        Command::Deploy(_) => Err(no_aws::unavailable("deploy")),
        #[cfg(not(feature = "aws"))]
        Command::Diff(_) => Err(no_aws::unavailable("diff")),
        #[cfg(not(feature = "aws"))]
        Command::Destroy(_) => Err(no_aws::unavailable("destroy")),
        #[cfg(not(feature = "aws"))]
        Command::Watch(_) => Err(no_aws::unavailable("watch")),
        Command::DeployPolicy(args) => deploy_policy::run_policy(args, out),
        Command::Report(args) => report::run(args, out),
        #[cfg(feature = "aws")]
        Command::Org(args) => org::run(args, out),
        #[cfg(feature = "aws")]
        Command::Verify(args) => verify::run(args, out),
        #[cfg(feature = "aws")]
        Command::Access(args) => access::run(args, out),
        #[cfg(feature = "aws")]
        Command::Serve(args) => serve::run(args, out),
        #[cfg(not(feature = "aws"))]
        Command::Org(_) => Err(no_aws::unavailable("org")),
        #[cfg(not(feature = "aws"))]
        Command::Verify(_) => Err(no_aws::unavailable("verify")),
        #[cfg(not(feature = "aws"))]
        Command::Access(_) => Err(no_aws::unavailable("access")),
        #[cfg(not(feature = "aws"))]
        Command::Serve(_) => Err(no_aws::unavailable("serve")),
        Command::Prices(args) => prices::run(args, out),
        Command::Schema => {
            writeln!(out, "{}", config::schema()).map_err(io_report)?;
            Ok(Outcome::Ok)
        }
        Command::Preview(args) => preview::run_preview(args, out),
        Command::Graph(args) => preview::run_graph(args, out),
        Command::Synth { config, out: dir, format, check, stdout } => {
            let config = load(config.as_deref())?;
            let rendered = synthesize(&config, format.into())?;
            if report_findings(&rendered, out)? {
                writeln!(out, "synth refused to write templates that fail the checks; run `bedrock-watch validate` for details").map_err(io_report)?;
                return Ok(Outcome::Failed);
            }
            for r in &rendered {
                for w in &r.warnings {
                    eprintln!("warning: {}: {w}", r.file_name);
                }
            }
            if stdout {
                for r in &rendered {
                    out.write_all(r.content.as_bytes()).map_err(io_report)?;
                }
                return Ok(Outcome::Ok);
            }
            if check {
                let stale = synth::stale(&rendered, &dir);
                for s in &stale {
                    writeln!(out, "stale: {s}").map_err(io_report)?;
                    if let synth::Stale::Differs { diff, .. } = s {
                        let (shown, cut) = synth::first_lines(diff, CHECK_DIFF_LINES);
                        out.write_all(shown.as_bytes()).map_err(io_report)?;
                        if cut > 0 {
                            writeln!(out, "… {cut} more diff line(s) not shown; run `bedrock-watch synth{}` and `git diff` for all of them", config_flag_hint()).map_err(io_report)?;
                        }
                    }
                }
                if stale.is_empty() {
                    writeln!(out, "{} template(s) in {} are up to date", rendered.len(), dir.display()).map_err(io_report)?;
                    return Ok(Outcome::Ok);
                }
                writeln!(out, "run `bedrock-watch synth{}` and commit the result", config_flag_hint()).map_err(io_report)?;
                return Ok(Outcome::Failed);
            }
            let paths = synth::write(&rendered, &dir).map_err(|e| Report { message: e.to_string(), help: Some("check that the output folder is writable".into()), code: 2 })?;
            for (p, r) in paths.iter().zip(&rendered) {
                writeln!(out, "wrote {} (stack {}, {} bytes)", p.display(), r.stack_name, r.content.len()).map_err(io_report)?;
            }
            Ok(Outcome::Ok)
        }
        Command::Validate { config } => {
            let config = load(config.as_deref())?;
            let rendered = synthesize(&config, Format::Yaml)?;
            let failed = report_findings(&rendered, out)?;
            for r in &rendered {
                for w in &r.warnings {
                    writeln!(out, "warning: {}: {w}", r.stack_name).map_err(io_report)?;
                }
            }
            writeln!(out, "Declared least-privilege exceptions (Resource \"*\" where AWS offers no resource-level permission):").map_err(io_report)?;
            for e in WILDCARD_EXCEPTIONS {
                let actions = if e.actions.is_empty() { "key policy statements".to_owned() } else { e.actions.join(", ") };
                writeln!(out, "  - {}: {actions}\n    reason: {}", e.name, e.reason).map_err(io_report)?;
            }
            writeln!(out, "Declared resources outside the stack (acted on, not created):").map_err(io_report)?;
            for e in crate::iam::policy::OUTSIDE_STACK_EXCEPTIONS {
                writeln!(out, "  - {}: {}\n    reason: {}", e.name, e.actions.join(", "), e.reason).map_err(io_report)?;
            }
            writeln!(out, "Declared policy writes whose text the stack cannot fix (granted only where configured):").map_err(io_report)?;
            for e in crate::iam::policy::UNFIXED_POLICY_WRITES {
                writeln!(out, "  - {}: {}\n    reason: {}", e.name, e.actions.join(", "), e.reason).map_err(io_report)?;
            }
            writeln!(out, "Declared deviations from the checkov and cfn-guard rule packs (resource Metadata; both tools read it):").map_err(io_report)?;
            for u in synth::deviation_uses(&rendered) {
                let d = &u.deviation;
                writeln!(out, "  - {}: {}\n    reason: {}", d.name(), d.rule_ids().collect::<Vec<_>>().join(", "), d.reason()).map_err(io_report)?;
                for (stack, ids) in &u.stacks {
                    writeln!(out, "    {stack}: {}", ids.join(", ")).map_err(io_report)?;
                }
            }
            if failed {
                return Ok(Outcome::Failed);
            }
            writeln!(out, "ok: {} stack(s) pass the least-privilege, permissions-management, completeness, security and limits checks", rendered.len()).map_err(io_report)?;
            Ok(Outcome::Ok)
        }
    }
}

/// Diff lines `synth --check` prints per stale file: enough to see what changed in a CI log
/// without burying it (a changed default can touch thousands of lines).
const CHECK_DIFF_LINES: usize = 60;

fn config_flag_hint() -> &'static str {
    " [--config FILE]"
}

fn load(path: Option<&Path>) -> Result<Config, Report> {
    match path {
        None => Ok(Config::default()),
        Some(p) => config::load_file(p).map_err(|e| {
            let help = match &e {
                config::ConfigError::Read { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                    "pass an existing file with --config, or leave it out to use the defaults".to_owned()
                }
                config::ConfigError::Read { .. } => "check that --config names a readable file (not a folder) and its permissions".to_owned(),
                _ => "see `bedrock-watch schema` for every key and its allowed values".to_owned(),
            };
            Report::usage(e.to_string(), help)
        }),
    }
}

fn synthesize(config: &Config, format: Format) -> Result<Vec<Rendered>, Report> {
    synth::synthesize(config, format).map_err(|e| Report {
        message: e.to_string(),
        help: Some("where the message names a limit, change the config as it says; otherwise this is a bug in bedrock-watch: please report it with your config".into()),
        code: 2,
    })
}

/// Prints findings; true when there were any.
fn report_findings(rendered: &[Rendered], out: &mut dyn Write) -> Result<bool, Report> {
    let mut any = false;
    for r in rendered {
        for f in &r.findings {
            writeln!(out, "{}: {f}", r.stack_name).map_err(io_report)?;
            any = true;
        }
    }
    Ok(any)
}

fn io_report(e: std::io::Error) -> Report {
    Report { message: format!("cannot write output: {e}"), help: None, code: 2 }
}
