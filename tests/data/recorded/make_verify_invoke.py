"""Writes the recorded AWS answers of `verify --invoke` and the CloudTrail Lake path.

moto 5.2.5 serves neither bedrock-runtime Converse nor CloudTrail Lake (StartQuery,
GetQueryResults), so these paths are unit-tested with answers in the shapes of the API
references (Converse, FilterLogEvents, GetMetricData, LookupEvents, StartQuery,
GetQueryResults), replayed through the SDK's StaticReplayClient by src/verify/invoke_tests.rs
and src/verify/recorded_tests.rs. The scenario: jane.doe@example.com (an IAM Identity Center
session) calls amazon.nova-micro-v1:0 in us-east-1 at 2026-12-02T14:00:05Z.

CloudWatch answers in Smithy RPC v2 CBOR (aws-sdk-cloudwatch 1.140), so GetMetricData bodies are
encoded with the CBOR codec of tests/e2e/cbor_adapter.py. Run from the repository root:
    .venv/bin/python tests/data/recorded/make_verify_invoke.py
"""
import datetime
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "e2e"))
from cbor_adapter import encode  # noqa: E402

ACCOUNT = "123456789012"
CALLER = f"arn:aws:sts::{ACCOUNT}:assumed-role/AWSReservedSSO_BedrockDeveloper_0a1b2c3d4e5f6789/jane.doe@example.com"
MODEL = "amazon.nova-micro-v1:0"
REQUEST_ID = "5d3f1c2a-8b4e-4f6a-9c1d-2e7b8a9f0c31"
CALL_S = 1796220005  # 2026-12-02T14:00:05Z
STORE = f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:eventdatastore/EXAMPLE-f852-4e8f-8bd1-bcf6cEXAMPLE"


def iso(s):
    return datetime.datetime.fromtimestamp(s, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def write(name, doc):
    (HERE / name).write_text(json.dumps(doc, indent=2) + "\n")


def cbor(name, doc):
    (HERE / name).write_bytes(encode(doc))


# Converse: the answer to the one call, and the answer when the model is not enabled.
write("bedrock-runtime-converse.json", {
    "output": {"message": {"role": "assistant", "content": [{"text": "OK"}]}},
    "stopReason": "end_turn",
    "usage": {"inputTokens": 8, "outputTokens": 2, "totalTokens": 10},
    "metrics": {"latencyMs": 388},
})
write("bedrock-runtime-error-access-denied.json", {"message": "You don't have access to the model with the specified model ID."})

# The invocation-log record of the call (schema of the Bedrock user guide), as FilterLogEvents returns it.
record = {
    "schemaType": "ModelInvocationLog", "schemaVersion": "1.0", "timestamp": iso(CALL_S),
    "accountId": ACCOUNT, "identity": {"arn": CALLER}, "region": "us-east-1", "requestId": REQUEST_ID,
    "operation": "Converse", "modelId": MODEL,
    "input": {"inputContentType": "application/json", "inputTokenCount": 8,
              "inputBodyJson": {"messages": [{"role": "user", "content": [{"text": "Reply with the single word OK."}]}],
                                "inferenceConfig": {"maxTokens": 10}}},
    "output": {"outputContentType": "application/json", "outputTokenCount": 2,
               "outputBodyJson": {"output": {"message": {"role": "assistant", "content": [{"text": "OK"}]}},
                                  "stopReason": "end_turn", "usage": {"inputTokens": 8, "outputTokens": 2, "totalTokens": 10}}},
}
write("logs-filter-log-events-none.json", {"events": [], "searchedLogStreams": []})
write("logs-filter-log-events-converse.json", {"events": [{
    "logStreamName": "aws/bedrock/modelinvocations", "timestamp": (CALL_S + 1) * 1000,
    "message": json.dumps(record, separators=(",", ":")), "ingestionTime": (CALL_S + 130) * 1000,
    "eventId": "38659428716541232155712451122435418476321784256811991040",
}], "searchedLogStreams": []})

# GetMetricData of AWS/Bedrock Invocations for the model: nothing yet, then the call's datapoint.
minute = CALL_S - CALL_S % 60
cbor("cloudwatch-get-metric-data-invocations-none.cbor", {"MetricDataResults": [
    {"Id": "invocations", "Label": "Invocations", "Timestamps": [], "Values": [], "StatusCode": "Complete"}], "Messages": []})
cbor("cloudwatch-get-metric-data-invocations-one.cbor", {"MetricDataResults": [
    {"Id": "invocations", "Label": "Invocations",
     "Timestamps": [datetime.datetime.fromtimestamp(minute, datetime.timezone.utc)], "Values": [1.0],
     "StatusCode": "Complete"}], "Messages": []})

# The Converse management event, from LookupEvents and from a Lake query.
event = {
    "eventVersion": "1.11",
    "userIdentity": {"type": "AssumedRole", "principalId": "AROAEXAMPLEID:jane.doe@example.com", "arn": CALLER,
                     "accountId": ACCOUNT, "accessKeyId": "ASIAEXAMPLE",
                     "sessionContext": {"sessionIssuer": {"type": "Role", "principalId": "AROAEXAMPLEID",
                                                          "arn": f"arn:aws:iam::{ACCOUNT}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_BedrockDeveloper_0a1b2c3d4e5f6789",
                                                          "accountId": ACCOUNT, "userName": "AWSReservedSSO_BedrockDeveloper_0a1b2c3d4e5f6789"}}},
    "eventTime": iso(CALL_S), "eventSource": "bedrock.amazonaws.com", "eventName": "Converse", "awsRegion": "us-east-1",
    "sourceIPAddress": "198.51.100.7", "userAgent": "aws-sdk-rust/1.3 bedrock-watch",
    "requestParameters": {"modelId": MODEL}, "responseElements": None, "requestID": REQUEST_ID,
    "eventID": "8e1c5a7d-3f0b-4c2e-9d6a-1b2c3d4e5f60", "readOnly": True, "eventType": "AwsApiCall",
    "managementEvent": True, "recipientAccountId": ACCOUNT, "eventCategory": "Management",
}
other = dict(event, requestID="0a9b8c7d-6e5f-4a3b-2c1d-0e9f8a7b6c5d", eventTime=iso(CALL_S - 30),
             userIdentity=dict(event["userIdentity"], arn=CALLER.replace("jane.doe", "john.roe")))
write("cloudtrail-lookup-events-none.json", {"Events": []})
write("cloudtrail-lookup-events-converse.json", {"Events": [
    {"EventId": e["eventID"], "EventName": "Converse", "ReadOnly": "true", "AccessKeyId": "ASIAEXAMPLE",
     "EventTime": CALL_S, "EventSource": "bedrock.amazonaws.com", "Username": e["userIdentity"]["principalId"].split(":")[1],
     "Resources": [], "CloudTrailEvent": json.dumps(e, separators=(",", ":"))}
    for e in (dict(other, eventID="7d6c5b4a-3928-4716-a5b4-c3d2e1f0a9b8"), event)]})

# CloudTrail Lake: StartQuery, a query still queued, results (check 4 and --invoke), a failed query.
write("cloudtrail-start-query.json", {"QueryId": "4f6f1c0e-8b3a-4f8e-9e1d-7a2b3c4d5e6f"})
write("cloudtrail-get-query-results-queued.json", {"QueryStatus": "QUEUED", "QueryResultRows": []})
write("cloudtrail-get-query-results-running.json", {"QueryStatus": "RUNNING", "QueryResultRows": []})
stats = {"ResultsCount": 2, "TotalResultsCount": 2, "BytesScanned": 415803}
write("cloudtrail-get-query-results-bedrock-events.json", {
    "QueryStatus": "FINISHED", "QueryStatistics": stats, "QueryResultRows": [
        [{"event_name": "Converse"}, {"caller": CALLER}, {"event_time": "2026-12-02 14:00:05.000"}],
        [{"event_name": "InvokeModel"}, {"caller": f"arn:aws:sts::{ACCOUNT}:assumed-role/shared-bedrock/app"}, {"event_time": "2026-12-02 13:58:41.000"}],
    ]})
write("cloudtrail-get-query-results-converse.json", {
    "QueryStatus": "FINISHED", "QueryStatistics": dict(stats, ResultsCount=1, TotalResultsCount=1), "QueryResultRows": [
        [{"event_name": "Converse"}, {"caller": CALLER}, {"request_id": REQUEST_ID}, {"model": MODEL},
         {"event_time": "2026-12-02 14:00:05.000"}],
    ]})
write("cloudtrail-get-query-results-failed.json", {
    "QueryStatus": "FAILED", "QueryResultRows": [],
    "ErrorMessage": "Query failed because the event data store EXAMPLE-f852-4e8f-8bd1-bcf6cEXAMPLE is not enabled."})
write("cloudtrail-error-event-data-store-not-found.json", {
    "__type": "EventDataStoreNotFoundException", "Message": f"The specified event data store {STORE} was not found."})
