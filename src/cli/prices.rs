//! `prices`: the price table in use and, with `--check`, whether any price is too old.
//! Needs no AWS access (and no `aws` feature): the table is the built-in one plus the config's.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use super::{io_report, load, Outcome, Report};
use crate::bedrock::pricing::PricesView;

#[derive(Debug, Args)]
pub struct PricesArgs {
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// Region whose prices to show (default: the config's first region).
    #[arg(long)]
    pub region: Option<String>,
    /// `table` (default) or `json`.
    #[arg(long, default_value = "table", value_parser = ["table", "json"])]
    pub format: String,
    /// Exit 1 when any price is older than the limit or has no as_of date.
    #[arg(long)]
    pub check: bool,
    /// Age limit in days for --check (default: pricing.max_age_days, else 180).
    #[arg(long)]
    pub max_age_days: Option<u32>,
}

pub fn run(args: PricesArgs, out: &mut dyn Write) -> Result<Outcome, Report> {
    let config = load(args.config.as_deref())?;
    let region = args.region.unwrap_or_else(|| config.primary_region().to_owned());
    if !config.regions.contains(&region) {
        return Err(Report::usage(format!("--region {region} is not one of the config's regions ({})", config.regions.join(", ")), "pass one of the regions the config lists"));
    }
    let today = jiff::tz::TimeZone::UTC.to_datetime(jiff::Timestamp::now()).date();
    let view = PricesView::new(&config.pricing.table(), &region, today, args.max_age_days.unwrap_or_else(|| config.pricing.max_age_days()));
    if args.format == "json" {
        let doc = serde_json::json!({"schema": "bedrock-watch/prices@1", "prices": view});
        writeln!(out, "{}", serde_json::to_string_pretty(&doc).unwrap_or_default()).map_err(io_report)?;
    } else {
        write!(out, "{}", view.render()).map_err(io_report)?;
    }
    if !args.check {
        return Ok(Outcome::Ok);
    }
    if args.format != "json" {
        write!(out, "{}", view.render_check()).map_err(io_report)?;
    }
    Ok(if view.stale.is_empty() { Outcome::Ok } else { Outcome::Failed })
}
