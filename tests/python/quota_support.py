"""Helpers for the quota handler tests: moto in-process with the tables the Rust side
synthesizes, CloudWatch Logs subscription events, invocation records, and readers for what the
handlers wrote (counters, block items, audit trail, notifications, IAM policies)."""
import base64
import gzip
import json
import threading
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import DynamoDBBackend
from moto.sns.models import sns_backends

import quota_build

REGION = "us-east-1"
ACCOUNT = DEFAULT_ACCOUNT_ID
DATA = Path(__file__).resolve().parents[1] / "data"
USAGE = "bw-quota-usage"
AUDIT = "bw-quota-audit"
UTC = timezone.utc
# The stack's two block policies (src/quotas/mod.rs `block_policies`), created by ``qaws`` with the
# documents the Rust side synthesizes (pinned by tests/data/quota-policies.json).
POLICIES = json.loads((DATA / "quota-policies.json").read_text())
BLOCK_POLICY = f"arn:aws:iam::{ACCOUNT}:policy/bw-test-QuotaBlockPolicy"
SESSION_POLICY = f"arn:aws:iam::{ACCOUNT}:policy/bw-test-QuotaSessionBlockPolicy"
SESSION_TAG_KEYS = POLICIES["session_tag_keys"]

# The built-in prices (src/bedrock/pricing.rs) of the models in the fixture, as the Rust side
# passes them: USD per 1,000 tokens, cache prices resolved.
PRICES = {
    "anthropic.claude-3-5-haiku-20241022-v1:0": {"input": 0.0008, "output": 0.004, "cache_read": 0.00008, "cache_write": 0.001},
    "anthropic.claude-sonnet-4-20250514-v1:0": {"input": 0.003, "output": 0.015, "cache_read": 0.0003, "cache_write": 0.00375},
    "amazon.nova-pro-v1:0": {"input": 0.0008, "output": 0.0032, "cache_read": 0.0002, "cache_write": 0.0},
    "amazon.nova-lite-v1:0": {"input": 0.00006, "output": 0.00024, "cache_read": 0.000015, "cache_write": 0.0},
    "meta.llama3-1-8b-instruct-v1:0": {"input": 0.00022, "output": 0.00022, "cache_read": 0.00022, "cache_write": 0.00022},
    "mistral.mistral-7b-instruct-v0:2": {"input": 0.00015, "output": 0.0002},
}

SSO_ROLE = "AWSReservedSSO_BedrockDeveloper_0a1b2c3d4e5f6a7b"


def sso_arn(user, permission_set_role=SSO_ROLE):
    return f"arn:aws:sts::{ACCOUNT}:assumed-role/{permission_set_role}/{user}"


def role_arn(role, session):
    return f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session}"


def user_arn(name, path="/"):
    return f"arn:aws:iam::{ACCOUNT}:user{path}{name}"


def config(**overrides):
    base = {
        "usage_table": USAGE, "audit_table": AUDIT,
        "topic_arn": f"arn:aws:sns:{REGION}:{ACCOUNT}:bw-alerts",
        "mode": "alert", "unit": "tokens", "daily_limit": None, "monthly_limit": None,
        "warning_percent": 80.0, "overrides": {}, "teams": {}, "protected": [], "emails": {},
        "time_zone": "Europe/Berlin", "sessions_are_people": False, "prices": PRICES,
        "discount_percent": 0, "identity_center": None, "block_policy_arn": BLOCK_POLICY,
        "session_block_policy_arn": SESSION_POLICY, "session_tag_keys": SESSION_TAG_KEYS,
        "stack_name": "bw-test",
    }
    base.update(overrides)
    return base


# Clients of the running moto fixture, handed to the handler modules so that each test does
# not pay for creating them again (client creation dominates the suite's run time otherwise).
_SHARED_CLIENTS = {}


def build(handler, cfg, at):
    """The handler module with a fixed clock, no real sleeping and the fixture's clients."""
    mod = quota_build.build(handler, cfg)
    mod.now = lambda: at
    mod.sleep = lambda seconds: None
    mod._CLIENTS.update(_SHARED_CLIENTS)
    return mod


def utc(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def fixture_records():
    return [json.loads(line) for line in (DATA / "invocation-logs.jsonl").read_text().splitlines() if line.strip()]


def record(request_id, arn, ts, model="amazon.nova-lite-v1:0", inp=0, out=0, cache_read=None, cache_write=None):
    r = {"schemaType": "ModelInvocationLog", "schemaVersion": "1.0", "accountId": ACCOUNT,
         "region": REGION, "requestId": request_id, "timestamp": ts, "operation": "Converse",
         "modelId": model, "identity": {"arn": arn},
         "input": {"inputContentType": "application/json", "inputTokenCount": inp},
         "output": {"outputContentType": "application/json", "outputTokenCount": out}}
    if cache_read is not None:
        r["input"]["cacheReadInputTokenCount"] = cache_read
    if cache_write is not None:
        r["input"]["cacheWriteInputTokenCount"] = cache_write
    return r


def subscription_event(messages, message_type="DATA_MESSAGE", ingested="2026-11-20T10:00:00Z"):
    """What CloudWatch Logs delivers to a subscribed function: base64 of gzip of JSON.
    ``messages`` are records (dicts, serialized) or raw strings; each log event's own
    timestamp is ``ingested`` (epoch milliseconds)."""
    base = int(utc(ingested).timestamp() * 1000)
    events = []
    for i, m in enumerate(messages):
        text = m if isinstance(m, str) else json.dumps(m)
        events.append({"id": f"3{i:055d}", "timestamp": base + i, "message": text})
    payload = {"messageType": message_type, "owner": ACCOUNT, "logGroup": "/aws/bedrock/bw-invocations",
               "logStream": "aws/bedrock/modelinvocations", "subscriptionFilters": ["bw-quota"],
               "logEvents": events if message_type == "DATA_MESSAGE" else []}
    if message_type == "CONTROL_MESSAGE":
        payload["logGroup"] = ""
        payload["logStream"] = ""
        payload["logEvents"] = [{"id": "", "timestamp": base,
                                 "message": "CWL CONTROL MESSAGE: Checking health of destination Lambda."}]
    data = base64.b64encode(gzip.compress(json.dumps(payload).encode())).decode()
    return {"awslogs": {"data": data}}


# --- moto ---------------------------------------------------------------------------------

_BACKEND_LOCK = threading.RLock()
_LOCKED_METHODS = ("transact_write_items", "put_item", "update_item", "get_item", "delete_item", "query", "scan")


@pytest.fixture
def serialized_dynamodb(monkeypatch):
    """Real DynamoDB makes every item write atomic and transactions serializable; moto's
    in-process backend does neither (a cancelled transaction restores a snapshot of the whole
    table, undoing other threads' writes). One lock around the backend's operations gives the
    threads of a test the guarantees the handler relies on."""
    for name in _LOCKED_METHODS:
        original = getattr(DynamoDBBackend, name)

        def locked(self, *args, __original=original, **kwargs):
            with _BACKEND_LOCK:
                return __original(self, *args, **kwargs)

        monkeypatch.setattr(DynamoDBBackend, name, locked)


_SESSIONS = []


def _session():
    """One boto3 session for every test: mock_aws replaces boto3's default session each time it
    starts, and loading the service models again for each test's clients is slow. moto
    intercepts requests of any session (its hook is one of botocore's built-in handlers)."""
    if not _SESSIONS:
        _SESSIONS.append(boto3.session.Session(region_name=REGION))
    return _SESSIONS[0]


@pytest.fixture
def qaws(serialized_dynamodb):
    """moto with the usage table (pk/sk, TTL ``ttl``), the audit table and the alert topic."""
    with mock_aws():
        session = _session()
        resource = session.resource("dynamodb", region_name=REGION)
        ddb = resource.meta.client
        for table in (USAGE, AUDIT):
            ddb.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                             AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                                   {"AttributeName": "sk", "AttributeType": "S"}],
                             KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                        {"AttributeName": "sk", "KeyType": "RANGE"}])
        ddb.update_time_to_live(TableName=USAGE, TimeToLiveSpecification={"Enabled": True, "AttributeName": "ttl"})
        sns = session.client("sns", region_name=REGION)
        topic = sns.create_topic(Name="bw-alerts")["TopicArn"]
        iam = session.client("iam", region_name=REGION)
        for arn, doc in ((BLOCK_POLICY, POLICIES["user_policy"]), (SESSION_POLICY, POLICIES["session_block_policy"])):
            iam.create_policy(PolicyName=arn.rsplit("/", 1)[1], PolicyDocument=json.dumps(doc))
        sso = session.client("sso-admin", region_name=REGION)
        _SHARED_CLIENTS.update({("dynamodb", None): ddb, ("sns", None): sns, ("iam", None): iam,
                                ("sso-admin", None): sso})
        try:
            yield {"iam": iam, "sns": sns, "topic": topic, "sso": sso,
                   "table": resource.Table(USAGE), "audit": resource.Table(AUDIT)}
        finally:
            _SHARED_CLIENTS.clear()


def item(aws, pk, sk):
    return aws["table"].get_item(Key={"pk": pk, "sk": sk}, ConsistentRead=True).get("Item")


def counters(aws, pk, sk):
    it = item(aws, pk, sk) or {}
    return {k: it.get(k, Decimal(0)) for k in ("calls", "input_tokens", "output_tokens", "cache_read_tokens",
                                                "cache_write_tokens", "cost_usd", "unpriced_calls")}


def all_items(table):
    out, kwargs = [], {}
    while True:
        page = table.scan(**kwargs)
        out.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            return out
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def audits(aws, action=None):
    items = sorted(all_items(aws["audit"]), key=lambda i: i["sk"])
    return [i for i in items if action is None or i["action"] == action]


def notifications(aws, event=None):
    """(subject, message, attributes) of everything published to the alert topic."""
    topic = sns_backends[ACCOUNT][REGION].topics[aws["topic"]]
    out = []
    for _id, message, subject, attrs, _group in topic.sent_notifications:
        attrs = {k: v.get("Value", v.get("StringValue")) for k, v in (attrs or {}).items()}
        if event is None or attrs.get("event") == event:
            out.append((subject, message, attrs))
    return out


def _document(aws, arn):
    version = aws["iam"].get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    doc = aws["iam"].get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
    return json.loads(doc) if isinstance(doc, str) else doc


def user_policy(aws, user):
    """The document of the block policy if it is attached to an IAM user, else None; fails on
    any other policy (the functions must never attach or write anything else)."""
    attached = [p["PolicyArn"] for p in aws["iam"].list_attached_user_policies(UserName=user)["AttachedPolicies"]]
    assert aws["iam"].list_user_policies(UserName=user)["PolicyNames"] == [], "no inline policy is written"
    assert set(attached) <= {BLOCK_POLICY}, attached
    return _document(aws, BLOCK_POLICY) if attached else None


def role_block(aws, role):
    """How a role is blocked: {"policies": attached block policies ("block", "session"),
    "sessions": names in its slot tags}; None when neither. Fails on anything else attached."""
    attached = [p["PolicyArn"] for p in aws["iam"].list_attached_role_policies(RoleName=role)["AttachedPolicies"]]
    assert aws["iam"].list_role_policies(RoleName=role)["PolicyNames"] == [], "no inline policy is written"
    names = {BLOCK_POLICY: "block", SESSION_POLICY: "session"}
    assert set(attached) <= set(names), attached
    tags = {t["Key"]: t["Value"] for t in aws["iam"].list_role_tags(RoleName=role)["Tags"]}
    sessions = sorted(v for k, v in tags.items() if k in SESSION_TAG_KEYS)
    if not attached and not sessions:
        return None
    return {"policies": sorted(names[a] for a in attached), "sessions": sessions}


def create_role(aws, name):
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                                     "Action": "sts:AssumeRole"}]}
    return aws["iam"].create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]


# A block also denies API-key (bearer token) calls on both endpoints and bedrock-mantle inference.
DENIED = {"bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream", "bedrock:CallWithBearerToken",
          "bedrock-mantle:CreateInference", "bedrock-mantle:CallWithBearerToken"}
