//! IANA time zones, looked up in the database bundled into the binary (jiff's
//! `tzdb-bundle-always`), so that whether a config is valid does not depend on the machine's
//! `/usr/share/zoneinfo`. The quota commands resolve `quotas.time_zone` through here too: one
//! implementation decides what a zone name means.

use jiff::tz::{TimeZone, TimeZoneDatabase};

/// The zone named exactly `name` (case included: the quota functions' Python `zoneinfo` is
/// case-sensitive on Linux). The error says why it is not one.
pub fn lookup(name: &str) -> Result<TimeZone, String> {
    let db = TimeZoneDatabase::bundled();
    match db.get(name) {
        Ok(tz) => match tz.iana_name() {
            Some(canonical) if canonical != name => Err(format!("IANA names are case-sensitive; write {canonical}")),
            _ => Ok(tz),
        },
        Err(_) => Err("it is not in the IANA time zone database".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iana_names_only() {
        for ok in ["Europe/Berlin", "America/New_York", "UTC", "Asia/Kolkata", "America/Argentina/Buenos_Aires"] {
            assert!(lookup(ok).is_ok(), "{ok}");
        }
        for bad in ["Europe/Berln", "CET+1", "Mars/Olympus", "", "+01:00", "Europe/", "../../etc/passwd"] {
            assert!(lookup(bad).is_err(), "{bad}");
        }
        assert_eq!(lookup("europe/berlin").unwrap_err(), "IANA names are case-sensitive; write Europe/Berlin");
    }
}
