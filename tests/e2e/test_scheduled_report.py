"""Scheduled reports end to end against moto's server.

- The function's code is taken from the template `bedrock-watch synth` writes (the inline
  `ZipFile`, its `Fn::Sub` resolved with the emulated stack's names) and its handler runs
  in-process here, with boto3 pointed at the moto SERVER through AWS_ENDPOINT_URL: the real code
  against the real emulator APIs. moto cannot run Lambda code (no container engine), so
  invoking the deployed function would not run it.
- What arrives: the SNS topic delivers to a subscribed SQS queue (moto models both, and SNS
  per-protocol messages); the queue gets the text summary and the report JSON, whose figures
  must equal `bedrock-watch report --format json` for the same period on the same emulator
  (the binary reaches moto's CloudWatch through the CBOR adapter, see test_report.py; boto3
  speaks moto's own protocol). moto computes no percentiles and fails on a p99 query, so the
  function's CloudWatch client leaves p99 queries out exactly as the CBOR adapter does for the
  binary (`MotoWithoutPercentiles`; every other call goes to moto unchanged). moto's Logs
  Insights does not evaluate `parse`/`stats`, so both sides see the same raw row and ignore it.
- Deploy: the example config with the schedule goes through `bedrock-watch deploy`. moto
  creates the function and its role (asserted through Lambda and IAM), but it does not model
  AWS::Scheduler::Schedule in CloudFormation: the schedule is asserted in the deployed template
  (GetTemplate), not through the Scheduler API.
"""
import ast
import json
import re
import sys
from pathlib import Path

import pytest
import yaml

from cbor_adapter import CborAdapter
from test_report import LOG_GROUP, STACK, _iso, _seed

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))
import report_build  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"


@pytest.fixture
def adapter(reset):
    with CborAdapter(reset) as a:
        yield a


class MotoWithoutPercentiles:
    """The function's boto3 CloudWatch client on moto, minus the p99 queries moto cannot answer
    (they get no datapoints, as cbor_adapter.py gives the binary)."""

    def __init__(self, client):
        self.client = client

    def list_metrics(self, **kw):
        return self.client.list_metrics(**kw)

    def get_metric_data(self, MetricDataQueries, **kw):
        pct = [q for q in MetricDataQueries if q["MetricStat"]["Stat"].startswith("p")]
        rest = [q for q in MetricDataQueries if q not in pct]
        result = self.client.get_metric_data(MetricDataQueries=rest, **kw)
        result["MetricDataResults"] += [{"Id": q["Id"], "Timestamps": [], "Values": [], "StatusCode": "Complete"} for q in pct]
        return result


def synthesized(bw, tmp_path, config_text):
    (tmp_path / "reports.yaml").write_text(config_text)
    r = bw("synth", "--config", "reports.yaml", "--format", "json", "--out", "out")
    assert r.returncode == 0, r.stderr
    [path] = (tmp_path / "out").glob("*.json")
    return json.loads(path.read_text())


def resolve_sub(text, values):
    """Fn::Sub as CloudFormation resolves it: ${Name} from `values`, ${!x} is a literal ${x}."""
    def one(m):
        name = m.group(1)
        if name.startswith("!"):
            return "${" + name[1:] + "}"
        assert name in values, f"unresolved ${{{name}}}"
        return values[name]
    return re.sub(r"\$\{([^}]+)\}", one, text)


def test_the_function_sends_the_report_with_the_figures_of_report_json(bw, aws, adapter, tmp_path, monkeypatch):
    since, until = _seed(aws)
    cli = bw("report", "--since", _iso(since), "--until", _iso(until), "--format", "json", "--top", "10", endpoint_url=adapter.url)
    assert cli.returncode == 0, cli.stderr
    expected = json.loads(cli.stdout)

    # The default config (stack bedrock-watch-us-east-1, as seeded) with a daily schedule.
    template = synthesized(bw, tmp_path, "reports:\n  schedule:\n    frequency: daily\n    time_zone: Europe/Berlin\n")
    fn = template["Resources"]["ScheduledReportFunction"]
    sub = fn["Properties"]["Code"]["ZipFile"]["Fn::Sub"]
    text = sub if isinstance(sub, str) else sub[0]
    sns, sqs = aws("sns"), aws("sqs")
    topic = sns.create_topic(Name="bw-alerts")["TopicArn"]
    queue = sqs.create_queue(QueueName="bw-reports")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    refs = set(re.findall(r"\$\{([A-Za-z0-9]+)\}", text))
    topic_ids = [r for r in refs if template["Resources"].get(r, {}).get("Type") == "AWS::SNS::Topic"]
    assert len(topic_ids) == 1, refs
    values = {"AWS::StackName": STACK, "AWS::Region": "us-east-1", "AWS::AccountId": ACCOUNT, "AWS::Partition": "aws",
              topic_ids[0]: topic, "InvocationLogGroup": LOG_GROUP}
    code = resolve_sub(text, values)

    # boto3 inside the handler reaches the moto server through AWS_ENDPOINT_URL (set by the
    # test command), with the dummy credentials.
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    mod = report_build.load(code, "<ScheduledReportFunction as synthesized>")
    assert mod.CONFIG["topic_arn"] == topic and mod.CONFIG["log_group"] == LOG_GROUP and mod.CONFIG["top_users"] == 10
    mod._CLIENTS["cloudwatch"] = MotoWithoutPercentiles(mod.client("cloudwatch"))
    result = mod.handler({"since": _iso(since), "until": _iso(until)}, None)
    assert result["channel"] == "sns"

    msgs = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=2).get("Messages", [])
    assert len(msgs) == 1, msgs
    envelope = json.loads(msgs[0]["Body"])
    assert envelope["TopicArn"] == topic
    assert envelope["Subject"] == f"Bedrock daily report {_iso(since)[:10]}: 6 calls, $0.0290"
    body = json.loads(envelope["Message"])
    got = body["report"]
    # Same figures as the CLI for the same period: everything but the generation time.
    assert {k: v for k, v in got.items() if k != "generated_at"} == {k: v for k, v in expected.items() if k != "generated_at"}
    assert got["totals"]["invocations"] == 6 and got["totals"]["estimated_cost_usd"] == pytest.approx(0.029)
    for figure in ["Invocations", "6", "6,000", "$0.0290", "Top models", "anthropic.claude-sonnet-4-20250514-v1:0",
                   "Client errors", "33.33%", "Month projection (30 days)", "$0.4350"]:
        assert figure in body["text"], figure


def test_the_example_deploys_with_its_function_and_schedule(bw, aws, reset, tmp_path):
    aws("s3").create_bucket(Bucket="bw-staging")
    example = yaml.safe_load((REPO / "examples" / "scheduled-reports.yaml").read_text())
    # What the emulator can create in full (see test_deploy.py): no composite alarm, no
    # operations dashboard with its alarm-status widget.
    example["alerts"]["composite"] = False
    example["dashboard"] = {"enabled": False}
    example["deploy"] = {"staging_bucket": "bw-staging"}
    (tmp_path / "example.yaml").write_text(yaml.safe_dump(example))
    out = bw("deploy", "--config", "example.yaml")
    assert out.returncode == 0, f"{out.stdout}\n{out.stderr}"
    assert "CREATE_COMPLETE" in out.stdout
    stack = "genai-reports-us-east-1"
    assert "+ add    AWS::Scheduler::Schedule" in out.stdout and "ScheduledReportSchedule" in out.stdout

    lam = aws("lambda")
    [name] = [f["FunctionName"] for f in lam.list_functions()["Functions"] if "ScheduledReportFunction" in f["FunctionName"]]
    conf = lam.get_function(FunctionName=name)["Configuration"]
    assert (conf["Runtime"], conf["Handler"], conf["Timeout"], conf["MemorySize"]) == ("python3.14", "index.handler", 900, 256)  # PYTHON_RUNTIME in src/lambda
    # moto does not echo LoggingConfig; the function's own log group exists through the Logs API.
    fn_group = f"/bedrock-watch/{stack}/ScheduledReportFunction"
    groups = aws("logs").describe_log_groups(logGroupNamePrefix=fn_group)["logGroups"]
    assert [(g["logGroupName"], g["retentionInDays"]) for g in groups] == [(fn_group, 30)]

    iam = aws("iam")
    [role] = [r for r in iam.list_roles()["Roles"] if r["RoleName"].startswith(f"{stack}-ScheduledReportFunctionRole")]
    [policy] = iam.list_role_policies(RoleName=role["RoleName"])["PolicyNames"]
    doc = iam.get_role_policy(RoleName=role["RoleName"], PolicyName=policy)["PolicyDocument"]
    doc = ast.literal_eval(doc) if isinstance(doc, str) else doc
    by_action = {}
    for st in doc["Statement"]:
        for a in [st["Action"]] if isinstance(st["Action"], str) else st["Action"]:
            by_action[a] = st["Resource"]
    assert by_action["cloudwatch:GetMetricData"] == "*" and by_action["logs:GetQueryResults"] == "*"
    start_query = json.dumps(by_action["logs:StartQuery"])
    assert "log-group:/aws/bedrock/modelinvocations" in start_query, start_query
    assert f":{stack}-AlertTopic-" in json.dumps(by_action["sns:Publish"])
    assert not [a for a in by_action if a.startswith("ses:")]

    # moto does not create AWS::Scheduler::Schedule from a template: read it from the stack.
    body = aws("cloudformation").get_template(StackName=stack)["TemplateBody"]
    deployed = body if isinstance(body, dict) else (json.loads(body) if body.lstrip().startswith("{") else yaml.load(body, Loader=_CfnLoader))
    sched = deployed["Resources"]["ScheduledReportSchedule"]["Properties"]
    assert sched["ScheduleExpression"] == "cron(30 8 ? * MON *)"
    assert sched["ScheduleExpressionTimezone"] == "Europe/Berlin"


class _CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation's short-form tags (!Ref, !GetAtt, !Sub ...) as plain values."""


_CfnLoader.add_multi_constructor("!", lambda loader, suffix, node: (
    loader.construct_scalar(node) if isinstance(node, yaml.ScalarNode)
    else loader.construct_sequence(node) if isinstance(node, yaml.SequenceNode) else loader.construct_mapping(node)))
