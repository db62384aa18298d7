//! `org plan|synth|deploy|diff|status|destroy|audit`: the organization-wide rollout through
//! CloudFormation StackSets. Parses, calls `crate::org`, prints.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::{load, Outcome, Report};
use crate::aws::{self, Aws, Target};
use crate::config::Config;
use crate::deploy::Waiting;
use crate::org::audit;
use crate::org::client::Sdk;
use crate::org::engine::{self, Home};
use crate::org::plan::{self, Rollout};
use crate::org::OrgError;

#[derive(Debug, Args)]
pub struct OrgArgs {
    #[command(subcommand)]
    pub command: OrgCommand,
}

/// The config and the administrator account to act as.
#[derive(Debug, Args)]
pub struct Common {
    /// Configuration file (YAML) with an `organization:` section.
    #[arg(long, short)]
    pub config: PathBuf,
    /// AWS profile of the management or delegated-administrator account.
    #[arg(long)]
    pub profile: Option<String>,
    /// Home region of the stack sets (default: the config's first region).
    #[arg(long)]
    pub region: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Print the rollout (stack sets, member templates, targets, preferences) without AWS calls.
    Plan {
        #[command(flatten)]
        common: Common,
        /// Also read every target account and region (as `org audit` does) and name the
        /// instances that would fail because logging was set up outside the stack (exit 1).
        #[arg(long)]
        check_existing: bool,
    },
    /// For every account and region: is invocation logging on, where does it deliver, does
    /// delivery fail, and does the bedrock-watch stack own it. Reads each member account through
    /// organization.read_role_name (else the execution role).
    Audit {
        #[command(flatten)]
        common: Common,
        /// Delivery failures are summed over this many minutes.
        #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u32).range(5..=10080))]
        window_minutes: u32,
        /// `table` (default) or `json` (schema `bedrock-watch/org-audit@1`).
        #[arg(long, default_value = "table", value_parser = ["table", "json"])]
        format: String,
    },
    /// Write the member templates and, with a monitoring account, the sink templates.
    Synth {
        #[command(flatten)]
        common: Common,
        /// Output folder.
        #[arg(long, short, default_value = "org-templates")]
        out: PathBuf,
    },
    /// Write the two IAM role templates a self-managed rollout needs: the administration role
    /// (administrator account) and the execution role (every target account).
    Roles {
        #[command(flatten)]
        common: Common,
        /// Output folder.
        #[arg(long, short, default_value = "org-templates")]
        out: PathBuf,
    },
    /// Create or update the stack sets and their instances; follow each operation; print every instance.
    Deploy(Common),
    /// Show what `org deploy` would change (exit 1 when something would).
    Diff(Common),
    /// Print every stack instance with its status and reason.
    Status(Common),
    /// Delete every instance and the stack sets; retained data stores stay and are listed.
    Destroy {
        #[command(flatten)]
        common: Common,
        /// Required: deleting the stacks of every account is not done by accident.
        #[arg(long)]
        yes: bool,
    },
}

fn report(e: OrgError) -> Report {
    let code = match e {
        OrgError::NotConfigured
        | OrgError::Findings { .. }
        | OrgError::NeedsStaging { .. }
        | OrgError::Synth(_)
        | OrgError::QuotaExceeded { .. }
        | OrgError::RolesNeedSelfManaged
        | OrgError::Central(_)
        | OrgError::Roles(_) => 2,
        _ => 1,
    };
    Report { message: e.to_string(), help: Some(e.help()), code }
}

fn rollout(config: &Config) -> Result<Rollout, Report> {
    plan::plan(config).map_err(report)
}

async fn connect(c: &Common, config: &Config) -> Result<Aws, Report> {
    let aws = Aws::connect(&Target { region: c.region.clone(), profile: c.profile.clone() }, config.primary_region()).await;
    aws.check_credentials().await.map_err(|e| report(OrgError::Aws(e)))?;
    Ok(aws)
}

fn io(e: std::io::Error) -> Report {
    super::io_report(e)
}

pub fn run(args: OrgArgs, out: &mut dyn Write) -> Result<Outcome, Report> {
    match args.command {
        OrgCommand::Plan { common: c, check_existing } => {
            let config = load(Some(&c.config))?;
            let r = rollout(&config)?;
            write!(out, "{}", plan::describe(&r)).map_err(io)?;
            if !check_existing {
                return Ok(Outcome::Ok);
            }
            let rows = audit_rows(&c, &config, &r, 60)?;
            let conflicts = audit::conflicts(&rows, config.logging.adopt_existing);
            if conflicts.is_empty() {
                writeln!(out, "existing logging: no target account and region has a configuration this stack did not write ({} read)", rows.len()).map_err(io)?;
            } else {
                writeln!(out, "existing logging: {} instance(s) would fail (logging.adopt_existing is false):", conflicts.len()).map_err(io)?;
                for r in &conflicts {
                    writeln!(out, "  {} {}: delivers to {}", r.account, r.region, r.destination).map_err(io)?;
                }
                writeln!(out, "set logging.adopt_existing: true to take them over (each instance saves what it replaces and restores it on delete), or exclude those accounts").map_err(io)?;
            }
            let unreadable = rows.iter().filter(|r| r.owner == audit::Owner::Unknown).count();
            if unreadable > 0 {
                writeln!(out, "{unreadable} account-region(s) could not be read: run `bedrock-watch org audit` for the reasons").map_err(io)?;
            }
            Ok(if conflicts.is_empty() { Outcome::Ok } else { Outcome::Failed })
        }
        OrgCommand::Audit { common: c, window_minutes, format } => {
            let config = load(Some(&c.config))?;
            let r = rollout(&config)?;
            let rows = audit_rows(&c, &config, &r, window_minutes)?;
            if format == "json" {
                let doc = serde_json::json!({"schema": "bedrock-watch/org-audit@1", "window_minutes": window_minutes, "rows": rows});
                writeln!(out, "{}", serde_json::to_string_pretty(&doc).unwrap_or_default()).map_err(io)?;
            } else {
                write!(out, "{}", audit::render(&rows)).map_err(io)?;
            }
            Ok(Outcome::Ok)
        }
        OrgCommand::Synth { common, out: dir } => {
            let config = load(Some(&common.config))?;
            let r = rollout(&config)?;
            let mut files: Vec<(String, String)> = r.stack_sets.iter().map(|s| (format!("{}.yaml", s.name), s.template.content.clone())).collect();
            files.extend(crate::org::central::templates(&config, &r).map_err(report)?);
            write_files(&dir, files, out)?;
            Ok(Outcome::Ok)
        }
        OrgCommand::Roles { common, out: dir } => {
            let config = load(Some(&common.config))?;
            let files = crate::org::roles::templates(&config).map_err(report)?;
            write_files(&dir, files, out)?;
            Ok(Outcome::Ok)
        }
        OrgCommand::Deploy(c) => with_api(&c, |api, r, home, out| Box::pin(async move { engine::deploy(api, r, home, out).await.map(|_| Outcome::Ok) }), out),
        OrgCommand::Diff(c) => with_api(&c, |api, r, _, out| Box::pin(async move { engine::diff(api, r, out).await.map(|changed| if changed { Outcome::Failed } else { Outcome::Ok }) }), out),
        OrgCommand::Status(c) => with_api(&c, |api, r, _, out| Box::pin(async move { engine::table(api, r, out).await.map(|_| Outcome::Ok) }), out),
        OrgCommand::Destroy { common, yes } => {
            if !yes {
                return Err(Report::usage(
                    "org destroy deletes the bedrock-watch stack of every target account and region",
                    "run it again with --yes; retained log data (bucket, log groups, key) stays in each account",
                ));
            }
            with_api(&common, |api, r, home, out| Box::pin(async move { engine::destroy(api, r, home, out).await.map(|_| Outcome::Ok) }), out)
        }
    }
}

fn write_files(dir: &std::path::Path, files: Vec<(String, String)>, out: &mut dyn Write) -> Result<(), Report> {
    std::fs::create_dir_all(dir).map_err(|e| Report { message: format!("cannot create {}: {e}", dir.display()), help: None, code: 2 })?;
    for (name, content) in files {
        let path = dir.join(&name);
        std::fs::write(&path, &content).map_err(|e| Report { message: format!("cannot write {}: {e}", path.display()), help: None, code: 2 })?;
        writeln!(out, "wrote {} ({} bytes)", path.display(), content.len()).map_err(io)?;
    }
    Ok(())
}

type Job<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Outcome, OrgError>> + 'a>>;

fn with_api(c: &Common, job: impl for<'a> FnOnce(&'a Sdk<'a>, &'a Rollout, &'a Home, &'a mut dyn Write) -> Job<'a>, out: &mut dyn Write) -> Result<Outcome, Report> {
    let config = load(Some(&c.config))?;
    let r = rollout(&config)?;
    let rt = aws::runtime().map_err(|e| report(OrgError::Aws(e)))?;
    rt.block_on(async {
        let aws = connect(c, &config).await?;
        let api = Sdk::new(&aws, r.call_as);
        let home = Home { region: aws.region.clone(), waiting: Waiting::default() };
        job(&api, &r, &home, out).await.map_err(report)
    })
}

/// Reads every target account and region: the configured accounts and those that already
/// have an instance of one of the stack sets.
fn audit_rows(c: &Common, config: &Config, r: &Rollout, window_minutes: u32) -> Result<Vec<audit::AuditRow>, Report> {
    use crate::org::client::StackSets;
    let o = plan::section(config).map_err(report)?;
    let role = o.read_role_name.clone().unwrap_or_else(|| o.execution_role_name.clone());
    let rt = aws::runtime().map_err(|e| report(OrgError::Aws(e)))?;
    rt.block_on(async {
        let home = connect(c, config).await?;
        let api = Sdk::new(&home, r.call_as);
        let mut accounts: Vec<String> = r.accounts().to_vec();
        for ss in &r.stack_sets {
            if api.describe_stack_set(&ss.name).await.map_err(|e| report(OrgError::Aws(e)))?.is_some() {
                accounts.extend(api.list_instances(&ss.name).await.map_err(|e| report(OrgError::Aws(e)))?.into_iter().map(|i| i.account));
            }
        }
        accounts.retain(|a| !r.excluded().contains(a));
        let regions: Vec<String> = r.stack_sets.iter().map(|s| s.region.clone()).collect();
        let cells = audit::gather(&home, &audit::cells_to_read(accounts, &regions), &role, window_minutes).await;
        Ok(cells.iter().map(|cell| audit::classify(cell, &config.logging.log_group_name)).collect())
    })
}
