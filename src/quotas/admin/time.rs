//! Times as the quota items store them and as operators type them.
//!
//! Stored times are UTC ISO strings that sort lexicographically (quota_core `iso`, `iso_ms`);
//! days and months begin at midnight in `quotas.time_zone` (quota_core `day_key`, `month_key`,
//! `day_end`, `month_end`), read from the time zone database bundled into the binary (`config::zone`).

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::{Span, Timestamp, ToSpan};

/// What `--until` and `--since` accept, for error messages and `--help`.
pub const ACCEPTED: &str = "times are RFC 3339 (2026-12-24T18:00:00Z, 2026-12-24T19:00:00+01:00), a local date or date-time in quotas.time_zone (2026-12-24, 2026-12-24T18:00), a duration from now (30m, 12h, 3d, 2w), or end-of-day / end-of-month (the next period start, as automatic blocks use)";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TimeError {
    #[error("`{value}` is not a time")]
    Invalid { value: String },
    #[error("unknown time zone `{zone}` in quotas.time_zone: {detail}")]
    Zone { zone: String, detail: String },
    #[error("--until {value} is {at}, which is not in the future")]
    NotFuture { value: String, at: String },
    #[error("`{value}` is out of range")]
    Range { value: String },
}

/// The configured time zone, from the same bundled database config validation uses, so that a
/// zone `synth` accepts is one the quota commands accept.
pub fn zone(name: &str) -> Result<TimeZone, TimeError> {
    crate::config::zone::lookup(name).map_err(|detail| TimeError::Zone { zone: name.to_owned(), detail })
}

/// `2026-12-01T20:00:00Z` (quota_core `iso`).
pub fn iso(t: Timestamp) -> String {
    t.to_zoned_datetime(TimeZone::UTC).strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// `2026-12-01T20:00:00.123Z` (quota_core `iso_ms`).
pub fn iso_ms(t: Timestamp) -> String {
    let ms = t.subsec_millisecond().max(0);
    format!("{}.{ms:03}Z", t.to_zoned_datetime(TimeZone::UTC).strftime("%Y-%m-%dT%H:%M:%S"))
}

/// `YYYY-MM-DD` of the local day of `t`.
pub fn day_key(t: Timestamp, tz: &TimeZone) -> String {
    t.to_zoned_datetime(tz.clone()).strftime("%Y-%m-%d").to_string()
}

/// `YYYY-MM` of the local month of `t`.
pub fn month_key(t: Timestamp, tz: &TimeZone) -> String {
    t.to_zoned_datetime(tz.clone()).strftime("%Y-%m").to_string()
}

fn local_midnight(d: Date, tz: &TimeZone) -> Result<Timestamp, TimeError> {
    d.to_zoned_datetime(tz.clone()).map(|z| z.timestamp()).map_err(|_| TimeError::Range { value: d.to_string() })
}

/// Start of the local day holding `t`.
pub fn day_start(t: Timestamp, tz: &TimeZone) -> Result<Timestamp, TimeError> {
    local_midnight(t.to_zoned_datetime(tz.clone()).date(), tz)
}

/// Start of the local month holding `t`.
pub fn month_start(t: Timestamp, tz: &TimeZone) -> Result<Timestamp, TimeError> {
    local_midnight(t.to_zoned_datetime(tz.clone()).date().first_of_month(), tz)
}

/// Start of the local day after the one holding `t`.
pub fn day_end(t: Timestamp, tz: &TimeZone) -> Result<Timestamp, TimeError> {
    let d = t.to_zoned_datetime(tz.clone()).date();
    local_midnight(d.tomorrow().map_err(|_| TimeError::Range { value: d.to_string() })?, tz)
}

/// Start of the local month after the one holding `t`.
pub fn month_end(t: Timestamp, tz: &TimeZone) -> Result<Timestamp, TimeError> {
    let first = t.to_zoned_datetime(tz.clone()).date().first_of_month();
    let next = first.checked_add(1.month()).map_err(|_| TimeError::Range { value: first.to_string() })?;
    local_midnight(next, tz)
}

/// The months (`YYYY-MM`, local) from the one holding `from` to the one holding `to`.
pub fn months_between(from: Timestamp, to: Timestamp, tz: &TimeZone) -> Vec<String> {
    let mut out = Vec::new();
    let mut d = from.to_zoned_datetime(tz.clone()).date().first_of_month();
    let last = to.to_zoned_datetime(tz.clone()).date().first_of_month();
    while d <= last && out.len() < 1200 {
        out.push(d.strftime("%Y-%m").to_string());
        match d.checked_add(1.month()) {
            Ok(n) => d = n,
            Err(_) => break,
        }
    }
    out
}

/// Which way a duration counts from now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Future,
    Past,
}

fn duration(text: &str) -> Option<Span> {
    let t = text.strip_prefix('+').unwrap_or(text);
    let unit = t.chars().last()?;
    let n: i64 = t[..t.len() - unit.len_utf8()].parse().ok().filter(|n| *n > 0 && *n <= 100_000)?;
    Some(match unit {
        'm' => n.minutes(),
        'h' => n.hours(),
        'd' => (n * 24).hours(),
        'w' => (n * 24 * 7).hours(),
        _ => return None,
    })
}

/// Parses an operator's time; see [`ACCEPTED`].
pub fn parse(text: &str, now: Timestamp, tz: &TimeZone, direction: Direction) -> Result<Timestamp, TimeError> {
    let value = text.trim();
    let invalid = || TimeError::Invalid { value: value.to_owned() };
    match value {
        "end-of-day" => return day_end(now, tz),
        "end-of-month" => return month_end(now, tz),
        _ => {}
    }
    if let Some(span) = duration(value) {
        let shifted = match direction {
            Direction::Future => now.checked_add(span),
            Direction::Past => now.checked_sub(span),
        };
        return shifted.map_err(|_| TimeError::Range { value: value.to_owned() });
    }
    if let Ok(t) = value.parse::<Timestamp>() {
        return Ok(t);
    }
    if value.len() > 10 {
        if let Ok(dt) = value.parse::<DateTime>() {
            return tz.to_ambiguous_zoned_datetime(dt).compatible().map(|z| z.timestamp()).map_err(|_| invalid());
        }
    }
    if let Ok(d) = value.parse::<Date>() {
        return local_midnight(d, tz);
    }
    Err(invalid())
}

/// `--until`: must lie in the future.
pub fn parse_until(text: &str, now: Timestamp, tz: &TimeZone) -> Result<Timestamp, TimeError> {
    let t = parse(text, now, tz, Direction::Future)?;
    if t <= now {
        return Err(TimeError::NotFuture { value: text.trim().to_owned(), at: iso(t) });
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn berlin() -> TimeZone {
        zone("Europe/Berlin").unwrap()
    }

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn formats_like_quota_core() {
        let t = at("2026-03-29T00:30:05.042Z");
        assert_eq!(iso(t), "2026-03-29T00:30:05Z");
        assert_eq!(iso_ms(t), "2026-03-29T00:30:05.042Z");
        assert_eq!(day_key(t, &berlin()), "2026-03-29");
        assert_eq!(month_key(at("2026-11-30T23:30:00Z"), &berlin()), "2026-12", "months begin in the configured zone");
    }

    #[test]
    fn period_ends_follow_daylight_saving() {
        // 2026-03-29 is the spring-forward day in Berlin: 23 hours.
        assert_eq!(iso(day_end(at("2026-03-28T23:30:00Z"), &berlin()).unwrap()), "2026-03-29T22:00:00Z");
        assert_eq!(iso(month_end(at("2026-12-15T12:00:00Z"), &berlin()).unwrap()), "2026-12-31T23:00:00Z");
    }

    #[test]
    fn accepts_every_documented_form() {
        let now = at("2026-12-01T20:00:00Z");
        let tz = berlin();
        let f = |s: &str| iso(parse(s, now, &tz, Direction::Future).unwrap());
        assert_eq!(f("2026-12-24T18:00:00Z"), "2026-12-24T18:00:00Z");
        assert_eq!(f("2026-12-24T19:00:00+01:00"), "2026-12-24T18:00:00Z");
        assert_eq!(f("2026-12-24"), "2026-12-23T23:00:00Z");
        assert_eq!(f("2026-12-24T18:00"), "2026-12-24T17:00:00Z");
        assert_eq!(f("30m"), "2026-12-01T20:30:00Z");
        assert_eq!(f("+12h"), "2026-12-02T08:00:00Z");
        assert_eq!(f("3d"), "2026-12-04T20:00:00Z");
        assert_eq!(f("2w"), "2026-12-15T20:00:00Z");
        assert_eq!(f("end-of-day"), "2026-12-01T23:00:00Z");
        assert_eq!(f("end-of-month"), "2026-12-31T23:00:00Z");
        assert_eq!(iso(parse("2d", now, &tz, Direction::Past).unwrap()), "2026-11-29T20:00:00Z");
    }

    #[test]
    fn rejects_with_clear_errors() {
        let now = at("2026-12-01T20:00:00Z");
        let tz = berlin();
        for bad in ["tomorrow", "", "12", "3y", "-3d", "0h", "2026-13-01", "2026-12-01T25:00"] {
            let e = parse(bad, now, &tz, Direction::Future).unwrap_err();
            assert_eq!(e, TimeError::Invalid { value: bad.to_owned() }, "{bad}");
            assert!(e.to_string().contains("is not a time"));
        }
        let past = parse_until("2026-12-01T19:00:00Z", now, &tz).unwrap_err();
        assert_eq!(past.to_string(), "--until 2026-12-01T19:00:00Z is 2026-12-01T19:00:00Z, which is not in the future");
        assert!(matches!(zone("Mars/Olympus"), Err(TimeError::Zone { .. })));
    }

    #[test]
    fn months_between_spans_partitions() {
        let tz = berlin();
        assert_eq!(months_between(at("2026-10-31T23:30:00Z"), at("2027-01-02T00:00:00Z"), &tz), ["2026-11", "2026-12", "2027-01"]);
    }
}
