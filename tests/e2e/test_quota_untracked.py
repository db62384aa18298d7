"""Quota bypasses end to end against moto's server: API-key users outside quota management
(`quota status --untracked`, `quota track`) and bedrock-mantle usage shown as unattributed
(`quota status`, `report`).

What the emulator backs and what it does not:
- IAM users, paths and tags (CreateUser, ListUsers, GetUser, TagUser, ListUserTags) are real moto.
- IAM service-specific credentials (Bedrock API keys): moto 5.2.5 answers
  ListServiceSpecificCredentials with HTTP 500 (checked again for this test). So here the
  command must say that the keys could not be listed and still find the console-made
  `BedrockAPIKey-*` users by name; the key listing itself is covered by recorded-response tests
  (src/quotas/admin/tracking.rs, tests/data/recorded/iam-list-*.xml).
- CloudWatch GetMetricData/ListMetrics on `AWS/BedrockMantle` after PutMetricData: moto computes
  the sums; the Rust SDK reaches it through `cbor_adapter.CborAdapter` (re-encoding only, see
  test_report.py). Without the adapter moto cannot answer the SDK's CloudWatch protocol, which
  is how `quota status` is shown to degrade to a note instead of failing.
"""
import datetime
import json
import zoneinfo

import pytest
import yaml

from cbor_adapter import CborAdapter
from test_quota_cli import CONFIG, REGION, audit_items, quota, stack  # noqa: F401  (stack is a fixture)

KEY_USER = "BedrockAPIKey-ab12"
HAIKU = "anthropic.claude-3-5-haiku-20241022-v1:0"
MANAGED = [{"Key": "bedrock-watch-quota", "Value": "managed"}]


def _tags(iam, user):
    return {t["Key"]: t["Value"] for t in iam.list_user_tags(UserName=user)["Tags"]}


def test_untracked_key_users_are_listed_and_track_brings_them_under_management(stack, bw, aws):  # noqa: F811
    iam = aws("iam", REGION)
    iam.create_user(UserName=KEY_USER, Path="/")  # as the Bedrock console makes it: path /, no tags
    iam.create_user(UserName="BedrockAPIKey-cd34", Path="/", Tags=MANAGED)  # already managed
    iam.create_user(UserName="BedrockAPIKey-ef56", Path="/ops/")  # not the console's path: not flagged by name

    r = quota(bw, "status", "--untracked")
    assert r.returncode == 0, r.stderr
    assert KEY_USER in r.stdout and f"arn:aws:iam::123456789012:user/{KEY_USER}" in r.stdout
    assert "console-api-key-user" in r.stdout
    for other in ("BedrockAPIKey-cd34", "BedrockAPIKey-ef56", "mallory", "alice"):
        assert other not in r.stdout.split("To bring them")[0], other
    # moto answers ListServiceSpecificCredentials with a 500: said, not hidden
    assert "warning: the Bedrock API keys could not be listed (ListServiceSpecificCredentials failed" in r.stdout
    assert "ServiceError(" not in r.stdout, "the SDK's debug dump is cut"
    assert f"`bedrock-watch quota track {KEY_USER}` tags it bedrock-watch-quota=managed" in r.stdout

    r = quota(bw, "status", "--untracked", "--format", "json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["schema"] == "bedrock-watch/quota-untracked/v1"
    assert [u["name"] for u in doc["users"]] == [KEY_USER]
    assert doc["users"][0]["flags"] == ["console-api-key-user"]
    assert (doc["users"][0]["in_managed_path"], doc["users"][0]["has_quota_tag"]) == (True, False)
    assert doc["api_keys_listed"] is False and doc["examined"] == 6

    r = quota(bw, "track", "nobody-here")
    assert r.returncode == 2 and "unknown IAM user `nobody-here`" in r.stderr and "quota status --untracked" in r.stderr, r.stderr
    assert _tags(iam, KEY_USER) == {}, "an unknown name changes nothing"

    r = quota(bw, "track", KEY_USER)
    assert r.returncode == 0, r.stderr
    operator = aws("sts", REGION).get_caller_identity()["Arn"]
    assert r.stdout == f"tracked {KEY_USER}: tagged bedrock-watch-quota=managed; the quota functions can now block it; recorded by {operator}\n"
    assert _tags(iam, KEY_USER) == {"bedrock-watch-quota": "managed"}
    assert iam.get_user(UserName=KEY_USER)["User"]["Path"] == "/", "track never moves a user"
    trail = [a for a in audit_items(aws, stack["audit"]) if a["action"]["S"] == "track"]
    assert [(a["principal"]["S"], a["actor"]["S"], a["result"]["S"]) for a in trail] == [(KEY_USER, operator, "ok")]

    r = quota(bw, "track", KEY_USER)
    assert r.returncode == 0 and "already tracked" in r.stdout and "nothing changed" in r.stdout
    assert len([a for a in audit_items(aws, stack["audit"]) if a["action"]["S"] == "track"]) == 1, "idempotent: no second entry"

    r = quota(bw, "status", "--untracked")
    assert r.returncode == 0 and KEY_USER not in r.stdout and "none\n" in r.stdout, r.stdout

    # Tracked means blockable: the block attaches the stack's deny policy.
    r = quota(bw, "block", KEY_USER, "--until", "1h", "--reason", "api key over budget")
    assert r.returncode == 0, r.stderr
    attached = [p["PolicyArn"] for p in iam.list_attached_user_policies(UserName=KEY_USER)["AttachedPolicies"]]
    assert attached == [stack["block_policy"]]


def test_track_all_untracked_and_a_user_outside_the_managed_path(stack, bw, aws, tmp_path):  # noqa: F811
    iam = aws("iam", REGION)
    iam.create_user(UserName=KEY_USER, Path="/")
    iam.create_user(UserName="BedrockAPIKey-gh78", Path="/")
    r = quota(bw, "track", "--all-untracked")
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("tracked BedrockAPIKey-") == 2
    assert _tags(iam, "BedrockAPIKey-gh78") == {"bedrock-watch-quota": "managed"}

    # With quotas.managed_path /bedrock/, a console user at / cannot be brought under management
    # by a tag: the functions' grant covers only that path. Refused, nothing changed.
    cfg = yaml.safe_load(open(CONFIG))
    cfg["quotas"]["managed_path"] = "/bedrock/"
    path = tmp_path / "quotas-path.yaml"
    path.write_text(yaml.safe_dump(cfg))
    iam.create_user(UserName="BedrockAPIKey-ij90", Path="/")
    r = bw("quota", "track", "BedrockAPIKey-ij90", "--config", str(path), "--region", REGION)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "not tracked: its path / is outside quotas.managed_path /bedrock/" in r.stdout
    assert _tags(iam, "BedrockAPIKey-ij90") == {}


def _berlin_today_start(now):
    local = now.astimezone(zoneinfo.ZoneInfo("Europe/Berlin"))
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(datetime.timezone.utc)


def _put_mantle(cw, model, ts, inferences, inp, out):
    cw.put_metric_data(Namespace="AWS/BedrockMantle", MetricData=[
        {"MetricName": name, "Dimensions": [{"Name": "Model", "Value": model}], "Timestamp": ts, "Value": float(v), "Unit": "Count"}
        for name, v in (("Inferences", inferences), ("TotalInputTokens", inp), ("TotalOutputTokens", out))
    ])


def test_quota_status_shows_mantle_usage_as_unattributed(stack, bw, aws, endpoint):  # noqa: F811
    now = datetime.datetime.now(datetime.timezone.utc)
    ts = max(now - datetime.timedelta(seconds=30), _berlin_today_start(now) + datetime.timedelta(seconds=1))
    cw = aws("cloudwatch", REGION)
    _put_mantle(cw, HAIKU, ts, 2, 1000, 500)
    # A project-level series of the same calls must not count twice.
    cw.put_metric_data(Namespace="AWS/BedrockMantle", MetricData=[
        {"MetricName": "TotalInputTokens", "Dimensions": [{"Name": "Project", "Value": "proj_abc"}], "Timestamp": ts, "Value": 1000.0}])
    with CborAdapter(endpoint, region=REGION) as adapter:
        r = bw("quota", "status", "--config", CONFIG, "--region", REGION, endpoint_url=adapter.url)
        assert r.returncode == 0, r.stderr
        assert "Unattributed (bedrock-mantle endpoint), counted against no principal or team" in r.stdout, r.stdout
        row = [line for line in r.stdout.splitlines() if line.startswith(HAIKU)]
        # 1,500 tokens today and this month; Haiku 3.5 at $0.0008 / $0.004 per 1K: 0.0008 + 0.002
        assert len(row) == 1 and row[0].split() == [HAIKU, "1,500", "1,500", "0.0028", "0.0028"], r.stdout
        r = bw("quota", "status", "--format", "json", "--config", CONFIG, "--region", REGION, endpoint_url=adapter.url)
        un = json.loads(r.stdout)["unattributed"]
        assert un["error"] is None
        assert [(m["model"], m["today_tokens"], m["this_month_tokens"]) for m in un["models"]] == [(HAIKU, 1500.0, 1500.0)]
        assert json.loads(r.stdout)["principals"] == [], "no principal is charged with it"
        # Narrowed to a user, the account-level figures are left out.
        r = bw("quota", "status", "--user", "alice", "--format", "json", "--config", CONFIG, "--region", REGION, endpoint_url=adapter.url)
        assert json.loads(r.stdout)["unattributed"] is None
    # Straight to moto (which cannot answer the SDK's CloudWatch protocol): a note, not a failure.
    r = quota(bw, "status")
    assert r.returncode == 0, r.stderr
    assert "Unattributed (bedrock-mantle endpoint)" in r.stdout and "could not be read:" in r.stdout


REPORT_STACK = "bedrock-watch-us-east-1"
REPORT_TEMPLATE = {
    "Resources": {"InvocationLogGroup": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "/aws/bedrock/modelinvocations", "RetentionInDays": 30}}},
    "Outputs": {"InvocationLogGroupName": {"Value": {"Ref": "InvocationLogGroup"}}},
}


def test_report_has_an_unattributed_mantle_section(reset, bw, aws):
    today = datetime.datetime.now(datetime.timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    since, until = today - datetime.timedelta(days=2), today
    aws("cloudformation").create_stack(StackName=REPORT_STACK, TemplateBody=json.dumps(REPORT_TEMPLATE))
    cw = aws("cloudwatch")
    cw.put_metric_data(Namespace="AWS/Bedrock", MetricData=[
        {"MetricName": "Invocations", "Dimensions": [{"Name": "ModelId", "Value": HAIKU}], "Timestamp": since + datetime.timedelta(hours=1), "Value": 1.0}])
    _put_mantle(cw, HAIKU, since + datetime.timedelta(hours=2), 3, 10000, 2000)
    _put_mantle(cw, "openai.gpt-oss-120b", since + datetime.timedelta(days=1, hours=3), 1, 100, 50)
    _put_mantle(cw, HAIKU, until + datetime.timedelta(hours=1), 99, 10**6, 10**6)  # after the period
    iso = lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    with CborAdapter(reset) as adapter:
        r = bw("report", "--since", iso(since), "--until", iso(until), "--format", "json", endpoint_url=adapter.url)
        assert r.returncode == 0, r.stderr
        m = json.loads(r.stdout)["mantle"]
        rows = {x["model"]: x for x in m["models"]}
        assert sorted(rows) == [HAIKU, "openai.gpt-oss-120b"]
        assert (rows[HAIKU]["inferences"], rows[HAIKU]["input_tokens"], rows[HAIKU]["output_tokens"]) == (3, 10000, 2000)
        # Haiku 3.5: 10,000 × $0.0008 + 2,000 × $0.004 per 1K = 0.016; the other model is unpriced.
        assert rows[HAIKU]["estimated_cost_usd"] == pytest.approx(0.016)
        assert rows["openai.gpt-oss-120b"]["estimated_cost_usd"] is None
        assert m["unpriced_models"] == ["openai.gpt-oss-120b"]
        assert "never per principal" in m["unattributed_because"]
        assert json.loads(r.stdout)["totals"]["input_tokens"] == 0, "Mantle tokens stay out of the runtime totals"
        r = bw("report", "--since", iso(since), "--until", iso(until), endpoint_url=adapter.url)
        assert "Unattributed (Mantle): the bedrock-mantle endpoint, by model" in r.stdout, r.stdout
