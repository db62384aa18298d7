//! `bedrock-watch report`: arguments and the run function; the work is in `crate::report`.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::{Outcome, Report as CliReport};
#[cfg(feature = "aws")]
use crate::aws::{self, Aws, Target};
use crate::report::render::{self, By, Format};
use crate::report::{self, Period, Request};

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Configuration file of the deployed stack (stack name, models, prices).
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// Region of the stack (default: the config's primary region).
    #[arg(long)]
    pub region: Option<String>,
    /// AWS profile (default: as the AWS CLI resolves it).
    #[arg(long)]
    pub profile: Option<String>,
    /// The last N hours, up to now (1 to 10920).
    #[arg(long, conflicts_with_all = ["since", "until"], allow_negative_numbers = true, value_parser = parse_hours)]
    pub hours: Option<u32>,
    /// Start of the period, RFC 3339 (2026-11-01T00:00:00Z).
    #[arg(long)]
    pub since: Option<String>,
    /// End of the period, RFC 3339 (default: now).
    #[arg(long, requires = "since")]
    pub until: Option<String>,
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,
    /// The breakdown shown by table and markdown (json and html hold all).
    #[arg(long, value_enum, default_value_t = ReportBy::Model)]
    pub by: ReportBy,
    /// How many users to list (ranked by estimated cost).
    #[arg(long, default_value_t = 10)]
    pub top: usize,
    /// Write to this file instead of standard output.
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// One account linked to this monitoring account (12 digits): the report reads its metrics
    /// and logs through CloudWatch cross-account observability.
    #[arg(long, value_name = "ID", value_parser = report::accounts::parse_account, conflicts_with = "org")]
    pub account: Option<String>,
    /// Every account linked to this monitoring account: totals summed, and a table by account.
    #[arg(long)]
    pub org: bool,
    /// Re-render a saved `--format json` report instead of reading AWS.
    #[arg(long, conflicts_with_all = ["hours", "since", "until", "region", "profile", "config", "account", "org"])]
    pub from_json: Option<PathBuf>,
    /// Print the JSON Schema of `--format json` (with --reconcile: of the reconciliation) and exit.
    #[arg(long, conflicts_with_all = ["config", "region", "profile", "hours", "since", "until", "out", "from_json", "month", "drift_threshold", "min_difference_usd"])]
    pub schema: bool,
    /// Compare the estimate with the billed cost of the CUR 2.0 export (`billing.cur_export`)
    /// per principal and model for a closed period; exit 1 when a row drifts over the threshold.
    #[arg(long, conflicts_with_all = ["hours", "account", "org"])]
    pub reconcile: bool,
    /// With --reconcile: the calendar month, YYYY-MM (default: the last month that ended at
    /// least 48 hours ago).
    #[arg(long, requires = "reconcile", conflicts_with_all = ["since", "until"])]
    pub month: Option<String>,
    /// With --reconcile: drift when the difference exceeds this percentage of the billed cost
    /// (default: billing.cur_export.drift_threshold_percent).
    #[arg(long, requires = "reconcile", allow_negative_numbers = true, value_name = "PERCENT", value_parser = super::reconcile::parse_percent)]
    pub drift_threshold: Option<f64>,
    /// With --reconcile: differences below this many USD are not drift (default 0.01).
    #[arg(long, requires = "reconcile", allow_negative_numbers = true, value_name = "USD", value_parser = super::reconcile::parse_usd)]
    pub min_difference_usd: Option<f64>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ReportFormat {
    Table,
    Json,
    Markdown,
    Html,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ReportBy {
    Model,
    User,
    Day,
}

/// `--hours`: a negative or fractional number is a value error naming the range, not clap's
/// "unexpected argument" (which is what `-1` would otherwise be taken for).
fn parse_hours(text: &str) -> Result<u32, String> {
    let range = format!("a whole number of hours from 1 to {} (CloudWatch keeps hourly data for 455 days)", report::period::MAX_HOURS);
    match text.trim().parse::<i64>() {
        Ok(h) if (1..=i64::from(report::period::MAX_HOURS)).contains(&h) => Ok(h as u32),
        _ => Err(format!("`{}` is not {range}", crate::config::values::shorten(text))),
    }
}

pub(super) fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

fn error(e: report::ReportError) -> CliReport {
    CliReport { help: Some(e.help()), message: e.to_string(), code: 2 }
}

pub fn run(args: ReportArgs, out: &mut dyn Write) -> Result<Outcome, CliReport> {
    if args.reconcile {
        return super::reconcile::run(&args, out);
    }
    if args.schema {
        writeln!(out, "{}", report::model::schema()).map_err(super::io_report)?;
        return Ok(Outcome::Ok);
    }
    let format = match args.format {
        ReportFormat::Table => Format::Table,
        ReportFormat::Json => Format::Json,
        ReportFormat::Markdown => Format::Markdown,
        ReportFormat::Html => Format::Html,
    };
    let by = match args.by {
        ReportBy::Model => By::Model,
        ReportBy::User => By::User,
        ReportBy::Day => By::Day,
    };
    let rep = match &args.from_json {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| CliReport::usage(format!("cannot read {}: {e}", path.display()), "pass a file written by `bedrock-watch report --format json`"))?;
            report::Report::from_json(&text).map_err(|e| CliReport::usage(format!("{} is not a bedrock-watch report: {e}", path.display()), "pass a file written by `bedrock-watch report --format json`"))?
        }
        None => generate(&args)?,
    };
    let text = render::render(&rep, format, by);
    write_out(args.out.as_deref(), &text, out)?;
    Ok(Outcome::Ok)
}

/// Writes `text` to `--out`, saying so on `out`, or to `out` itself.
pub(super) fn write_out(path: Option<&std::path::Path>, text: &str, out: &mut dyn Write) -> Result<(), CliReport> {
    match path {
        Some(path) => {
            std::fs::write(path, text).map_err(|e| CliReport { message: format!("cannot write {}: {e}", path.display()), help: Some("check that the folder exists and is writable".into()), code: 2 })?;
            writeln!(out, "wrote {} ({} bytes)", path.display(), text.len()).map_err(super::io_report)?;
        }
        None => out.write_all(text.as_bytes()).map_err(super::io_report)?,
    }
    Ok(())
}

/// Validates the config and the period before anything else, in every build.
fn generate(args: &ReportArgs) -> Result<report::Report, CliReport> {
    let config = super::load(args.config.as_deref())?;
    let t = now();
    let period = match (&args.hours, &args.since) {
        (_, Some(since)) => Period::between(since, args.until.as_deref(), t),
        (Some(h), None) => Period::last_hours(*h, t),
        (None, None) => Period::last_hours(24, t),
    }
    .map_err(error)?;
    let req = Request { period, top_users: args.top, now: t };
    fetch(args, &config, &req)
}

#[cfg(feature = "aws")]
fn fetch(args: &ReportArgs, config: &crate::config::Config, req: &Request) -> Result<report::Report, CliReport> {
    let scope = match (&args.account, args.org) {
        (Some(a), _) => Some(report::accounts::Scope::Account(a.clone())),
        (None, true) => Some(report::accounts::Scope::Org),
        (None, false) => None,
    };
    with_aws(args, config, async |aws, progress| match &scope {
        Some(scope) => report::accounts::generate(aws, config, req, scope, progress).await.map_err(error),
        None => report::generate(aws, config, req, progress).await.map_err(error),
    })
}

/// Connects as `--region` and `--profile` say, checks the credentials, and runs `work` with a
/// progress printer (a line per step on standard error when it is a terminal).
#[cfg(feature = "aws")]
pub(super) fn with_aws<T>(
    args: &ReportArgs,
    config: &crate::config::Config,
    work: impl AsyncFnOnce(&Aws, &mut dyn report::Progress) -> Result<T, CliReport>,
) -> Result<T, CliReport> {
    use std::io::IsTerminal;
    let rt = aws::runtime().map_err(|e| CliReport { help: Some(e.help()), message: e.to_string(), code: 2 })?;
    let target = Target { region: args.region.clone(), profile: args.profile.clone() };
    let terminal = std::io::stderr().is_terminal();
    let mut progress = move |what: &str| {
        if terminal {
            eprintln!("… {what}");
        }
    };
    rt.block_on(async {
        let aws = Aws::connect(&target, config.primary_region()).await;
        aws.check_credentials().await.map_err(|e| CliReport { help: Some(e.help()), message: e.to_string(), code: 2 })?;
        work(&aws, &mut progress).await
    })
}

#[cfg(not(feature = "aws"))]
fn fetch(_: &ReportArgs, _: &crate::config::Config, _: &Request) -> Result<report::Report, CliReport> {
    let mut e = super::no_aws::unavailable("report");
    e.help = Some(format!("re-render a saved report with `report --from-json FILE`, or {}", super::no_aws::HOW_TO_INSTALL));
    Err(e)
}
