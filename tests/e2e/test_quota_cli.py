"""`bedrock-watch quota ...` end to end against moto's server, with the real Python functions.

The stack. `bw synth --format json --stdout` gives the quotas stack of examples/quotas.yaml.
moto 5.2.5 cannot create the whole of it: it skips alarms (so a Fn::GetAtt on one fails) and
cannot run Lambda code. So the stack is created from what the quota commands use: the
encryption key (moto's crash on its tags is fixed by .ci/moto_server.py), the two DynamoDB
tables and the two block policies (AWS::IAM::ManagedPolicy), with their logical ids and
properties as synthesized. The test checks that CloudFormation really made them, and the CLI
finds them as it finds them in AWS (DescribeStackResources on the stack, logical ids
QuotaUsageTable / QuotaAuditTable / QuotaBlockPolicy / QuotaSessionBlockPolicy).

Blocks attach the stack's deny policy (IAM users, whole roles) or name a session in a slot tag
of its role under the session policy; nothing writes an inline policy onto a user or role, which
every test checks with ``no_inline`` where it looks at a principal. moto does not evaluate IAM
policies, so that the functions' role could not attach anything else is shown by the built-in
permissions-management check and its unit tests, not here.

Interop. The accounting and reset functions are built exactly as deployed
(tests/python/quota_build.py: CONFIG line + quota_core.py + handler) with boto3 pointed at the
same server, so that the CLI reads the counters the accounting function wrote and the reset
function lifts a block the CLI made (and the CLI lifts one the function made).
"""
import base64
import gzip
import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "python"))
import quota_build  # noqa: E402

REGION = "eu-central-1"
STACK = "bedrock-quotas-eu-central-1"
CONFIG = str(REPO / "examples" / "quotas.yaml")
SLOT = "bedrock-watch-quota-block-"
TAG = [{"Key": "bedrock-watch-quota", "Value": "managed"}]
UTC = timezone.utc


@pytest.fixture
def stack(reset, bw, aws):
    res = bw("synth", "--config", CONFIG, "--stdout", "--format", "json")
    assert res.returncode == 0, res.stderr
    template = json.loads(res.stdout)
    resources = {k: template["Resources"][k] for k in ("EncryptionKey", "QuotaUsageTable", "QuotaAuditTable", "AlertTopic",
                                                       "QuotaBlockPolicy", "QuotaSessionBlockPolicy")}
    cf = aws("cloudformation", REGION)
    cf.create_stack(StackName=STACK, TemplateBody=json.dumps({"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources}))
    assert cf.describe_stacks(StackName=STACK)["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    tables = {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in cf.describe_stack_resources(StackName=STACK)["StackResources"]}
    names = aws("dynamodb", REGION).list_tables()["TableNames"]
    assert tables["QuotaUsageTable"] in names and tables["QuotaAuditTable"] in names
    desc = aws("dynamodb", REGION).describe_table(TableName=tables["QuotaUsageTable"])["Table"]
    assert [k["AttributeName"] for k in desc["KeySchema"]] == ["pk", "sk"]
    # what the alert topic receives: an SQS queue subscribed with the raw message and attributes
    topic = tables["AlertTopic"]
    sqs = aws("sqs", REGION)
    queue = sqs.create_queue(QueueName="alerts")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    aws("sns", REGION).subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    iam = aws("iam", REGION)
    for logical in ("QuotaBlockPolicy", "QuotaSessionBlockPolicy"):
        doc = iam.get_policy_version(PolicyArn=tables[logical], VersionId="v1")["PolicyVersion"]["Document"]
        assert doc == template["Resources"][logical]["Properties"]["PolicyDocument"]
    iam.create_user(UserName="alice", Tags=TAG)
    iam.create_user(UserName="bob", Tags=TAG)
    iam.create_user(UserName="mallory")  # not tagged: out of scope
    return {"usage": tables["QuotaUsageTable"], "audit": tables["QuotaAuditTable"], "queue": queue,
            "block_policy": tables["QuotaBlockPolicy"], "session_policy": tables["QuotaSessionBlockPolicy"]}


def attached(iam, user=None, role=None):
    """The managed policies attached to a user or role; fails if an inline policy was written."""
    if user:
        assert iam.list_user_policies(UserName=user)["PolicyNames"] == [], "no inline policy is written"
        return [p["PolicyArn"] for p in iam.list_attached_user_policies(UserName=user)["AttachedPolicies"]]
    assert iam.list_role_policies(RoleName=role)["PolicyNames"] == [], "no inline policy is written"
    return [p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]]


def slots(iam, role):
    return {t["Key"]: t["Value"] for t in iam.list_role_tags(RoleName=role)["Tags"] if t["Key"].startswith(SLOT)}


def notifications(aws, queue):
    """The SNS notifications the alert topic delivered so far, as (subject, message, event)."""
    out = []
    while True:
        got = aws("sqs", REGION).receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            return out
        for m in got:
            body = json.loads(m["Body"])
            out.append((body["Subject"], body["Message"], body["MessageAttributes"]["event"]["Value"]))
            aws("sqs", REGION).delete_message(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"])


def quota(bw, *args):
    return bw("quota", *args, "--config", CONFIG, "--region", REGION)


def items(aws, table):
    return aws("dynamodb", REGION).scan(TableName=table)["Items"]


def audit_items(aws, table):
    return sorted(items(aws, table), key=lambda i: i["sk"]["S"])


def module(handler, tables, monkeypatch, endpoint, at=None):
    """A quota function as deployed, on the emulator, with examples/quotas.yaml's limits."""
    for k, v in {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                 "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION}.items():
        monkeypatch.setenv(k, v)
    cfg = {"usage_table": tables["usage"], "audit_table": tables["audit"],
           "topic_arn": f"arn:aws:sns:{REGION}:123456789012:bw-alerts", "mode": "block", "unit": "tokens",
           "daily_limit": 2000000, "monthly_limit": 30000000, "warning_percent": 80, "overrides": {},
           "teams": {"support": {"members": ["support-bot-prod/support-bot", "jane.doe@example.com"], "monthly_limit": 100000000}},
           "protected": ["ops-admin@example.com", "break-glass"], "emails": {}, "time_zone": "Europe/Berlin",
           "sessions_are_people": True, "prices": {}, "discount_percent": 0, "identity_center": None,
           "block_policy_arn": tables["block_policy"], "session_block_policy_arn": tables["session_policy"],
           "session_tag_keys": [f"{SLOT}{i}" for i in range(10)], "stack_name": STACK}
    mod = quota_build.build(handler, cfg)
    mod.sleep = lambda s: None
    if at is not None:
        mod.now = lambda: at
    return mod


def subscription_event(records):
    payload = {"messageType": "DATA_MESSAGE", "logGroup": "g", "logStream": "s", "logEvents": [
        {"id": str(i), "timestamp": 0, "message": json.dumps(r)} for i, r in enumerate(records)]}
    return {"awslogs": {"data": base64.b64encode(gzip.compress(json.dumps(payload).encode())).decode()}}


def record(request_id, arn, inp, out, ts):
    return {"schemaType": "ModelInvocationLog", "timestamp": ts, "requestId": request_id,
            "modelId": "anthropic.claude-3-5-haiku-20241022-v1:0", "identity": {"arn": arn},
            "input": {"inputTokenCount": inp}, "output": {"outputTokenCount": out}}


def test_block_status_unblock_cycle(stack, bw, aws):
    iam = aws("iam", REGION)
    r = quota(bw, "block", "alice", "--until", "2h", "--reason", "runaway notebook")
    assert r.returncode == 0, r.stderr
    assert "blocked alice until" in r.stdout and "user-policy" in r.stdout
    assert attached(iam, user="alice") == [stack["block_policy"]]
    doc = iam.get_policy_version(PolicyArn=stack["block_policy"], VersionId="v1")["PolicyVersion"]["Document"]
    assert doc["Statement"] == [{"Sid": "BedrockWatchQuotaBlock", "Effect": "Deny", "Resource": "*", "Action": [
        "bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream", "bedrock:CallWithBearerToken",
        "bedrock-mantle:CreateInference", "bedrock-mantle:CallWithBearerToken"]}]
    block = aws("dynamodb", REGION).get_item(TableName=stack["usage"], Key={"pk": {"S": "PRINCIPAL#alice"}, "sk": {"S": "BLOCK"}})["Item"]
    assert block["mechanism"]["S"] == "user-policy"
    assert block["target"]["M"] == {"user_name": {"S": "alice"}}
    assert block["reason"]["S"] == "runaway notebook"
    operator = aws("sts", REGION).get_caller_identity()["Arn"]
    assert block["blocked_by"]["S"] == operator
    trail = audit_items(aws, stack["audit"])
    assert [(a["action"]["S"], a["principal"]["S"], a["actor"]["S"], a["result"]["S"]) for a in trail] == [("block", "alice", operator, "ok")]
    assert trail[0]["pk"]["S"].startswith("AUDIT#")
    # notified as the functions notify: subject prefixed with the stack, event attribute
    [(subject, message, event)] = notifications(aws, stack["queue"])
    assert event == "block" and subject.startswith(f"[{STACK}] alice blocked until "), subject
    assert "Reason: runaway notebook" in message and f"Blocked by: {operator}" in message

    r = quota(bw, "status")
    assert r.returncode == 0, r.stderr
    assert "alice" in r.stdout and "blocked until" in r.stdout and "runaway notebook" in r.stdout
    assert "2,000,000" in r.stdout  # the daily limit of examples/quotas.yaml

    before = {(i["pk"]["S"], i["sk"]["S"]) for i in items(aws, stack["usage"])}
    r = quota(bw, "unblock", "alice")
    assert r.returncode == 0, r.stderr
    assert attached(iam, user="alice") == []
    after = {(i["pk"]["S"], i["sk"]["S"]) for i in items(aws, stack["usage"])}
    assert before - after == {("PRINCIPAL#alice", "BLOCK")} and after - before == set()
    assert [a["action"]["S"] for a in audit_items(aws, stack["audit"])] == ["block", "unblock"]
    [(subject, message, event)] = notifications(aws, stack["queue"])
    assert (event, subject) == ("unblock", f"[{STACK}] alice unblocked")
    assert "The block was: runaway notebook" in message

    r = quota(bw, "unblock", "alice")
    assert r.returncode == 1 and "not blocked" in r.stdout
    assert notifications(aws, stack["queue"]) == []  # nothing done, nothing notified


def test_unblock_keeps_other_policies(stack, bw, aws):
    iam = aws("iam", REGION)
    team = iam.create_policy(PolicyName="team-access", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}))["Policy"]["Arn"]
    iam.attach_user_policy(UserName="bob", PolicyArn=team)
    assert quota(bw, "block", "bob", "--until", "1d", "--reason", "r").returncode == 0
    assert sorted(attached(iam, user="bob")) == sorted([stack["block_policy"], team])
    assert quota(bw, "unblock", "bob").returncode == 0
    assert attached(iam, user="bob") == [team]


def test_protect_refuses_later_blocks(stack, bw, aws):
    r = quota(bw, "protect", "alice", "--reason", "on call")
    assert r.returncode == 0, r.stderr
    r = quota(bw, "block", "alice", "--until", "2h", "--reason", "x")
    assert r.returncode == 1
    assert "alice is protected" in r.stderr and "quota unprotect alice" in r.stderr
    assert attached(aws("iam", REGION), user="alice") == []
    r = quota(bw, "block", "break-glass", "--until", "2h", "--reason", "x")
    assert r.returncode == 1 and "quotas.protected" in r.stderr
    assert "protected by" in quota(bw, "status", "--user", "alice").stdout
    assert quota(bw, "unprotect", "alice").returncode == 0
    assert quota(bw, "block", "alice", "--until", "2h", "--reason", "x").returncode == 0
    actions = [a["action"]["S"] for a in audit_items(aws, stack["audit"])]
    assert actions == ["protect", "unprotect", "block"]


def test_refusals_and_errors(stack, bw, aws):
    r = quota(bw, "block", "mallory", "--until", "2h", "--reason", "x")
    assert r.returncode == 1
    assert "out of the quota scope" in r.stderr and "bedrock-watch-quota=managed" in r.stderr
    assert attached(aws("iam", REGION), user="mallory") == []
    r = quota(bw, "block", "nobody", "--until", "2h", "--reason", "x")
    assert r.returncode == 2 and "unknown principal `nobody`" in r.stderr
    r = quota(bw, "block", "alice", "--until", "yesterday-ish", "--reason", "x")
    assert r.returncode == 2 and "is not a time" in r.stderr and "RFC 3339" in r.stderr
    r = quota(bw, "block", "alice", "--until", "2020-01-01T00:00:00Z", "--reason", "x")
    assert r.returncode == 2 and "not in the future" in r.stderr
    r = quota(bw, "status", "--team", "nope")
    assert r.returncode == 2 and "unknown team `nope`" in r.stderr
    assert items(aws, stack["audit"]) == []
    r = bw("quota", "status", "--config", CONFIG, "--region", "us-west-2")
    assert r.returncode == 2 and "does not exist in us-west-2" in r.stderr


def test_quotas_disabled_is_said(reset, bw, tmp_path):
    cfg = tmp_path / "plain.yaml"
    cfg.write_text("project: p\nregions: [eu-central-1]\n")
    r = bw("quota", "status", "--config", str(cfg))
    assert r.returncode == 2 and "quotas.enabled is false" in r.stderr


def test_audit_since_in_order(stack, bw, aws):
    for args in (("protect", "bob"), ("block", "alice", "--until", "3h", "--reason", "first"), ("unblock", "alice"), ("unprotect", "bob")):
        assert quota(bw, *args).returncode == 0
    r = quota(bw, "audit", "--since", "1h")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split()[:4] == ["TIME", "ACTION", "PRINCIPAL", "RESULT"]
    assert [l.split()[1:3] for l in lines[1:]] == [["protect", "bob"], ["block", "alice"], ["unblock", "alice"], ["unprotect", "bob"]]
    assert quota(bw, "audit", "--since", "2099-01-01T00:00:00Z").stdout == "no audit entries\n"
    assert quota(bw, "audit").stdout == r.stdout


def test_status_reads_what_the_accounting_function_counted(stack, bw, aws, monkeypatch, endpoint):
    now = datetime.now(UTC)
    ts = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    acc = module("accounting", stack, monkeypatch, endpoint)
    arn = "arn:aws:iam::123456789012:user/alice"
    summary = acc.handler(subscription_event([record("r1", arn, 1000, 200, ts), record("r2", arn, 300, 0, ts),
                                              record("r1", arn, 1000, 200, ts)]), None)
    assert summary["counted"] == 2
    r = quota(bw, "status", "--user", "alice")
    assert r.returncode == 0, r.stderr
    row = [l for l in r.stdout.splitlines() if l.startswith("alice")][0]
    assert "1,500 / 2,000,000 (0%)" in row and "1,500 / 30,000,000 (0%)" in row and row.endswith("ok")


def test_reset_function_lifts_a_block_the_cli_made(stack, bw, aws, monkeypatch, endpoint):
    iam = aws("iam", REGION)
    r = quota(bw, "block", "alice", "--until", "30m", "--reason", "cool down")
    assert r.returncode == 0, r.stderr
    assert attached(iam, user="alice") == [stack["block_policy"]]
    later = datetime.now(UTC) + timedelta(hours=1)
    summary = module("reset", stack, monkeypatch, endpoint, at=later).handler({}, None)
    assert summary["removed"] == 1 and summary["principals"] == ["alice"], summary
    assert attached(iam, user="alice") == []
    assert "No blocks in force." in quota(bw, "status").stdout
    assert [a["actor"]["S"] for a in audit_items(aws, stack["audit"])][1:] == ["automatic-reset", "automatic-reset"]


def test_cli_lifts_a_block_the_function_made(stack, bw, aws, monkeypatch, endpoint):
    iam = aws("iam", REGION)
    iam.create_role(RoleName="support-bot-prod", AssumeRolePolicyDocument="{}", Tags=TAG + [{"Key": "team", "Value": "support"}])
    core = module("reset", stack, monkeypatch, endpoint)
    arn = "arn:aws:sts::123456789012:assumed-role/support-bot-prod/support-bot"
    until = datetime.now(UTC) + timedelta(hours=5)
    result = core.block_principal("support-bot-prod/support-bot", "automatic", until, "team limit", arn)
    assert result["result"] == "blocked", result
    other = core.block_principal("support-bot-prod/night-shift", "automatic", until, "team limit",
                                 "arn:aws:sts::123456789012:assumed-role/support-bot-prod/night-shift")
    assert other["result"] == "blocked", other
    assert attached(iam, role="support-bot-prod") == [stack["session_policy"]]
    assert slots(iam, "support-bot-prod") == {f"{SLOT}0": "support-bot", f"{SLOT}1": "night-shift"}
    r = quota(bw, "status")
    assert "support-bot-prod/support-bot" in r.stdout and "role-statement" in r.stdout
    r = quota(bw, "unblock", "support-bot-prod/support-bot")
    assert r.returncode == 0, r.stderr
    assert slots(iam, "support-bot-prod") == {f"{SLOT}1": "night-shift"}, "only that session is lifted"
    assert attached(iam, role="support-bot-prod") == [stack["session_policy"]]
    # And the CLI's block of a session takes a free slot as the function does.
    r = quota(bw, "block", "support-bot-prod/support-bot", "--until", "1h", "--reason", "again")
    assert r.returncode == 0, r.stderr
    assert slots(iam, "support-bot-prod") == {f"{SLOT}0": "support-bot", f"{SLOT}1": "night-shift"}
    # The last session lifted detaches the session policy; other tags stay.
    for session in ("support-bot", "night-shift"):
        assert quota(bw, "unblock", f"support-bot-prod/{session}").returncode == 0
    assert attached(iam, role="support-bot-prod") == [] and slots(iam, "support-bot-prod") == {}
    tags = {t["Key"]: t["Value"] for t in iam.list_role_tags(RoleName="support-bot-prod")["Tags"]}
    assert tags == {"bedrock-watch-quota": "managed", "team": "support"}


def test_a_whole_role_gets_the_block_policy(stack, bw, aws, tmp_path):
    """With sessions_are_people false the role is one principal: the CLI attaches the block
    policy itself, and unblocking detaches it."""
    iam = aws("iam", REGION)
    iam.create_role(RoleName="etl-batch", AssumeRolePolicyDocument="{}", Tags=TAG)
    cfg = tmp_path / "roles.yaml"
    cfg.write_text(Path(CONFIG).read_text().replace("sessions_are_people: true", "sessions_are_people: false"))
    assert "sessions_are_people: false" in cfg.read_text()
    run = lambda *a: bw("quota", *a, "--config", str(cfg), "--region", REGION)  # noqa: E731
    r = run("block", "etl-batch", "--until", "1h", "--reason", "whole role")
    assert r.returncode == 0, r.stderr
    assert attached(iam, role="etl-batch") == [stack["block_policy"]] and slots(iam, "etl-batch") == {}
    assert run("unblock", "etl-batch").returncode == 0
    assert attached(iam, role="etl-batch") == []


def test_identity_center_user_without_config_is_refused(stack, bw, aws, monkeypatch, endpoint):
    """An IAM Identity Center user (known from a counted call) cannot be blocked without
    `quotas.identity_center`: a refusal naming why, and nothing changes.

    The permission-set mechanism itself is not run end to end: moto 5.2.5 names permission sets
    `arn:aws:sso:::instance/ssoins-.../ps-...`, which the config validation rejects (AWS uses
    `arn:aws:sso:::permissionSet/...`). Its Sid, statement and merge into an existing inline
    policy are pinned by tests/data/quota-policies.json on both sides instead."""
    acc = module("accounting", stack, monkeypatch, endpoint)
    arn = "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_BedrockDeveloper_0a1b2c3d4e5f6a7b/jane.doe@example.com"
    acc.handler(subscription_event([record("s1", arn, 10, 5, datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))]), None)
    before = items(aws, stack["usage"])
    r = quota(bw, "block", "jane.doe@example.com", "--until", "1h", "--reason", "sso")
    assert r.returncode == 1, r.stderr
    assert "IAM Identity Center user (permission set BedrockDeveloper)" in r.stderr and "identity_center is not configured" in r.stderr
    assert items(aws, stack["usage"]) == before


# --- budgets under concurrency, on the emulator's DynamoDB -------------------------------------

def test_concurrent_batches_and_redeliveries_count_every_call_once(stack, bw, aws, monkeypatch, endpoint):
    """Many Lambda instances (one module each, as separate function instances have) deliver
    overlapping batches at once through moto's threaded server, with redeliveries of whole earlier
    batches and duplicates inside batches. What this backs: the conditional markers and ``ADD``
    counters of a real DynamoDB API (moto's, serialized per operation by .ci/moto_server.py as
    DynamoDB serializes them) leave every counter equal to a model that sums each requestId once,
    and the CLI reads the same figures. What it cannot back: DynamoDB's own throttling and
    TransactionConflict under real contention (tests/python/test_quota_accounting.py injects them)."""
    import random
    import threading
    from collections import defaultdict

    rng = random.Random(20261202)
    now = datetime.now(UTC)
    ts = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    people = [f"arn:aws:iam::123456789012:user/{u}" for u in ("alice", "bob")] + \
        [f"arn:aws:sts::123456789012:assumed-role/support-bot-prod/s{i}" for i in range(3)]
    instances = [module("accounting", stack, monkeypatch, endpoint) for _ in range(6)]
    delivered, batches, fresh = {}, [], iter(range(100_000))

    def new_batch():
        recs = [record(f"c-{next(fresh)}", rng.choice(people), rng.randrange(1, 900), rng.randrange(0, 300), ts)
                for _ in range(rng.randrange(1, 12))]
        return recs + rng.sample(recs, min(len(recs), rng.randrange(0, 3)))

    for _ in range(10):
        wave = [new_batch() if rng.random() < 0.6 or not batches else rng.choice(batches) for _ in range(6)]
        errors = []

        def run(mod, batch):
            try:
                mod.handler(subscription_event(batch), None)
            except Exception as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(instances[i], b)) for i, b in enumerate(wave)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        for b in wave:
            batches.append(b)
            delivered.update({r["requestId"]: r for r in b})

    model = defaultdict(lambda: [0, 0, 0])
    for r in delivered.values():
        who = instances[0].principal_of(r["identity"]["arn"])
        model[who][0] += 1
        model[who][1] += r["input"]["inputTokenCount"]
        model[who][2] += r["output"]["outputTokenCount"]
    day = f"DAY#{instances[0].day_key(now)}"
    counted = {}
    for it in items(aws, stack["usage"]):
        if it["sk"]["S"] == day and it["pk"]["S"].startswith("PRINCIPAL#"):
            counted[it["pk"]["S"].removeprefix("PRINCIPAL#")] = [int(it["calls"]["N"]), int(it["input_tokens"]["N"]),
                                                                int(it["output_tokens"]["N"])]
    assert counted == {k: v for k, v in model.items()}
    markers = [it for it in items(aws, stack["usage"]) if it["pk"]["S"].startswith("REQUEST#")]
    assert len(markers) == len(delivered)
    r = quota(bw, "status", "--format", "json")
    assert r.returncode == 0, r.stderr
    today = {p["name"]: p["today"] for p in json.loads(r.stdout)["principals"]}
    for who, (_calls, inp, out) in model.items():
        assert today[who] == inp + out, who


def test_a_block_records_its_enforcement_delay(stack, bw, aws, monkeypatch, endpoint):
    """The function's part of the enforcement delay, measured on the emulator with the real
    clock: from the call that reached the limit (its log timestamp) to the deny being attached.
    Log delivery (minutes in AWS) and IAM propagation (seconds) come before and after it; the
    README says how the three add up."""
    now = datetime.now(UTC)
    ts = now.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    acc = module("accounting", stack, monkeypatch, endpoint)
    arn = "arn:aws:iam::123456789012:user/bob"
    summary = acc.handler(subscription_event([record("late-1", arn, 1_500_000, 0, ts),
                                              record("late-2", arn, 600_000, 0, ts)]), None)
    assert summary["blocks"] == 1, summary
    [entry] = [a for a in audit_items(aws, stack["audit"]) if a["action"]["S"] == "block"]
    details = json.loads(entry["details"]["S"])
    assert details["over_limit_call_at"] == ts
    delay = details["enforcement_delay_ms"]
    assert isinstance(delay, int) and delay >= 0
    assert stack["block_policy"] in attached(aws("iam", REGION), user="bob")
    print(f"\nfunction part of the enforcement delay on the emulator: {delay} ms")
