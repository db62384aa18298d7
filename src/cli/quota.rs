//! `bedrock-watch quota ...`: the operator commands of quotas. Parses, connects, calls
//! [`crate::quotas::admin`], prints. Exit codes: 0 done, 1 refused (protected, out of scope,
//! nothing to undo, a user `track` cannot bring under management), 2 usage, config or AWS error.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::{io_report, load, Outcome, Report};
use crate::aws::{self, Aws, Target};
use crate::quotas::admin::ops::{BlockOutcome, Session};
use crate::quotas::admin::status::{render_audit, render_status, status_json};
use crate::quotas::admin::time::{self as qtime, Direction};
use crate::quotas::admin::untracked::{self, TrackOutcome};
use crate::quotas::admin::AdminError;

/// Where the quota stack is: the config it was deployed from and the AWS account to reach.
#[derive(Debug, Clone, Args)]
pub struct Connection {
    /// Configuration file (YAML) the stack was deployed from; it must enable quotas.
    #[arg(long, short, global = true)]
    pub config: Option<PathBuf>,
    /// Region of the stack (default: the config's first region).
    #[arg(long, global = true)]
    pub region: Option<String>,
    /// AWS profile (default: as the AWS CLI resolves it).
    #[arg(long, global = true)]
    pub profile: Option<String>,
}

#[derive(Debug, Args)]
pub struct QuotaArgs {
    #[command(flatten)]
    pub connection: Connection,
    #[command(subcommand)]
    pub command: QuotaCommand,
}

#[derive(Debug, Subcommand)]
pub enum QuotaCommand {
    /// Show usage today and this month against the limits, blocks and protections.
    Status {
        /// Only this principal (as the identity rule names it).
        #[arg(long)]
        user: Option<String>,
        /// Only the members of this team (from quotas.teams).
        #[arg(long)]
        team: Option<String>,
        /// `text` (tables) or `json` (the same figures as data, as the console's CSV export).
        #[arg(long, value_enum, default_value_t = StatusFormat::Text)]
        format: StatusFormat,
        /// Instead of usage: the IAM users that can call Bedrock outside quota management
        /// (console-made `BedrockAPIKey-*` users, holders of Bedrock API keys) without the quota
        /// tag or outside `quotas.managed_path`.
        #[arg(long, conflicts_with_all = ["user", "team"])]
        untracked: bool,
    },
    /// Bring IAM users under quota management: tag them with `quotas.managed_tag`, so that the
    /// quota functions can block them. Idempotent; never moves a user to another path.
    Track {
        /// IAM user names.
        #[arg(required_unless_present = "all_untracked")]
        users: Vec<String>,
        /// Every user `quota status --untracked` lists (under the managed path).
        #[arg(long)]
        all_untracked: bool,
    },
    /// Block a principal from Bedrock invoke and converse until a time.
    Block {
        principal: String,
        /// End of the block: RFC 3339, a local date or date-time, 30m/12h/3d/2w, end-of-day, end-of-month.
        #[arg(long)]
        until: String,
        /// Why; recorded in the block item and the audit trail.
        #[arg(long)]
        reason: String,
    },
    /// Lift a principal's block now, exactly as it was applied.
    Unblock {
        principal: String,
        #[arg(long, default_value = "lifted by an operator")]
        reason: String,
    },
    /// Never block this principal automatically (and refuse operator blocks).
    Protect {
        principal: String,
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Undo `quota protect`.
    Unprotect {
        principal: String,
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Print the audit trail, oldest first.
    Audit {
        /// Only entries at or after this time (same forms as --until; durations count back).
        #[arg(long)]
        since: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum StatusFormat {
    Text,
    Json,
}

fn admin_report(e: AdminError) -> Report {
    let code = if e.is_refusal() { 1 } else { 2 };
    Report { message: e.to_string(), help: e.help(), code }
}

pub fn run(args: QuotaArgs, out: &mut dyn Write) -> Result<Outcome, Report> {
    let config = load(args.connection.config.as_deref())?;
    if !config.quotas.enabled {
        return Err(admin_report(AdminError::Disabled));
    }
    let tz = qtime::zone(&config.quotas.time_zone).map_err(|e| admin_report(e.into()))?;
    // Times are checked before any AWS call, so a typo costs nothing.
    let now = jiff::Timestamp::now();
    let until = match &args.command {
        QuotaCommand::Block { until, .. } => Some(qtime::parse_until(until, now, &tz).map_err(|e| admin_report(e.into()))?),
        _ => None,
    };
    let since = match &args.command {
        QuotaCommand::Audit { since: Some(s) } => Some(qtime::parse(s, now, &tz, Direction::Past).map_err(|e| admin_report(e.into()))?),
        _ => None,
    };
    let rt = aws::runtime().map_err(|e| Report { message: e.to_string(), help: Some(e.help()), code: 2 })?;
    let target = Target { region: args.connection.region.clone(), profile: args.connection.profile.clone() };
    let region = config.primary_region().to_owned();
    rt.block_on(async move {
        let aws = Aws::connect(&target, &region).await;
        let session = Session::open(aws, config).await.map_err(admin_report)?;
        let w = |out: &mut dyn Write, text: String| out.write_all(text.as_bytes()).map_err(io_report);
        match args.command {
            QuotaCommand::Status { untracked: true, format, .. } => {
                let view = session.untracked().await.map_err(admin_report)?;
                let q = &session.config.quotas;
                match format {
                    StatusFormat::Text => w(out, untracked::render(q, &view))?,
                    StatusFormat::Json => w(out, format!("{:#}\n", untracked::to_json(q, &view)))?,
                }
                // The table says it already; JSON readers get it on standard error too.
                if let (Some(why), StatusFormat::Json) = (&view.keys_unavailable, format) {
                    eprintln!("warning: Bedrock API keys could not be listed: {why}");
                }
                Ok(Outcome::Ok)
            }
            QuotaCommand::Track { users, all_untracked } => {
                let done = session.track(&users, all_untracked).await.map_err(admin_report)?;
                let q = &session.config.quotas;
                let (key, value) = untracked::managed_tag(q);
                let mut refused = false;
                for (name, outcome) in &done {
                    let line = match outcome {
                        TrackOutcome::Tagged => format!("tracked {name}: tagged {key}={value}; the quota functions can now block it; recorded by {}\n", session.actor),
                        TrackOutcome::AlreadyTracked => format!("{name} is already tracked (tag {key}={value}); nothing changed\n"),
                        TrackOutcome::OutsidePath { path } => {
                            refused = true;
                            format!(
                                "{name} not tracked: its path {path} is outside quotas.managed_path {}, which the quota functions' IAM grant is limited to; set quotas.managed_path to a prefix of {path} (and deploy), or recreate the user under {}; nothing changed\n",
                                q.managed_path, q.managed_path
                            )
                        }
                    };
                    w(out, line)?;
                }
                if done.is_empty() {
                    w(out, "no untracked users; nothing changed\n".to_owned())?;
                }
                Ok(if refused { Outcome::Failed } else { Outcome::Ok })
            }
            QuotaCommand::Status { user, team, format, .. } => {
                let mut view = session.status(user.as_deref(), team.as_deref()).await.map_err(admin_report)?;
                // Account-level usage belongs to no user or team view.
                if user.is_none() && team.is_none() {
                    view.unattributed = Some(session.unattributed().await);
                }
                match format {
                    StatusFormat::Text => w(out, render_status(&view))?,
                    StatusFormat::Json => w(out, format!("{:#}\n", status_json(&view)))?,
                }
                Ok(Outcome::Ok)
            }
            QuotaCommand::Block { principal, reason, .. } => {
                let until = until.expect("parsed above");
                match session.block(&principal, until, &reason).await.map_err(admin_report)? {
                    BlockOutcome::Blocked { until, mechanism } => w(out, format!("blocked {principal} until {until} ({mechanism}); recorded by {}\n", session.actor))?,
                    BlockOutcome::KeptLonger { until, mechanism } => w(
                        out,
                        format!("{principal} was already blocked until {until} ({mechanism}), which is not earlier; that block is kept (unblock first to shorten it)\n"),
                    )?,
                }
                Ok(Outcome::Ok)
            }
            QuotaCommand::Unblock { principal, reason } => match session.unblock(&principal, &reason).await.map_err(admin_report)? {
                Some(b) => {
                    w(out, format!("unblocked {principal} (was blocked until {} by {}: {}); recorded by {}\n", b.until, b.blocked_by, b.reason, session.actor))?;
                    Ok(Outcome::Ok)
                }
                None => {
                    w(out, format!("{principal} is not blocked; nothing changed\n"))?;
                    Ok(Outcome::Failed)
                }
            },
            QuotaCommand::Protect { principal, reason } => {
                session.protect(&principal, &reason).await.map_err(admin_report)?;
                w(out, format!("protected {principal}: it is never blocked automatically, and `quota block` refuses it; recorded by {}\n", session.actor))?;
                Ok(Outcome::Ok)
            }
            QuotaCommand::Unprotect { principal, reason } => {
                let was = session.unprotect(&principal, &reason).await.map_err(admin_report)?;
                let note = if session.config.quotas.protected.contains(&principal) { " (it stays protected by quotas.protected in the config)" } else { "" };
                if was {
                    w(out, format!("unprotected {principal}{note}; recorded by {}\n", session.actor))?;
                    Ok(Outcome::Ok)
                } else {
                    w(out, format!("{principal} was not protected by `quota protect`{note}; nothing changed\n"))?;
                    Ok(Outcome::Failed)
                }
            }
            QuotaCommand::Audit { .. } => {
                let entries = session.audit_trail(since).await.map_err(admin_report)?;
                w(out, render_audit(&entries))?;
                Ok(Outcome::Ok)
            }
        }
    })
}
