//! `preview` and `graph`: the review pictures of a stack. Arguments and their run functions;
//! the drawing is in [`crate::preview`] and [`crate::cfn::graph`].

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::{io_report, load, Outcome, Report};
use crate::cfn::graph::Graph;
use crate::config::Config;
use crate::monitoring::{self, Stack};
use crate::preview;

#[derive(Debug, Args)]
pub struct PreviewArgs {
    /// Configuration file (YAML). Without it the built-in defaults apply.
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// Output folder (created if missing).
    #[arg(long, short, default_value = "preview")]
    pub out: PathBuf,
    #[arg(long, value_enum, default_value_t = PreviewFormat::Svg)]
    pub format: PreviewFormat,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum PreviewFormat {
    Svg,
    Html,
}

impl From<PreviewFormat> for preview::Format {
    fn from(f: PreviewFormat) -> Self {
        match f {
            PreviewFormat::Svg => preview::Format::Svg,
            PreviewFormat::Html => preview::Format::Html,
        }
    }
}

#[derive(Debug, Args)]
pub struct GraphArgs {
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// The region whose stack to draw (default: the primary, first configured region).
    #[arg(long, short)]
    pub region: Option<String>,
}

/// Writes one file per dashboard of every stack that has dashboards.
pub fn run_preview(args: PreviewArgs, out: &mut dyn Write) -> Result<Outcome, Report> {
    let config = load(args.config.as_deref())?;
    let mut written = 0;
    for stack in stacks(&config)? {
        let files = preview::render(&stack.name, &stack.template, args.format.into()).map_err(bug)?;
        let paths = preview::write(&files, &args.out).map_err(|e| Report { message: e.to_string(), help: Some("check that the output folder is writable".into()), code: 2 })?;
        for (p, f) in paths.iter().zip(&files) {
            writeln!(out, "wrote {} (dashboard {}, {} widgets)", p.display(), f.dashboard, f.widgets).map_err(io_report)?;
            written += 1;
        }
    }
    if written == 0 {
        writeln!(out, "no dashboards are enabled in this configuration; nothing to preview").map_err(io_report)?;
    }
    Ok(Outcome::Ok)
}

/// Prints the Mermaid flowchart of one region's stack.
pub fn run_graph(args: GraphArgs, out: &mut dyn Write) -> Result<Outcome, Report> {
    let config = load(args.config.as_deref())?;
    let region = args.region.unwrap_or_else(|| config.primary_region().to_owned());
    if !config.regions.contains(&region) {
        return Err(Report {
            message: format!("region `{region}` has no stack in this configuration"),
            help: Some(format!("pass one of the configured regions: {}", config.regions.join(", "))),
            code: 2,
        });
    }
    let template = monitoring::build(&config, &region).map_err(bug)?;
    out.write_all(Graph::of(&template).to_mermaid().as_bytes()).map_err(io_report)?;
    Ok(Outcome::Ok)
}

fn stacks(config: &Config) -> Result<Vec<Stack>, Report> {
    monitoring::stacks(config).map_err(bug)
}

/// An error building or reading a stack from a config that loaded: a bug, said as one.
fn bug(e: impl std::fmt::Display) -> Report {
    Report { message: e.to_string(), help: Some("this is a bug in bedrock-watch if the config passed validation; please report it with your config".into()), code: 2 }
}
