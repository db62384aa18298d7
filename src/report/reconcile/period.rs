//! The period a reconciliation covers: a closed one only. Billing data (and the IAM principal in
//! it) reaches a CUR 2.0 export 24 to 48 hours after the usage, so a period is compared only
//! once it ended [`BILLING_DELAY_HOURS`] ago; before that the bill is short and every row would
//! drift. The default is the last whole calendar month that is closed in that sense.

use jiff::civil::Date;

use super::ReconcileError;
use crate::report::period::{rfc3339, utc_date, Period};

/// Hours after the end of a period before its billing data is complete (AWS: 24-48 hours).
pub const BILLING_DELAY_HOURS: i64 = 48;
/// AWS may still update a closed billing period's export during the first two weeks after it.
pub const FINALIZE_DAYS: i64 = 14;

fn month_start(y: i16, m: i8) -> Result<i64, ReconcileError> {
    let d = Date::new(y, m, 1).map_err(|e| ReconcileError::Period(format!("{y:04}-{m:02} is not a month: {e}")))?;
    let ts = jiff::tz::TimeZone::UTC.to_timestamp(d.at(0, 0, 0, 0)).map_err(|e| ReconcileError::Period(e.to_string()))?;
    Ok(ts.as_second())
}

fn next_month(y: i16, m: i8) -> (i16, i8) {
    if m == 12 {
        (y + 1, 1)
    } else {
        (y, m + 1)
    }
}

fn prev_month(y: i16, m: i8) -> (i16, i8) {
    if m == 1 {
        (y - 1, 12)
    } else {
        (y, m - 1)
    }
}

fn year_month(secs: i64) -> (i16, i8) {
    let d = utc_date(secs);
    (d[..4].parse().unwrap_or(1970), d[5..7].parse().unwrap_or(1))
}

/// `--month YYYY-MM`, or the calendar month before `now` when absent; checked to be closed.
pub fn month(text: Option<&str>, now: i64) -> Result<Period, ReconcileError> {
    let (y, m) = match text {
        Some(t) => parse_month(t)?,
        None => {
            let (y, m) = year_month(now);
            prev_month(y, m)
        }
    };
    let (ny, nm) = next_month(y, m);
    let p = Period { start: month_start(y, m)?, end: month_start(ny, nm)? };
    closed(p, now)?;
    Ok(p)
}

fn parse_month(t: &str) -> Result<(i16, i8), ReconcileError> {
    let bad = || ReconcileError::Period(format!("--month `{}` is not a month: write YYYY-MM, e.g. 2026-11", crate::config::values::shorten(t)));
    let (y, m) = t.trim().split_once('-').ok_or_else(bad)?;
    if y.len() != 4 || m.len() != 2 {
        return Err(bad());
    }
    let (y, m) = (y.parse::<i16>().map_err(|_| bad())?, m.parse::<i8>().map_err(|_| bad())?);
    if !(1..=12).contains(&m) || y < 2000 {
        return Err(bad());
    }
    Ok((y, m))
}

/// Refuses a period that is still open or ended less than [`BILLING_DELAY_HOURS`] ago, saying
/// from when it can be reconciled.
pub fn closed(p: Period, now: i64) -> Result<(), ReconcileError> {
    let ready = p.end + BILLING_DELAY_HOURS * 3600;
    if ready > now {
        return Err(ReconcileError::TooRecent { end: rfc3339(p.end), ready_at: rfc3339(ready), open: p.end > now });
    }
    Ok(())
}

/// The CUR 2.0 billing periods (`YYYY-MM`, one export partition each) the period overlaps.
pub fn billing_periods(p: &Period) -> Vec<String> {
    let mut out = Vec::new();
    let (mut y, mut m) = year_month(p.start);
    loop {
        let Ok(start) = month_start(y, m) else { break };
        if start >= p.end {
            break;
        }
        out.push(format!("{y:04}-{m:02}"));
        (y, m) = next_month(y, m);
    }
    out
}

/// Until when AWS may still revise the last billing period of `p` (its end plus two weeks).
pub fn may_change_until(p: &Period) -> i64 {
    p.end + FINALIZE_DAYS * 86_400
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(t: &str) -> i64 {
        t.parse::<jiff::Timestamp>().unwrap().as_second()
    }

    #[test]
    fn default_is_the_previous_month_once_closed() {
        let p = month(None, at("2026-12-07T09:00:00Z")).unwrap();
        assert_eq!((rfc3339(p.start), rfc3339(p.end)), ("2026-11-01T00:00:00Z".into(), "2026-12-01T00:00:00Z".into()));
        let p = month(None, at("2027-01-05T00:00:00Z")).unwrap();
        assert_eq!(rfc3339(p.start), "2026-12-01T00:00:00Z");
        assert_eq!(rfc3339(p.end), "2027-01-01T00:00:00Z");
    }

    #[test]
    fn a_month_that_ended_less_than_48_hours_ago_says_when_it_can_be_reconciled() {
        let e = month(None, at("2026-12-02T10:00:00Z")).unwrap_err();
        match &e {
            ReconcileError::TooRecent { end, ready_at, open } => {
                assert_eq!((end.as_str(), ready_at.as_str(), *open), ("2026-12-01T00:00:00Z", "2026-12-03T00:00:00Z", false));
            }
            other => panic!("{other:?}"),
        }
        assert!(e.to_string().contains("2026-12-03T00:00:00Z"), "{e}");
        assert!(e.help().contains("--month"), "{}", e.help());
        let e = month(Some("2026-12"), at("2026-12-07T00:00:00Z")).unwrap_err();
        assert!(matches!(e, ReconcileError::TooRecent { open: true, .. }), "{e:?}");
        assert!(e.to_string().contains("still open"), "{e}");
        assert!(closed(Period { start: 0, end: 3600 }, 3600 + 48 * 3600).is_ok());
        assert!(closed(Period { start: 0, end: 3600 }, 3600 + 48 * 3600 - 1).is_err());
    }

    #[test]
    fn bad_months_name_the_flag_and_the_form() {
        for bad in ["2026-13", "26-11", "2026/11", "november", "2026-1"] {
            let e = month(Some(bad), at("2027-06-01T00:00:00Z")).unwrap_err().to_string();
            assert!(e.contains("--month") && e.contains("YYYY-MM"), "{bad}: {e}");
        }
        let p = month(Some("2024-02"), at("2027-06-01T00:00:00Z")).unwrap();
        assert_eq!(p.days(), 29.0);
    }

    #[test]
    fn billing_periods_cover_every_month_touched() {
        let p = Period { start: at("2026-10-15T00:00:00Z"), end: at("2026-12-01T00:00:00Z") };
        assert_eq!(billing_periods(&p), vec!["2026-10", "2026-11"]);
        let p = Period { start: at("2026-12-31T00:00:00Z"), end: at("2027-01-01T01:00:00Z") };
        assert_eq!(billing_periods(&p), vec!["2026-12", "2027-01"]);
        assert_eq!(rfc3339(may_change_until(&p)), "2027-01-15T01:00:00Z");
    }
}
