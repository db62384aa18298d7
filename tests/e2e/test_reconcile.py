"""`bedrock-watch report --reconcile` end to end against moto's server.

The committed CUR 2.0 fixture (tests/data/cur/, one data file of November 2026) is gzipped into
the export bucket of a stack created in moto's CloudFormation, with the manifest Data Exports
writes next to it; the real binary finds the bucket, reads the manifest and the file, runs the
per-user Logs Insights query and prints the reconciliation.

What the emulator backs and what it does not (see ../shared/aws-facts.md):
- CloudFormation DescribeStacks / DescribeStackResources, the S3 bucket the stack creates and
  GetObject (including NoSuchKey for a billing period never delivered) are real moto.
- Logs Insights: moto's StartQuery/GetQueryResults run, but its engine implements neither
  `parse` nor `stats`, and CloudWatch Logs refuses events older than 14 days, so November's
  invocation records cannot be there: the estimated side is empty here and every billed row is
  compared with nothing. The estimate, the matching of models and every drift reason are
  unit-tested on the same fixture (src/report/reconcile/tests.rs), and the table is a snapshot
  (tests/report_snapshots.rs).
- There is no Data Exports service in moto: the export's files are put where the export
  delivers them (AWS Data Exports user guide, "Understanding export delivery").
- `--month 2026-11` is a closed month only from 2026-12-03 on (48 hours after it ends); the
  binary reads the machine's clock.
"""
import datetime
import gzip
import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "tests" / "data" / "cur" / "bedrock-watch-cur2-00001.csv"
STACK = "bedrock-watch-us-east-1"
LOG_GROUP = "/aws/bedrock/modelinvocations"
EXPORT = "genai-cur2"
CONFIG = f"""regions: [us-east-1]
billing:
  cur_export:
    enabled: true
    export_name: {EXPORT}
"""
TEMPLATE = {
    "Resources": {
        "InvocationLogGroup": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": LOG_GROUP, "RetentionInDays": 30}},
        "CurExportBucket": {"Type": "AWS::S3::Bucket"},
    },
    "Outputs": {"InvocationLogGroupName": {"Value": {"Ref": "InvocationLogGroup"}}},
}


def _deploy(aws, with_bucket=True):
    template = json.loads(json.dumps(TEMPLATE))
    if not with_bucket:
        del template["Resources"]["CurExportBucket"]
    aws("cloudformation").create_stack(StackName=STACK, TemplateBody=json.dumps(template))
    if not with_bucket:
        return None
    res = aws("cloudformation").describe_stack_resources(StackName=STACK, LogicalResourceId="CurExportBucket")
    return res["StackResources"][0]["PhysicalResourceId"]


def _deliver(aws, bucket, period="2026-11"):
    """Puts the fixture where the export delivers it, then the manifest (delivered last)."""
    s3 = aws("s3")
    key = f"cur2/{EXPORT}/data/BILLING_PERIOD={period}/{EXPORT}-00001.csv.gz"
    s3.put_object(Bucket=bucket, Key=key, Body=gzip.compress(FIXTURE.read_bytes()))
    manifest = {"executionId": "e2e", "exportArn": f"arn:aws:bcm-data-exports:us-east-1:123456789012:export/{EXPORT}-x",
                "dataFiles": [f"s3://{bucket}/{key}"], "columns": []}
    s3.put_object(Bucket=bucket, Key=f"cur2/{EXPORT}/metadata/BILLING_PERIOD={period}/{EXPORT}-Manifest.json", Body=json.dumps(manifest).encode())


@pytest.fixture
def config(tmp_path):
    (tmp_path / "billing.yaml").write_text(CONFIG)
    return "billing.yaml"


def test_billed_rows_without_logs_drift_as_untracked_and_exit_1(bw, aws, reset, config):
    _deliver(aws, _deploy(aws))
    r = bw("report", "--reconcile", "--config", config, "--month", "2026-11", "--format", "json")
    assert r.returncode == 1, r.stderr
    rec = json.loads(r.stdout)
    assert rec["schema"] == "bedrock-watch/reconcile/v1"
    assert (rec["stack_name"], rec["log_group"], rec["region"]) == (STACK, LOG_GROUP, "us-east-1")
    assert rec["period"] == {"start": "2026-11-01T00:00:00Z", "end": "2026-12-01T00:00:00Z", "hours": 720.0}
    assert (rec["export"]["export_name"], rec["export"]["billing_periods"], rec["export"]["data_files"], rec["export"]["lines_read"]) == (EXPORT, ["2026-11"], 1, 16)
    # moto leaves the estimate empty (see the module docstring): every row is billed only.
    rows = {(x["principal"], x["model"]): x for x in rec["rows"]}
    assert sorted(rows) == sorted([
        ("(no principal)", "amazon.nova-micro-v1:0"),
        ("bedrock-tool-support-bot", "amazon.nova-micro-v1:0"),
        ("chatbot-prod", "Llama3.2-1B-Instruct"),
        ("ci-runner", "amazon.nova-micro-v1:0"),
        ("jane.doe@example.com", "anthropic.claude-3-5-haiku-20241022-v1:0"),
        ("raj", "GPT-OSS-120B"),
        ("raj", "anthropic.claude-sonnet-4-20250514-v1:0"),
    ])
    billed = {k: round(v["billed_usd"], 6) for k, v in rows.items()}
    assert billed[("jane.doe@example.com", "anthropic.claude-3-5-haiku-20241022-v1:0")] == 0.008
    assert billed[("raj", "anthropic.claude-sonnet-4-20250514-v1:0")] == 0.039
    assert billed[("bedrock-tool-support-bot", "amazon.nova-micro-v1:0")] == 0.35
    assert all(v["estimated_usd"] == 0 and v["logged_calls"] == 0 for v in rows.values())
    drifting = {k for k, v in rows.items() if v["drifting"]}
    # Under a cent apart: Haiku ($0.008) and ci-runner ($0.00009) do not drift.
    assert drifting == set(rows) - {("jane.doe@example.com", "anthropic.claude-3-5-haiku-20241022-v1:0"), ("ci-runner", "amazon.nova-micro-v1:0")}
    assert {rows[k]["reason"] for k in drifting} == {"untracked_traffic"}
    assert rows[("raj", "GPT-OSS-120B")]["mantle"] is True
    assert "bedrock-mantle" in rows[("raj", "GPT-OSS-120B")]["detail"]
    assert round(rec["totals"]["billed_usd"], 6) == 0.58709 and rec["totals"]["drifting_rows"] == 5
    assert [(n["lines"], round(n["cost_usd"], 4)) for n in rec["not_compared"]] == [(1, 1.95), (1, 0.05), (1, 0.5)]


def test_table_and_out_file_keep_the_exit_code(bw, aws, reset, config, tmp_path):
    _deliver(aws, _deploy(aws))
    r = bw("report", "--reconcile", "--config", config, "--month", "2026-11")
    assert r.returncode == 1, r.stderr
    assert r.stdout.startswith("Billed vs estimated Bedrock cost in us-east-1 (stack bedrock-watch-us-east-1)")
    assert "DRIFT: untracked traffic" in r.stdout and "Not compared" in r.stdout
    r = bw("report", "--reconcile", "--config", config, "--month", "2026-11", "--format", "markdown", "--out", "rec.md")
    assert r.returncode == 1 and r.stdout.startswith("wrote rec.md"), r.stderr
    assert (tmp_path / "rec.md").read_text().startswith("## Billed vs estimated Bedrock cost: us-east-1")
    # A threshold nothing exceeds: exit 0.
    r = bw("report", "--reconcile", "--config", config, "--month", "2026-11", "--min-difference-usd", "1")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Drifting rows        0 of 7" in r.stdout


def test_a_billing_period_not_delivered_names_the_manifest(bw, aws, reset, config):
    bucket = _deploy(aws)
    _deliver(aws, bucket)
    r = bw("report", "--reconcile", "--config", config, "--month", "2026-10")
    assert r.returncode == 2
    assert f"the export has not delivered billing period 2026-10: s3://{bucket}/cur2/{EXPORT}/metadata/BILLING_PERIOD=2026-10/{EXPORT}-Manifest.json does not exist" in r.stderr, r.stderr
    assert "help: Data Exports delivers within 24 hours" in r.stderr


def test_a_stack_without_the_export_bucket_says_deploy_it(bw, aws, reset, config):
    _deploy(aws, with_bucket=False)
    r = bw("report", "--reconcile", "--config", config, "--month", "2026-11")
    assert r.returncode == 2
    assert "stack `bedrock-watch-us-east-1` in us-east-1 has no CurExportBucket resource" in r.stderr, r.stderr


def test_an_open_period_and_a_config_without_export_fail_before_any_call(bw, config, tmp_path):
    this_month = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m")
    r = bw("report", "--reconcile", "--config", config, "--month", this_month)
    assert r.returncode == 2 and "and is still open" in r.stderr and "help: run it again after" in r.stderr, r.stderr
    (tmp_path / "plain.yaml").write_text("regions: [us-east-1]\n")
    r = bw("report", "--reconcile", "--config", "plain.yaml", "--month", "2026-11")
    assert r.returncode == 2 and "billing.cur_export.enabled is false" in r.stderr, r.stderr
    r = bw("report", "--reconcile", "--format", "html", "--config", config)
    assert r.returncode == 2 and "--format html is not available with --reconcile" in r.stderr, r.stderr
