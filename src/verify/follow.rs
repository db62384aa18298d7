//! `verify --invoke`: after one tiny model call, wait for its three traces (the invocation-log
//! record, the `AWS/Bedrock` Invocations metric, the CloudTrail event) and measure how long each
//! took to become visible. Runbook section 8 says "wait 2-5 minutes"; this proves it per signal.
//!
//! The waiting is a plain state machine over two injected capabilities, a [`Probe`] (one look
//! at one signal) and a [`Clock`] (now, and a sleep that may be interrupted), so the timing
//! logic is unit-tested with a fake clock that never sleeps. The AWS probe lives in
//! `invoke.rs`; this module knows nothing about the SDK.

use std::time::Duration;

use serde::Serialize;

use super::CheckResult;

/// One trace of the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Signal {
    Logs,
    Metrics,
    Cloudtrail,
}

impl Signal {
    /// In the order they are polled and printed.
    pub const ALL: [Signal; 3] = [Signal::Logs, Signal::Metrics, Signal::Cloudtrail];

    /// The check id of the signal's result line.
    pub fn id(self) -> &'static str {
        match self {
            Signal::Logs => "invoke-logs",
            Signal::Metrics => "invoke-metrics",
            Signal::Cloudtrail => "invoke-cloudtrail",
        }
    }

    /// Short name on the progress line.
    pub fn name(self) -> &'static str {
        match self {
            Signal::Logs => "logs",
            Signal::Metrics => "metrics",
            Signal::Cloudtrail => "cloudtrail",
        }
    }
}

/// The answer of one look at a signal.
#[derive(Debug, Clone, PartialEq)]
pub enum Poll {
    /// Not there yet: look again after the poll interval.
    NotYet,
    /// There; what was seen, in one sentence.
    Seen(String),
    /// Cannot be read (a permission, an API the endpoint does not offer): stop looking.
    Unavailable { why: String, fix: String },
}

/// Where a signal stands.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Waiting,
    /// Seen `after_ms` after the call returned (measured at the poll that saw it, so at most one
    /// poll interval late).
    Arrived { after_ms: i64, saw: String },
    Unavailable { why: String, fix: String },
    /// Not seen by the deadline (or before the wait was interrupted).
    Missed,
}

/// How long to wait and how often to look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// When the call returned, in milliseconds since the epoch: delays count from here.
    pub invoked_at_ms: i64,
    pub deadline: Duration,
    pub poll: Duration,
}

/// One look at one signal.
#[allow(async_fn_in_trait)]
pub trait Probe {
    async fn poll(&mut self, signal: Signal, now_ms: i64) -> Poll;
}

/// Time, injected so that tests do not sleep.
#[allow(async_fn_in_trait)]
pub trait Clock {
    fn now_ms(&self) -> i64;
    /// Sleeps; false when the user interrupted the wait (Ctrl-C).
    async fn sleep(&mut self, d: Duration) -> bool;
}

/// Told after every round of polls: a terminal shows a live line, a log one line per arrival.
pub trait Progress {
    fn update(&mut self, elapsed_ms: i64, deadline: Duration, signals: &[(Signal, Outcome)]);
}

/// Progress nobody watches (JSON to a pipe, tests).
impl Progress for () {
    fn update(&mut self, _: i64, _: Duration, _: &[(Signal, Outcome)]) {}
}

/// The end of the wait.
#[derive(Debug, Clone, PartialEq)]
pub struct Followed {
    pub signals: Vec<(Signal, Outcome)>,
    /// How long the wait lasted.
    pub waited_ms: i64,
    /// The user stopped the wait before the deadline.
    pub interrupted: bool,
}

/// Looks at every pending signal, sleeps one poll interval (never past the deadline), and again,
/// until all arrived (or cannot be read) or the deadline passed; the last round runs at the
/// deadline itself. What is still pending then is [`Outcome::Missed`].
pub async fn follow<P: Probe, C: Clock>(plan: &Plan, probe: &mut P, clock: &mut C, progress: &mut dyn Progress) -> Followed {
    let deadline_ms = plan.invoked_at_ms + plan.deadline.as_millis() as i64;
    let mut signals: Vec<(Signal, Outcome)> = Signal::ALL.iter().map(|s| (*s, Outcome::Waiting)).collect();
    let mut interrupted = false;
    loop {
        let now = clock.now_ms();
        for (signal, outcome) in signals.iter_mut().filter(|(_, o)| *o == Outcome::Waiting) {
            *outcome = match probe.poll(*signal, now).await {
                Poll::NotYet => Outcome::Waiting,
                Poll::Seen(saw) => Outcome::Arrived { after_ms: (now - plan.invoked_at_ms).max(0), saw },
                Poll::Unavailable { why, fix } => Outcome::Unavailable { why, fix },
            };
        }
        progress.update(now - plan.invoked_at_ms, plan.deadline, &signals);
        if !signals.iter().any(|(_, o)| *o == Outcome::Waiting) || now >= deadline_ms {
            break;
        }
        let pause = Duration::from_millis(((deadline_ms - now) as u64).min(plan.poll.as_millis() as u64));
        if !clock.sleep(pause).await {
            interrupted = true;
            break;
        }
    }
    let waited_ms = (clock.now_ms() - plan.invoked_at_ms).max(0);
    if signals.iter().any(|(_, o)| *o == Outcome::Waiting) {
        for (_, o) in signals.iter_mut().filter(|(_, o)| *o == Outcome::Waiting) {
            *o = Outcome::Missed;
        }
        // The final state, so that a live line ends and a log names what was missed.
        progress.update(waited_ms, plan.deadline, &signals);
    }
    Followed { signals, waited_ms, interrupted }
}

/// `2m35s`, `45s`, `10m`, `1h`, `1h05m` (to the second below an hour, to the minute above).
pub fn duration_text(ms: i64) -> String {
    let s = (ms.max(0) + 500) / 1000;
    if s >= 3600 {
        return match ((s / 60) / 60, (s / 60) % 60) {
            (h, 0) => format!("{h}h"),
            (h, m) => format!("{h}h{m:02}m"),
        };
    }
    match (s / 60, s % 60) {
        (0, sec) => format!("{sec}s"),
        (m, 0) => format!("{m}m"),
        (m, sec) => format!("{m}m{sec:02}s"),
    }
}

/// What the result lines need to say about where the signals were looked for.
#[derive(Debug, Clone, PartialEq)]
pub struct Context {
    pub region: String,
    pub model: String,
    pub log_group: String,
    /// `trail org-trail` or `CloudTrail Lake event data store <id>`.
    pub cloudtrail_source: String,
}

/// The fix for a signal that did not arrive, after the runbook's table (section 9).
fn missed_fix(signal: Signal, c: &Context) -> String {
    match signal {
        Signal::Logs => format!(
            "check the `logging` and `delivery` lines above: the invocation-logging configuration of {} must name {} (run `bedrock-watch deploy`), and delivery failures point at the delivery role or the KMS key policy; then run again, with a longer --deadline if the record was only late",
            c.region, c.log_group
        ),
        Signal::Metrics => format!(
            "runbook 9 (token metrics missing: wrong region or delay): check that the call went to {} (--region), wait 5-10 minutes and run again with --deadline 15m",
            c.region
        ),
        Signal::Cloudtrail => format!(
            "runbook 9 (no CloudTrail events: management events disabled): turn on management events (read and write) for {} on {}, or set `cloudtrail.mode: lake` and deploy; CloudTrail can take up to 15 minutes, so run again with --deadline 15m before changing anything",
            c.region, c.cloudtrail_source
        ),
    }
}

fn what(signal: Signal, c: &Context) -> String {
    match signal {
        Signal::Logs => format!("the invocation-log record in {}", c.log_group),
        Signal::Metrics => format!("AWS/Bedrock Invocations for {} in {}", c.model, c.region),
        Signal::Cloudtrail => format!("the Converse event in {}", c.cloudtrail_source),
    }
}

/// One result line per signal: PASS with the measured delay, WARN when it could not be read,
/// FAIL with the runbook's fix when it did not arrive.
pub fn results(f: &Followed, deadline: Duration, c: &Context) -> Vec<CheckResult> {
    f.signals
        .iter()
        .map(|(signal, outcome)| match outcome {
            Outcome::Arrived { after_ms, saw } => {
                let mut r = CheckResult::pass(signal.id(), format!("after {}: {saw}", duration_text(*after_ms)));
                r.delay_seconds = Some(((*after_ms + 500) / 1000) as u64);
                r
            }
            Outcome::Unavailable { why, fix } => CheckResult::warn(signal.id(), format!("could not read {}: {why}", what(*signal, c)), fix.clone()),
            Outcome::Missed | Outcome::Waiting => {
                let when = if f.interrupted {
                    format!("before the wait was interrupted after {}", duration_text(f.waited_ms))
                } else {
                    format!("within the {} deadline", duration_text(deadline.as_millis() as i64))
                };
                CheckResult::fail(signal.id(), format!("{} did not arrive {when}", what(*signal, c)), missed_fix(*signal, c))
            }
        })
        .collect()
}

/// The progress line: `waiting 2m10s of 10m: logs 1m40s, metrics ..., cloudtrail ...`.
pub fn progress_line(elapsed_ms: i64, deadline: Duration, signals: &[(Signal, Outcome)]) -> String {
    let parts: Vec<String> = signals
        .iter()
        .map(|(s, o)| match o {
            Outcome::Waiting => format!("{} ...", s.name()),
            Outcome::Arrived { after_ms, .. } => format!("{} {}", s.name(), duration_text(*after_ms)),
            Outcome::Unavailable { .. } => format!("{} unreadable", s.name()),
            Outcome::Missed => format!("{} missed", s.name()),
        })
        .collect();
    format!("waiting {} of {}: {}", duration_text(elapsed_ms), duration_text(deadline.as_millis() as i64), parts.join(", "))
}

#[cfg(test)]
#[path = "follow_tests.rs"]
pub(crate) mod tests;
