"""The scheduled-report function (src/scheduled_reports/report_handler.py), built as deployed.

The figures: tests/data/scheduled-report.json holds recorded ListMetrics, GetMetricData and
Logs Insights results and the report the Rust side (`bedrock-watch report`'s `assemble`)
computes from them (src/report/scheduled_fixture_tests.rs asserts that side). Here the
function's own code reads the same recorded responses through stand-in clients and must
produce exactly the same report, float for float. The settings it runs with are the ones the
Rust side synthesizes (the fixture pins them too): price table, per-user query, top-N.

Delivery runs against moto in-process: SNS to a subscribed SQS queue (text for e-mail, the JSON
report for queues) and SES with a verified sender (HTML and text parts).
"""
import json
from datetime import datetime, timezone
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

import report_build

FIXTURE = json.loads((Path(__file__).resolve().parents[1] / "data" / "scheduled-report.json").read_text())
REGION = "us-east-1"
UTC = timezone.utc


def config(**overrides):
    cfg = dict(FIXTURE["settings"])
    cfg.update({"topic_arn": f"arn:aws:sns:{REGION}:123456789012:alerts", "log_group": FIXTURE["log_group"],
                "stack_name": FIXTURE["stack_name"]})
    cfg.update(overrides)
    return cfg


class RecordedCloudWatch:
    """Answers with the fixture's recorded datapoints, paging like CloudWatch does."""

    def __init__(self, page_size=1000):
        self.calls = []
        self.page_size = page_size

    def list_metrics(self, **kw):
        if kw.get("Namespace") == "AWS/BedrockMantle":
            assert kw == {"Namespace": "AWS/BedrockMantle", "MetricName": "TotalInputTokens"}
            return {"Metrics": [{"Namespace": "AWS/BedrockMantle", "MetricName": "TotalInputTokens",
                                 "Dimensions": [{"Name": n, "Value": v} for n, v in dims]} for dims in FIXTURE["mantle_list_metrics"]]}
        assert kw == {"Namespace": "AWS/Bedrock", "MetricName": "Invocations"}
        return {"Metrics": [{"Namespace": "AWS/Bedrock", "MetricName": "Invocations",
                             "Dimensions": [{"Name": "ModelId", "Value": m}]} for m in FIXTURE["list_metrics"]]}

    def get_metric_data(self, MetricDataQueries, StartTime, EndTime, ScanBy=None, NextToken=None):
        assert len(MetricDataQueries) <= 500
        if MetricDataQueries[0]["MetricStat"]["Metric"]["Namespace"] == "AWS/BedrockMantle":
            return self.mantle_data(MetricDataQueries, StartTime, EndTime)
        assert (int(StartTime.timestamp()), int(EndTime.timestamp())) == (FIXTURE["period"]["start"], FIXTURE["period"]["end"])
        assert ScanBy == "TimestampAscending"
        self.calls.append((len(MetricDataQueries), NextToken))
        first = int(NextToken or 0)
        results = []
        for q in MetricDataQueries[first:first + self.page_size]:
            stat = q["MetricStat"]
            metric = stat["Metric"]
            model = metric["Dimensions"][0]["Value"]
            rec = next((m for m in FIXTURE["metric_data"] if m["model_id"] == model and m["metric"] == metric["MetricName"]
                        and m["stat"] == stat["Stat"]), None)
            points = rec["points"] if rec else []
            results.append({"Id": q["Id"], "Timestamps": [datetime.fromtimestamp(t, UTC) for t, _ in points],
                            "Values": [v for _, v in points], "StatusCode": "Complete"})
        nxt = first + self.page_size
        out = {"MetricDataResults": results, "Messages": []}
        if nxt < len(MetricDataQueries):
            out["NextToken"] = str(nxt)
        return out


    def mantle_data(self, queries, start, end):
        """The recorded sums, one whole-period datapoint per series, as mantle.rs asks."""
        assert (int(start.timestamp()), int(end.timestamp())) == (FIXTURE["period"]["start"], FIXTURE["period"]["end"])
        self.mantle_calls = getattr(self, "mantle_calls", 0) + 1
        results = []
        for q in queries:
            stat = q["MetricStat"]
            assert stat["Stat"] == "Sum" and stat["Period"] == FIXTURE["period"]["end"] - FIXTURE["period"]["start"]
            (dim,) = stat["Metric"]["Dimensions"]
            assert dim["Name"] == "Model"
            values = FIXTURE["mantle_sums"].get(dim["Value"], {}).get(stat["Metric"]["MetricName"], [])
            results.append({"Id": q["Id"], "Timestamps": [start] * len(values), "Values": values, "StatusCode": "Complete"})
        return {"MetricDataResults": results, "Messages": []}


class RecordedLogs:
    def __init__(self, statuses=("Running", "Complete")):
        self.statuses = list(statuses)
        self.started = None

    def start_query(self, **kw):
        self.started = kw
        return {"queryId": "q-1"}

    def get_query_results(self, queryId):
        assert queryId == "q-1"
        status = self.statuses.pop(0)
        rows = [[{"field": k, "value": v} for k, v in row] for row in FIXTURE["insights_rows"]]
        return {"status": status, "results": rows if status == "Complete" else []}


def module(cfg=None, cloudwatch=None, logs=None):
    mod = report_build.build(cfg or config())
    mod._CLIENTS.update({"cloudwatch": cloudwatch or RecordedCloudWatch(), "logs": logs or RecordedLogs()})
    mod.sleep = lambda s: None
    return mod


def test_same_report_as_the_rust_side_from_the_same_recorded_responses():
    logs = RecordedLogs()
    mod = module(logs=logs)
    p = FIXTURE["period"]
    report = mod.build_report(p["start"], p["end"], p["now"])
    assert report == FIXTURE["report"]
    # Exactly: no float of the JSON differs (the comparison above is ==, not approx).
    assert json.dumps(report, sort_keys=True) == json.dumps(FIXTURE["report"], sort_keys=True)
    # The same queries as the Rust side, and the query text it synthesized.
    models = sorted(set(FIXTURE["list_metrics"]) | set(FIXTURE["settings"]["models"]))
    assert mod.queries_for(models, p["start"], p["end"]) == [
        {**q, "measure": mod.MEASURES[i % len(mod.MEASURES)][0]} for i, q in enumerate(FIXTURE["queries"])]
    assert logs.started == {"logGroupName": FIXTURE["log_group"], "startTime": p["start"], "endTime": p["end"] - 1,
                            "queryString": FIXTURE["settings"]["query"], "limit": 10000}


def test_batches_of_500_and_next_token_pages_give_the_same_report():
    cw = RecordedCloudWatch(page_size=7)
    cfg = config(models=FIXTURE["settings"]["models"] + [f"extra.model-{i}" for i in range(50)])
    report = module(cfg, cloudwatch=cw).build_report(FIXTURE["period"]["start"], FIXTURE["period"]["end"], FIXTURE["period"]["now"])
    # 55 models (4 listed, 1 more configured, 50 extra) x 11 queries = 605: a batch of 500
    # and one of 105, each paged by 7 (72 and 15 calls).
    assert [n for n, _ in cw.calls] == [500] * 72 + [105] * 15
    assert cw.calls[1] == (500, "7") and cw.calls[72] == (105, None)
    assert report["totals"] == FIXTURE["report"]["totals"] and report["models"] == FIXTURE["report"]["models"]


def test_rounding_is_rusts_half_away_from_zero():
    mod = module()
    assert [mod.rust_round(x) for x in (0.5, 1.5, 2.5, 2.4999, 999.6)] == [1, 2, 3, 2, 1000]
    assert mod.count(float("nan")) == 0 and mod.count(-3.0) == 0


def test_a_failed_user_query_keeps_the_metrics_and_says_why():
    report = module(logs=RecordedLogs(statuses=("Running", "Failed"))).build_report(
        FIXTURE["period"]["start"], FIXTURE["period"]["end"], FIXTURE["period"]["now"])
    assert report["users"]["available"] is False
    assert report["users"]["note"] == "per-user figures unavailable: Logs Insights query q-1 ended: Failed"
    assert report["totals"] == FIXTURE["report"]["totals"]


@pytest.mark.parametrize("frequency,at,start,end", [
    # 08:30 Berlin on Monday 2026-11-23 (CET, UTC+1).
    ("daily", "2026-11-23T07:30:00Z", "2026-11-21T23:00:00Z", "2026-11-22T23:00:00Z"),
    ("weekly", "2026-11-23T07:30:00Z", "2026-11-15T23:00:00Z", "2026-11-22T23:00:00Z"),
    ("monthly", "2026-12-01T07:30:00Z", "2026-10-31T23:00:00Z", "2026-11-30T23:00:00Z"),
    # Across the end of daylight saving (2026-10-25): the local day is 25 hours long.
    ("daily", "2026-10-26T07:30:00Z", "2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z"),
])
def test_the_period_is_the_one_that_ended_at_local_midnight(frequency, at, start, end):
    mod = module(config(frequency=frequency, time_zone="Europe/Berlin"))
    ts = lambda s: int(datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp())  # noqa: E731
    assert mod.period_for({}, ts(at)) == (ts(start), ts(end))


def test_an_explicit_period_is_validated():
    mod = module()
    assert mod.period_for({"since": "2026-11-01T00:00:00Z", "until": "2026-11-02T00:00:00Z"}, 0) == (1793491200, 1793577600)
    with pytest.raises(ValueError, match="at least one hour"):
        mod.period_for({"since": "2026-11-01T00:00:00Z", "until": "2026-11-01T00:30:00Z"}, 0)


def test_text_and_html_carry_totals_top_users_models_errors_and_projection():
    mod = module()
    r = FIXTURE["report"]
    text, page = mod.render_text(r), mod.render_html(r)
    for part in (text, page):
        for expected in ["Totals", "Top users (5 of 6)", "Top models", "Errors", "Month projection (30 days)",
                         "jane.doe@example.com", "us.anthropic.claude-sonnet-4-20250514-v1:0", "28,164", "$0.0613",
                         "6.90%", "124", "$0.2626", "no price for custom.unpriced-model",
                         "Unattributed (Mantle): the bedrock-mantle endpoint, by model", "Not attributed to any user",
                         "unattributed (Mantle) total", "61,500", "$0.0945 + unpriced", "3 Flex call(s)"]:
            assert expected in part, expected
    # Top models ranked by cost: Sonnet ($0.031) before Haiku ($0.026); the unpriced one last.
    order = [text.index(m) for m in ["us.anthropic.claude-sonnet-4", "anthropic.claude-3-5-haiku", "custom.unpriced-model"]]
    assert order == sorted(order)
    assert "<script" not in page and "<td" in page
    sub = mod.subject(r)
    assert sub.startswith("Bedrock weekly report 2026-11-15: 29 calls, $0.0613") and len(sub) < 100
    only = module(config(include=["errors"])).render_text(r)
    assert "Errors" in only and "Top users" not in only and "Totals" not in only


def test_html_escapes_principals():
    r = json.loads(json.dumps(FIXTURE["report"]))
    r["users"]["rows"][0]["principal"] = "<img src=x onerror=alert(1)>"
    page = module().render_html(r)
    assert "<img" not in page and "&lt;img" in page


@mock_aws
def test_sns_delivery_arrives_on_a_subscribed_queue_as_text_and_json():
    sns, sqs = boto3.client("sns", region_name=REGION), boto3.client("sqs", region_name=REGION)
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    queue = sqs.create_queue(QueueName="reports")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    mod = module(config(topic_arn=topic))
    mod._CLIENTS["sns"] = sns
    sent = mod.deliver(FIXTURE["report"])
    assert sent["channel"] == "sns"
    msgs = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    assert len(msgs) == 1
    envelope = json.loads(msgs[0]["Body"])
    assert envelope["Subject"] == mod.subject(FIXTURE["report"])
    body = json.loads(envelope["Message"])
    assert body["report"] == FIXTURE["report"] and body["text"] == mod.render_text(FIXTURE["report"])


@mock_aws
def test_ses_delivery_sends_html_and_text_from_the_verified_sender():
    from moto.ses.models import ses_backends
    ses = boto3.client("ses", region_name=REGION)
    ses.verify_email_identity(EmailAddress="reports@example.com")
    mod = module(config(ses_sender="reports@example.com", ses_recipients=["finops@example.com"]))
    mod._CLIENTS["ses"] = ses
    sent = mod.deliver(FIXTURE["report"])
    assert sent["channel"] == "ses"
    [message] = ses_backends["123456789012"][REGION].sent_messages
    assert message.source == "reports@example.com" and message.destinations["ToAddresses"] == ["finops@example.com"]
    assert "<table" in message.body and "Top users" in message.body
    unverified = module(config(ses_sender="nobody@example.com", ses_recipients=["finops@example.com"]))
    unverified._CLIENTS["ses"] = ses
    with pytest.raises(ses.exceptions.MessageRejected):
        unverified.deliver(FIXTURE["report"])


def test_unreadable_mantle_usage_is_a_note_and_the_runtime_figures_stand():
    class NoMantle(RecordedCloudWatch):
        def list_metrics(self, **kw):
            if kw.get("Namespace") == "AWS/BedrockMantle":
                raise RuntimeError("AccessDenied: cloudwatch:ListMetrics")
            return super().list_metrics(**kw)

    p = FIXTURE["period"]
    report = module(cloudwatch=NoMantle()).build_report(p["start"], p["end"], p["now"])
    assert "mantle" not in report
    assert report["notes"][-1] == "bedrock-mantle usage unavailable: AccessDenied: cloudwatch:ListMetrics"
    assert report["totals"] == FIXTURE["report"]["totals"] and report["users"] == FIXTURE["report"]["users"]
    assert "Unattributed (Mantle)" not in module().render_text(report)


def test_without_mantle_series_no_mantle_call_and_no_section():
    class Empty(RecordedCloudWatch):
        def list_metrics(self, **kw):
            if kw.get("Namespace") == "AWS/BedrockMantle":
                return {"Metrics": []}
            return super().list_metrics(**kw)

    cw = Empty()
    p = FIXTURE["period"]
    report = module(cloudwatch=cw).build_report(p["start"], p["end"], p["now"])
    assert "mantle" not in report and getattr(cw, "mantle_calls", 0) == 0
    assert not any("mantle" in n for n in report["notes"])
