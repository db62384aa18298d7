//! The period a report covers: the last N hours, or an explicit `--since`/`--until` pair in
//! RFC 3339. Validated before any AWS call, so a typo costs no API requests.

use jiff::Timestamp;

use super::ReportError;

/// CloudWatch keeps hourly datapoints for 455 days (15 months); older periods have no data.
pub const MAX_HOURS: u32 = 455 * 24;

/// A half-open interval `[start, end)` in whole seconds since the epoch (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub start: i64,
    pub end: i64,
}

impl Period {
    /// The `hours` hours before `now`, ending on `now` truncated to the minute so that two runs
    /// in the same minute ask for the same datapoints.
    pub fn last_hours(hours: u32, now: i64) -> Result<Period, ReportError> {
        if hours == 0 || hours > MAX_HOURS {
            return Err(ReportError::Period(format!("--hours must be between 1 and {MAX_HOURS} (CloudWatch keeps hourly data for 455 days); got {hours}")));
        }
        let end = now - now.rem_euclid(60);
        Ok(Period { start: end - i64::from(hours) * 3600, end })
    }

    /// `--since` and `--until` (RFC 3339, e.g. `2026-11-01T00:00:00Z`); `until` defaults to `now`.
    pub fn between(since: &str, until: Option<&str>, now: i64) -> Result<Period, ReportError> {
        let start = parse_time("--since", since)?;
        let end = match until {
            Some(u) => parse_time("--until", u)?,
            None => now - now.rem_euclid(60),
        };
        if end <= start {
            return Err(ReportError::Period(format!("--until ({}) must be after --since ({})", rfc3339(end), rfc3339(start))));
        }
        if end - start < 3600 {
            return Err(ReportError::Period(format!("the period is {} minutes; it must be at least one hour (the metrics are read hourly)", (end - start) / 60)));
        }
        if end > now + 60 {
            return Err(ReportError::Period(format!("--until {} is in the future", rfc3339(end))));
        }
        if (end - start) / 3600 > i64::from(MAX_HOURS) {
            return Err(ReportError::Period(format!("the period is longer than {MAX_HOURS} hours (CloudWatch keeps hourly data for 455 days)")));
        }
        Ok(Period { start, end })
    }

    pub fn seconds(&self) -> i64 {
        self.end - self.start
    }

    pub fn hours(&self) -> f64 {
        self.seconds() as f64 / 3600.0
    }

    pub fn days(&self) -> f64 {
        self.seconds() as f64 / 86_400.0
    }
}

fn parse_time(flag: &str, text: &str) -> Result<i64, ReportError> {
    text.trim()
        .parse::<Timestamp>()
        .map(|t| t.as_second())
        .map_err(|_| ReportError::Period(format!("{flag} `{}` is not an RFC 3339 time: write a date, `T`, a time and a zone, e.g. 2026-11-01T00:00:00Z", crate::config::values::shorten(text))))
}

/// `2026-11-20T10:00:00Z`.
pub fn rfc3339(secs: i64) -> String {
    Timestamp::from_second(secs).map_or_else(|_| secs.to_string(), |t| t.to_string())
}

/// The UTC calendar date (`2026-11-20`) of an epoch second (Howard Hinnant's civil-from-days).
pub fn utc_date(secs: i64) -> String {
    let z = secs.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_795_000_000 + 37; // 2026-11-18T...:37Z

    #[test]
    fn hours_end_on_the_minute() {
        let p = Period::last_hours(24, NOW).unwrap();
        assert_eq!(p.end % 60, 0);
        assert_eq!(p.seconds(), 86_400);
        assert!(Period::last_hours(0, NOW).is_err());
        assert!(Period::last_hours(MAX_HOURS + 1, NOW).unwrap_err().to_string().contains("between 1 and"));
    }

    #[test]
    fn since_until_are_validated_with_clear_errors() {
        let p = Period::between("2026-11-01T00:00:00Z", Some("2026-11-02T12:00:00Z"), NOW).unwrap();
        assert_eq!(p.hours(), 36.0);
        assert_eq!(rfc3339(p.start), "2026-11-01T00:00:00Z");
        let e = Period::between("yesterday", None, NOW).unwrap_err().to_string();
        assert!(e.contains("--since `yesterday` is not an RFC 3339 time"), "{e}");
        let e = Period::between("2026-11-02T00:00:00Z", Some("2026-11-01T00:00:00Z"), NOW).unwrap_err().to_string();
        assert!(e.contains("must be after"), "{e}");
        let e = Period::between("2026-11-01T00:00:00Z", Some("2026-11-01T00:30:00Z"), NOW).unwrap_err().to_string();
        assert!(e.contains("at least one hour"), "{e}");
        assert!(Period::between("2026-11-01T00:00:00Z", Some("2099-01-01T00:00:00Z"), NOW).unwrap_err().to_string().contains("future"));
    }

    #[test]
    fn utc_dates() {
        assert_eq!(utc_date(0), "1970-01-01");
        assert_eq!(utc_date(1_795_000_000), "2026-11-18");
        assert_eq!(utc_date(951_782_400), "2000-02-29");
        assert_eq!(utc_date(-1), "1969-12-31");
    }
}
