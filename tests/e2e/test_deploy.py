"""`deploy`, `diff` and `destroy` end to end: the real binary against moto's CloudFormation server.

What these tests can assert, and what they cannot (measured on moto 5.2.5 server):
- Modelled and asserted: change sets (CREATE/UPDATE, the exact "didn't contain changes" FAILED
  status, which deploy reports as "up to date" and diff as exit 0), execution to CREATE_COMPLETE
  and UPDATE_COMPLETE, stack tags, TemplateURL staging through S3 (the staged object is read
  back), stack deletion with DeletionPolicy Retain, destroy of a missing stack, --purge emptying
  a versioned bucket and deleting the kept log group. Through each service's own API: the
  delivery role (trust and inline policy), the log bucket and its encryption, log-group
  retention, the alert topic, a dashboard body, the Lambda
  function; after destroy, what was retained and what was removed.
- The emulator runs through .ci/moto_server.py, which fixes one moto bug: moto's
  AWS::KMS::Key handler crashes on CloudFormation's Key/Value `Tags` (it expects KMS's
  TagKey/TagValue), which left every resource of the stack uncreated.
- moto does not model AWS::CloudWatch::Alarm (nor composite alarms, metric filters, insight
  rules, query definitions, bucket and topic policies): it skips them, so a Fn::GetAtt on an
  alarm fails the execution. The stack deployed here therefore leaves out the two things that
  GetAtt alarms — the composite alarm and the operations dashboard's alarm-status widget
  (`alerts.composite: false`, `dashboard.enabled: false`) — and the full default stack is
  covered up to its change set (all 32 resources listed) with --no-execute.
- moto applies no property update to an existing log group (its LogGroup model has no update
  handler): after an update the deployed template, not the log group, shows the new retention.
- Not modelled at all (see aws-facts.md): per-resource stack events, rollbacks and
  CREATE_FAILED, the 51,200-byte limit, stack outputs and Capabilities on the change-set path,
  running the logging-configuration Lambda (no container engine). Those paths are unit-tested
  in src/deploy/tests.rs with a scripted fake, and the handler with moto in-process
  (tests/python).
"""
import ast
import json

import pytest

STACK = "bedrock-watch-us-east-1"
STAGING = "bw-staging"
BUCKET = "bedrock-watch-logs-123456789012-us-east-1"  # the template's Sub with moto's account
LOG_GROUP = "/aws/bedrock/modelinvocations"


# What the emulator can create in full (see the module docstring).
EMULATED = "alerts:\n  composite: false\ndashboard:\n  enabled: false\n"


def config(tmp_path, name="bw.yaml", extra="", emulated=True):
    path = tmp_path / name
    path.write_text(f"deploy:\n  staging_bucket: {STAGING}\ntags:\n  Project: genai\n{EMULATED if emulated else ''}{extra}")
    return path.name


def role(aws, logical_id):
    roles = [r for r in aws("iam").list_roles()["Roles"] if r["RoleName"].startswith(f"{STACK}-{logical_id}-")]
    return roles[0] if roles else None


def log_group(aws, name):
    groups = [g for g in aws("logs").describe_log_groups(logGroupNamePrefix=name)["logGroups"] if g["logGroupName"] == name]
    return groups[0] if groups else None


@pytest.fixture
def account(reset, aws):
    aws("s3").create_bucket(Bucket=STAGING)
    return aws


def ok(proc, code=0):
    assert proc.returncode == code, f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    return proc.stdout


def test_the_default_stack_is_planned_in_full(account, bw, tmp_path):
    # The whole default stack as a change set, left for review (the emulator cannot execute
    # the alarms' GetAtt references; see the module docstring).
    cfg = config(tmp_path, emulated=False)
    out = ok(bw("diff", "--config", cfg), 1)
    assert f"{STACK}: no such stack in us-east-1" in out
    assert "+ add    AWS::KMS::Key" in out and "34 to add" in out
    out = ok(bw("deploy", "--config", cfg, "--no-execute"))
    assert "(create, region us-east-1)" in out and "34 to add, 0 to modify" in out
    assert "+ add    AWS::CloudWatch::CompositeAlarm   ServiceDegradedAlarm" in out
    assert "aws cloudformation execute-change-set --stack-name bedrock-watch-us-east-1" in out


def test_deploy_diff_update_and_destroy_lifecycle(account, bw, tmp_path):
    aws = account
    cfg = config(tmp_path)

    # fresh deploy: staged through S3, change set shown, executed, tags on the stack
    out = ok(bw("deploy", "--config", cfg, "--tag", "Team=ml"))
    assert "staged the template" in out and f"s3://{STAGING}/bedrock-watch/templates/{STACK}-" in out
    assert "(create, region us-east-1)" in out and "32 to add, 0 to modify" in out
    assert "CREATE_COMPLETE" in out
    assert f"LogBucketName = {BUCKET}" in out and f"InvocationLogGroupName = {LOG_GROUP}" in out
    stack = aws("cloudformation").describe_stacks(StackName=STACK)["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert {t["Key"]: t["Value"] for t in stack["Tags"]} == {"Project": "genai", "Team": "ml"}
    staged = aws("s3").list_objects_v2(Bucket=STAGING, Prefix="bedrock-watch/templates/")["Contents"]
    body = aws("s3").get_object(Bucket=STAGING, Key=staged[0]["Key"])["Body"].read().decode()
    assert body.startswith("AWSTemplateFormatVersion") and len(body) > 51200

    # what CloudFormation created, through each service's own API
    delivery = role(aws, "BedrockLoggingRole")
    assert delivery, [r["RoleName"] for r in aws("iam").list_roles()["Roles"]]
    trust = delivery["AssumeRolePolicyDocument"]["Statement"][0]
    assert trust["Principal"] == {"Service": "bedrock.amazonaws.com"} and trust["Action"] == "sts:AssumeRole"
    assert trust["Condition"]["StringEquals"]["aws:SourceAccount"] == "123456789012"
    assert trust["Condition"]["ArnLike"]["aws:SourceArn"] == "arn:aws:bedrock:us-east-1:123456789012:*"
    iam = aws("iam")
    policies = iam.list_role_policies(RoleName=delivery["RoleName"])["PolicyNames"]
    assert len(policies) == 1, policies
    doc = iam.get_role_policy(RoleName=delivery["RoleName"], PolicyName=policies[0])["PolicyDocument"]
    # moto keeps a CloudFormation-created inline policy as the text of a Python dict
    doc = ast.literal_eval(doc) if isinstance(doc, str) else doc
    allowed = {a for st in doc["Statement"] for a in ([st["Action"]] if isinstance(st["Action"], str) else st["Action"])}
    assert allowed == {"logs:CreateLogStream", "logs:PutLogEvents"}, doc
    resources = [r for st in doc["Statement"] for r in ([st["Resource"]] if isinstance(st["Resource"], str) else st["Resource"])]
    assert all(r.endswith(f"log-group:{LOG_GROUP}:log-stream:aws/bedrock/modelinvocations") for r in resources), resources
    assert BUCKET in [b["Name"] for b in aws("s3").list_buckets()["Buckets"]]
    rule = aws("s3").get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    # server access logs of the log bucket go to the separate, SSE-S3 access-log bucket
    access_bucket = access_log_bucket(aws)
    assert access_bucket in [b["Name"] for b in aws("s3").list_buckets()["Buckets"]]
    # moto creates buckets from CloudFormation with name, encryption and tags only: it does not
    # apply LoggingConfiguration, so the deployed template is what shows the wiring (the
    # builder's unit tests and cfn-guard's s3_bucket_logging_enabled_check (CT.S3.PR.2) cover the property).
    deployed = aws("cloudformation").get_template(StackName=STACK)["TemplateBody"]
    assert "DestinationBucketName: !Ref AccessLogBucket\n        LogFilePrefix: LogBucket/" in deployed
    rule = aws("s3").get_bucket_encryption(Bucket=access_bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert log_group(aws, LOG_GROUP)["retentionInDays"] == 30
    topics = [t["TopicArn"] for t in aws("sns").list_topics()["Topics"]]
    assert [t for t in topics if f":{STACK}-AlertTopic-" in t], topics
    board = aws("cloudwatch").get_dashboard(DashboardName="BedrockManagement")
    widgets = json.loads(board["DashboardBody"])["widgets"]
    assert widgets[0]["type"] == "text" and len(widgets) > 3
    assert "${" not in board["DashboardBody"]  # every Sub variable was resolved
    functions = [f["FunctionName"] for f in aws("lambda").list_functions()["Functions"]]
    assert [f for f in functions if "InvocationLoggingHandler" in f], functions

    # unchanged: up to date, the no-op change set deleted; diff exit 0
    out = ok(bw("deploy", "--config", cfg, "--tag", "Team=ml"))
    assert f"{STACK}: up to date" in out
    summaries = aws("cloudformation").list_change_sets(StackName=STACK)["Summaries"]
    assert [s["Status"] for s in summaries] == ["CREATE_COMPLETE"], summaries  # only the executed one
    out = ok(bw("diff", "--config", cfg, "--tag", "Team=ml"), 0)
    assert "identical to the deployed one" in out and "change set: no changes" in out

    # a changed config: the template diff and the modify, exit 1; the diff's change set is deleted
    changed = config(tmp_path, "changed.yaml", "logging:\n  retention_days: 90\n")
    out = ok(bw("diff", "--config", changed), 1)
    assert "-      RetentionInDays: 30" in out and "+      RetentionInDays: 90" in out
    assert "~ modify AWS::Logs::LogGroup  InvocationLogGroup" in out
    names = [s["ChangeSetName"] for s in aws("cloudformation").list_change_sets(StackName=STACK)["Summaries"]]
    assert not [n for n in names if n.startswith("bedrock-watch-diff-")], names
    # deployed: the modify shown, executed, and the log group really changed
    out = ok(bw("deploy", "--config", changed, "--tag", "Team=ml"))
    assert "(update, region us-east-1)" in out and "~ modify AWS::Logs::LogGroup  InvocationLogGroup" in out
    assert "UPDATE_COMPLETE" in out
    # moto applies no property update to a log group (LogGroup has no update handler), so the
    # deployed template is what shows the change
    deployed = aws("cloudformation").get_template(StackName=STACK)["TemplateBody"]
    assert "RetentionInDays: 90" in deployed and "RetentionInDays: 30" not in deployed
    ok(bw("diff", "--config", changed, "--tag", "Team=ml"), 0)

    # destroy without --yes and without a terminal refuses
    ok(bw("destroy", "--config", changed), 1)
    assert aws("cloudformation").describe_stacks(StackName=STACK)["Stacks"][0]["StackStatus"] == "UPDATE_COMPLETE"

    # destroy: the stack is gone; kept resources are named with how to remove them
    out = ok(bw("destroy", "--config", changed, "--yes"))
    assert f"{STACK}: deleted" in out
    assert f"AWS::S3::Bucket {BUCKET} (LogBucket)" in out
    assert f"aws logs delete-log-group --log-group-name {LOG_GROUP} --region us-east-1" in out
    live = [s for s in aws("cloudformation").list_stacks()["StackSummaries"] if s["StackStatus"] != "DELETE_COMPLETE"]
    assert live == []
    # retained: the buckets and the log groups (audit data, function diagnostics); removed:
    # role, topic, function
    assert BUCKET in [b["Name"] for b in aws("s3").list_buckets()["Buckets"]]
    assert [b for b in aws("s3").list_buckets()["Buckets"] if b["Name"].startswith(f"{STACK}-accesslogbucket-")]
    assert log_group(aws, LOG_GROUP) is not None
    assert log_group(aws, f"/bedrock-watch/{STACK}/InvocationLoggingHandler") is not None
    assert role(aws, "BedrockLoggingRole") is None
    assert not [t for t in aws("sns").list_topics()["Topics"] if f":{STACK}-AlertTopic-" in t["TopicArn"]]
    assert not [f for f in aws("lambda").list_functions()["Functions"] if "InvocationLoggingHandler" in f["FunctionName"]]

    # destroy again: nothing there, exit 0
    out = ok(bw("destroy", "--config", changed, "--yes"))
    assert "no such stack" in out


def access_log_bucket(aws):
    """The physical name of the stack's AccessLogBucket (generated by CloudFormation)."""
    # (moto answers DescribeStackResource with a server error and leaves some entries of
    # DescribeStackResources empty; ListStackResources is complete)
    resources = aws("cloudformation").list_stack_resources(StackName=STACK)["StackResourceSummaries"]
    return [r["PhysicalResourceId"] for r in resources if r["LogicalResourceId"] == "AccessLogBucket"][0]


def test_purge_needs_the_bucket_name_then_empties_every_version(account, bw, tmp_path):
    aws = account
    cfg = config(tmp_path)
    ok(bw("deploy", "--config", cfg))
    # The retained bucket and log group are real (created by the stack). The emulator does not
    # apply the template's VersioningConfiguration, so versioning is switched on here.
    s3 = aws("s3")
    assert BUCKET in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    for i in range(3):
        s3.put_object(Bucket=BUCKET, Key="invocation-logs/a.json", Body=f"v{i}".encode())
    s3.delete_object(Bucket=BUCKET, Key="invocation-logs/a.json")  # a delete marker
    assert log_group(aws, LOG_GROUP) is not None

    out = bw("destroy", "--config", cfg, "--purge", "--confirm-bucket", "wrong-name")
    assert out.returncode == 1 and f"--purge needs the name of bucket {BUCKET} confirmed" in out.stderr
    assert aws("cloudformation").describe_stacks(StackName=STACK)["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    assert len(s3.list_object_versions(Bucket=BUCKET).get("Versions", [])) == 3  # nothing deleted

    access_bucket = access_log_bucket(aws)
    out = bw("destroy", "--config", cfg, "--purge", "--confirm-bucket", BUCKET)
    assert out.returncode == 1 and f"--purge needs the name of bucket {access_bucket} confirmed" in out.stderr
    out = ok(bw("destroy", "--config", cfg, "--purge", "--confirm-bucket", BUCKET, "--confirm-bucket", access_bucket))
    assert f"deleted bucket {BUCKET} (4 object versions and delete markers)" in out
    assert f"deleted bucket {access_bucket}" in out
    assert f"deleted log group {LOG_GROUP}" in out
    assert BUCKET not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert log_group(aws, LOG_GROUP) is None


def test_usage_errors_name_the_flag_or_the_allowed_regions(bw, tmp_path, reset):
    cfg = config(tmp_path)
    out = bw("deploy", "--config", cfg, "--tag", "Team")
    assert out.returncode == 2 and "--tag `Team` is not KEY=VALUE" in out.stderr
    out = bw("deploy", "--config", cfg, "--region", "eu-west-3")
    assert out.returncode == 2 and "use one of: us-east-1" in out.stderr


def test_a_template_over_the_inline_limit_without_staging_bucket_says_how_to_set_one(bw, tmp_path, reset):
    out = bw("deploy")
    assert out.returncode == 2, out
    assert "over the 51200 bytes CloudFormation accepts inline, and no staging bucket is set" in out.stderr
    assert "--staging-bucket" in out.stderr


def test_deploy_through_throttling_and_500s_completes(account, bw, tmp_path, fault_proxy):
    out = ok(bw("deploy", "--config", config(tmp_path), endpoint_url=fault_proxy.url))
    assert "CREATE_COMPLETE" in out
    assert fault_proxy.injected > 0, vars(fault_proxy)
    assert account("cloudformation").describe_stacks(StackName=STACK)["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
