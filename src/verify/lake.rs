//! CloudTrail Lake, the `cloudtrail.mode: lake` path of `verify`: instead of LookupEvents (which
//! reads the region's 90-day event history), the stack's event data store is queried with SQL
//! (StartQuery, then GetQueryResults until the query ends). Check 4 reads the recent
//! `bedrock.amazonaws.com` events and their `userIdentity.arn`; `--invoke` looks for its own
//! Converse event the same way.
//!
//! The SQL and the reading of result rows are plain functions; only the two calls need the SDK.

use std::collections::BTreeMap;

/// Rows kept per query: enough to judge who calls, small enough to read in one page.
pub const MAX_ROWS: u32 = 50;

/// One result row, column alias -> value.
pub type Row = BTreeMap<String, String>;

/// Where a started query is.
#[derive(Debug, Clone, PartialEq)]
pub enum QueryState {
    /// QUEUED or RUNNING.
    Pending,
    Finished(Vec<Row>),
    /// FAILED, CANCELLED or TIMED_OUT, with CloudTrail's error message.
    Failed(String),
}

/// The event data store id (the `FROM` of Lake SQL) is the last part of its ARN.
pub fn store_id(arn: &str) -> &str {
    arn.rsplit_once("eventdatastore/").map_or(arn, |(_, id)| id)
}

/// The region of an event data store ARN (`arn:aws:cloudtrail:<region>:<account>:eventdatastore/<id>`).
pub fn store_region(arn: &str) -> Option<&str> {
    arn.split(':').nth(3).filter(|r| !r.is_empty())
}

/// Lake compares `eventTime` with `'YYYY-MM-DD HH:MM:SS'` (UTC).
pub fn sql_time(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms).map(|t| t.strftime("%Y-%m-%d %H:%M:%S").to_string()).unwrap_or_else(|_| "1970-01-01 00:00:00".into())
}

/// Check 4: the newest Bedrock events since `since_ms`, with who called.
pub fn recent_events_sql(store_arn: &str, since_ms: i64) -> String {
    format!(
        "SELECT eventName AS event_name, userIdentity.arn AS caller, eventTime AS event_time FROM {} WHERE eventSource = 'bedrock.amazonaws.com' AND eventTime >= '{}' ORDER BY eventTime DESC LIMIT {MAX_ROWS}",
        store_id(store_arn),
        sql_time(since_ms)
    )
}

/// `--invoke`: Converse events since `since_ms`, with what identifies one call.
pub fn converse_events_sql(store_arn: &str, since_ms: i64) -> String {
    format!(
        "SELECT eventName AS event_name, userIdentity.arn AS caller, requestID AS request_id, element_at(requestParameters, 'modelId') AS model, eventTime AS event_time FROM {} WHERE eventSource = 'bedrock.amazonaws.com' AND eventName = 'Converse' AND eventTime >= '{}' ORDER BY eventTime DESC LIMIT {MAX_ROWS}",
        store_id(store_arn),
        sql_time(since_ms)
    )
}

/// The rows of check 4's query as trail events (a row without a caller keeps an empty one, which
/// the check reports as a caller without a per-user ARN).
pub fn trail_events(rows: &[Row]) -> Vec<super::facts::TrailEvent> {
    rows.iter()
        .map(|r| super::facts::TrailEvent {
            event_name: r.get("event_name").cloned().unwrap_or_default(),
            caller: r.get("caller").cloned().unwrap_or_default(),
        })
        .collect()
}

/// How long [`run`] waits for a query.
#[derive(Debug, Clone, Copy)]
pub struct Waiting {
    /// Between GetQueryResults calls; zero in tests.
    pub poll: std::time::Duration,
    /// GetQueryResults calls before giving up.
    pub max_polls: u32,
}

impl Default for Waiting {
    /// A small Lake query finishes in seconds; two minutes covers a queued one.
    fn default() -> Self {
        Waiting { poll: std::time::Duration::from_secs(2), max_polls: 60 }
    }
}

#[cfg(feature = "aws")]
mod sdk {
    use super::{QueryState, Row, Waiting};
    use crate::aws::{Aws, AwsError};

    /// The connection in the store's own region (Lake queries go there).
    pub fn in_store_region(aws: &Aws, store_arn: &str) -> Aws {
        match super::store_region(store_arn) {
            Some(r) if r != aws.region => aws.in_region(r),
            _ => aws.clone(),
        }
    }

    /// StartQuery: the query id.
    pub async fn start(aws: &Aws, sql: &str) -> Result<String, AwsError> {
        let ct = aws_sdk_cloudtrail::Client::new(&aws.config);
        let resp = ct.start_query().query_statement(sql).send().await.map_err(|e| aws.error("StartQuery", e))?;
        resp.query_id().map(str::to_owned).ok_or_else(|| AwsError::Service {
            operation: "StartQuery",
            region: aws.region.clone(),
            code: "NoQueryId".into(),
            message: "StartQuery returned no query id".into(),
        })
    }

    /// GetQueryResults once; on FINISHED, every page.
    pub async fn results(aws: &Aws, query_id: &str) -> Result<QueryState, AwsError> {
        use aws_sdk_cloudtrail::types::QueryStatus;
        let ct = aws_sdk_cloudtrail::Client::new(&aws.config);
        let mut rows: Vec<Row> = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let resp = ct.get_query_results().query_id(query_id).set_next_token(token.take()).send().await.map_err(|e| aws.error("GetQueryResults", e))?;
            match resp.query_status() {
                Some(QueryStatus::Queued | QueryStatus::Running) => return Ok(QueryState::Pending),
                Some(QueryStatus::Finished) => {}
                other => {
                    let status = other.map_or("no status", |s| s.as_str());
                    return Ok(QueryState::Failed(format!("query {query_id} ended {status}: {}", resp.error_message().unwrap_or("no error message"))));
                }
            }
            // Each row is a list of one-entry maps, one per selected column.
            rows.extend(resp.query_result_rows().iter().map(|row| row.iter().flat_map(|col| col.iter().map(|(k, v)| (k.clone(), v.clone()))).collect::<Row>()));
            token = resp.next_token().map(str::to_owned);
            if token.is_none() || rows.len() >= super::MAX_ROWS as usize {
                return Ok(QueryState::Finished(rows));
            }
        }
    }

    /// Starts `sql` and waits for its rows; a query that fails or outlasts `waiting` is an error
    /// naming GetQueryResults, so the check shows it as "could not read".
    pub async fn run(aws: &Aws, sql: &str, waiting: &Waiting) -> Result<Vec<Row>, AwsError> {
        let id = start(aws, sql).await?;
        for _ in 0..waiting.max_polls {
            match results(aws, &id).await? {
                QueryState::Finished(rows) => return Ok(rows),
                QueryState::Failed(message) => return Err(AwsError::Service { operation: "GetQueryResults", region: aws.region.clone(), code: "QueryFailed".into(), message }),
                QueryState::Pending => {
                    if !waiting.poll.is_zero() {
                        tokio::time::sleep(waiting.poll).await;
                    }
                }
            }
        }
        Err(AwsError::Service {
            operation: "GetQueryResults",
            region: aws.region.clone(),
            code: "QueryStillRunning".into(),
            message: format!("query {id} still running after {} polls", waiting.max_polls),
        })
    }
}

#[cfg(feature = "aws")]
pub use sdk::{in_store_region, results, run, start};

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:cloudtrail:us-east-1:123456789012:eventdatastore/EXAMPLE-f852-4e8f-8bd1-bcf6cEXAMPLE";

    #[test]
    fn the_store_id_and_region_come_from_its_arn() {
        assert_eq!(store_id(ARN), "EXAMPLE-f852-4e8f-8bd1-bcf6cEXAMPLE");
        assert_eq!(store_region(ARN), Some("us-east-1"));
        assert_eq!(store_id("EXAMPLE-id"), "EXAMPLE-id");
        assert_eq!(store_region("EXAMPLE-id"), None);
    }

    #[test]
    fn queries_select_bedrock_events_since_the_window_start_from_the_store() {
        // 2026-12-07T09:30:15.900Z
        let since = 1_796_635_815_900;
        assert_eq!(sql_time(since), "2026-12-07 09:30:15");
        let sql = recent_events_sql(ARN, since);
        assert!(sql.contains("FROM EXAMPLE-f852-4e8f-8bd1-bcf6cEXAMPLE WHERE eventSource = 'bedrock.amazonaws.com' AND eventTime >= '2026-12-07 09:30:15'"), "{sql}");
        assert!(sql.contains("userIdentity.arn AS caller") && sql.ends_with("LIMIT 50"), "{sql}");
        let sql = converse_events_sql(ARN, since);
        assert!(sql.contains("eventName = 'Converse'") && sql.contains("requestID AS request_id") && sql.contains("element_at(requestParameters, 'modelId') AS model"), "{sql}");
    }

    #[test]
    fn rows_become_trail_events() {
        let row: Row = [("event_name", "Converse"), ("caller", "arn:aws:sts::1:assumed-role/r/u")].into_iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
        let events = trail_events(&[row, Row::new()]);
        assert_eq!(events[0].event_name, "Converse");
        assert_eq!(events[0].caller, "arn:aws:sts::1:assumed-role/r/u");
        assert_eq!(events[1].caller, "");
    }
}
