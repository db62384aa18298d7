//! `reports`: the scheduled usage report (seed "Automated Reports", the daily summary). Off by
//! default, so the default template does not change; with `reports.schedule` set the stack gets a
//! function and an EventBridge Scheduler schedule that send the same report as
//! `bedrock-watch report` (see `src/scheduled_reports/`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::load::Problem;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Reports {
    /// When set, a report is built and sent on this schedule.
    pub schedule: Option<ReportSchedule>,
}

/// How often the report covers and is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Frequency {
    /// The previous local day, every day.
    Daily,
    /// The previous seven local days, on `weekday`.
    Weekly,
    /// The previous local calendar month, on the 1st.
    Monthly,
}

impl Frequency {
    pub fn as_str(self) -> &'static str {
        match self {
            Frequency::Daily => "daily",
            Frequency::Weekly => "weekly",
            Frequency::Monthly => "monthly",
        }
    }
}

/// A part of the message; all are included by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    Totals,
    TopUsers,
    TopModels,
    Errors,
    Projection,
}

impl Section {
    pub const ALL: [Section; 5] = [Section::Totals, Section::TopUsers, Section::TopModels, Section::Errors, Section::Projection];

    pub fn as_str(self) -> &'static str {
        match self {
            Section::Totals => "totals",
            Section::TopUsers => "top_users",
            Section::TopModels => "top_models",
            Section::Errors => "errors",
            Section::Projection => "projection",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ReportSchedule {
    pub frequency: Frequency,
    /// Local time of day the report is sent, `HH:MM` (24 hours).
    pub time: String,
    /// IANA time zone of `time` and of the day, week and month boundaries (daylight saving is
    /// followed: EventBridge Scheduler evaluates the schedule in this zone).
    pub time_zone: String,
    /// Day of a weekly report: MON, TUE, WED, THU, FRI, SAT or SUN.
    pub weekday: String,
    /// Users listed (ranked by estimated cost), 1-100.
    pub top_users: usize,
    /// Models listed (ranked by estimated cost), 1-100.
    pub top_models: usize,
    /// Sections of the message, in this order.
    pub include: Vec<Section>,
    /// Send with Amazon SES (HTML and text) instead of the alert topic (SNS e-mail is plain
    /// text, to the addresses subscribed to the topic: `alerts.emails`).
    pub ses: Option<SesDelivery>,
}

impl Default for ReportSchedule {
    fn default() -> Self {
        ReportSchedule {
            frequency: Frequency::Daily,
            time: "08:00".into(),
            time_zone: "UTC".into(),
            weekday: "MON".into(),
            top_users: 10,
            top_models: 10,
            include: Section::ALL.to_vec(),
            ses: None,
        }
    }
}

/// Delivery through SES.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct SesDelivery {
    /// A verified SES sender address (From).
    pub sender: String,
    /// The verified SES identity the sender belongs to (the address itself, or its domain);
    /// the function may send only as this identity. Default: `sender`.
    pub identity: Option<String>,
    /// Addresses the report is sent to (at most 50, SES's limit per message).
    pub recipients: Vec<String>,
}

impl SesDelivery {
    pub fn identity(&self) -> &str {
        self.identity.as_deref().unwrap_or(&self.sender)
    }
}

pub const WEEKDAYS: [&str; 7] = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"];
/// SES accepts at most 50 recipients per message.
pub const MAX_SES_RECIPIENTS: usize = 50;

/// `(hour, minute)` of an `HH:MM` time.
pub fn parse_time(t: &str) -> Option<(u32, u32)> {
    let (h, m) = t.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some((h, m))
}

fn problem(key: &str, value: impl std::fmt::Display, allowed: &str) -> Problem {
    Problem { key: format!("reports.schedule.{key}"), value: value.to_string(), allowed: allowed.to_owned() }
}

/// Every invalid value under `reports`.
pub fn problems(r: &Reports) -> Vec<Problem> {
    let mut p = Vec::new();
    let Some(s) = &r.schedule else { return p };
    if parse_time(&s.time).is_none() {
        p.push(problem("time", format!("{:?}", s.time), "allowed: a 24-hour local time HH:MM such as 08:00 or 17:30"));
    }
    if let Err(why) = super::zone::lookup(&s.time_zone) {
        p.push(problem("time_zone", format!("{:?}", s.time_zone), &format!("{why}; allowed: an IANA time zone such as Europe/Berlin, America/New_York or UTC")));
    }
    if !WEEKDAYS.contains(&s.weekday.as_str()) {
        p.push(problem("weekday", format!("{:?}", s.weekday), "allowed: MON, TUE, WED, THU, FRI, SAT or SUN"));
    }
    for (key, v) in [("top_users", s.top_users), ("top_models", s.top_models)] {
        if !(1..=100).contains(&v) {
            p.push(problem(key, v, "allowed: 1 to 100"));
        }
    }
    if s.include.is_empty() {
        p.push(problem("include", "empty", "allowed: one or more of totals, top_users, top_models, errors, projection"));
    }
    for (i, sec) in s.include.iter().enumerate() {
        if s.include[..i].contains(sec) {
            p.push(problem(&format!("include[{i}]"), sec.as_str(), "each section may be listed once"));
        }
    }
    if let Some(ses) = &s.ses {
        if !crate::sns::topic::is_plausible_email(&ses.sender) {
            p.push(problem("ses.sender", format!("{:?}", ses.sender), "allowed: a verified SES sender address such as reports@example.com"));
        }
        if let Some(id) = &ses.identity {
            let domain = ses.sender.rsplit_once('@').map(|(_, d)| d);
            if id != &ses.sender && Some(id.as_str()) != domain {
                p.push(problem("ses.identity", format!("{id:?}"), "allowed: the sender address or its domain (the verified SES identity that sends)"));
            }
        }
        if ses.recipients.is_empty() || ses.recipients.len() > MAX_SES_RECIPIENTS {
            p.push(problem("ses.recipients", format!("{} addresses", ses.recipients.len()), "allowed: 1 to 50 e-mail addresses"));
        }
        for (i, e) in ses.recipients.iter().enumerate() {
            if !crate::sns::topic::is_plausible_email(e) {
                p.push(problem(&format!("ses.recipients[{i}]"), format!("{e:?}"), "allowed: an e-mail address such as finops@example.com"));
            }
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(s: ReportSchedule) -> Vec<String> {
        problems(&Reports { schedule: Some(s) }).into_iter().map(|p| p.key).collect()
    }

    #[test]
    fn off_by_default_and_defaults_are_valid() {
        assert!(Reports::default().schedule.is_none());
        assert!(keys(ReportSchedule::default()).is_empty());
    }

    #[test]
    fn times_zones_days_and_counts_are_checked() {
        assert_eq!(parse_time("08:00"), Some((8, 0)));
        assert_eq!(parse_time("23:59"), Some((23, 59)));
        for bad in ["8:00", "24:00", "12:60", "noon", "12-00"] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
        let s = ReportSchedule { time: "25:00".into(), time_zone: "Mars/Olympus".into(), weekday: "monday".into(), top_users: 0, top_models: 101, ..ReportSchedule::default() };
        assert_eq!(keys(s), ["reports.schedule.time", "reports.schedule.time_zone", "reports.schedule.weekday", "reports.schedule.top_users", "reports.schedule.top_models"]);
        let s = ReportSchedule { include: vec![Section::Totals, Section::Totals], ..ReportSchedule::default() };
        assert_eq!(keys(s), ["reports.schedule.include[1]"]);
    }

    #[test]
    fn ses_needs_a_sender_recipients_and_a_matching_identity() {
        let ses = |sender: &str, identity: Option<&str>, to: &[&str]| ReportSchedule {
            ses: Some(SesDelivery { sender: sender.into(), identity: identity.map(Into::into), recipients: to.iter().map(|s| s.to_string()).collect() }),
            ..ReportSchedule::default()
        };
        assert!(keys(ses("reports@example.com", Some("example.com"), &["a@example.com"])).is_empty());
        assert_eq!(keys(ses("nobody", None, &[])), ["reports.schedule.ses.sender", "reports.schedule.ses.recipients"]);
        assert_eq!(keys(ses("r@example.com", Some("other.org"), &["x"])), ["reports.schedule.ses.identity", "reports.schedule.ses.recipients[0]"]);
        assert_eq!(SesDelivery { sender: "r@example.com".into(), ..SesDelivery::default() }.identity(), "r@example.com");
    }

    #[test]
    fn bad_values_in_a_file_name_the_key_line_and_allowed_values() {
        let e = crate::config::parse("reports:\n  schedule:\n    time: \"8am\"\n", "c.yaml").unwrap_err().to_string();
        assert!(e.contains("c.yaml:3") && e.contains("reports.schedule.time") && e.contains("allowed: a 24-hour local time HH:MM"), "{e}");
        let e = crate::config::parse("reports:\n  schedule:\n    frequency: hourly\n", "c.yaml").unwrap_err().to_string();
        assert!(e.contains("hourly") && e.contains("daily") && e.contains("weekly") && e.contains("monthly"), "{e}");
        let ok = crate::config::parse("reports:\n  schedule:\n    frequency: monthly\n    time_zone: America/New_York\n", "c.yaml").unwrap();
        assert_eq!(ok.reports.schedule.unwrap().frequency, Frequency::Monthly);
    }
}
