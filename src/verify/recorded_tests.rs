//! Recorded-response tests for the facts moto cannot serve (it answers HTTP 500 for CloudTrail
//! LookupEvents and Cost Explorer ListCostAllocationTags, and has no CloudTrail Lake API at
//! all): the real gather functions run through the real SDK deserializers against AWS answers
//! stored in tests/data/recorded/.

use super::*;
use crate::aws::sdk_replay::{aws as replay, event, run, sent};

const JSON: &str = "application/x-amz-json-1.1";

#[test]
fn lookup_events_yield_the_per_user_arn_of_each_bedrock_event() {
    let (aws, client) = replay("us-east-1", vec![event(200, JSON, "cloudtrail-lookup-events.json")]);
    let events = run(trail_events(&aws, 1_764_660_000_000)).unwrap();
    let sso = "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_BedrockDeveloper_0123456789abcdef";
    assert_eq!(
        events,
        vec![
            TrailEvent { event_name: "Converse".into(), caller: format!("{sso}/alice@example.com") },
            TrailEvent { event_name: "InvokeModel".into(), caller: format!("{sso}/bob@example.com") },
            // No CloudTrailEvent document: the Username is all there is.
            TrailEvent { event_name: "ListFoundationModels".into(), caller: "carol".into() },
        ]
    );
    let body = sent(&client, 0);
    assert!(body.contains(r#""AttributeKey":"EventSource""#) && body.contains(r#""AttributeValue":"bedrock.amazonaws.com""#), "{body}");
}

#[test]
fn a_lookup_events_error_names_the_operation_and_code() {
    let (aws, _) = replay("us-east-1", vec![event(400, JSON, "cloudtrail-error-invalid-time-range.json")]);
    let err = run(trail_events(&aws, 0)).unwrap_err();
    match &err {
        AwsError::Service { operation, code, .. } => {
            assert_eq!(*operation, "LookupEvents");
            assert_eq!(code, "InvalidTimeRangeException");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(matches!(observed::<()>(Err(err)), Observed::Unavailable(_)));
}

#[test]
fn cost_allocation_tags_are_read_across_pages_with_their_status() {
    let (aws, client) = replay(
        "us-east-1",
        vec![event(200, JSON, "ce-list-cost-allocation-tags-page1.json"), event(200, JSON, "ce-list-cost-allocation-tags-page2.json")],
    );
    let tags = run(cost_tags(&aws)).unwrap();
    let got: Vec<(&str, &str)> = tags.iter().map(|t| (t.key.as_str(), t.status.as_str())).collect();
    assert_eq!(got, vec![("Team", "Active"), ("CostCenter", "Inactive"), ("aws:createdBy", "Inactive")]);
    assert!(sent(&client, 1).contains(r#""NextToken":"page-2""#), "second page asked with the token");
}

#[test]
fn a_cost_explorer_access_denied_is_reported_not_fatal() {
    let (aws, _) = replay("us-east-1", vec![event(400, JSON, "ce-error-access-denied.json")]);
    let err = run(cost_tags(&aws)).unwrap_err();
    assert!(matches!(&err, AwsError::AccessDenied { operation: "ListCostAllocationTags", message, .. } if message.contains("ce:ListCostAllocationTags")), "{err:?}");
    let Observed::Unavailable(why) = observed::<()>(Err(err)) else { panic!("must be Unavailable") };
    assert!(!why.is_empty());
}

const STORE: &str = "arn:aws:cloudtrail:us-east-1:123456789012:eventdatastore/EXAMPLE-f852-4e8f-8bd1-bcf6cEXAMPLE";
/// Lake queries are read without pausing in tests.
const NO_WAIT: lake::Waiting = lake::Waiting { poll: std::time::Duration::ZERO, max_polls: 5 };

/// moto serves no CloudTrail Lake API: StartQuery and GetQueryResults answers are recorded.
#[test]
fn with_lake_check_4_queries_the_event_data_store_until_the_query_finishes() {
    let (aws, client) = replay(
        "us-east-1",
        vec![
            event(200, JSON, "cloudtrail-start-query.json"),
            event(200, JSON, "cloudtrail-get-query-results-queued.json"),
            event(200, JSON, "cloudtrail-get-query-results-bedrock-events.json"),
        ],
    );
    let events = run(lake_events(&aws, STORE, 1_796_216_405_000, &NO_WAIT)).unwrap();
    assert_eq!(
        events,
        vec![
            TrailEvent { event_name: "Converse".into(), caller: "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_BedrockDeveloper_0a1b2c3d4e5f6789/jane.doe@example.com".into() },
            TrailEvent { event_name: "InvokeModel".into(), caller: "arn:aws:sts::123456789012:assumed-role/shared-bedrock/app".into() },
        ]
    );
    let sql = sent(&client, 0);
    assert!(sql.contains("FROM EXAMPLE-f852-4e8f-8bd1-bcf6cEXAMPLE WHERE eventSource = 'bedrock.amazonaws.com' AND eventTime >= '2026-12-02 13:00:05'"), "{sql}");
    assert!(sent(&client, 2).contains(r#""QueryId":"4f6f1c0e-8b3a-4f8e-9e1d-7a2b3c4d5e6f""#), "results asked for the started query");
}

#[test]
fn with_lake_a_failed_query_or_a_missing_store_is_an_error_naming_the_call() {
    let (aws, _) = replay("us-east-1", vec![event(200, JSON, "cloudtrail-start-query.json"), event(200, JSON, "cloudtrail-get-query-results-failed.json")]);
    let err = run(lake_events(&aws, STORE, 0, &NO_WAIT)).unwrap_err();
    assert!(matches!(&err, AwsError::Service { operation: "GetQueryResults", code, message, .. } if code == "QueryFailed" && message.contains("is not enabled")), "{err:?}");
    let (aws, _) = replay("us-east-1", vec![event(400, JSON, "cloudtrail-error-event-data-store-not-found.json")]);
    let err = run(lake_events(&aws, STORE, 0, &NO_WAIT)).unwrap_err();
    assert!(matches!(&err, AwsError::Service { operation: "StartQuery", code, .. } if code == "EventDataStoreNotFoundException"), "{err:?}");
    let Observed::Unavailable(why) = observed::<()>(Err(err)) else { panic!("must be Unavailable") };
    assert!(why.contains("StartQuery failed in us-east-1: EventDataStoreNotFoundException"), "{why}");
}

#[test]
fn with_lake_a_query_that_never_finishes_gives_up_after_its_polls() {
    let mut answers = vec![event(200, JSON, "cloudtrail-start-query.json")];
    answers.extend((0..NO_WAIT.max_polls).map(|_| event(200, JSON, "cloudtrail-get-query-results-running.json")));
    let (aws, client) = replay("us-east-1", answers);
    let err = run(lake_events(&aws, STORE, 0, &NO_WAIT)).unwrap_err();
    assert!(matches!(&err, AwsError::Service { code, .. } if code == "QueryStillRunning"), "{err:?}");
    assert_eq!(client.actual_requests().count(), 1 + NO_WAIT.max_polls as usize);
}
