//! `bedrock-watch report --reconcile`: arguments turned into a [`Request`] before any AWS call
//! (a period still open or too recent costs no request), then the work in
//! `crate::report::reconcile`. Exit 0: nothing drifts; 1: a row drifts; 2: usage or AWS error.

use std::io::Write;

use super::report::{now, write_out, ReportArgs, ReportFormat};
use super::{Outcome, Report as CliReport};
use crate::report::reconcile::render::{self, Format};
use crate::report::reconcile::{self, model, period, ReconcileError, Reconciliation, Request};
use crate::report::Period;

/// `--drift-threshold`: a percentage from 0 to 1000, like `billing.cur_export.drift_threshold_percent`.
pub fn parse_percent(text: &str) -> Result<f64, String> {
    match text.trim().trim_end_matches('%').parse::<f64>() {
        Ok(v) if v.is_finite() && (0.0..=1000.0).contains(&v) => Ok(v),
        _ => Err(format!("`{}` is not a percentage from 0 to 1000", crate::config::values::shorten(text))),
    }
}

/// `--min-difference-usd`: a non-negative amount of USD.
pub fn parse_usd(text: &str) -> Result<f64, String> {
    match text.trim().trim_start_matches('$').parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!("`{}` is not an amount of USD (0 or more, e.g. 0.01)", crate::config::values::shorten(text))),
    }
}

fn error(e: ReconcileError) -> CliReport {
    CliReport { help: Some(e.help()), message: e.to_string(), code: 2 }
}

fn format(f: ReportFormat) -> Result<Format, CliReport> {
    match f {
        ReportFormat::Table => Ok(Format::Table),
        ReportFormat::Markdown => Ok(Format::Markdown),
        ReportFormat::Json => Ok(Format::Json),
        ReportFormat::Html => Err(CliReport::usage("--format html is not available with --reconcile", "use --format table, markdown or json")),
    }
}

pub fn run(args: &ReportArgs, out: &mut dyn Write) -> Result<Outcome, CliReport> {
    if args.schema {
        writeln!(out, "{}", model::schema()).map_err(super::io_report)?;
        return Ok(Outcome::Ok);
    }
    let format = format(args.format)?;
    let rec = match &args.from_json {
        Some(path) => {
            let help = "pass a file written by `bedrock-watch report --reconcile --format json`";
            let text = std::fs::read_to_string(path).map_err(|e| CliReport::usage(format!("cannot read {}: {e}", path.display()), help))?;
            Reconciliation::from_json(&text).map_err(|e| CliReport::usage(format!("{} is not a bedrock-watch reconciliation: {e}", path.display()), help))?
        }
        None => generate(args)?,
    };
    write_out(args.out.as_deref(), &render::render(&rec, format), out)?;
    Ok(if rec.drifts() { Outcome::Failed } else { Outcome::Ok })
}

/// Validates the config, the period and the threshold before anything else, in every build.
fn generate(args: &ReportArgs) -> Result<Reconciliation, CliReport> {
    let config = super::load(args.config.as_deref())?;
    let t = now();
    let period = match &args.since {
        Some(since) => {
            let p = Period::between(since, args.until.as_deref(), t).map_err(|e| error(ReconcileError::Period(e.to_string())))?;
            period::closed(p, t).map_err(error)?;
            p
        }
        None => period::month(args.month.as_deref(), t).map_err(error)?,
    };
    if !config.billing.cur_export.enabled {
        return Err(error(ReconcileError::NotEnabled));
    }
    let req = Request {
        period,
        drift_threshold_percent: args.drift_threshold.unwrap_or(config.billing.cur_export.drift_threshold_percent),
        min_difference_usd: args.min_difference_usd.unwrap_or(reconcile::DEFAULT_MIN_DIFFERENCE_USD),
        now: t,
    };
    fetch(args, &config, &req)
}

#[cfg(feature = "aws")]
fn fetch(args: &ReportArgs, config: &crate::config::Config, req: &Request) -> Result<Reconciliation, CliReport> {
    super::report::with_aws(args, config, async |aws, progress| reconcile::fetch::generate(aws, config, req, progress).await.map_err(error))
}

#[cfg(not(feature = "aws"))]
fn fetch(_: &ReportArgs, _: &crate::config::Config, _: &Request) -> Result<Reconciliation, CliReport> {
    let mut e = super::no_aws::unavailable("report --reconcile");
    e.help = Some(format!("re-render a saved reconciliation with `report --reconcile --from-json FILE`, or {}", super::no_aws::HOW_TO_INSTALL));
    Err(e)
}
