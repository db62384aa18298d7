//! `org plan|synth|deploy|diff|status|destroy`: the organization-wide rollout through
//! CloudFormation StackSets. Parses, calls `crate::org`, prints.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::{load, Outcome, Report};
use crate::aws::{self, Aws, Target};
use crate::cfn::{render, Format};
use crate::config::Config;
use crate::deploy::Waiting;
use crate::oam::sink::{monitoring_template, Linkers};
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
    Plan(Common),
    /// Write the member templates and, with a monitoring account, the sink templates.
    Synth {
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
        OrgError::NotConfigured | OrgError::Findings { .. } | OrgError::NeedsStaging { .. } | OrgError::Synth(_) => 2,
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
        OrgCommand::Plan(c) => {
            let config = load(Some(&c.config))?;
            let r = rollout(&config)?;
            write!(out, "{}", describe(&r)).map_err(io)?;
            Ok(Outcome::Ok)
        }
        OrgCommand::Synth { common, out: dir } => {
            let config = load(Some(&common.config))?;
            let r = rollout(&config)?;
            std::fs::create_dir_all(&dir).map_err(|e| Report { message: format!("cannot create {}: {e}", dir.display()), help: None, code: 2 })?;
            let mut files: Vec<(String, String)> = r.stack_sets.iter().map(|s| (format!("{}.yaml", s.name), s.template.content.clone())).collect();
            let o = plan::section(&config).map_err(report)?;
            if o.monitoring_account.is_some() {
                let linkers = match &o.organization_id {
                    Some(id) => Linkers::Organization(id.clone()),
                    None => Linkers::Accounts(o.targets.accounts.iter().filter(|a| !o.targets.exclude_accounts.contains(a)).cloned().collect()),
                };
                for s in &r.stack_sets {
                    let t = monitoring_template(&config.stack_name, &s.region, linkers.clone()).map_err(|e| Report::usage(e.to_string(), "set organization.organization_id, or list the accounts in organization.targets.accounts"))?;
                    files.push((format!("{}-monitoring-sink-{}.yaml", config.stack_name, s.region), render(&t, Format::Yaml)));
                }
            }
            for (name, content) in files {
                let path = dir.join(&name);
                std::fs::write(&path, &content).map_err(|e| Report { message: format!("cannot write {}: {e}", path.display()), help: None, code: 2 })?;
                writeln!(out, "wrote {} ({} bytes)", path.display(), content.len()).map_err(io)?;
            }
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

/// The rollout in words: what `org deploy` will do, before it talks to AWS.
pub fn describe(r: &Rollout) -> String {
    let mut s = String::new();
    let t = &r.targets;
    let targets = if t.organizational_units.is_empty() {
        format!("accounts {}", t.accounts.join(", "))
    } else {
        let filter = t.account_filter.map(|f| format!(" ({} {})", f.as_str(), t.accounts.join(", "))).unwrap_or_default();
        format!("OUs {}{filter}", t.organizational_units.join(", "))
    };
    s.push_str(&format!("permission model {} (CallAs {}), targets: {targets}\n", r.permission_model.as_str(), r.call_as));
    let p = &r.preferences;
    s.push_str(&format!(
        "operation preferences: max concurrent {}%, failure tolerance {}%, regions {}\n",
        p.max_concurrent_percentage, p.failure_tolerance_percentage, p.region_concurrency
    ));
    if let Some((enabled, retain)) = r.auto_deployment {
        s.push_str(&format!("auto-deployment to new accounts: {}{}\n", if enabled { "on" } else { "off" }, if enabled && retain { ", stacks retained when an account leaves" } else { "" }));
    }
    for ss in &r.stack_sets {
        let staging = if ss.template.content.len() > crate::cfn::template::MAX_INLINE_BODY_BYTES { " (staged in S3: over 51200 bytes)" } else { "" };
        s.push_str(&format!("stack set {} -> region {}: member template {} bytes{staging}, capabilities {}\n", ss.name, ss.region, ss.template.content.len(), ss.capabilities.join(",")));
    }
    s
}
