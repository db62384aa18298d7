//! `deploy`, `diff`, `destroy` and `watch`: argument parsing and validation, then the library's
//! `deploy` module does the work (feature `aws`; `deploy-policy` is in `deploy_policy.rs`).

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::{load, synthesize, Outcome, Report};
use crate::aws::{self, Aws, Target};
use crate::cfn::Format;
use crate::config::Config;
use crate::deploy::client::Sdk;
use crate::deploy::destroy::{self, DestroyOutcome, DestroyRequest};
use crate::deploy::diff::{self, DiffRequest};
use crate::deploy::flow::{self, DeployRequest};
use crate::deploy::progress::{self, Display};
use crate::deploy::purge::SdkPurge;
use crate::deploy::{DeployError, NoPrompt, Prompt, Waiting};
use crate::synth::Rendered;

/// Which stacks, where, as whom.
#[derive(Debug, Args)]
pub struct StackArgs {
    /// Configuration file (YAML). Without it the built-in defaults apply.
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// Override the stack name (only when one stack is selected).
    #[arg(long)]
    pub stack_name: Option<String>,
    /// Only the stack of this region (one of the config's regions).
    #[arg(long)]
    pub region: Option<String>,
    /// AWS profile from ~/.aws/config (default: AWS_PROFILE or the default chain).
    #[arg(long)]
    pub profile: Option<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ProgressArg {
    Bar,
    Events,
}

/// What goes into a change set besides the template.
#[derive(Debug, Args)]
pub struct ChangeSetArgs {
    /// Template parameter KEY=VALUE (repeatable).
    #[arg(long = "parameter", value_name = "K=V")]
    pub parameters: Vec<String>,
    /// Stack tag KEY=VALUE, on top of the config's tags (repeatable).
    #[arg(long = "tag", value_name = "K=V")]
    pub tags: Vec<String>,
    /// S3 bucket for templates over 51,200 bytes (overrides deploy.staging_bucket).
    #[arg(long)]
    pub staging_bucket: Option<String>,
}

#[derive(Debug, Args)]
pub struct DeployArgs {
    #[command(flatten)]
    pub stacks: StackArgs,
    #[command(flatten)]
    pub change_set: ChangeSetArgs,
    /// Confirm replacing data stores and recreating a stack whose first create failed.
    #[arg(long)]
    pub yes: bool,
    /// Create and show the change set, and leave it for review.
    #[arg(long)]
    pub no_execute: bool,
    /// Live progress bar (default on a terminal) or one line per event (default otherwise).
    #[arg(long, value_enum)]
    pub progress: Option<ProgressArg>,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    #[command(flatten)]
    pub stacks: StackArgs,
    #[command(flatten)]
    pub change_set: ChangeSetArgs,
}

#[derive(Debug, Args)]
pub struct DestroyArgs {
    #[command(flatten)]
    pub stacks: StackArgs,
    /// Delete without asking (retained resources are still kept).
    #[arg(long)]
    pub yes: bool,
    /// Also empty and delete the retained bucket(s), delete the retained log groups and tables, and schedule the key's deletion.
    #[arg(long)]
    pub purge: bool,
    /// With --purge, in scripts: the retained bucket's name, confirming its deletion (repeatable).
    #[arg(long = "confirm-bucket", value_name = "NAME", requires = "purge")]
    pub confirm_buckets: Vec<String>,
    #[arg(long, value_enum)]
    pub progress: Option<ProgressArg>,
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    #[command(flatten)]
    pub stacks: StackArgs,
    #[arg(long, value_enum)]
    pub progress: Option<ProgressArg>,
}

/// Parses `K=V` flags; the error names the flag.
fn key_values(flag: &str, values: &[String]) -> Result<Vec<(String, String)>, Report> {
    values
        .iter()
        .map(|v| match v.split_once('=') {
            Some((k, val)) if !k.trim().is_empty() => Ok((k.trim().to_owned(), val.to_owned())),
            _ => Err(Report::usage(format!("--{flag} `{v}` is not KEY=VALUE"), format!("write it as --{flag} Name=value"))),
        })
        .collect()
}

/// Config tags, then `--tag` flags (a flag wins over the config for the same key).
fn stack_tags(config: &Config, flags: &[String]) -> Result<Vec<(String, String)>, Report> {
    let mut tags = config.tags.clone();
    tags.extend(key_values("tag", flags)?);
    Ok(tags.into_iter().collect())
}

/// The stacks the flags select, each with its stack name.
fn select(config: &Config, args: &StackArgs) -> Result<Vec<(Rendered, String)>, Report> {
    let rendered = synthesize(config, Format::Yaml)?;
    let chosen: Vec<Rendered> = match &args.region {
        Some(r) if !config.regions.contains(r) => {
            return Err(Report::usage(format!("--region {r} is not one of the config's regions"), format!("use one of: {} (or add it to `regions` in the config)", config.regions.join(", "))))
        }
        Some(r) => rendered.into_iter().filter(|x| &x.region == r).collect(),
        None => rendered,
    };
    match &args.stack_name {
        Some(_) if chosen.len() != 1 => Err(Report::usage(
            format!("--stack-name applies to one stack, but {} are selected", chosen.len()),
            "add --region to pick one of the config's regions",
        )),
        Some(name) => Ok(chosen.into_iter().map(|r| (r, name.clone())).collect()),
        None => Ok(chosen.into_iter().map(|r| { let n = r.stack_name.clone(); (r, n) }).collect()),
    }
}

fn display(arg: Option<ProgressArg>) -> Display {
    match arg {
        Some(ProgressArg::Bar) => Display::Bar,
        Some(ProgressArg::Events) => Display::Events,
        None if std::io::stdout().is_terminal() => Display::Bar,
        None => Display::Events,
    }
}

/// Questions on standard error, answers from standard input; only on a terminal.
struct TerminalPrompt;

impl TerminalPrompt {
    fn ask(question: &str) -> Option<String> {
        eprint!("{question} ");
        let _ = std::io::stderr().flush();
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).ok()?;
        Some(line.trim().to_owned())
    }
}

impl Prompt for TerminalPrompt {
    fn confirm(&mut self, question: &str) -> bool {
        matches!(Self::ask(&format!("{question} [y/N]")).as_deref(), Some("y" | "Y" | "yes"))
    }
    fn text(&mut self, question: &str) -> Option<String> {
        Self::ask(question)
    }
}

fn prompt() -> Box<dyn Prompt> {
    if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
        Box::new(TerminalPrompt)
    } else {
        Box::new(NoPrompt)
    }
}

fn report(e: DeployError) -> Report {
    let code = match e {
        DeployError::NeedsStaging { .. } => 2,
        _ => 1,
    };
    Report { message: e.to_string(), help: Some(e.help()), code }
}

fn aws_report(e: aws::AwsError) -> Report {
    report(DeployError::Aws(e))
}

fn change_set_name() -> String {
    let millis = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
    flow::change_set_name(millis)
}

async fn connect(args: &StackArgs, region: &str) -> Result<Aws, Report> {
    let aws = Aws::connect(&Target { region: None, profile: args.profile.clone() }, region).await;
    aws.check_credentials().await.map_err(aws_report)?;
    Ok(aws)
}

pub fn run_deploy(args: DeployArgs, out: &mut dyn Write) -> Result<Outcome, Report> {
    let config = load(args.stacks.config.as_deref())?;
    let parameters = key_values("parameter", &args.change_set.parameters)?;
    let tags = stack_tags(&config, &args.change_set.tags)?;
    let selected = select(&config, &args.stacks)?;
    let rt = aws::runtime().map_err(aws_report)?;
    let mut prompt = prompt();
    rt.block_on(async {
        for (r, stack) in &selected {
            let aws = connect(&args.stacks, &r.region).await?;
            let api = Sdk::new(&aws);
            let req = DeployRequest {
                stack: stack.clone(),
                region: r.region.clone(),
                body: r.content.clone(),
                findings: r.findings.len(),
                parameters: parameters.clone(),
                tags: tags.clone(),
                staging_bucket: args.change_set.staging_bucket.clone().or_else(|| config.deploy.staging_bucket.clone()),
                staging_prefix: config.deploy.staging_prefix.clone(),
                yes: args.yes,
                execute: !args.no_execute,
                change_set_name: change_set_name(),
                display: display(args.progress),
                waiting: Waiting::default(),
            };
            for f in &r.findings {
                writeln!(out, "{stack}: {f}").map_err(super::io_report)?;
            }
            flow::deploy(&api, &req, prompt.as_mut(), out).await.map_err(report)?;
        }
        Ok(Outcome::Ok)
    })
}

pub fn run_diff(args: DiffArgs, out: &mut dyn Write) -> Result<Outcome, Report> {
    let config = load(args.stacks.config.as_deref())?;
    let parameters = key_values("parameter", &args.change_set.parameters)?;
    let tags = stack_tags(&config, &args.change_set.tags)?;
    let selected = select(&config, &args.stacks)?;
    let rt = aws::runtime().map_err(aws_report)?;
    rt.block_on(async {
        let mut changed = false;
        for (r, stack) in &selected {
            let aws = connect(&args.stacks, &r.region).await?;
            let req = DiffRequest {
                stack: stack.clone(),
                region: r.region.clone(),
                body: r.content.clone(),
                parameters: parameters.clone(),
                tags: tags.clone(),
                staging_bucket: args.change_set.staging_bucket.clone().or_else(|| config.deploy.staging_bucket.clone()),
                staging_prefix: config.deploy.staging_prefix.clone(),
                change_set_name: change_set_name().replacen("bedrock-watch-", "bedrock-watch-diff-", 1),
                waiting: Waiting::default(),
            };
            changed |= diff::diff(&Sdk::new(&aws), &req, out).await.map_err(report)?;
        }
        Ok(if changed { Outcome::Failed } else { Outcome::Ok })
    })
}

pub fn run_destroy(args: DestroyArgs, out: &mut dyn Write) -> Result<Outcome, Report> {
    let config = load(args.stacks.config.as_deref())?;
    let selected = select(&config, &args.stacks)?;
    let rt = aws::runtime().map_err(aws_report)?;
    let mut prompt = prompt();
    rt.block_on(async {
        for (r, stack) in &selected {
            let aws = connect(&args.stacks, &r.region).await?;
            let req = DestroyRequest {
                stack: stack.clone(),
                region: r.region.clone(),
                yes: args.yes,
                purge: args.purge,
                confirmed_buckets: args.confirm_buckets.clone(),
                display: display(args.progress),
                waiting: Waiting::default(),
            };
            match destroy::destroy(&Sdk::new(&aws), &SdkPurge { aws: &aws }, &req, prompt.as_mut(), out).await.map_err(report)? {
                DestroyOutcome::NoStack | DestroyOutcome::Destroyed { .. } => {}
            }
        }
        Ok(Outcome::Ok)
    })
}

pub fn run_watch(args: WatchArgs, out: &mut dyn Write) -> Result<Outcome, Report> {
    let config = load(args.stacks.config.as_deref())?;
    let selected = select(&config, &args.stacks)?;
    let rt = aws::runtime().map_err(aws_report)?;
    rt.block_on(async {
        let mut ok = true;
        for (r, stack) in &selected {
            let aws = connect(&args.stacks, &r.region).await?;
            let api = Sdk::new(&aws);
            let since = progress::last_event(&api, stack).await.map_err(report)?;
            let settled = progress::watch(&api, stack, &r.region, "operation", since, display(args.progress), &Waiting::default(), out).await.map_err(report)?;
            writeln!(out, "{stack}: {}", settled.status).map_err(super::io_report)?;
            ok &= !settled.status.ends_with("_FAILED") && !settled.status.contains("ROLLBACK");
        }
        Ok(if ok { Outcome::Ok } else { Outcome::Failed })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_key_values_name_the_flag() {
        let e = key_values("tag", &["Team".into()]).unwrap_err();
        assert!(e.message.contains("--tag `Team`"), "{}", e.message);
        assert_eq!(e.code, 2);
        assert_eq!(key_values("parameter", &["A=b=c".into()]).unwrap(), vec![("A".to_owned(), "b=c".to_owned())]);
        assert!(key_values("parameter", &["=x".into()]).is_err());
    }

    #[test]
    fn flag_tags_override_config_tags() {
        let mut config = Config::default();
        config.tags.insert("Team".into(), "a".into());
        config.tags.insert("Project".into(), "p".into());
        let tags = stack_tags(&config, &["Team=b".into()]).unwrap();
        assert_eq!(tags, vec![("Project".to_owned(), "p".to_owned()), ("Team".to_owned(), "b".to_owned())]);
    }

    #[test]
    fn regions_and_stack_names_are_checked_against_the_config() {
        let mut config = Config::default();
        config.regions = vec!["us-east-1".into(), "eu-west-1".into()];
        let args = |region: Option<&str>, name: Option<&str>| StackArgs { config: None, stack_name: name.map(str::to_owned), region: region.map(str::to_owned), profile: None };
        let e = select(&config, &args(Some("ap-south-1"), None)).unwrap_err();
        assert!(e.help.unwrap().contains("us-east-1, eu-west-1"));
        assert!(select(&config, &args(None, Some("x"))).unwrap_err().message.contains("2 are selected"));
        let one = select(&config, &args(Some("eu-west-1"), Some("x"))).unwrap();
        assert_eq!((one.len(), one[0].1.as_str(), one[0].0.region.as_str()), (1, "x", "eu-west-1"));
    }
}
