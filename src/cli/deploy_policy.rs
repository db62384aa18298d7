//! `deploy-policy`: the least-privilege policy of the deploying principal, derived from the
//! synthesized templates alone, so it needs no AWS access (and no `aws` feature).

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use super::{load, synthesize, Outcome, Report};
use crate::cfn::Format;
use crate::deploy::policy::{self, StackTemplate};

#[derive(Debug, Args)]
pub struct PolicyArgs {
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// Include the staging bucket (default: deploy.staging_bucket).
    #[arg(long)]
    pub staging_bucket: Option<String>,
}

pub fn run_policy(args: PolicyArgs, out: &mut dyn Write) -> Result<Outcome, Report> {
    let config = load(args.config.as_deref())?;
    let rendered = synthesize(&config, Format::Yaml)?;
    let stacks: Vec<StackTemplate> = rendered.iter().map(|r| StackTemplate { stack: &r.stack_name, region: &r.region, body: &r.content }).collect();
    let bucket = args.staging_bucket.or_else(|| config.deploy.staging_bucket.clone());
    let p = policy::deploy_policy(&stacks, bucket.as_deref().map(|b| (b, config.deploy.staging_prefix.as_str())))
        .map_err(|e| Report { message: e.to_string(), help: Some("this is a bug in bedrock-watch; please report it with your config".into()), code: 2 })?;
    writeln!(out, "{}", serde_json::to_string_pretty(&p.document).unwrap_or_default()).map_err(super::io_report)?;
    // Reasons go to standard error, so standard output stays a policy document for `aws iam create-policy`.
    eprintln!("Resource \"*\" only where AWS offers no resource-level permission:");
    for e in &p.exceptions {
        eprintln!("  - {}: {}\n    reason: {}", e.name, e.actions.join(", "), e.reason);
    }
    Ok(Outcome::Ok)
}
