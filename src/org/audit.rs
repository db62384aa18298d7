//! `org audit`: for every account and region of the rollout, whether Bedrock invocation logging
//! is on, where it delivers, whether delivery fails, and whether the bedrock-watch stack owns it.
//! `org plan --check-existing` runs the same reading first and names the instances whose logging
//! custom resource would refuse to replace someone else's configuration.
//!
//! The invocation-logging configuration is one per account and region, so a rollout meets what
//! account teams set up before. Reading it needs credentials in each member account: the audit
//! assumes `organization.read_role_name` (else the StackSet execution role) there. The StackSets
//! engine does the writing; this module only reads, one account and region after another, and
//! each cell that cannot be read says why instead of stopping the audit.
//!
//! Classification and rendering are pure (unit-tested with plain values); [`gather`] is the AWS
//! side.

use serde::Serialize;

use crate::verify::facts::LoggingConfig;

/// What one account and region showed.
#[derive(Debug, Clone, PartialEq)]
pub enum Reading {
    /// The logging configuration (None: logging is off) and the delivery failures summed over
    /// the window (`Ok(None)`: no datapoints; `Err`: the metric could not be read).
    Read { logging: Option<LoggingConfig>, delivery_failures: Result<Option<f64>, String> },
    /// The account could not be read (role missing, not assumable, access denied): why.
    Unreadable(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    pub account: String,
    pub region: String,
    pub reading: Reading,
}

/// Who wrote the account's logging configuration, as far as the destination tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Owner {
    /// Delivers to the log group the member stack creates.
    Stack,
    /// Delivers somewhere else: a configuration the stack did not write.
    Other,
    /// Logging is off: the stack can write its own.
    Nobody,
    /// Not readable.
    Unknown,
}

impl Owner {
    fn label(self) -> &'static str {
        match self {
            Owner::Stack => "bedrock-watch",
            Owner::Other => "someone else",
            Owner::Nobody => "-",
            Owner::Unknown => "unknown",
        }
    }
}

/// One line of the audit table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditRow {
    pub account: String,
    pub region: String,
    /// `on`, `off` or `unknown`.
    pub logging: &'static str,
    /// `logs:<group>` and/or `s3:<bucket>`, `-` when off.
    pub destination: String,
    /// `0`, the failure count, `no data`, or why it is unknown.
    pub delivery: String,
    pub owner: Owner,
    /// Why a cell is unknown, or what to do.
    pub note: String,
}

/// Classifies what was read against the log group the member template creates.
pub fn classify(cell: &Cell, stack_log_group: &str) -> AuditRow {
    let row = |logging, destination: String, delivery: String, owner, note: String| AuditRow {
        account: cell.account.clone(),
        region: cell.region.clone(),
        logging,
        destination,
        delivery,
        owner,
        note,
    };
    match &cell.reading {
        Reading::Unreadable(why) => row("unknown", "-".into(), "-".into(), Owner::Unknown, why.clone()),
        Reading::Read { logging, delivery_failures } => {
            let delivery = match delivery_failures {
                Ok(Some(n)) if *n > 0.0 => format!("{n} failed"),
                Ok(Some(_)) => "0".into(),
                Ok(None) => "no data".into(),
                Err(why) => format!("unknown ({why})"),
            };
            match logging {
                None => row("off", "-".into(), delivery, Owner::Nobody, "not logged: calls in this account and region leave no invocation record".into()),
                Some(l) => {
                    let mut dest = Vec::new();
                    if let Some(g) = &l.log_group {
                        dest.push(format!("logs:{g}"));
                    }
                    if let Some(b) = &l.bucket {
                        dest.push(format!("s3:{b}"));
                    }
                    let ours = l.log_group.as_deref() == Some(stack_log_group);
                    let (owner, note) = if ours {
                        (Owner::Stack, String::new())
                    } else {
                        (Owner::Other, "written outside this stack: the rollout refuses to replace it unless logging.adopt_existing is true".into())
                    };
                    row("on", dest.join(" "), delivery, owner, note)
                }
            }
        }
    }
}

/// The rows where a rollout's logging custom resource would fail: a configuration the stack
/// did not write, while `logging.adopt_existing` is false.
pub fn conflicts(rows: &[AuditRow], adopt_existing: bool) -> Vec<&AuditRow> {
    if adopt_existing {
        return Vec::new();
    }
    rows.iter().filter(|r| r.owner == Owner::Other).collect()
}

/// The audit table, columns aligned, with a one-line summary on top.
pub fn render(rows: &[AuditRow]) -> String {
    let head = ["ACCOUNT", "REGION", "LOGGING", "DESTINATION", "DELIVERY FAILURES", "OWNER", "NOTE"];
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![r.account.clone(), r.region.clone(), r.logging.into(), r.destination.clone(), r.delivery.clone(), r.owner.label().into(), if r.note.is_empty() { "-".into() } else { r.note.clone() }]
        })
        .collect();
    let count = |o: Owner| rows.iter().filter(|r| r.owner == o).count();
    let off = rows.iter().filter(|r| r.logging == "off").count();
    let mut text = format!(
        "{} account-region(s): {} logged by bedrock-watch, {} by someone else, {} not logged, {} unreadable\n",
        rows.len(),
        count(Owner::Stack),
        count(Owner::Other),
        off,
        count(Owner::Unknown)
    );
    text.push_str(&crate::quotas::admin::status::table(&head, &cells));
    text
}

/// The cells to read: every target account (self-managed) plus every account that already has
/// an instance (service-managed OUs resolve to accounts only in CloudFormation), in each region,
/// sorted and without repeats.
pub fn cells_to_read(accounts: impl IntoIterator<Item = String>, regions: &[String]) -> Vec<(String, String)> {
    let accounts: std::collections::BTreeSet<String> = accounts.into_iter().collect();
    let mut out = Vec::with_capacity(accounts.len() * regions.len());
    for a in &accounts {
        for r in regions {
            out.push((a.clone(), r.clone()));
        }
    }
    out
}

#[cfg(feature = "aws")]
pub use self::sdk::gather;

#[cfg(feature = "aws")]
mod sdk {
    use super::{Cell, Reading};
    use crate::aws::Aws;

    /// Reads each (account, region): assumes `arn:<partition>:iam::<account>:role/<role_name>`
    /// from `home` (the administrator account's credentials), then reads the logging
    /// configuration and the delivery-failure metrics of the last `window_minutes`.
    pub async fn gather(home: &Aws, cells: &[(String, String)], role_name: &str, window_minutes: u32) -> Vec<Cell> {
        let mut out = Vec::with_capacity(cells.len());
        for (account, region) in cells {
            // The role lives in the partition of the region it is read in (aws, aws-cn, aws-us-gov).
            let partition = crate::config::regions::partition_of(region).unwrap_or("aws");
            let role_arn = format!("arn:{partition}:iam::{account}:role/{role_name}");
            let reading = match home.assume(&role_arn, "bedrock-watch-org-audit").await {
                Err(e) => Reading::Unreadable(format!("cannot assume {role_arn}: {}", crate::verify::short(&e.to_string()))),
                Ok(member) => {
                    let regional = member.in_region(region);
                    match crate::verify::gather::logging_config(&regional).await {
                        Err(e) => Reading::Unreadable(format!("GetModelInvocationLoggingConfiguration: {}", crate::verify::short(&e.to_string()))),
                        Ok(logging) => {
                            let end = crate::verify::gather::now_ms();
                            let start = end - i64::from(window_minutes) * 60_000;
                            let failures = crate::verify::gather::delivery_failures(&regional, start, end).await.map_err(|e| crate::verify::short(&e.to_string()));
                            Reading::Read { logging, delivery_failures: failures }
                        }
                    }
                }
            };
            out.push(Cell { account: account.clone(), region: region.clone(), reading });
        }
        out
    }

}

#[cfg(test)]
mod tests {
    use super::*;

    const OURS: &str = "/aws/bedrock/modelinvocations";

    fn read(log_group: Option<&str>, failures: Result<Option<f64>, String>) -> Cell {
        Cell {
            account: "111122223333".into(),
            region: "us-east-1".into(),
            reading: Reading::Read {
                logging: log_group.map(|g| LoggingConfig { log_group: Some(g.into()), role_arn: None, bucket: Some("logs-bucket".into()) }),
                delivery_failures: failures,
            },
        }
    }

    #[test]
    fn ownership_follows_the_destination_log_group() {
        let ours = classify(&read(Some(OURS), Ok(Some(0.0))), OURS);
        assert_eq!((ours.logging, ours.owner, ours.delivery.as_str()), ("on", Owner::Stack, "0"));
        assert_eq!(ours.destination, format!("logs:{OURS} s3:logs-bucket"));
        let other = classify(&read(Some("/team/own-logs"), Ok(Some(3.0))), OURS);
        assert_eq!((other.owner, other.delivery.as_str()), (Owner::Other, "3 failed"));
        assert!(other.note.contains("logging.adopt_existing"), "{}", other.note);
        let off = classify(&read(None, Ok(None)), OURS);
        assert_eq!((off.logging, off.owner, off.destination.as_str(), off.delivery.as_str()), ("off", Owner::Nobody, "-", "no data"));
        let unknown_metric = classify(&read(Some(OURS), Err("AccessDenied".into())), OURS);
        assert_eq!(unknown_metric.delivery, "unknown (AccessDenied)");
        let unreadable = classify(&Cell { account: "1".into(), region: "eu-west-1".into(), reading: Reading::Unreadable("cannot assume role".into()) }, OURS);
        assert_eq!((unreadable.logging, unreadable.owner, unreadable.note.as_str()), ("unknown", Owner::Unknown, "cannot assume role"));
    }

    #[test]
    fn only_foreign_configurations_conflict_and_adopting_clears_them() {
        let rows: Vec<AuditRow> = [read(Some(OURS), Ok(None)), read(Some("/other"), Ok(None)), read(None, Ok(None))].iter().map(|c| classify(c, OURS)).collect();
        let c = conflicts(&rows, false);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].destination, "logs:/other s3:logs-bucket");
        assert!(conflicts(&rows, true).is_empty());
    }

    #[test]
    fn table_summarizes_and_aligns() {
        let rows: Vec<AuditRow> = [read(Some(OURS), Ok(Some(0.0))), read(Some("/other"), Ok(None)), read(None, Ok(None))].iter().map(|c| classify(c, OURS)).collect();
        let text = render(&rows);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "3 account-region(s): 1 logged by bedrock-watch, 1 by someone else, 1 not logged, 0 unreadable");
        assert!(lines[1].starts_with("ACCOUNT       REGION     LOGGING"), "{}", lines[1]);
        assert!(lines[2].contains("bedrock-watch") && lines[3].contains("someone else"), "{text}");
        let region_col = lines[1].find("REGION").unwrap();
        assert!(lines[2..].iter().all(|l| &l[region_col..region_col + 9] == "us-east-1"), "{text}");
    }

    #[test]
    fn cells_cover_every_account_in_every_region_once() {
        let cells = cells_to_read(["222".to_string(), "111".into(), "222".into()], &["us-east-1".into(), "eu-central-1".into()]);
        assert_eq!(cells, [("111", "us-east-1"), ("111", "eu-central-1"), ("222", "us-east-1"), ("222", "eu-central-1")].map(|(a, r)| (a.to_string(), r.to_string())));
    }
}
