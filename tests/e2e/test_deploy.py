"""`deploy`, `diff` and `destroy` end to end: the real binary against moto's CloudFormation server.

What these tests can assert, and what they cannot (measured on moto 5.2.5 server):
- Modelled and asserted: change sets (CREATE/UPDATE, the exact "didn't contain changes" FAILED
  status, which deploy reports as "up to date" and diff as exit 0), execution to CREATE_COMPLETE,
  stack tags, TemplateURL staging through S3 (the staged object is read back), stack deletion,
  destroy of a missing stack, S3 versioned-bucket emptying and log-group deletion (--purge).
- NOT creatable on the emulator: moto fails to create `AWS::KMS::Key` from CloudFormation when
  the key has `Tags` (KeyError 'TagKey' in moto/utilities/tagging_service.py: it expects KMS's
  TagKey/TagValue, CloudFormation sends Key/Value). Every resource of the stack is encrypted
  with that key (Fn::GetAtt EncryptionKey.Arn), so the emulator creates none of the IAM role and
  policy, bucket, log groups, topic, dashboards or Lambda function, DescribeStackResources
  answers HTTP 500, and executing an update fails ("Fn::GetAtt references undefined resource
  EncryptionKey"). The tests therefore do NOT claim those resources: the changed config is
  shown with --no-execute, destroy names kept resources from the template, and --purge runs on
  a bucket and log group created here through S3's and CloudWatch Logs' own APIs as stand-ins
  for what CloudFormation retains. Resource contents are covered by the built-in checks,
  cfn-lint, checkov and the snapshot tests.
- Not modelled at all (see aws-facts.md): per-resource stack events, rollbacks and
  CREATE_FAILED, the 51,200-byte limit, stack outputs and Capabilities on the change-set path. Those paths are
  unit-tested in src/deploy/tests.rs with a scripted fake.
"""
import boto3
import pytest

STACK = "bedrock-watch-us-east-1"
STAGING = "bw-staging"
BUCKET = "bedrock-watch-logs-123456789012-us-east-1"  # the template's Sub with moto's account
LOG_GROUP = "/aws/bedrock/modelinvocations"


def config(tmp_path, name="bw.yaml", extra=""):
    path = tmp_path / name
    path.write_text(f"deploy:\n  staging_bucket: {STAGING}\ntags:\n  Project: genai\n{extra}")
    return path.name


@pytest.fixture
def account(reset, aws):
    aws("s3").create_bucket(Bucket=STAGING)
    return aws


def ok(proc, code=0):
    assert proc.returncode == code, f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    return proc.stdout


def test_deploy_diff_update_and_destroy_lifecycle(account, bw, tmp_path):
    aws = account
    cfg = config(tmp_path)

    # diff before anything exists: everything is added, exit 1
    out = ok(bw("diff", "--config", cfg), 1)
    assert f"{STACK}: no such stack in us-east-1" in out
    assert "+ add    AWS::KMS::Key" in out and "32 to add" in out

    # fresh deploy: staged through S3, change set shown, executed, tags on the stack
    out = ok(bw("deploy", "--config", cfg, "--tag", "Team=ml"))
    assert f"staged the template" in out and f"s3://{STAGING}/bedrock-watch/templates/{STACK}-" in out
    assert "(create, region us-east-1)" in out and "32 to add, 0 to modify" in out
    assert "CREATE_COMPLETE" in out
    # outputs of named resources, derived from the template (the emulator returns none)
    assert f"LogBucketName = {BUCKET}" in out and f"InvocationLogGroupName = {LOG_GROUP}" in out
    assert "DashboardUrl = https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#dashboards:name=BedrockUsageMonitoring" in out
    stack = aws("cloudformation").describe_stacks(StackName=STACK)["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert {t["Key"]: t["Value"] for t in stack["Tags"]} == {"Project": "genai", "Team": "ml"}
    staged = aws("s3").list_objects_v2(Bucket=STAGING, Prefix="bedrock-watch/templates/")["Contents"]
    body = aws("s3").get_object(Bucket=STAGING, Key=staged[0]["Key"])["Body"].read().decode()
    assert body.startswith("AWSTemplateFormatVersion") and len(body) > 51200

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
    # shown and left for review (executing it fails on the emulator, see the module docstring)
    out = ok(bw("deploy", "--config", changed, "--no-execute"))
    assert "(update, region us-east-1)" in out and "~ modify AWS::Logs::LogGroup  InvocationLogGroup" in out
    assert "aws cloudformation execute-change-set --stack-name bedrock-watch-us-east-1" in out
    names = [s["ChangeSetName"] for s in aws("cloudformation").list_change_sets(StackName=STACK)["Summaries"]]
    assert len(names) == 2 and [n for n in names if f"--change-set-name {n}" in out], names

    # destroy without --yes and without a terminal refuses
    ok(bw("destroy", "--config", cfg), 1)
    assert aws("cloudformation").describe_stacks(StackName=STACK)["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"

    # destroy: the stack is gone; kept resources are named with how to remove them
    out = ok(bw("destroy", "--config", cfg, "--yes"))
    assert f"{STACK}: deleted" in out
    assert f"AWS::S3::Bucket {BUCKET} (LogBucket)" in out
    assert f"aws logs delete-log-group --log-group-name {LOG_GROUP} --region us-east-1" in out
    live = [s for s in aws("cloudformation").list_stacks()["StackSummaries"] if s["StackStatus"] != "DELETE_COMPLETE"]
    assert live == []

    # destroy again: nothing there, exit 0
    out = ok(bw("destroy", "--config", cfg, "--yes"))
    assert "no such stack" in out


def test_purge_needs_the_bucket_name_then_empties_every_version(account, bw, tmp_path):
    aws = account
    cfg = config(tmp_path)
    ok(bw("deploy", "--config", cfg))
    # Stand-ins for the retained bucket and log group (see the module docstring).
    s3 = aws("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    for i in range(3):
        s3.put_object(Bucket=BUCKET, Key="invocation-logs/a.json", Body=f"v{i}".encode())
    s3.delete_object(Bucket=BUCKET, Key="invocation-logs/a.json")  # a delete marker
    aws("logs").create_log_group(logGroupName=LOG_GROUP)

    out = bw("destroy", "--config", cfg, "--purge", "--confirm-bucket", "wrong-name")
    assert out.returncode == 1 and f"--purge needs the name of bucket {BUCKET} confirmed" in out.stderr
    assert aws("cloudformation").describe_stacks(StackName=STACK)["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"

    out = ok(bw("destroy", "--config", cfg, "--purge", "--confirm-bucket", BUCKET))
    assert f"deleted bucket {BUCKET} (4 object versions and delete markers)" in out
    assert f"deleted log group {LOG_GROUP}" in out
    assert BUCKET not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert aws("logs").describe_log_groups(logGroupNamePrefix=LOG_GROUP)["logGroups"] == []


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
