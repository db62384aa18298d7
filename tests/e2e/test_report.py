"""`bedrock-watch report` end to end against moto's server.

What the emulator backs and what it does not (see ../shared/aws-facts.md and cbor_adapter.py):
- CloudWatch metrics: moto computes Sum and SampleCount of GetMetricData and ListMetrics for
  real, but implements only the awsQuery protocol while the Rust SDK speaks RPC v2 CBOR, so the
  binary reaches moto's CloudWatch through `cbor_adapter.CborAdapter` (re-encoding only). moto
  computes no percentiles (p99 stays absent) and does not paginate GetMetricData or enforce its
  500-query limit: batching and pagination are unit-tested (src/report/metrics.rs).
- CloudFormation DescribeStacks / DescribeStackResources and CloudWatch Logs are real moto.
- Logs Insights: moto's StartQuery/GetQueryResults run, but its query engine implements only
  `fields`, `sort` and `limit`, not `parse` or `stats`: the per-user figures are unit-tested
  (src/report/insights.rs); here the query's start, poll and fetch round trip is checked.
"""
import datetime
import json

import pytest

from cbor_adapter import CborAdapter

HAIKU = "anthropic.claude-3-5-haiku-20241022-v1:0"
SONNET = "anthropic.claude-sonnet-4-20250514-v1:0"
LOG_GROUP = "/aws/bedrock/modelinvocations"
STACK = "bedrock-watch-us-east-1"

# The stack's own logical id and output name for the invocation log group.
TEMPLATE = {
    "Resources": {"InvocationLogGroup": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": LOG_GROUP, "RetentionInDays": 30}}},
    "Outputs": {"InvocationLogGroupName": {"Value": {"Ref": "InvocationLogGroup"}}},
}


@pytest.fixture
def adapter(reset):
    with CborAdapter(reset) as a:
        yield a


def _period():
    """The two whole UTC days before today: fixed day boundaries whatever the time of the run."""
    today = datetime.datetime.now(datetime.timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - datetime.timedelta(days=2), today


def _put(cw, model, ts, **metrics):
    cw.put_metric_data(Namespace="AWS/Bedrock", MetricData=[
        {"MetricName": name, "Dimensions": [{"Name": "ModelId", "Value": model}], "Timestamp": ts, "Value": float(v), "Unit": "Count"}
        for name, v in metrics.items()
    ])


def _latency(cw, model, ts, values):
    cw.put_metric_data(Namespace="AWS/Bedrock", MetricData=[
        {"MetricName": "InvocationLatency", "Dimensions": [{"Name": "ModelId", "Value": model}], "Timestamp": ts, "Value": float(v), "Unit": "Milliseconds"}
        for v in values
    ])


def _seed(aws, with_outputs=True):
    since, until = _period()
    cfn = aws("cloudformation")
    template = dict(TEMPLATE) if with_outputs else {"Resources": TEMPLATE["Resources"]}
    cfn.create_stack(StackName=STACK, TemplateBody=json.dumps(template))
    cw = aws("cloudwatch")
    d1, d2 = since + datetime.timedelta(hours=1), since + datetime.timedelta(days=1, hours=2)
    # Haiku: day 1: 3 calls, 3,000 in, 600 out, 1 client error, 2 throttles; day 2: 2 calls,
    # 1,000 in, 400 out, 10,000 cache reads. Latencies 100, 200, 300 / 400, 500 ms.
    _put(cw, HAIKU, d1, Invocations=3, InputTokenCount=3000, OutputTokenCount=600, InvocationClientErrors=1, InvocationThrottles=2)
    _latency(cw, HAIKU, d1, [100, 200, 300])
    _put(cw, HAIKU, d2, Invocations=2, InputTokenCount=1000, OutputTokenCount=400, CacheReadInputTokens=10000)
    _latency(cw, HAIKU, d2, [400, 500])
    # Sonnet 4: day 1: 1 call, 2,000 in, 1,000 out, 1 server error, latency 1,500 ms.
    _put(cw, SONNET, d1, Invocations=1, InputTokenCount=2000, OutputTokenCount=1000, InvocationServerErrors=1)
    _latency(cw, SONNET, d1, [1500])
    # Outside the period: must not count.
    _put(cw, HAIKU, until + datetime.timedelta(hours=1), Invocations=1000, InputTokenCount=10**6)
    logs = aws("logs")
    logs.create_log_stream(logGroupName=LOG_GROUP, logStreamName="aws/bedrock/modelinvocations")
    record = {"schemaType": "ModelInvocationLog", "schemaVersion": "1.0", "modelId": HAIKU, "operation": "Converse",
              "identity": {"arn": "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Dev_0a1b/jane.doe@example.com"},
              "input": {"inputTokenCount": 1000}, "output": {"outputTokenCount": 200}}
    logs.put_log_events(logGroupName=LOG_GROUP, logStreamName="aws/bedrock/modelinvocations",
                        logEvents=[{"timestamp": int(d1.timestamp() * 1000), "message": json.dumps(record)}])
    return since, until


def _iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_report_json_figures_match_hand_computed_values(bw, aws, adapter):
    since, until = _seed(aws)
    r = bw("report", "--since", _iso(since), "--until", _iso(until), "--format", "json", endpoint_url=adapter.url)
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    assert rep["schema"] == "bedrock-watch/report/v1"
    assert rep["stack_name"] == STACK and rep["log_group"] == LOG_GROUP
    assert rep["period"] == {"start": _iso(since), "end": _iso(until), "hours": 48.0}
    t = rep["totals"]
    assert (t["invocations"], t["input_tokens"], t["output_tokens"], t["cache_read_tokens"], t["cache_write_tokens"]) == (6, 6000, 2000, 10000, 0)
    # Haiku 3.5 ($0.0008 in, $0.004 out, $0.00008 cache read per 1K): 4,000 in → 0.0032,
    # 1,000 out → 0.004, 10,000 reads → 0.0008 = 0.008. Sonnet 4 ($0.003, $0.015): 0.006 + 0.015 = 0.021.
    models = {m["model_id"]: m for m in rep["models"]}
    assert sorted(models) == [HAIKU, SONNET]
    assert models[HAIKU]["estimated_cost_usd"] == pytest.approx(0.008)
    assert models[SONNET]["estimated_cost_usd"] == pytest.approx(0.021)
    assert t["estimated_cost_usd"] == pytest.approx(0.029)
    assert (models[HAIKU]["invocations"], models[HAIKU]["errors"], models[HAIKU]["throttles"]) == (5, 1, 2)
    assert models[HAIKU]["average_latency_ms"] == pytest.approx(300.0)  # (100+200+300+400+500)/5
    p = rep["performance"]
    assert p["average_latency_ms"] == pytest.approx(3000 / 6)  # (1,500 + 1,500) / 6 calls
    assert p["p99_latency_ms"] is None  # moto computes no percentiles
    assert (p["client_errors"], p["server_errors"], p["errors"], p["throttles"]) == (1, 1, 2, 2)
    assert p["error_rate_percent"] == pytest.approx(100 * 2 / 6)
    days = [(d["date"], d["model_id"], d["invocations"], d["input_tokens"], d["output_tokens"]) for d in rep["days"]]
    day1, day2 = since.strftime("%Y-%m-%d"), (since + datetime.timedelta(days=1)).strftime("%Y-%m-%d")
    assert days == [(day1, HAIKU, 3, 3000, 600), (day1, SONNET, 1, 2000, 1000), (day2, HAIKU, 2, 1000, 400)]
    pr = rep["projection"]
    assert (pr["based_on_days"], pr["month_days"], pr["invocations"], pr["input_tokens"]) == (2.0, 30, 90, 90000)
    assert pr["estimated_cost_usd"] == pytest.approx(0.029 * 15)
    assert "linear" in pr["method"] and "2 days" in pr["method"]
    # Batched: one GetMetricData call for 2 models × 11 queries.
    gmd = [n for op, n in adapter.calls if op == "GetMetricData"]
    assert gmd == [22], adapter.calls
    # Logs Insights ran to completion on moto (start, poll, fetch). moto cannot evaluate
    # `parse`/`stats`: it returns the one raw event in the period, which the report ignores and
    # says so; user figures are unit-tested.
    assert rep["users"]["available"] is True, rep["notes"]
    assert (rep["users"]["rows"], rep["users"]["truncated"]) == ([], False)
    assert "1 Logs Insights result row(s) had no `principal` field and were ignored" in rep["notes"]
    assert "CloudWatch returned no p99 latency for the period" in rep["notes"]


def test_report_resolves_the_log_group_without_outputs_and_renders_every_format(bw, aws, adapter, tmp_path):
    since, until = _seed(aws, with_outputs=False)
    base = ["report", "--since", _iso(since), "--until", _iso(until)]
    r = bw(*base, "--format", "json", "--out", "r.json", endpoint_url=adapter.url)
    assert r.returncode == 0, r.stderr
    rep = json.loads((tmp_path / "r.json").read_text())
    assert rep["log_group"] == LOG_GROUP
    table = bw(*base, endpoint_url=adapter.url)
    assert table.returncode == 0, table.stderr
    assert "Invocations" in table.stdout and "6" in table.stdout and HAIKU in table.stdout
    md = bw("report", "--from-json", "r.json", "--format", "markdown")
    assert md.returncode == 0 and md.stdout.startswith("## Bedrock usage report: us-east-1"), md.stderr
    html = bw("report", "--from-json", "r.json", "--format", "html")
    assert html.returncode == 0 and 'id="tokens-per-day"' in html.stdout


def test_missing_stack_is_a_clear_error(bw, adapter):
    r = bw("report", "--hours", "24", endpoint_url=adapter.url)
    assert r.returncode == 2
    assert "error: stack `bedrock-watch-us-east-1` does not exist in us-east-1" in r.stderr, r.stderr
    assert "help: deploy it first" in r.stderr
    assert r.stdout == ""


def test_region_without_bedrock_metrics_and_empty_period(bw, aws, adapter):
    aws("cloudformation").create_stack(StackName=STACK, TemplateBody=json.dumps(TEMPLATE))
    r = bw("report", "--hours", "24", endpoint_url=adapter.url)
    assert r.returncode == 2
    assert "no Bedrock metrics in us-east-1" in r.stderr and "help: check --region" in r.stderr, r.stderr
    since, until = _period()
    _put(aws("cloudwatch"), HAIKU, until + datetime.timedelta(minutes=5), Invocations=1)
    r = bw("report", "--since", _iso(since), "--until", _iso(until), endpoint_url=adapter.url)
    assert r.returncode == 2
    assert "no Bedrock invocations in us-east-1 between" in r.stderr and "help: widen the period" in r.stderr, r.stderr


def test_bad_period_is_a_usage_error_before_any_call(bw):
    r = bw("report", "--since", "yesterday")
    assert r.returncode == 2 and "is not an RFC 3339 time" in r.stderr and "help:" in r.stderr, r.stderr
