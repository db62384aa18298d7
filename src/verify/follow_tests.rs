//! The waiting of `--invoke` with a fake clock (sleeping only moves it) and a scripted probe:
//! no test here sleeps.

use std::cell::Cell;
use std::rc::Rc;

use super::*;
use crate::verify::Status;

pub(crate) const T0: i64 = 1_796_220_005_000;

/// Starts at [`T0`]; sleeping moves it.
pub(crate) struct FakeClock {
    pub now: Rc<Cell<i64>>,
    /// A Ctrl-C at this time (ms after T0) ends the sleep that would pass it.
    pub interrupt_at: Option<i64>,
    pub sleeps: Vec<Duration>,
}

impl FakeClock {
    pub fn new() -> Self {
        FakeClock { now: Rc::new(Cell::new(T0)), interrupt_at: None, sleeps: Vec::new() }
    }
}

impl Clock for FakeClock {
    fn now_ms(&self) -> i64 {
        self.now.get()
    }

    async fn sleep(&mut self, d: Duration) -> bool {
        self.sleeps.push(d);
        let wake = self.now.get() + d.as_millis() as i64;
        if let Some(at) = self.interrupt_at.map(|a| T0 + a) {
            if wake >= at {
                self.now.set(at);
                return false;
            }
        }
        self.now.set(wake);
        true
    }
}

/// When each signal becomes visible (ms after T0), or that it cannot be read.
#[derive(Clone)]
enum Script {
    At(i64),
    Never,
    Unreadable,
}

struct Scripted {
    script: Vec<(Signal, Script)>,
    looks: Vec<(Signal, i64)>,
}

impl Probe for Scripted {
    async fn poll(&mut self, signal: Signal, now_ms: i64) -> Poll {
        self.looks.push((signal, now_ms - T0));
        match self.script.iter().find(|(s, _)| *s == signal).map(|(_, w)| w.clone()) {
            Some(Script::At(at)) if now_ms - T0 >= at => Poll::Seen(format!("{} seen", signal.name())),
            Some(Script::Unreadable) => Poll::Unavailable { why: "AccessDenied".into(), fix: "grant it".into() },
            _ => Poll::NotYet,
        }
    }
}

fn run(script: Vec<(Signal, Script)>, deadline_s: u64, poll_s: u64, interrupt_at: Option<i64>) -> (Followed, Scripted, FakeClock) {
    let mut clock = FakeClock { interrupt_at, ..FakeClock::new() };
    let mut probe = Scripted { script, looks: Vec::new() };
    let plan = Plan { invoked_at_ms: T0, deadline: Duration::from_secs(deadline_s), poll: Duration::from_secs(poll_s) };
    let followed = crate::aws::runtime().unwrap().block_on(follow(&plan, &mut probe, &mut clock, &mut ()));
    (followed, probe, clock)
}

fn context() -> Context {
    Context {
        region: "us-east-1".into(),
        model: "amazon.nova-micro-v1:0".into(),
        log_group: "/aws/bedrock/modelinvocations".into(),
        cloudtrail_source: "the CloudTrail event history of us-east-1 (trail org-trail)".into(),
    }
}

#[test]
fn every_signal_arrives_with_its_measured_delay_and_the_wait_ends_with_the_last() {
    let (f, probe, clock) = run(vec![(Signal::Logs, Script::At(150_000)), (Signal::Metrics, Script::At(70_000)), (Signal::Cloudtrail, Script::At(290_000))], 600, 15, None);
    let delays: Vec<(Signal, i64)> = f
        .signals
        .iter()
        .map(|(s, o)| match o {
            Outcome::Arrived { after_ms, .. } => (*s, *after_ms),
            other => panic!("{s:?} {other:?}"),
        })
        .collect();
    // Seen at the first look at or after the arrival: looks are every 15 s.
    assert_eq!(delays, vec![(Signal::Logs, 150_000), (Signal::Metrics, 75_000), (Signal::Cloudtrail, 300_000)]);
    assert_eq!((f.waited_ms, f.interrupted), (300_000, false));
    assert!(clock.sleeps.iter().all(|d| *d == Duration::from_secs(15)), "{:?}", clock.sleeps);
    // A signal that arrived is not looked at again.
    assert_eq!(probe.looks.iter().filter(|(s, _)| *s == Signal::Metrics).count(), 6);
    assert_eq!(probe.looks.iter().filter(|(s, _)| *s == Signal::Logs).map(|(_, t)| *t).max(), Some(150_000));
    let lines = results(&f, Duration::from_secs(600), &context());
    let got: Vec<(&str, Status, Option<u64>)> = lines.iter().map(|r| (r.id, r.status, r.delay_seconds)).collect();
    assert_eq!(got, vec![("invoke-logs", Status::Pass, Some(150)), ("invoke-metrics", Status::Pass, Some(75)), ("invoke-cloudtrail", Status::Pass, Some(300))]);
    assert_eq!(lines[0].saw, "after 2m30s: logs seen");
    assert_eq!(lines[2].saw, "after 5m: cloudtrail seen");
}

#[test]
fn a_signal_missing_at_the_deadline_fails_with_the_runbook_fix_after_a_last_look_at_the_deadline() {
    let (f, probe, clock) = run(vec![(Signal::Logs, Script::At(20_000)), (Signal::Metrics, Script::At(0)), (Signal::Cloudtrail, Script::Never)], 60, 25, None);
    // 0, 25, 50, then a shortened sleep to the deadline itself (60).
    assert_eq!(clock.sleeps, vec![Duration::from_secs(25), Duration::from_secs(25), Duration::from_secs(10)]);
    let ct: Vec<i64> = probe.looks.iter().filter(|(s, _)| *s == Signal::Cloudtrail).map(|(_, t)| *t).collect();
    assert_eq!(ct, vec![0, 25_000, 50_000, 60_000]);
    assert_eq!(f.signals[2], (Signal::Cloudtrail, Outcome::Missed));
    let lines = results(&f, Duration::from_secs(60), &context());
    assert_eq!((lines[0].status, lines[0].delay_seconds), (Status::Pass, Some(25)));
    assert_eq!((lines[1].status, lines[1].delay_seconds), (Status::Pass, Some(0)));
    let r = &lines[2];
    assert_eq!((r.id, r.status, r.delay_seconds), ("invoke-cloudtrail", Status::Fail, None));
    assert_eq!(r.saw, "the Converse event in the CloudTrail event history of us-east-1 (trail org-trail) did not arrive within the 1m deadline");
    let fix = r.fix.as_deref().unwrap();
    assert!(fix.contains("runbook 9") && fix.contains("management events (read and write) for us-east-1") && fix.contains("--deadline 15m"), "{fix}");
}

#[test]
fn each_missing_signal_names_its_own_fix() {
    let (f, _, _) = run(vec![], 60, 30, None);
    let lines = results(&f, Duration::from_secs(60), &context());
    assert!(lines.iter().all(|r| r.status == Status::Fail));
    assert!(lines[0].fix.as_deref().unwrap().contains("`logging` and `delivery`") && lines[0].saw.contains("/aws/bedrock/modelinvocations"));
    assert!(lines[1].fix.as_deref().unwrap().contains("wrong region or delay") && lines[1].saw.contains("Invocations for amazon.nova-micro-v1:0"));
}

#[test]
fn an_unreadable_signal_is_a_warning_and_is_not_looked_at_again() {
    let (f, probe, _) = run(vec![(Signal::Logs, Script::Unreadable), (Signal::Metrics, Script::At(30_000)), (Signal::Cloudtrail, Script::At(30_000))], 600, 15, None);
    assert_eq!(probe.looks.iter().filter(|(s, _)| *s == Signal::Logs).count(), 1);
    assert_eq!(f.waited_ms, 30_000);
    let lines = results(&f, Duration::from_secs(600), &context());
    assert_eq!(lines[0].status, Status::Warn);
    assert_eq!(lines[0].saw, "could not read the invocation-log record in /aws/bedrock/modelinvocations: AccessDenied");
    assert_eq!(lines[0].fix.as_deref(), Some("grant it"));
}

#[test]
fn an_interrupted_wait_reports_what_arrived_and_fails_the_rest() {
    let (f, _, _) = run(vec![(Signal::Metrics, Script::At(10_000))], 600, 15, Some(40_000));
    assert!(f.interrupted);
    assert_eq!(f.waited_ms, 40_000);
    let lines = results(&f, Duration::from_secs(600), &context());
    assert_eq!(lines[1].status, Status::Pass);
    assert_eq!(lines[0].status, Status::Fail);
    assert!(lines[0].saw.ends_with("did not arrive before the wait was interrupted after 40s"), "{}", lines[0].saw);
}

#[test]
fn durations_and_the_progress_line_read_naturally() {
    assert_eq!(duration_text(0), "0s");
    assert_eq!(duration_text(44_600), "45s");
    assert_eq!(duration_text(155_000), "2m35s");
    assert_eq!(duration_text(600_000), "10m");
    assert_eq!(duration_text(3_600_000), "1h");
    assert_eq!(duration_text(3_900_000), "1h05m");
    let signals = vec![
        (Signal::Logs, Outcome::Arrived { after_ms: 95_000, saw: String::new() }),
        (Signal::Metrics, Outcome::Waiting),
        (Signal::Cloudtrail, Outcome::Unavailable { why: String::new(), fix: String::new() }),
    ];
    assert_eq!(progress_line(130_000, Duration::from_secs(600), &signals), "waiting 2m10s of 10m: logs 1m35s, metrics ..., cloudtrail unreadable");
}

/// Records every progress update.
struct Recorder(Vec<String>);

impl Progress for Recorder {
    fn update(&mut self, elapsed_ms: i64, deadline: Duration, signals: &[(Signal, Outcome)]) {
        self.0.push(progress_line(elapsed_ms, deadline, signals));
    }
}

#[test]
fn progress_is_told_after_every_round_and_once_more_with_what_was_missed() {
    let mut clock = FakeClock::new();
    let mut probe = Scripted { script: vec![(Signal::Logs, Script::At(60_000)), (Signal::Metrics, Script::At(0))], looks: Vec::new() };
    let plan = Plan { invoked_at_ms: T0, deadline: Duration::from_secs(60), poll: Duration::from_secs(30) };
    let mut progress = Recorder(Vec::new());
    crate::aws::runtime().unwrap().block_on(follow(&plan, &mut probe, &mut clock, &mut progress));
    assert_eq!(
        progress.0,
        vec![
            "waiting 0s of 1m: logs ..., metrics 0s, cloudtrail ...",
            "waiting 30s of 1m: logs ..., metrics 0s, cloudtrail ...",
            "waiting 1m of 1m: logs 1m, metrics 0s, cloudtrail ...",
            "waiting 1m of 1m: logs 1m, metrics 0s, cloudtrail missed",
        ]
    );
}
