//! `--invoke`: matching traces to the call, the call's result line and the flags as plain
//! functions; then, because moto 5.2.5 serves neither bedrock-runtime Converse nor CloudTrail
//! Lake queries, the SDK path on recorded AWS answers (tests/data/recorded/, written by
//! make_verify_invoke.py) through the SDK's StaticReplayClient: the real deserializers, the real
//! follow-up, a fake clock.

use super::*;
use crate::verify::Status;

const CALLER: &str = "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_BedrockDeveloper_0a1b2c3d4e5f6789/jane.doe@example.com";
const MODEL: &str = "amazon.nova-micro-v1:0";
const REQUEST_ID: &str = "5d3f1c2a-8b4e-4f6a-9c1d-2e7b8a9f0c31";
const STORE: &str = "arn:aws:cloudtrail:us-east-1:123456789012:eventdatastore/EXAMPLE-f852-4e8f-8bd1-bcf6cEXAMPLE";

fn call() -> Call {
    Call { model: MODEL.into(), caller: CALLER.into(), request_id: Some(REQUEST_ID.into()), tokens: Tokens { input: 8, output: 2, ..Tokens::default() }, latency_ms: Some(388), started_ms: 0 }
}

fn trace(id: Option<&str>, caller: &str, model: &str) -> Trace {
    Trace { request_id: id.map(str::to_owned), caller: caller.into(), model: model.into(), operation: "Converse".into() }
}

#[test]
fn a_trace_is_the_call_by_request_id_first_then_by_caller_and_model() {
    let other_user = trace(Some("r-other"), &CALLER.replace("jane.doe", "john.roe"), MODEL);
    let exact = trace(Some(REQUEST_ID), CALLER, MODEL);
    let traces = [other_user.clone(), exact.clone()];
    let (t, how) = find(&traces, &call()).unwrap();
    assert_eq!((t, how), (&exact, Match::RequestId));
    // A record that carries the model's ARN and another id: the same caller's Converse of the model.
    let by_arn = trace(Some("r-9"), CALLER, &format!("arn:aws:bedrock:us-east-1::foundation-model/{MODEL}"));
    assert_eq!(find(&[other_user.clone(), by_arn.clone()], &call()), Some((&by_arn, Match::CallerAndModel)));
    assert!(describe(&by_arn, Match::CallerAndModel).contains("not the call's: matched by caller and model"));
    // Another user's call, another model or another operation is never this call.
    let mut invoke = by_arn.clone();
    invoke.operation = "InvokeModel".into();
    assert_eq!(find(&[other_user, trace(None, CALLER, "amazon.nova-lite-v1:0"), invoke], &call()), None);
}

#[test]
fn log_records_and_cloudtrail_events_are_read_as_traces() {
    let t = log_trace(&format!(r#"{{"requestId":"{REQUEST_ID}","operation":"Converse","modelId":"{MODEL}","identity":{{"arn":"{CALLER}"}}}}"#)).unwrap();
    assert_eq!(t, trace(Some(REQUEST_ID), CALLER, MODEL));
    assert_eq!(log_trace("not json"), None);
    assert_eq!(log_trace(r#"{"requestId":"x"}"#), None, "a record without an identity is no trace");
    let e = cloudtrail_trace(&format!(r#"{{"eventSource":"bedrock.amazonaws.com","eventName":"Converse","requestID":"{REQUEST_ID}","userIdentity":{{"arn":"{CALLER}"}},"requestParameters":{{"modelId":"{MODEL}"}}}}"#)).unwrap();
    assert_eq!(e, trace(Some(REQUEST_ID), CALLER, MODEL));
    assert_eq!(cloudtrail_trace(r#"{"eventSource":"s3.amazonaws.com","eventName":"Converse"}"#), None);
}

#[test]
fn the_call_line_prices_the_tokens_and_failures_name_their_fix() {
    let config = crate::config::Config::default();
    let prices = config.pricing.table();
    let ok = call_result(&Ok(call()), MODEL, "us-east-1", &prices);
    assert_eq!(ok.status, Status::Pass);
    assert!(ok.saw.starts_with(&format!("Converse {MODEL} as {CALLER} in 388 ms: request {REQUEST_ID}, 8 input + 2 output tokens")), "{}", ok.saw);
    let denied = AwsError::AccessDenied { operation: "Converse", region: "us-east-1".into(), message: "You don't have access to the model with the specified model ID.".into() };
    let r = call_result(&Err(denied), MODEL, "us-east-1", &prices);
    assert_eq!(r.status, Status::Fail);
    let fix = r.fix.unwrap();
    assert!(fix.contains("bedrock:InvokeModel on arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-micro-v1:0") && fix.contains("Model access"), "{fix}");
    let invalid = AwsError::Service { operation: "Converse", region: "us-east-1".into(), code: "ValidationException".into(), message: "The provided model identifier is invalid.".into() };
    assert!(call_failed(&invalid, "nova", "us-east-1").fix.unwrap().contains("aws bedrock list-foundation-models --region us-east-1"));
    let throttled = AwsError::Throttled { operation: "Converse", region: "us-east-1".into(), message: "Too many requests".into() };
    assert!(call_failed(&throttled, MODEL, "us-east-1").fix.unwrap().contains("bedrock-watch quota"));
    let unreachable = AwsError::Unreachable { operation: "Converse", region: "us-east-1".into(), endpoint: None, detail: "dns error".into() };
    assert_eq!(call_failed(&unreachable, MODEL, "us-east-1").fix.unwrap(), unreachable.help());
}

#[test]
fn deadline_and_poll_accept_units_within_their_range_and_name_the_flag_otherwise() {
    assert_eq!(parse_duration("deadline", "10m", &DEADLINE_RANGE), Ok(Duration::from_secs(600)));
    assert_eq!(parse_duration("deadline", "90s", &DEADLINE_RANGE), Ok(Duration::from_secs(90)));
    assert_eq!(parse_duration("deadline", "1h", &DEADLINE_RANGE), Ok(Duration::from_secs(3600)));
    assert_eq!(parse_duration("poll", "20", &POLL_RANGE), Ok(Duration::from_secs(20)));
    for bad in ["30s", "2h", "ten", "5d", "", "-1m"] {
        let e = parse_duration("deadline", bad, &DEADLINE_RANGE).unwrap_err();
        assert!(e.starts_with(&format!("--deadline `{bad}` must be a duration from 1m to 1h")), "{e}");
    }
    assert!(parse_duration("poll", "1s", &POLL_RANGE).unwrap_err().contains("from 5s to 5m"));
}

#[cfg(feature = "aws")]
mod recorded {
    use super::*;
    use crate::aws::sdk_replay::{aws as replay, event, event_with, run as block, sent};
    use crate::verify::facts::Facts;
    use crate::verify::follow::tests::FakeClock;
    use crate::verify::{checks, render, Verification, SCHEMA_VERSION};
    use aws_smithy_http_client::test_util::ReplayEvent;

    const JSON: &str = "application/x-amz-json-1.1";

    fn converse_ok() -> ReplayEvent {
        event_with(200, "application/json", "bedrock-runtime-converse.json", &[("x-amzn-RequestId", REQUEST_ID)])
    }

    fn metrics(file: &str) -> ReplayEvent {
        event_with(200, "application/cbor", file, &[("smithy-protocol", "rpc-v2-cbor")])
    }

    fn config() -> crate::config::Config {
        crate::config::load_file(std::path::Path::new("examples/access.yaml")).expect("examples/access.yaml")
    }

    fn facts() -> Facts {
        serde_json::from_str(&std::fs::read_to_string("tests/data/verify-facts.json").unwrap()).unwrap()
    }

    #[test]
    fn converse_sends_the_tiny_prompt_and_reads_the_request_id_and_tokens() {
        let (aws, client) = replay("us-east-1", vec![converse_ok()]);
        let c = block(converse(&aws, MODEL, CALLER, 7)).unwrap();
        assert_eq!(c, Call { started_ms: 7, ..call() });
        let request = client.actual_requests().next().unwrap();
        assert!(request.uri().ends_with("/model/amazon.nova-micro-v1%3A0/converse"), "{}", request.uri());
        let body = sent(&client, 0);
        assert!(body.contains(r#""maxTokens":10"#) && body.contains(PROMPT), "{body}");
    }

    #[test]
    fn a_model_without_access_fails_the_invoke_line_with_the_grant() {
        let denied = event_with(403, "application/json", "bedrock-runtime-error-access-denied.json", &[("x-amzn-ErrorType", "AccessDeniedException:http://internal.amazon.com/coral/com.amazon.bedrock/")]);
        let (aws, _) = replay("us-east-1", vec![denied]);
        let err = block(converse(&aws, MODEL, CALLER, 0)).unwrap_err();
        assert!(matches!(&err, AwsError::AccessDenied { operation: "Converse", message, .. } if message.contains("don't have access to the model")), "{err:?}");
        let r = call_result(&Err(err), MODEL, "us-east-1", &config().pricing.table());
        assert_eq!(r.status, Status::Fail);
        assert_eq!(r.saw, "could not call amazon.nova-micro-v1:0: access denied on Converse in us-east-1: You don't have access to the model with the specified model ID.");
        assert!(r.fix.unwrap().contains("bedrock:InvokeModel on arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-micro-v1:0"));
    }

    /// The answers of one whole `--invoke` against the event history: a look every 15 s, the
    /// metric seen at 1m15s, the log record at 2m15s, the CloudTrail event at 3m30s.
    fn whole_chain() -> Vec<ReplayEvent> {
        let mut events = vec![metrics("cloudwatch-get-metric-data-invocations-none.cbor"), converse_ok()];
        for k in 0..=14 {
            if k <= 9 {
                events.push(event(200, JSON, if k == 9 { "logs-filter-log-events-converse.json" } else { "logs-filter-log-events-none.json" }));
            }
            if k <= 5 {
                events.push(metrics(if k == 5 { "cloudwatch-get-metric-data-invocations-one.cbor" } else { "cloudwatch-get-metric-data-invocations-none.cbor" }));
            }
            events.push(event(200, JSON, if k == 14 { "cloudtrail-lookup-events-converse.json" } else { "cloudtrail-lookup-events-none.json" }));
        }
        events
    }

    fn request() -> Request {
        Request { model: MODEL.into(), deadline: Duration::from_secs(600), poll: Duration::from_secs(15) }
    }

    #[test]
    fn the_call_is_followed_through_logs_metrics_and_cloudtrail_with_measured_delays() {
        let (aws, client) = replay("us-east-1", whole_chain());
        let (config, facts) = (config(), facts());
        let mut clock = FakeClock::new();
        let (summary, lines) = block(run(&aws, &config, &facts, &request(), &mut clock, &mut ()));
        assert_eq!(client.actual_requests().count(), whole_chain().len(), "every recorded answer used, none missing");
        assert_eq!(summary.request_id.as_deref(), Some(REQUEST_ID));
        assert_eq!((summary.input_tokens, summary.output_tokens, summary.deadline_seconds, summary.poll_seconds), (Some(8), Some(2), 600, 15));
        let got: Vec<(&str, Status, Option<u64>)> = lines.iter().map(|r| (r.id, r.status, r.delay_seconds)).collect();
        assert_eq!(
            got,
            vec![("invoke", Status::Pass, None), ("invoke-logs", Status::Pass, Some(135)), ("invoke-metrics", Status::Pass, Some(75)), ("invoke-cloudtrail", Status::Pass, Some(210))]
        );
        assert!(lines[1].saw.contains(&format!("request {REQUEST_ID} by {CALLER}")), "{}", lines[1].saw);
        assert!(lines[2].saw.contains("rose from 0 to 1"), "{}", lines[2].saw);
        // The CloudTrail answer also holds another user's Converse: the call's own event is picked.
        assert!(lines[3].saw.contains(&format!("request {REQUEST_ID} by {CALLER}")) && !lines[3].saw.contains("john.roe"), "{}", lines[3].saw);
        // The log look asks for the request id or the caller; CloudTrail for Converse events.
        assert!(sent(&client, 2).contains(&format!(r#"($.requestId = \"{REQUEST_ID}\")"#)), "{}", sent(&client, 2));
        assert!(sent(&client, 4).contains(r#""AttributeKey":"EventName","AttributeValue":"Converse""#), "{}", sent(&client, 4));

        let mut results = checks::run(&config, &facts);
        results.extend(lines);
        let v = Verification { schema_version: SCHEMA_VERSION, stack: "bedrock-access-us-east-1".into(), region: "us-east-1".into(), window_minutes: 60, invoke: Some(summary), results };
        assert_eq!(v.worst(), Status::Pass);
        let json: serde_json::Value = serde_json::from_str(&render::json(&v)).unwrap();
        assert_eq!(json["schema_version"], 1);
        assert_eq!(json["invoke"]["model"], MODEL);
        assert_eq!(json["invoke"]["request_id"], REQUEST_ID);
        assert_eq!(json["invoke"]["deadline_seconds"], 600);
        let delays: Vec<(String, serde_json::Value)> = json["results"].as_array().unwrap().iter().filter(|r| r["id"].as_str().unwrap().starts_with("invoke-")).map(|r| (r["id"].as_str().unwrap().to_owned(), r["delay_seconds"].clone())).collect();
        assert_eq!(delays, vec![("invoke-logs".into(), 135.into()), ("invoke-metrics".into(), 75.into()), ("invoke-cloudtrail".into(), 210.into())]);
        assert!(json["results"][0].get("delay_seconds").is_none(), "only --invoke signals carry a delay");

        // The README's `verify --invoke` example is this table.
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path("../../snapshots");
        settings.set_prepend_module_to_snapshot(false);
        settings.bind(|| insta::assert_snapshot!("verify_invoke_table", render::table(&v)));
    }

    #[test]
    fn a_failed_call_is_not_followed() {
        let denied = event_with(403, "application/json", "bedrock-runtime-error-access-denied.json", &[("x-amzn-ErrorType", "AccessDeniedException")]);
        let (aws, client) = replay("us-east-1", vec![metrics("cloudwatch-get-metric-data-invocations-none.cbor"), denied]);
        let (summary, lines) = block(run(&aws, &config(), &facts(), &request(), &mut FakeClock::new(), &mut ()));
        assert_eq!(client.actual_requests().count(), 2, "no look after a failed call");
        assert_eq!(summary.request_id, None);
        assert_eq!(lines.iter().map(|r| (r.id, r.status)).collect::<Vec<_>>(), vec![("invoke", Status::Fail)]);
    }

    fn lake_probe(aws: &crate::aws::Aws) -> AwsProbe<'_> {
        AwsProbe { aws, call: call(), log_group: "/aws/bedrock/modelinvocations".into(), baseline: Ok(0.0), cloudtrail: CloudTrailSource::Lake { arn: STORE.into(), query: None } }
    }

    #[test]
    fn with_lake_the_cloudtrail_look_starts_a_query_then_reads_it_until_it_finishes() {
        use crate::verify::follow::{Poll, Probe, Signal};
        let (aws, client) = replay(
            "us-east-1",
            vec![event(200, JSON, "cloudtrail-start-query.json"), event(200, JSON, "cloudtrail-get-query-results-running.json"), event(200, JSON, "cloudtrail-get-query-results-converse.json")],
        );
        let mut probe = lake_probe(&aws);
        assert_eq!(block(probe.poll(Signal::Cloudtrail, 0)), Poll::NotYet);
        assert!(matches!(&probe.cloudtrail, CloudTrailSource::Lake { query: Some(q), .. } if q == "4f6f1c0e-8b3a-4f8e-9e1d-7a2b3c4d5e6f"));
        let sql = sent(&client, 0);
        assert!(sql.contains("FROM EXAMPLE-f852-4e8f-8bd1-bcf6cEXAMPLE WHERE eventSource = 'bedrock.amazonaws.com' AND eventName = 'Converse'"), "{sql}");
        assert_eq!(block(probe.poll(Signal::Cloudtrail, 15_000)), Poll::NotYet);
        assert!(sent(&client, 1).contains(r#""QueryId":"4f6f1c0e-8b3a-4f8e-9e1d-7a2b3c4d5e6f""#));
        let Poll::Seen(saw) = block(probe.poll(Signal::Cloudtrail, 30_000)) else { panic!("the finished query holds the event") };
        assert_eq!(saw, format!("CloudTrail Lake event data store EXAMPLE-f852-4e8f-8bd1-bcf6cEXAMPLE: request {REQUEST_ID} by {CALLER}"));
    }

    #[test]
    fn with_lake_a_failed_query_or_a_missing_store_makes_the_signal_unreadable_with_the_grant() {
        use crate::verify::follow::{Poll, Probe, Signal};
        let (aws, _) = replay("us-east-1", vec![event(200, JSON, "cloudtrail-start-query.json"), event(200, JSON, "cloudtrail-get-query-results-failed.json")]);
        let mut probe = lake_probe(&aws);
        assert_eq!(block(probe.poll(Signal::Cloudtrail, 0)), Poll::NotYet);
        let Poll::Unavailable { why, fix } = block(probe.poll(Signal::Cloudtrail, 15_000)) else { panic!("a failed query cannot be read") };
        assert!(why.contains("ended FAILED") && why.contains("is not enabled"), "{why}");
        assert_eq!(fix, format!("grant the caller cloudtrail:StartQuery and cloudtrail:GetQueryResults on {STORE}"));
        let (aws, _) = replay("us-east-1", vec![event(400, JSON, "cloudtrail-error-event-data-store-not-found.json")]);
        let mut probe = lake_probe(&aws);
        let Poll::Unavailable { why, .. } = block(probe.poll(Signal::Cloudtrail, 0)) else { panic!("StartQuery failed") };
        assert!(why.contains("StartQuery") && why.contains("EventDataStoreNotFoundException"), "{why}");
    }
}
