//! `bedrock-watch serve`: parses the flags, starts [`crate::console`], prints where it is and
//! the login URL, and serves until Ctrl-C.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;

use clap::Args;

use super::quota::Connection;
use super::{io_report, load, Outcome, Report};
use crate::aws::{self, Aws, Target};
use crate::console::auth::{self, Secrets};
use crate::console::server::{self, Console};
use crate::console::ConsoleError;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The stack to show, as `quota` finds it (without quotas: the usage pages only).
    #[command(flatten)]
    pub connection: Connection,
    /// Address to listen on. Anything but a loopback address exposes the console to the network
    /// (still behind the session token) and prints a warning. Port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: String,
}

fn report(e: ConsoleError) -> Report {
    Report { help: e.help(), message: e.to_string(), code: 2 }
}

pub fn run(args: ServeArgs, out: &mut dyn Write) -> Result<Outcome, Report> {
    let config = load(args.connection.config.as_deref())?;
    let listen: SocketAddr = args.listen.parse().map_err(|_| {
        Report::usage(format!("--listen `{}` is not an address", args.listen), "give IP:PORT, e.g. --listen 127.0.0.1:8080 (the default), [::1]:8080, or 127.0.0.1:0 for any free port")
    })?;
    if !listen.ip().is_loopback() {
        eprintln!("warning: --listen {listen} is not a loopback address: anyone who can reach it can try the console (the session token still guards every request, over plain HTTP); prefer 127.0.0.1 with an SSH tunnel");
    }
    let secrets = Secrets::generate().map_err(|e| report(ConsoleError::Random(e.to_string())))?;
    let rt = aws::runtime().map_err(|e| Report { help: Some(e.help()), message: e.to_string(), code: 2 })?;
    let target = Target { region: args.connection.region.clone(), profile: args.connection.profile.clone() };
    rt.block_on(async move {
        let aws = Aws::connect(&target, config.primary_region()).await;
        let listener = server::bind(listen).await.map_err(report)?;
        let addr = listener.local_addr().map_err(|source| report(ConsoleError::Listen { addr: listen, source }))?;
        let console = Console::open(aws, config, addr, secrets.clone()).await.map_err(report)?;
        if let Some(note) = &console.quota_note {
            eprintln!("note: {note}");
        }
        if let Some(Ok(s)) = console.snapshot().await {
            writeln!(out, "read {} principal(s) from the quota tables in {} ms", s.status.principals.len(), s.took.as_millis()).map_err(io_report)?;
        }
        writeln!(out, "bedrock-watch console for stack {} in {} on http://{addr}/", console.config.stack_name_for(&console.aws.region), console.aws.region).map_err(io_report)?;
        writeln!(out, "log in: {}", auth::login_url(addr, &secrets.token)).map_err(io_report)?;
        writeln!(out, "stop with Ctrl-C").map_err(io_report)?;
        out.flush().map_err(io_report)?;
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        server::serve(listener, Arc::new(console), shutdown).await.map_err(report)?;
        Ok(Outcome::Ok)
    })
}
