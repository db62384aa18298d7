//! Streams a stack's events until it settles: a live line on a terminal, plain append-only lines
//! otherwise (CI logs must show progress; rain prints nothing there).

use std::collections::HashSet;
use std::io::Write;

use super::client::{CloudFormation, StackEvent};
use super::{pause, states, DeployError, Waiting};

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Display {
    /// One line rewritten in place (terminals).
    Bar,
    /// One line per event, never rewritten.
    Events,
}

/// How a watched operation ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Settled {
    /// Final stack status (DELETE_COMPLETE once the stack is gone).
    pub status: String,
    /// The first resource that failed, with CloudFormation's reason.
    pub first_failure: Option<String>,
}

/// The newest event id now, so that a watch shows only what happens after it.
pub async fn last_event<C: CloudFormation>(api: &C, stack: &str) -> Result<Option<String>, DeployError> {
    Ok(api.stack_events(stack).await?.first().map(|e| e.id.clone()))
}

/// Polls events and status until the stack settles. `operation` names it in the interruption
/// message ("create", "update", "delete").
pub async fn watch<C: CloudFormation>(
    api: &C,
    stack: &str,
    region: &str,
    operation: &str,
    since: Option<String>,
    display: Display,
    waiting: &Waiting,
    out: &mut dyn Write,
) -> Result<Settled, DeployError> {
    let mut seen: HashSet<String> = since.iter().cloned().collect();
    let mut first_failure = None;
    let mut done = 0usize;
    let mut polls = 0u32;
    loop {
        let events = api.stack_events(stack).await?;
        // Newest first: the new ones are those before the marker, shown oldest first.
        let fresh: Vec<&StackEvent> = events.iter().take_while(|e| since.as_deref() != Some(e.id.as_str())).filter(|e| !seen.contains(&e.id)).collect();
        for e in fresh.into_iter().rev() {
            seen.insert(e.id.clone());
            if first_failure.is_none() && e.status.ends_with("_FAILED") && e.logical_id != stack {
                first_failure = Some(format!("{} ({}): {}", e.logical_id, e.resource_type, e.reason.as_deref().unwrap_or("no reason given")));
            }
            if e.status.ends_with("_COMPLETE") {
                done += 1;
            }
            let line = format!("{:<28} {:<34} {}{}", e.status, e.resource_type, e.logical_id, e.reason.as_deref().map(|r| format!("  {r}")).unwrap_or_default());
            match display {
                Display::Events => writeln!(out, "  {line}")?,
                Display::Bar => write!(out, "\r\x1b[2K  [{done:>3} done] {line}")?,
            }
            out.flush()?;
        }
        let status = api.describe_stack(stack).await?.map(|s| s.status).unwrap_or_else(|| "DELETE_COMPLETE".into());
        if states::is_settled(&status) {
            if display == Display::Bar {
                writeln!(out)?;
            }
            return Ok(Settled { status, first_failure });
        }
        polls += 1;
        if polls >= waiting.max_polls {
            return Err(DeployError::Interrupted { stack: stack.into(), region: region.into(), operation: operation.into() });
        }
        if pause(waiting).await.is_err() {
            if display == Display::Bar {
                writeln!(out)?;
            }
            return Err(DeployError::Interrupted { stack: stack.into(), region: region.into(), operation: operation.into() });
        }
    }
}
