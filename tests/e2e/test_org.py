"""`org deploy|diff|status|destroy` end to end: the real binary against moto's StackSets.

What moto 5.2.5 (server mode) does with stack sets, as measured before writing these tests:
- Modelled: CreateStackSet, DescribeStackSet (TemplateBody as submitted, TemplateURL read back
  from moto's S3), UpdateStackSet (the template; the instances' stacks are not updated),
  CreateStackInstances / DeleteStackInstances with Accounts, ListStackInstances,
  DescribeStackSetOperation, ListStackSetOperationResults, DeleteStackSet (refused while
  instances remain), the OU id pattern of DeploymentTargets, and SERVICE_MANAGED targets
  resolved through moto's Organizations (accounts of the OU and its child OUs).
- Every operation is SUCCEEDED at once: RUNNING/FAILED operations, failed accounts and their
  reasons are unit-tested with a scripted fake (src/org/tests.rs).
- Ignored: OperationPreferences, CallAs, AutoDeployment, RetainStacks, AccountFilterType, and
  DeploymentTargets on DeleteStackInstances (only Accounts is read), so a service-managed
  instance cannot be deleted in the emulator: the service-managed test stops after the table.
- .ci/moto_stackset_fix.py fixes how moto creates an instance's stack (moto names it
  `StackSet:<name>` or keeps it out of the account's backend, which makes any template with a
  Lambda-backed custom resource fail): it is created as CloudFormation does, a stack
  `StackSet-<name>-<uuid>` in the target account, through moto's change-set path.
- As in test_deploy.py, moto cannot GetAtt alarms, so the member template leaves out the
  composite alarm and the operations dashboard (`alerts.composite: false`, `dashboard.enabled: false`).
"""
import pytest

SET = "bedrock-watch-us-east-1"
STAGING = "bw-staging"
A, B, C = "111111111111", "222222222222", "333333333333"
EMULATED = "alerts:\n  composite: false\ndashboard:\n  enabled: false\n"


def write(tmp_path, organization, extra="", name="org.yaml"):
    path = tmp_path / name
    path.write_text(f"deploy:\n  staging_bucket: {STAGING}\n{EMULATED}{extra}organization:\n{organization}")
    return path.name


def self_managed(tmp_path, accounts, exclude=(), extra="", name="org.yaml"):
    org = "  permission_model: self_managed\n  targets:\n"
    org += "    accounts: [" + ", ".join(f"'{a}'" for a in accounts) + "]\n"
    if exclude:
        org += "    exclude_accounts: [" + ", ".join(f"'{a}'" for a in exclude) + "]\n"
    return write(tmp_path, org, extra, name)


def ok(proc, code=0):
    assert proc.returncode == code, f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    return proc.stdout


def table(out):
    """The instance table's rows as (stack set, account, region, status) tuples."""
    lines = out[out.index("STACK SET"):].splitlines()[1:]
    return [tuple(l.split()[:4]) for l in lines if l.strip()]


@pytest.fixture
def admin(reset, aws):
    aws("s3").create_bucket(Bucket=STAGING)
    return aws


def instances(aws):
    return sorted((i["Account"], i["Region"]) for i in aws("cloudformation").list_stack_instances(StackSetName=SET)["Summaries"])


def test_self_managed_lifecycle(admin, bw, tmp_path):
    cfn = admin("cloudformation")
    cfg = self_managed(tmp_path, [A, B])

    # nothing yet: diff shows the whole template and the instances it would create
    out = ok(bw("org", "diff", "--config", cfg), 1)
    assert f"{SET}: no such stack set; org deploy would create it" in out
    assert f"would create instances in us-east-1 for account(s) {A}, {B}" in out

    out = ok(bw("org", "deploy", "--config", cfg))
    assert f"{SET}: staged the member template" in out  # over 51,200 bytes: through S3
    assert f"{SET}: created the stack set (SELF_MANAGED, SELF)" in out
    assert f"  {SET} {A} us-east-1: SUCCEEDED" in out and f"  {SET} {B} us-east-1: SUCCEEDED" in out
    assert "2 instance(s)" in out
    assert table(out) == [(SET, A, "us-east-1", "CURRENT"), (SET, B, "us-east-1", "CURRENT")]
    assert instances(admin) == [(A, "us-east-1"), (B, "us-east-1")]
    described = cfn.describe_stack_set(StackSetName=SET)["StackSet"]
    assert described["PermissionModel"] == "SELF_MANAGED"
    assert "Custom::BedrockInvocationLogging" in described["TemplateBody"]  # the logging custom resource rides along
    # each instance is a real stack in its account (the emulator's stack id names the account)
    ids = {i["Account"]: i["StackId"] for i in cfn.list_stack_instances(StackSetName=SET)["Summaries"]}
    assert ids[A].startswith(f"arn:aws:cloudformation:us-east-1:{A}:stack/StackSet-{SET}-")

    ok(bw("org", "diff", "--config", cfg), 0)

    # a changed threshold: the template diff, then an update of every instance
    changed = self_managed(tmp_path, [A, B], extra="alerts:\n  composite: false\n  thresholds:\n    tokens_per_hour: 250000\n", name="changed.yaml")
    changed_text = (tmp_path / changed).read_text().replace(EMULATED, "dashboard:\n  enabled: false\n")
    (tmp_path / changed).write_text(changed_text)
    out = ok(bw("org", "diff", "--config", changed), 1)
    assert "-      Threshold: 100000" in out and "+      Threshold: 250000" in out, out
    out = ok(bw("org", "deploy", "--config", changed))
    assert f"{SET}: updating the template of every instance" in out
    assert "(UPDATE) SUCCEEDED" in out
    assert "Threshold: 250000" in cfn.describe_stack_set(StackSetName=SET)["StackSet"]["TemplateBody"]
    ok(bw("org", "diff", "--config", changed), 0)

    # add an account: only that one is created
    three = self_managed(tmp_path, [A, B, C], extra="alerts:\n  thresholds:\n    tokens_per_hour: 250000\n", name="three.yaml")
    (tmp_path / three).write_text((tmp_path / three).read_text().replace(EMULATED, "dashboard:\n  enabled: false\n").replace("alerts:\n  thresholds:", "alerts:\n  composite: false\n  thresholds:"))
    out = ok(bw("org", "diff", "--config", three), 1)
    assert f"would create instances in us-east-1 for account(s) {C}" in out
    out = ok(bw("org", "deploy", "--config", three))
    assert f"{SET}: template unchanged" in out
    assert f"creating instances in us-east-1 for account(s) {C} (operation" in out
    assert [r[1] for r in table(out)] == [A, B, C]

    # remove one (excluded): only its instance is deleted
    text = (tmp_path / three).read_text().replace(f"    accounts: ['{A}', '{B}', '{C}']\n", f"    accounts: ['{A}', '{B}', '{C}']\n    exclude_accounts: ['{B}']\n")
    (tmp_path / "minus-b.yaml").write_text(text)
    out = ok(bw("org", "deploy", "--config", "minus-b.yaml"))
    assert f"deleting the instances of account(s) {B} in us-east-1 no longer targeted" in out
    assert [r[1] for r in table(out)] == [A, C]
    assert instances(admin) == [(A, "us-east-1"), (C, "us-east-1")]

    out = ok(bw("org", "status", "--config", "minus-b.yaml"))
    assert table(out) == [(SET, A, "us-east-1", "CURRENT"), (SET, C, "us-east-1", "CURRENT")]

    # destroy: refused without --yes, then instances and the set are deleted, kept data named
    proc = bw("org", "destroy", "--config", "minus-b.yaml")
    assert proc.returncode == 2 and "--yes" in proc.stderr
    out = ok(bw("org", "destroy", "--config", "minus-b.yaml", "--yes"))
    assert f"{SET}: deleting 2 instance(s) of account(s) {A}, {C}" in out
    assert f"{SET}: deleted the stack set" in out
    assert f"kept in account {A} us-east-1 (retained, with their data):" in out
    assert f"LogBucket (AWS::S3::Bucket): bedrock-watch-logs-{A}-us-east-1" in out
    assert "InvocationLogGroup (AWS::Logs::LogGroup): /aws/bedrock/modelinvocations" in out
    with pytest.raises(cfn.exceptions.StackSetNotFoundException):
        cfn.describe_stack_set(StackSetName=SET)
    out = ok(bw("org", "status", "--config", "minus-b.yaml"))
    assert f"{SET}: no such stack set" in out and "0 instance(s)" in out


def test_service_managed_targets_an_ou_through_organizations(admin, bw, tmp_path):
    org = admin("organizations")
    org.create_organization(FeatureSet="ALL")
    root = org.list_roots()["Roots"][0]["Id"]
    ou = org.create_organizational_unit(ParentId=root, Name="genai")["OrganizationalUnit"]["Id"]
    account = org.create_account(Email="ml@example.com", AccountName="ml")["CreateAccountStatus"]["AccountId"]
    org.move_account(AccountId=account, SourceParentId=root, DestinationParentId=ou)
    cfg = write(tmp_path, f"  targets:\n    organizational_units: [{ou}]\n")

    out = ok(bw("org", "plan", "--config", cfg))
    assert f"permission model SERVICE_MANAGED (CallAs SELF), targets: OUs {ou}" in out
    assert "auto-deployment to new accounts: on" in out
    out = ok(bw("org", "deploy", "--config", cfg))
    assert f"{SET}: created the stack set (SERVICE_MANAGED, SELF)" in out
    assert f"creating instances in us-east-1 for every account of {ou}" in out
    assert table(out) == [(SET, account, "us-east-1", "CURRENT")]
    assert admin("cloudformation").describe_stack_set(StackSetName=SET)["StackSet"]["PermissionModel"] == "SERVICE_MANAGED"


@pytest.mark.parametrize("organization, key, allowed", [
    ("  targets:\n    organizational_units: [ou-bad]\n", "organization.targets.organizational_units[0]", "ou-<4-32 lowercase letters or digits>"),
    ("  regions: []\n  targets:\n    organizational_units: [r-ab12]\n", "organization.regions", "list at least one region"),
    ("  failure_tolerance_percentage: 150\n  targets:\n    organizational_units: [r-ab12]\n", "organization.failure_tolerance_percentage", "0 to 100"),
    ("  permission_model: self_managed\n  targets:\n    accounts: ['12345']\n", "organization.targets.accounts[0]", "12-digit account id"),
])
def test_bad_input_is_a_clear_error_before_any_call(admin, bw, tmp_path, organization, key, allowed):
    cfg = write(tmp_path, organization)
    proc = bw("org", "deploy", "--config", cfg)
    assert proc.returncode == 2, proc.stderr
    assert f"`{key}`" in proc.stderr and allowed in proc.stderr, proc.stderr
    assert "help:" in proc.stderr
    assert "panicked" not in proc.stderr
    assert admin("cloudformation").list_stack_sets()["Summaries"] == []


def member(aws, account, service, region="us-east-1"):
    """A client acting in `account`: moto gives assumed-role credentials the role's account, as
    AWS does, so this is how a test sets up what a member account team configured."""
    import boto3
    creds = aws("sts").assume_role(RoleArn=f"arn:aws:iam::{account}:role/setup", RoleSessionName="setup")["Credentials"]
    endpoint = aws("sts").meta.endpoint_url
    return boto3.client(service, region_name=region, endpoint_url=endpoint, aws_access_key_id=creds["AccessKeyId"],
                        aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"])


def test_audit_and_plan_check_read_every_member_account(admin, bw, tmp_path):
    """`org audit` assumes the read role in each target account (moto honours the account of
    assumed-role credentials), reads the logging configuration and the delivery-failure metrics,
    and says who owns each. What moto cannot back: an AssumeRole that fails (moto does not check
    the role's trust), so the unreadable cell is unit-tested (src/org/audit.rs)."""
    for account in (A, B):
        iam = member(admin, account, "iam")
        iam.create_role(RoleName="bw-audit", AssumeRolePolicyDocument='{"Version":"2012-10-17","Statement":[]}')
    member(admin, A, "bedrock").put_model_invocation_logging_configuration(loggingConfig={
        "cloudWatchConfig": {"logGroupName": "/team/own-logs", "roleArn": f"arn:aws:iam::{A}:role/team-logging"},
        "textDataDeliveryEnabled": True})
    cfg = write(tmp_path, "  permission_model: self_managed\n  read_role_name: bw-audit\n  targets:\n"
                f"    accounts: ['{A}', '{B}', '{C}']\n    exclude_accounts: ['{C}']\n")

    out = ok(bw("org", "audit", "--config", cfg))
    assert "2 account-region(s): 0 logged by bedrock-watch, 1 by someone else, 1 not logged, 0 unreadable" in out
    rows = {l.split()[0]: l for l in out.splitlines() if l.startswith((A, B, C))}
    assert set(rows) == {A, B}, "the excluded account is not read"
    assert "logs:/team/own-logs" in rows[A] and "someone else" in rows[A]
    assert " off " in rows[B] and "not logged" in rows[B]

    import json
    doc = json.loads(ok(bw("org", "audit", "--config", cfg, "--format", "json")))
    assert doc["schema"] == "bedrock-watch/org-audit@1"
    assert [(r["account"], r["owner"]) for r in doc["rows"]] == [(A, "other"), (B, "nobody")]

    plan = bw("org", "plan", "--config", cfg, "--check-existing")
    out = ok(plan, 1)
    assert "existing logging: 1 instance(s) would fail (logging.adopt_existing is false):" in out
    assert f"  {A} us-east-1: delivers to logs:/team/own-logs" in out

    adopting = write(tmp_path, "  permission_model: self_managed\n  read_role_name: bw-audit\n  targets:\n"
                     f"    accounts: ['{A}', '{B}']\n", extra="logging:\n  adopt_existing: true\n", name="adopt.yaml")
    out = ok(bw("org", "plan", "--config", adopting, "--check-existing"))
    assert "no target account and region has a configuration this stack did not write (2 read)" in out
    # nothing was written anywhere: the audit only reads
    assert member(admin, B, "bedrock").get_model_invocation_logging_configuration().get("loggingConfig") in (None, {})


# --- report --org / --account ---------------------------------------------------------------
# What moto 5.2.5 serves of the cross-account report, as measured before writing these tests:
# ListMetrics takes IncludeLinkedAccounts and OwningAccount but ignores both and returns no
# OwningAccounts; GetMetricData ignores each query's AccountId; StartQuery fails with
# logGroupIdentifiers (it reads only logGroupName(s)); there is no OAM service. So moto is an
# account without links, where CloudWatch names every metric the caller's own: these tests run
# the real binary on that case (the caller's account is moto's 123456789012). Linked accounts
# (OwningAccounts in the answer, AccountId and OwningAccount in the requests, ARNs for other
# accounts' log groups) are unit-tested through the SDK's replay client (src/report/recorded_tests.rs)
# and the by-account arithmetic in src/report/accounts.rs.
OWN = "123456789012"
HAIKU = "anthropic.claude-3-5-haiku-20241022-v1:0"
SONNET = "anthropic.claude-sonnet-4-20250514-v1:0"


@pytest.fixture
def cw_adapter(reset):
    from cbor_adapter import CborAdapter
    with CborAdapter(reset) as a:
        yield a


def _seed_metrics(aws):
    import datetime
    today = datetime.datetime.now(datetime.timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    since, until = today - datetime.timedelta(days=2), today
    cw = aws("cloudwatch")
    t = since + datetime.timedelta(hours=1)
    for model, calls, tin, tout in ((HAIKU, 10, 10000, 2000), (SONNET, 4, 4000, 1000)):
        cw.put_metric_data(Namespace="AWS/Bedrock", MetricData=[
            {"MetricName": n, "Dimensions": [{"Name": "ModelId", "Value": model}], "Timestamp": t, "Value": float(v), "Unit": "Count"}
            for n, v in (("Invocations", calls), ("InputTokenCount", tin), ("OutputTokenCount", tout))])
    aws("logs").create_log_group(logGroupName="/aws/bedrock/modelinvocations")
    return since.strftime("%Y-%m-%dT%H:%M:%SZ"), until.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_report_org_sums_the_accounts_and_tables_them(aws, bw, tmp_path, cw_adapter):
    import json
    since, until = _seed_metrics(aws)
    cfg = write(tmp_path, f"  permission_model: self_managed\n  targets:\n    accounts: ['{A}']\n")
    out = ok(bw("report", "--org", "--config", cfg, "--since", since, "--until", until, "--format", "json", endpoint_url=cw_adapter.url))
    rep = json.loads(out)
    assert rep["schema"] == "bedrock-watch/report/v2"
    assert rep["stack_name"] == SET and rep["log_group"] == "/aws/bedrock/modelinvocations"
    # Haiku 3.5: 10,000 × $0.0008 + 2,000 × $0.004 per 1K = $0.016; Sonnet 4: 4,000 × $0.003 + 1,000 × $0.015 = $0.027.
    assert rep["totals"]["invocations"] == 14
    assert rep["totals"]["estimated_cost_usd"] == pytest.approx(0.043)
    assert [(a["account_id"], a["invocations"], a["input_tokens"]) for a in rep["accounts"]] == [(OWN, 14, 14000)]
    assert rep["accounts"][0]["estimated_cost_usd"] == pytest.approx(0.043)
    ops = [c[0] for c in cw_adapter.calls]
    assert "ListMetrics" in ops and "GetMetricData" in ops
    table_out = ok(bw("report", "--org", "--config", cfg, "--since", since, "--until", until, endpoint_url=cw_adapter.url))
    assert "(1 linked account(s), stack set bedrock-watch-us-east-1)" in table_out
    assert "By account (1)" in table_out and OWN in table_out
    # the saved v2 report re-renders
    (tmp_path / "org.json").write_text(out)
    assert "By account (1)" in ok(bw("report", "--from-json", "org.json"))


def test_report_account_reads_one_account_and_refuses_one_without_metrics(aws, bw, tmp_path, cw_adapter):
    import json
    since, until = _seed_metrics(aws)
    cfg = write(tmp_path, f"  permission_model: self_managed\n  targets:\n    accounts: ['{A}']\n")
    rep = json.loads(ok(bw("report", "--account", OWN, "--config", cfg, "--since", since, "--until", until, "--format", "json", endpoint_url=cw_adapter.url)))
    assert rep["schema"] == "bedrock-watch/report/v2" and rep["account"] == OWN and "accounts" not in rep
    assert rep["totals"]["invocations"] == 14
    # An account with no metrics here (moto ignores OwningAccount: bedrock-watch keeps only that account's metrics).
    proc = bw("report", "--account", A, "--config", cfg, "--since", since, "--until", until, endpoint_url=cw_adapter.url)
    assert proc.returncode == 2, proc.stderr
    assert f"no Bedrock metrics of account {A} in us-east-1" in proc.stderr and "help:" in proc.stderr


@pytest.mark.parametrize("value", ["12345", "1234567890123", "abcdefghijkl"])
def test_report_account_must_be_twelve_digits(bw, value):
    proc = bw("report", "--account", value)
    assert proc.returncode == 2
    assert "--account" in proc.stderr and "12-digit" in proc.stderr, proc.stderr
    assert "panicked" not in proc.stderr


def _doc(v):
    """A policy document as boto3 returns it: a dict, URL-decoded JSON text, or (moto 5.2.5 for
    inline policies created from a template) the Python repr of the dict."""
    import ast
    import json
    if isinstance(v, dict):
        return v
    try:
        return json.loads(v)
    except ValueError:
        return ast.literal_eval(v)


def test_org_roles_deploy_as_written_and_grant_only_what_they_say(admin, bw, tmp_path):
    """`org roles` writes the two self-managed roles; moto creates IAM roles with their trust and
    inline policies for real, so both templates are deployed as a user would: the administration
    role in the administrator account, the execution role in a member account (through the
    assumed-role credentials moto gives that account). What moto does not check (that StackSets
    can then assume them, IAM's size limits) is unit-tested in src/org/roles.rs."""
    import json
    cfg = self_managed(tmp_path, [A, B])
    out = ok(bw("org", "roles", "--config", cfg, "--out", "roles"))
    assert "roles/bedrock-watch-stackset-administration-role.yaml" in out and "roles/bedrock-watch-stackset-execution-role.yaml" in out
    admin_body = (tmp_path / "roles" / "bedrock-watch-stackset-administration-role.yaml").read_text()
    exec_body = (tmp_path / "roles" / "bedrock-watch-stackset-execution-role.yaml").read_text()

    cfn = admin("cloudformation")
    cfn.create_stack(StackName="stackset-admin-role", TemplateBody=admin_body, Capabilities=["CAPABILITY_NAMED_IAM"])
    iam = admin("iam")
    role = iam.get_role(RoleName="AWSCloudFormationStackSetAdministrationRole")["Role"]
    trust = _doc(role["AssumeRolePolicyDocument"])
    assert trust["Statement"][0]["Principal"] == {"Service": "cloudformation.amazonaws.com"}
    doc = iam.get_role_policy(RoleName="AWSCloudFormationStackSetAdministrationRole", PolicyName="AssumeExecutionRole")["PolicyDocument"]
    doc = _doc(doc)
    assert doc["Statement"][0]["Action"] == "sts:AssumeRole"
    assert sorted(doc["Statement"][0]["Resource"]) == [f"arn:aws:iam::{A}:role/AWSCloudFormationStackSetExecutionRole", f"arn:aws:iam::{B}:role/AWSCloudFormationStackSetExecutionRole"]

    admin_account = admin("sts").get_caller_identity()["Account"]
    member(admin, A, "cloudformation").create_stack(StackName="stackset-execution-role", TemplateBody=exec_body, Capabilities=["CAPABILITY_NAMED_IAM"],
                                                    Parameters=[{"ParameterKey": "AdministratorAccountId", "ParameterValue": admin_account}])
    miam = member(admin, A, "iam")
    role = miam.get_role(RoleName="AWSCloudFormationStackSetExecutionRole")["Role"]
    assert role["Arn"] == f"arn:aws:iam::{A}:role/AWSCloudFormationStackSetExecutionRole"
    trust = _doc(role["AssumeRolePolicyDocument"])
    assert trust["Statement"][0]["Principal"] == {"AWS": f"arn:aws:iam::{admin_account}:role/AWSCloudFormationStackSetAdministrationRole"}
    names = miam.list_role_policies(RoleName="AWSCloudFormationStackSetExecutionRole")["PolicyNames"]
    attached = miam.list_attached_role_policies(RoleName="AWSCloudFormationStackSetExecutionRole")["AttachedPolicies"]
    assert names == ["DeployBedrockWatchMemberStack"] and attached == []  # one region: fits inline
    doc = miam.get_role_policy(RoleName="AWSCloudFormationStackSetExecutionRole", PolicyName="DeployBedrockWatchMemberStack")["PolicyDocument"]
    doc = _doc(doc)
    sids = {s["Sid"]: s for s in doc["Statement"]}
    assert sids["CloudFormationStacks"]["Resource"] == f"arn:aws:cloudformation:us-east-1:*:stack/StackSet-{SET}-*/*"
    assert all("*" not in a for s in doc["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"]))


def test_org_roles_is_for_self_managed_rollouts(admin, bw, tmp_path):
    cfg = write(tmp_path, "  targets:\n    organizational_units: [r-ab12]\n")
    proc = bw("org", "roles", "--config", cfg)
    assert proc.returncode == 2
    assert "self_managed" in proc.stderr and "help:" in proc.stderr
