"""Fixtures for testing the Bedrock logging-config custom-resource handler
in-process against moto, with no network access and no real sleeping."""
import importlib.util
import json
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

REPO_ROOT = Path(__file__).resolve().parents[2]
HANDLER_PATH = REPO_ROOT / "src" / "bedrock" / "logging_config_handler.py"
REGION = "us-east-1"
OURS = f"bedrock-invocation-logging-{REGION}"
LOG_BUCKET = "bw-invocation-logs"
STATE_BUCKET = "bw-state"
STATE_KEY = "bedrock/logging-config.json"
RESPONSE_URL = "https://cloudformation-custom-resource-response.example/presigned?sig=x"


@pytest.fixture(autouse=True)
def aws_env(monkeypatch):
    """Dummy credentials and a fixed region so nothing can reach real AWS."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing", "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture
def mod():
    """The handler loaded from its source path, fresh for each test."""
    spec = importlib.util.spec_from_file_location("logging_config_handler", HANDLER_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def aws():
    """moto backend with the log bucket and state bucket in place."""
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=LOG_BUCKET)
        s3.create_bucket(Bucket=STATE_BUCKET)
        yield {"bedrock": boto3.client("bedrock", region_name=REGION), "s3": s3}


class FakeContext:
    """Lambda context whose clock only moves when the handler 'sleeps'."""

    log_stream_name = "2024/01/01/[$LATEST]abc"

    def __init__(self, remaining_ms=300_000):
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self):
        return self.remaining_ms


@pytest.fixture
def context():
    return FakeContext()


@pytest.fixture
def sleeps(mod, context):
    """Replace the handler's sleep: record delays and advance the fake clock."""
    recorded = []

    def fake_sleep(seconds):
        recorded.append(seconds)
        assert len(recorded) < 100, "retry loop does not terminate"
        context.remaining_ms -= int(seconds * 1000)

    mod.sleep = fake_sleep
    return recorded


class FakeHTTPResponse:
    status = 200

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.fixture
def responses(monkeypatch):
    """Capture every PUT to the CloudFormation ResponseURL (real send_response runs)."""
    sent = []

    def fake_urlopen(request, timeout=None):
        sent.append({"url": request.full_url, "method": request.get_method(),
                     "headers": dict(request.header_items()), "raw": request.data,
                     "body": json.loads(request.data)})
        return FakeHTTPResponse()

    monkeypatch.setattr("urllib.request.urlopen", fake_urlopen)
    return sent


@pytest.fixture
def invoke(mod, context, responses, sleeps):
    """Run the handler for one request and return the single response body."""

    def run(request_type, props, old_props=None, physical_id=None, ctx=None):
        event = {
            "RequestType": request_type, "ResponseURL": RESPONSE_URL,
            "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/bw/guid",
            "RequestId": f"req-{len(responses)}", "LogicalResourceId": "InvocationLogging",
            "ResourceType": "Custom::BedrockInvocationLogging",
            "ResourceProperties": {"ServiceToken": "arn:aws:lambda:fn", **props},
        }
        if old_props is not None:
            event["OldResourceProperties"] = {"ServiceToken": "arn:aws:lambda:fn", **old_props}
        if request_type != "Create":
            event["PhysicalResourceId"] = physical_id or OURS
        before = len(responses)
        mod.handler(event, ctx or context)
        assert len(responses) == before + 1, "handler must answer CloudFormation exactly once"
        return responses[-1]["body"]

    return run
