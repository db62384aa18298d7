//! `billing.cur_export`: an optional CUR 2.0 data export (with the calling IAM principal) into a
//! retained, encrypted bucket, the billed side of the later `report --reconcile`. Off by default,
//! so the default template does not change.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::load::Problem;

/// The only region where AWS Data Exports creates exports.
pub const EXPORT_REGION: &str = "us-east-1";

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Billing {
    pub cur_export: CurExport,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct CurExport {
    /// Create the export, its bucket and the bucket policy (in the us-east-1 stack).
    pub enabled: bool,
    /// Export name: 1-128 characters of A-Z, a-z, 0-9, `-` and `_`. Default: `<project>-cur2`.
    pub export_name: Option<String>,
    /// Days the delivered export files are kept in the bucket (1-3650).
    pub retention_days: u32,
    /// Billed vs estimated cost difference (percent of billed) flagged as drift (0-1000).
    pub drift_threshold_percent: f64,
}

impl Default for CurExport {
    fn default() -> Self {
        CurExport { enabled: false, export_name: None, retention_days: 400, drift_threshold_percent: 10.0 }
    }
}

impl CurExport {
    pub fn name(&self, project: &str) -> String {
        self.export_name.clone().unwrap_or_else(|| format!("{project}-cur2"))
    }
}

fn problem(key: &str, value: impl std::fmt::Display, allowed: &str) -> Problem {
    Problem { key: format!("billing.cur_export.{key}"), value: value.to_string(), allowed: allowed.to_owned() }
}

fn valid_name(n: &str) -> bool {
    (1..=128).contains(&n.len()) && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

pub fn problems(b: &Billing, project: &str, regions: &[String]) -> Vec<Problem> {
    let c = &b.cur_export;
    let mut p = Vec::new();
    if !c.enabled {
        return p;
    }
    let name = c.name(project);
    if !valid_name(&name) {
        let key = if c.export_name.is_some() { "export_name" } else { "export_name (default <project>-cur2)" };
        p.push(problem(key, format!("{name:?}"), "allowed: 1-128 characters of A-Z, a-z, 0-9, - and _"));
    }
    if !(1..=3650).contains(&c.retention_days) {
        p.push(problem("retention_days", c.retention_days, "allowed: 1-3650"));
    }
    if !c.drift_threshold_percent.is_finite() || !(0.0..=1000.0).contains(&c.drift_threshold_percent) {
        p.push(problem("drift_threshold_percent", c.drift_threshold_percent, "allowed: 0-1000"));
    }
    if !regions.iter().any(|r| r == EXPORT_REGION) {
        p.push(problem(
            "enabled",
            format!("true with regions {regions:?}"),
            "allowed: true only when `regions` includes us-east-1 (AWS Data Exports creates exports only in us-east-1), otherwise false",
        ));
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on() -> Billing {
        Billing { cur_export: CurExport { enabled: true, ..CurExport::default() } }
    }

    #[test]
    fn disabled_is_never_a_problem() {
        assert!(problems(&Billing::default(), "bad name!", &["eu-west-1".into()]).is_empty());
    }

    #[test]
    fn other_regions_are_refused_naming_the_field() {
        let p = problems(&on(), "demo", &["eu-west-1".into()]);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].key, "billing.cur_export.enabled");
        assert!(p[0].allowed.contains("us-east-1"));
        assert!(problems(&on(), "demo", &["eu-west-1".into(), "us-east-1".into()]).is_empty());
    }

    #[test]
    fn bad_values_name_their_keys() {
        let mut b = on();
        b.cur_export.export_name = Some("has space".into());
        b.cur_export.retention_days = 0;
        b.cur_export.drift_threshold_percent = -1.0;
        let keys: Vec<String> = problems(&b, "demo", &["us-east-1".into()]).into_iter().map(|p| p.key).collect();
        assert_eq!(keys, ["billing.cur_export.export_name", "billing.cur_export.retention_days", "billing.cur_export.drift_threshold_percent"]);
    }
}
