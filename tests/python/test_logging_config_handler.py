"""Behaviour of the Bedrock model-invocation-logging custom resource handler."""
import json

import pytest
from botocore.exceptions import ClientError

from conftest import LOG_BUCKET, OURS, REGION, RESPONSE_URL, STATE_BUCKET, STATE_KEY, FakeContext

ROLE = "arn:aws:iam::123456789012:role/bw-bedrock-logging"
FOREIGN = {
    "cloudWatchConfig": {"logGroupName": "someone-elses-group",
                         "roleArn": "arn:aws:iam::123456789012:role/other"},
    "s3Config": {"bucketName": "someone-elses-bucket", "keyPrefix": "theirs/"},
    "textDataDeliveryEnabled": True,
}
PERMISSION_ERROR = ("Failed to validate permissions for log group: /aws/bedrock/bw, "
                    f"with role: {ROLE}. Verify the IAM role permissions are correct.")


def props(**overrides):
    base = {
        "LogGroupName": "/aws/bedrock/bw", "RoleArn": ROLE, "BucketName": LOG_BUCKET,
        "S3KeyPrefix": "invocations/", "LargeDataKeyPrefix": "large/",
        "TextDataDeliveryEnabled": "true", "ImageDataDeliveryEnabled": "false",
        "StateBucket": STATE_BUCKET, "StateKey": STATE_KEY,
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def current(aws):
    return aws["bedrock"].get_model_invocation_logging_configuration().get("loggingConfig") or {}


def state_keys(aws):
    listing = aws["s3"].list_objects_v2(Bucket=STATE_BUCKET)
    return [o["Key"] for o in listing.get("Contents", [])]


def client_error(code, message, op="PutModelInvocationLoggingConfiguration"):
    return ClientError({"Error": {"Code": code, "Message": message}}, op)


class FlakyBedrock:
    """Wraps the moto client; the first `failures` Put calls raise `error`."""

    def __init__(self, real, failures, error):
        self.real, self.failures, self.error, self.put_calls = real, failures, error, 0

    def put_model_invocation_logging_configuration(self, **kwargs):
        self.put_calls += 1
        if self.put_calls <= self.failures:
            raise self.error
        return self.real.put_model_invocation_logging_configuration(**kwargs)

    def __getattr__(self, name):
        return getattr(self.real, name)


def use_bedrock(mod, fake):
    real_clients = mod.clients
    mod.clients = lambda region: (fake, real_clients(region)[1])


# --- create / update / delete -------------------------------------------------------

def test_create_with_nothing_existing_puts_exactly_the_set_fields(aws, invoke, responses):
    assert current(aws) == {}
    body = invoke("Create", props())
    assert body["Status"] == "SUCCESS", body["Reason"]
    assert body["PhysicalResourceId"] == OURS
    assert body["Data"] == {"Region": REGION}
    # moto stores exactly what was Put, so absent keys prove they were not sent.
    assert current(aws) == {
        "cloudWatchConfig": {
            "logGroupName": "/aws/bedrock/bw", "roleArn": ROLE,
            "largeDataDeliveryS3Config": {"bucketName": LOG_BUCKET, "keyPrefix": "large/"},
        },
        "s3Config": {"bucketName": LOG_BUCKET, "keyPrefix": "invocations/"},
        "textDataDeliveryEnabled": True,
        "imageDataDeliveryEnabled": False,
    }
    sent = responses[-1]
    assert sent["url"] == RESPONSE_URL and sent["method"] == "PUT"
    assert sent["headers"].get("Content-type") == ""
    assert set(sent["body"]) == {"Status", "Reason", "PhysicalResourceId", "StackId",
                                 "RequestId", "LogicalResourceId", "Data"}
    assert sent["body"]["RequestId"] == "req-0"
    assert sent["body"]["LogicalResourceId"] == "InvocationLogging"


def test_create_without_bucket_or_flags_sends_only_cloudwatch(aws, invoke):
    body = invoke("Create", props(BucketName=None, S3KeyPrefix=None, LargeDataKeyPrefix=None,
                                  TextDataDeliveryEnabled=None, ImageDataDeliveryEnabled=None))
    assert body["Status"] == "SUCCESS", body["Reason"]
    assert current(aws) == {"cloudWatchConfig": {"logGroupName": "/aws/bedrock/bw",
                                                 "roleArn": ROLE}}


def test_boolean_strings_are_parsed(mod):
    config = mod.desired_config(props(TextDataDeliveryEnabled="false",
                                      ImageDataDeliveryEnabled="TRUE",
                                      VideoDataDeliveryEnabled="False",
                                      AudioDataDeliveryEnabled=" true "))
    assert config["textDataDeliveryEnabled"] is False
    assert config["imageDataDeliveryEnabled"] is True
    assert config["videoDataDeliveryEnabled"] is False
    assert config["audioDataDeliveryEnabled"] is True
    assert "embeddingDataDeliveryEnabled" not in config


def test_invalid_boolean_fails(aws, invoke):
    body = invoke("Create", props(TextDataDeliveryEnabled="yes"))
    assert body["Status"] == "FAILED"
    assert "TextDataDeliveryEnabled" in body["Reason"] and "'yes'" in body["Reason"]
    assert current(aws) == {}


def test_update_changes_data_types(aws, invoke):
    old = props()
    assert invoke("Create", old)["Status"] == "SUCCESS"
    new = props(TextDataDeliveryEnabled="false", ImageDataDeliveryEnabled="true",
                VideoDataDeliveryEnabled="true", EmbeddingDataDeliveryEnabled="false")
    body = invoke("Update", new, old_props=old)
    assert body["Status"] == "SUCCESS", body["Reason"]
    assert body["PhysicalResourceId"] == OURS
    config = current(aws)
    assert config["textDataDeliveryEnabled"] is False
    assert config["imageDataDeliveryEnabled"] is True
    assert config["videoDataDeliveryEnabled"] is True
    assert config["embeddingDataDeliveryEnabled"] is False
    assert "audioDataDeliveryEnabled" not in config


def test_update_to_new_log_group_is_not_treated_as_foreign(aws, invoke):
    old = props()
    invoke("Create", old)
    body = invoke("Update", props(LogGroupName="/aws/bedrock/bw-renamed"), old_props=old)
    assert body["Status"] == "SUCCESS", body["Reason"]
    assert current(aws)["cloudWatchConfig"]["logGroupName"] == "/aws/bedrock/bw-renamed"
    assert state_keys(aws) == []


def test_update_fails_when_someone_else_took_over(aws, invoke):
    old = props()
    invoke("Create", old)
    aws["bedrock"].put_model_invocation_logging_configuration(loggingConfig=FOREIGN)
    body = invoke("Update", props(ImageDataDeliveryEnabled="true"), old_props=old)
    assert body["Status"] == "FAILED"
    assert body["PhysicalResourceId"] == OURS
    assert "adopt_existing: true" in body["Reason"]
    assert current(aws) == FOREIGN


def test_update_moves_saved_state_when_state_key_changes(aws, invoke):
    aws["bedrock"].put_model_invocation_logging_configuration(loggingConfig=FOREIGN)
    old = props(AdoptExisting="true")
    invoke("Create", old)
    new = props(AdoptExisting="true", StateKey="moved/state.json")
    assert invoke("Update", new, old_props=old)["Status"] == "SUCCESS"
    assert state_keys(aws) == ["moved/state.json"]
    assert invoke("Delete", new)["Status"] == "SUCCESS"
    assert current(aws) == FOREIGN


def test_delete_removes_config(aws, invoke):
    invoke("Create", props())
    body = invoke("Delete", props())
    assert body["Status"] == "SUCCESS", body["Reason"]
    assert body["PhysicalResourceId"] == OURS
    assert current(aws) == {}
    assert "Deleted" in body["Reason"]


def test_delete_without_state_properties_removes_config(aws, invoke):
    p = props(StateBucket=None, StateKey=None)
    invoke("Create", p)
    assert invoke("Delete", p)["Status"] == "SUCCESS"
    assert current(aws) == {}


def test_delete_when_nothing_configured_succeeds(aws, invoke):
    body = invoke("Delete", props())
    assert body["Status"] == "SUCCESS", body["Reason"]
    assert current(aws) == {}


# --- the per-region singleton ---------------------------------------------------------

def test_create_with_foreign_config_fails_with_adopt_hint(aws, invoke):
    aws["bedrock"].put_model_invocation_logging_configuration(loggingConfig=FOREIGN)
    body = invoke("Create", props())
    assert body["Status"] == "FAILED"
    assert "already configured in us-east-1" in body["Reason"]
    assert "log group someone-elses-group, bucket someone-elses-bucket" in body["Reason"]
    assert "`logging.adopt_existing: true`" in body["Reason"]
    assert body["PhysicalResourceId"] != OURS
    assert current(aws) == FOREIGN
    assert state_keys(aws) == []
    # CloudFormation's rollback deletes the failed resource by the id we returned.
    rollback = invoke("Delete", props(), physical_id=body["PhysicalResourceId"])
    assert rollback["Status"] == "SUCCESS"
    assert current(aws) == FOREIGN


def test_adopt_saves_foreign_config_and_delete_restores_it(aws, invoke):
    aws["bedrock"].put_model_invocation_logging_configuration(loggingConfig=FOREIGN)
    p = props(AdoptExisting="true")
    body = invoke("Create", p)
    assert body["Status"] == "SUCCESS", body["Reason"]
    assert current(aws)["cloudWatchConfig"]["logGroupName"] == "/aws/bedrock/bw"
    saved = json.loads(aws["s3"].get_object(Bucket=STATE_BUCKET, Key=STATE_KEY)["Body"].read())
    assert saved == {"loggingConfig": FOREIGN}

    body = invoke("Delete", p)
    assert body["Status"] == "SUCCESS", body["Reason"]
    assert "Restored" in body["Reason"]
    assert current(aws) == FOREIGN
    assert state_keys(aws) == []


def test_adopt_without_state_location_fails(aws, invoke):
    aws["bedrock"].put_model_invocation_logging_configuration(loggingConfig=FOREIGN)
    body = invoke("Create", props(AdoptExisting="true", StateBucket=None, StateKey=None))
    assert body["Status"] == "FAILED"
    assert "StateBucket" in body["Reason"]
    assert current(aws) == FOREIGN


def test_create_over_our_own_config_keeps_saved_state(aws, invoke):
    aws["bedrock"].put_model_invocation_logging_configuration(loggingConfig=FOREIGN)
    p = props(AdoptExisting="true")
    invoke("Create", p)
    # A repeated create (AdoptExisting no longer needed) sees its own config.
    body = invoke("Create", props())
    assert body["Status"] == "SUCCESS", body["Reason"]
    assert state_keys(aws) == [STATE_KEY]


def test_create_on_empty_region_discards_stale_state(aws, invoke):
    aws["s3"].put_object(Bucket=STATE_BUCKET, Key=STATE_KEY,
                         Body=json.dumps({"loggingConfig": FOREIGN}))
    assert invoke("Create", props())["Status"] == "SUCCESS"
    assert state_keys(aws) == []
    invoke("Delete", props())
    assert current(aws) == {}


def test_delete_leaves_config_changed_by_someone_else(aws, invoke):
    invoke("Create", props())
    aws["bedrock"].put_model_invocation_logging_configuration(loggingConfig=FOREIGN)
    body = invoke("Delete", props())
    assert body["Status"] == "SUCCESS"
    assert "untouched" in body["Reason"]
    assert current(aws) == FOREIGN


def test_delete_with_other_physical_id_touches_nothing(aws, invoke, mod):
    invoke("Create", props())
    before = current(aws)
    body = invoke("Delete", props(), physical_id="failed-create-req-9")
    assert body["Status"] == "SUCCESS"
    assert body["PhysicalResourceId"] == "failed-create-req-9"
    assert current(aws) == before


# --- IAM propagation retry ---------------------------------------------------------------

def test_put_retries_while_iam_propagates(aws, invoke, mod, sleeps):
    flaky = FlakyBedrock(aws["bedrock"], 3, client_error("ValidationException", PERMISSION_ERROR))
    use_bedrock(mod, flaky)
    body = invoke("Create", props())
    assert body["Status"] == "SUCCESS", body["Reason"]
    assert flaky.put_calls == 4
    assert sleeps == [2, 4, 8]
    assert current(aws)["cloudWatchConfig"]["roleArn"] == ROLE


def test_throttling_is_retried(aws, invoke, mod, sleeps):
    flaky = FlakyBedrock(aws["bedrock"], 1, client_error("ThrottlingException", "Rate exceeded"))
    use_bedrock(mod, flaky)
    assert invoke("Create", props())["Status"] == "SUCCESS"
    assert sleeps == [2]


def test_retry_gives_up_before_lambda_timeout(aws, invoke, mod, context, sleeps):
    context.remaining_ms = 120_000  # the `sleeps` fixture advances this fake clock
    flaky = FlakyBedrock(aws["bedrock"], 10**6,
                         client_error("ValidationException", PERMISSION_ERROR))
    use_bedrock(mod, flaky)
    body = invoke("Create", props())
    assert body["Status"] == "FAILED"
    assert "Failed to validate permissions" in body["Reason"]
    assert 1 < flaky.put_calls < 20
    assert sleeps == [2, 4, 8, 16, 30, 30]
    assert context.remaining_ms >= mod.MARGIN_MS  # time was left to answer CloudFormation
    assert current(aws) == {}


def test_other_validation_errors_are_not_retried(aws, invoke, mod, sleeps):
    flaky = FlakyBedrock(aws["bedrock"], 10**6,
                         client_error("ValidationException", "bucket does not exist"))
    use_bedrock(mod, flaky)
    body = invoke("Create", props())
    assert body["Status"] == "FAILED"
    assert "bucket does not exist" in body["Reason"]
    assert flaky.put_calls == 1 and sleeps == []


def test_failed_create_after_put_attempt_keeps_our_id_for_cleanup(aws, invoke, mod):
    flaky = FlakyBedrock(aws["bedrock"], 1, client_error("AccessDeniedException", "nope"))
    use_bedrock(mod, flaky)
    body = invoke("Create", props())
    assert body["Status"] == "FAILED"
    assert body["PhysicalResourceId"] == OURS


# --- always exactly one answer ----------------------------------------------------------

def test_missing_log_group_fails_once(aws, invoke):
    body = invoke("Create", props(LogGroupName=None))
    assert body["Status"] == "FAILED"
    assert "LogGroupName" in body["Reason"]
    assert current(aws) == {}


def test_client_raising_runtime_error_fails_once(aws, invoke, mod):
    class Broken:
        def __getattr__(self, name):
            def boom(**kwargs):
                raise RuntimeError("endpoint exploded")
            return boom

    mod.clients = lambda region: (Broken(), Broken())
    body = invoke("Delete", props())
    assert body["Status"] == "FAILED"
    assert "RuntimeError: endpoint exploded" in body["Reason"]
    assert body["PhysicalResourceId"] == OURS


def test_unknown_request_type_fails(aws, invoke):
    body = invoke("Upsert", props(), physical_id=OURS)
    assert body["Status"] == "FAILED"
    assert "Upsert" in body["Reason"]


def test_huge_error_message_is_truncated_below_4096_bytes(aws, invoke, mod, responses):
    def boom(region):
        raise RuntimeError('"quoted"\n\u00e9' * 5000)

    mod.clients = boom
    body = invoke("Create", props())
    raw = responses[-1]["raw"]
    assert 3500 < len(raw) <= 4096  # fits, but was not trimmed to nothing
    assert body["Status"] == "FAILED"
    assert body["Reason"].startswith("RuntimeError:") and body["Reason"].endswith("...")
    assert body["StackId"].startswith("arn:aws:cloudformation")


def test_send_failure_is_logged_not_raised(aws, mod, context, sleeps, monkeypatch, capsys):
    def refuse(request, timeout=None):
        raise OSError("connection refused")

    monkeypatch.setattr("urllib.request.urlopen", refuse)
    event = {"RequestType": "Create", "ResponseURL": RESPONSE_URL, "StackId": "s",
             "RequestId": "r", "LogicalResourceId": "L", "ResourceProperties": props()}
    mod.handler(event, context)  # must not raise
    assert "failed to send CloudFormation response" in capsys.readouterr().out


def test_event_without_response_url_does_not_raise(aws, mod, context, capsys):
    mod.handler({"RequestType": "Create", "ResourceProperties": props()}, context)
    assert "failed to send CloudFormation response" in capsys.readouterr().out


def test_logs_do_not_contain_the_presigned_url(aws, invoke, capsys):
    invoke("Create", props())
    assert "presigned" not in capsys.readouterr().out


@pytest.mark.parametrize("request_type", ["Create", "Update", "Delete"])
def test_every_request_type_answers_once_on_bad_properties(aws, invoke, request_type):
    aws["bedrock"].put_model_invocation_logging_configuration(loggingConfig=FOREIGN)
    body = invoke(request_type, {"RoleArn": ROLE}, old_props={})
    assert body["Status"] == "FAILED"
    assert "LogGroupName" in body["Reason"]
    assert current(aws) == FOREIGN


@pytest.mark.parametrize("reason", ["x" * 10_000, "\u00e9" * 10_000, '"\\' * 5_000, "short"])
def test_send_response_body_fits_and_keeps_short_reasons(mod, responses, reason):
    event = {"ResponseURL": RESPONSE_URL, "StackId": "s", "RequestId": "r",
             "LogicalResourceId": "L"}
    mod.send_response(event, FakeContext(), "FAILED", reason, "pid", {"Region": REGION})
    sent = responses[-1]
    assert len(sent["raw"]) <= 4096
    assert sent["headers"]["Content-length"] == str(len(sent["raw"]))
    if reason == "short":
        assert sent["body"]["Reason"] == "short"
    else:
        assert len(sent["raw"]) > 3900 and sent["body"]["Reason"].endswith("...")
        assert reason.startswith(sent["body"]["Reason"][:-3])
