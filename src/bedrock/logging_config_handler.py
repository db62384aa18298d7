"""CloudFormation custom resource owning Bedrock model-invocation logging.

Bedrock's invocation-logging configuration is a per-account, per-region
singleton with no native CloudFormation resource, so this handler (embedded
verbatim as the inline ZipFile of a python3.14 Lambda) Puts, restores or
Deletes it. Only the standard library and boto3/botocore are available, so the
CloudFormation response is sent with urllib instead of the cfnresponse module.
"""
import json
import os
import time
import urllib.request

import boto3
from botocore.exceptions import ClientError

# Time kept in reserve to answer CloudFormation before Lambda times out.
MARGIN_MS = 20_000
MAX_BODY_BYTES = 4096
BOOL_FIELDS = ("Text", "Image", "Embedding", "Video", "Audio")
THROTTLE_CODES = {"ThrottlingException", "Throttling", "TooManyRequestsException",
                  "ServiceUnavailableException"}
# Module-level so tests can monkeypatch it instead of really sleeping.
sleep = time.sleep


def region_name():
    return boto3.session.Session().region_name or os.environ["AWS_REGION"]


def physical_id(region):
    # Constant per region: the configuration itself is a regional singleton.
    return f"bedrock-invocation-logging-{region}"


def clients(region):
    return boto3.client("bedrock", region_name=region), boto3.client("s3", region_name=region)


def parse_bool(props, name, default=None):
    value = props.get(name)
    if value is None or value == "":
        return default
    text = str(value).strip().lower()  # CloudFormation stringifies every property
    if text not in ("true", "false"):
        raise ValueError(f"property {name} must be 'true' or 'false', got {value!r}")
    return text == "true"


def desired_config(props):
    """Build loggingConfig from properties, sending only fields that are set:
    the boto3 bundled with Lambda may reject newer fields such as
    videoDataDeliveryEnabled (boto3 issue 4381)."""
    missing = [k for k in ("LogGroupName", "RoleArn") if not props.get(k)]
    if missing:
        raise ValueError(f"missing required property {', '.join(missing)}")
    cw = {"logGroupName": props["LogGroupName"], "roleArn": props["RoleArn"]}
    config = {"cloudWatchConfig": cw}
    if props.get("BucketName"):
        large = {"bucketName": props["BucketName"]}
        if props.get("LargeDataKeyPrefix"):
            large["keyPrefix"] = props["LargeDataKeyPrefix"]
        cw["largeDataDeliveryS3Config"] = large
        s3 = {"bucketName": props["BucketName"]}
        if props.get("S3KeyPrefix"):
            s3["keyPrefix"] = props["S3KeyPrefix"]
        config["s3Config"] = s3
    for kind in BOOL_FIELDS:
        value = parse_bool(props, f"{kind}DataDeliveryEnabled")
        if value is not None:
            config[f"{kind.lower()}DataDeliveryEnabled"] = value
    return config


def identity(config):
    """What makes a configuration 'ours': destination log group, role and bucket."""
    cw = (config or {}).get("cloudWatchConfig") or {}
    s3 = (config or {}).get("s3Config") or {}
    return cw.get("logGroupName"), cw.get("roleArn"), s3.get("bucketName")


def get_current(bedrock):
    # Real AWS omits loggingConfig when unset; moto returns {}. Both mean "none".
    return bedrock.get_model_invocation_logging_configuration().get("loggingConfig") or {}


def retryable(err):
    code = err.response.get("Error", {}).get("Code", "")
    message = err.response.get("Error", {}).get("Message", "")
    # Put validates the role against the log group immediately, so a freshly
    # created role fails until IAM has propagated.
    return code in THROTTLE_CODES or (
        code == "ValidationException" and "Failed to validate permissions" in message)


def put_config(bedrock, config, context):
    """Put with exponential backoff while IAM propagates, bounded by the Lambda's
    remaining time so there is always time left to answer CloudFormation."""
    delay, attempt = 2, 1
    while True:
        try:
            bedrock.put_model_invocation_logging_configuration(loggingConfig=config)
            print(f"PutModelInvocationLoggingConfiguration succeeded (attempt {attempt})")
            return
        except ClientError as err:
            if not retryable(err):
                raise
            left_ms = context.get_remaining_time_in_millis() - MARGIN_MS
            if left_ms < delay * 1000:
                raise RuntimeError(f"gave up after {attempt} attempts (IAM propagation or "
                                   f"throttling did not clear in time): {err}") from err
            print(f"attempt {attempt} failed ({err}); retrying in {delay}s")
            sleep(delay)
            delay, attempt = min(delay * 2, 30), attempt + 1


def state_location(props):
    bucket, key = props.get("StateBucket"), props.get("StateKey")
    return (bucket, key) if bucket and key else None


def load_state(s3, loc):
    if not loc:
        return None
    try:
        body = s3.get_object(Bucket=loc[0], Key=loc[1])["Body"].read()
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
            return None
        raise
    return json.loads(body)["loggingConfig"]


def save_state(s3, loc, config):
    print(f"saving replaced configuration to s3://{loc[0]}/{loc[1]}: {json.dumps(config)}")
    s3.put_object(Bucket=loc[0], Key=loc[1], Body=json.dumps({"loggingConfig": config}).encode(),
                  ContentType="application/json")


def drop_state(s3, loc):
    if loc:
        s3.delete_object(Bucket=loc[0], Key=loc[1])  # no error if it is already gone


def describe(config):
    log_group, _, bucket = identity(config)
    return f"log group {log_group or 'none'}, bucket {bucket or 'none'}"


def take_over(current, props, s3, region):
    """Current config belongs to someone else: refuse unless adoption is allowed,
    in which case save it so Delete can put it back."""
    if not parse_bool(props, "AdoptExisting", False):
        raise ValueError(
            f"Bedrock model invocation logging is already configured in {region} "
            f"({describe(current)}). It is a per-region singleton: set "
            "`logging.adopt_existing: true` in the bedrock-watch config to take it over; "
            "the current configuration is saved and restored when the stack is deleted.")
    loc = state_location(props)
    if not loc:
        raise ValueError("AdoptExisting requires StateBucket and StateKey")
    save_state(s3, loc, current)


def on_create(props, bedrock, s3, region, context, progress):
    wanted, current = desired_config(props), get_current(bedrock)
    if not current:
        drop_state(s3, state_location(props))  # nothing existed, so Delete must not "restore"
    elif identity(current) != identity(wanted):
        take_over(current, props, s3, region)
    else:
        print("existing configuration already matches ours; re-applying")
    progress["applied"] = True
    put_config(bedrock, wanted, context)


def on_update(props, old_props, bedrock, s3, region, context):
    wanted, current = desired_config(props), get_current(bedrock)
    old_loc, new_loc = state_location(old_props), state_location(props)
    if old_loc and new_loc and old_loc != new_loc:
        saved = load_state(s3, old_loc)  # keep the restore point when the state key moves
        if saved is not None:
            save_state(s3, new_loc, saved)
            drop_state(s3, old_loc)
    mine = {identity(wanted)}
    try:
        mine.add(identity(desired_config(old_props)))
    except ValueError:
        pass
    if current and identity(current) not in mine:
        take_over(current, props, s3, region)
    put_config(bedrock, wanted, context)


def on_delete(props, bedrock, s3, context):
    current, loc = get_current(bedrock), state_location(props)
    saved = load_state(s3, loc)
    if not current or identity(current) != identity(desired_config(props)):
        # Not ours any more: restoring would overwrite someone else's choice.
        if saved is not None:
            print(f"discarding saved configuration: {json.dumps(saved)}")
            drop_state(s3, loc)  # an orphan would also block deleting the state bucket
        if not current:
            return "No model invocation logging configuration present; nothing to delete."
        return ("Configuration was changed outside this stack since it was applied "
                f"({describe(current)}); left it untouched.")
    if saved is not None:
        print(f"restoring configuration saved at s3://{loc[0]}/{loc[1]}")
        put_config(bedrock, saved, context)
        drop_state(s3, loc)
        return "Restored the configuration that existed before this stack."
    bedrock.delete_model_invocation_logging_configuration()
    return "Deleted the model invocation logging configuration."


def send_response(event, context, status, reason, phys_id, data=None):
    """PUT the result to the pre-signed ResponseURL, like cfn-response does."""
    try:  # never raises, so the handler answers exactly once
        body = {"Status": status, "Reason": str(reason), "PhysicalResourceId": phys_id,
                "StackId": event.get("StackId"), "RequestId": event.get("RequestId"),
                "LogicalResourceId": event.get("LogicalResourceId"), "Data": data or {}}
        # CloudFormation rejects bodies over 4096 bytes. JSON escaping (ASCII
        # output) makes a character cost 1-6 bytes, so shrink proportionally.
        room = MAX_BODY_BYTES - len(json.dumps({**body, "Reason": ""}).encode())
        reason = body["Reason"]
        while reason and len(json.dumps(reason)) - 2 > room:
            keep = len(reason) * room // (len(json.dumps(reason)) - 2) - 3
            reason = reason[:keep] + "..." if keep > 0 else ""
        body["Reason"] = reason
        encoded = json.dumps(body).encode()
        print(f"responding {status}: {body['Reason']}")
        request = urllib.request.Request(event["ResponseURL"], data=encoded, method="PUT",
                                         headers={"Content-Type": "",
                                                  "Content-Length": str(len(encoded))})
        with urllib.request.urlopen(request, timeout=30) as resp:
            print(f"CloudFormation response sent: HTTP {resp.status}")
    except Exception as err:  # nothing else can be done; the log is the only trace
        print(f"failed to send CloudFormation response: {err!r}")


def handler(event, context):
    request_type = event.get("RequestType")
    props = event.get("ResourceProperties") or {}
    log_stream = getattr(context, "log_stream_name", "?")
    print(f"{request_type} {event.get('LogicalResourceId')} properties={json.dumps(props)}")
    progress = {"applied": False, "id": None}
    phys_id = event.get("PhysicalResourceId")
    try:
        region = region_name()
        ours = progress["id"] = physical_id(region)
        if request_type == "Delete" and phys_id != ours:
            send_response(event, context, "SUCCESS",
                          f"Physical id {phys_id} is not {ours}; nothing to delete.", phys_id)
            return
        bedrock, s3 = clients(region)
        if request_type == "Create":
            on_create(props, bedrock, s3, region, context, progress)
            reason = "Applied the model invocation logging configuration."
        elif request_type == "Update":
            on_update(props, event.get("OldResourceProperties") or {}, bedrock, s3, region,
                      context)
            reason = "Applied the model invocation logging configuration."
        elif request_type == "Delete":
            reason = on_delete(props, bedrock, s3, context)
        else:
            raise ValueError(f"unknown RequestType {request_type!r}")
        send_response(event, context, "SUCCESS", reason, ours, {"Region": region})
    except Exception as err:
        print(f"{request_type} failed: {err!r}")
        if request_type == "Create" or not phys_id:
            # A failed Create must not hand out our id unless it may have applied
            # something, so the rollback Delete never touches a foreign config.
            phys_id = (progress["id"] if progress["applied"]
                       else f"failed-create-{event.get('RequestId')}")
        # ValueErrors are our own messages for the user; name other exception types.
        message = str(err) if isinstance(err, ValueError) else f"{type(err).__name__}: {err}"
        reason = f"{message} (see CloudWatch log stream {log_stream})"
        send_response(event, context, "FAILED", reason, phys_id)
