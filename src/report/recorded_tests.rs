//! The cross-account report through the real SDK (its serializers and deserializers) against
//! answers stored in tests/data/recorded/, for what the emulator cannot serve: ListMetrics
//! answering `OwningAccounts`, and the requests carrying `IncludeLinkedAccounts`,
//! `OwningAccount`, `AccountId` and `logGroupIdentifiers`. The stored answers follow the API
//! reference's shapes (CloudWatch's in Smithy RPC v2 CBOR, written from the `.json` twin beside
//! each by tests/e2e/cbor_adapter.py's encoder); they were not captured from an account.

use super::insights::{LogsApi, SdkLogs};
use super::metrics::{queries_for_accounts, MetricsApi, SdkMetrics};
use super::Period;
use crate::aws::sdk_replay::{aws as replay, event, event_cbor, run, sent, sent_lossy};

const HAIKU: &str = "anthropic.claude-3-5-haiku-20241022-v1:0";
const SONNET: &str = "anthropic.claude-sonnet-4-20250514-v1:0";

#[test]
fn list_metrics_in_a_monitoring_account_names_each_metrics_account() {
    let (aws, client) = replay("us-east-1", vec![event_cbor(200, "cloudwatch-list-metrics-linked.cbor")]);
    let api = SdkMetrics { aws: &aws, client: aws.cloudwatch() };
    let pairs = run(api.list_model_accounts(None, "999999999999")).unwrap();
    assert_eq!(
        pairs,
        vec![
            ("111111111111".to_owned(), HAIKU.to_owned()),
            ("222222222222".to_owned(), SONNET.to_owned()),
            ("999999999999".to_owned(), HAIKU.to_owned()),
        ]
    );
    let body = sent_lossy(&client, 0);
    assert!(body.contains("IncludeLinkedAccounts"), "{body}");
    assert!(!body.contains("OwningAccount"), "--org asks for every account: {body}");
}

#[test]
fn one_account_is_asked_for_by_owning_account_and_kept_even_if_the_answer_has_more() {
    let (aws, client) = replay("us-east-1", vec![event_cbor(200, "cloudwatch-list-metrics-linked.cbor")]);
    let api = SdkMetrics { aws: &aws, client: aws.cloudwatch() };
    let pairs = run(api.list_model_accounts(Some("222222222222"), "999999999999")).unwrap();
    assert_eq!(pairs, vec![("222222222222".to_owned(), SONNET.to_owned())]);
    let body = sent_lossy(&client, 0);
    assert!(body.contains("OwningAccount") && body.contains("222222222222"), "{body}");
}

#[test]
fn each_metric_query_names_its_account() {
    let (aws, client) = replay("us-east-1", vec![event_cbor(200, "cloudwatch-get-metric-data-empty.cbor")]);
    let api = SdkMetrics { aws: &aws, client: aws.cloudwatch() };
    let period = Period { start: 1_794_960_000, end: 1_794_960_000 + 86_400 };
    let queries = queries_for_accounts(&[(Some("111111111111".into()), HAIKU.into()), (None, SONNET.into())], &period);
    let page = run(api.get_metric_data(&queries, &period, None)).unwrap();
    assert!(page.series.is_empty());
    let body = sent_lossy(&client, 0);
    // 11 queries of the linked account carry AccountId; the caller's own 11 carry none.
    assert_eq!(body.matches("AccountId").count(), 11, "{body}");
    assert_eq!(body.matches("111111111111").count(), 11);
}

#[test]
fn other_accounts_log_groups_go_as_identifiers_and_own_ones_as_names() {
    let (aws, client) = replay("us-east-1", vec![event(200, "application/x-amz-json-1.1", "logs-start-query.json"), event(200, "application/x-amz-json-1.1", "logs-start-query.json")]);
    let logs = SdkLogs { aws: &aws, client: aws.logs() };
    let period = Period { start: 0, end: 3600 };
    let arn = "arn:aws:logs:us-east-1:111111111111:log-group:/aws/bedrock/modelinvocations".to_owned();
    let id = run(logs.start_query_identifiers(&[arn.clone(), "/aws/bedrock/modelinvocations".into()], &period, "stats count(*)")).unwrap();
    assert_eq!(id, "12ab3456-12ab-123a-789e-1234567890ab");
    let body = sent(&client, 0);
    assert!(body.contains(r#""logGroupIdentifiers":["arn:aws:logs:us-east-1:111111111111:log-group:/aws/bedrock/modelinvocations","/aws/bedrock/modelinvocations"]"#), "{body}");
    assert!(!body.contains("logGroupNames"), "{body}");
    run(logs.start_query_identifiers(&["/aws/bedrock/modelinvocations".into()], &period, "stats count(*)")).unwrap();
    let body = sent(&client, 1);
    assert!(body.contains(r#""logGroupNames":["/aws/bedrock/modelinvocations"]"#), "{body}");
}
