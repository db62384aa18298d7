"""The quota reset function (scheduled at midnight in the configured time zone), run
in-process against moto exactly as Lambda runs it (CONFIG prelude + quota_core.py +
reset_handler.py)."""
import json

from botocore.exceptions import ClientError

from quota_support import (ACCOUNT, audits, build, config, create_role, item, notifications, record, role_arn,
                           role_block, sso_arn, subscription_event, user_arn, user_policy, utc)
from quota_support import qaws, serialized_dynamodb  # noqa: F401 (pytest fixtures)

EXISTING = {"Version": "2012-10-17", "Statement": [{"Sid": "ReadLogs", "Effect": "Allow",
                                                    "Action": "logs:GetLogEvents", "Resource": "*"}]}


def core(cfg, at):
    """The accounting module, used to put blocks in place as the accounting function does."""
    return build("accounting", cfg, at)


def reset(cfg, at):
    return build("reset", cfg, at)


def _inline(qaws, instance, ps):
    text = qaws["sso"].get_inline_policy_for_permission_set(InstanceArn=instance, PermissionSetArn=ps)["InlinePolicy"]
    return json.loads(text) if text else None


def _setup_three_mechanisms(qaws):
    """An IAM user, a role session and an Identity Center user, each blocked."""
    qaws["iam"].create_user(UserName="bob", Path="/ops/")
    role_id = create_role(qaws, "support-bot")["RoleId"]
    instance = qaws["sso"].list_instances()["Instances"][0]["InstanceArn"]
    ps = qaws["sso"].create_permission_set(Name="BedrockDeveloper", InstanceArn=instance)["PermissionSet"]["PermissionSetArn"]
    qaws["sso"].put_inline_policy_to_permission_set(InstanceArn=instance, PermissionSetArn=ps,
                                                    InlinePolicy=json.dumps(EXISTING))
    cfg = config(mode="block", sessions_are_people=True,
                 identity_center={"instance_arn": instance, "permission_set_arns": {"BedrockDeveloper": ps}})
    return cfg, role_id, instance, ps


def test_reset_lifts_expired_blocks_undoing_each_mechanism_and_keeps_the_others(qaws):
    cfg, role_id, instance, ps = _setup_three_mechanisms(qaws)
    mod = core(cfg, utc("2026-11-20T12:00:00Z"))
    day_end, month_end = utc("2026-11-20T23:00:00Z"), utc("2026-11-30T23:00:00Z")
    assert mod.block_principal("bob", "automatic", day_end, "day limit", user_arn("bob", "/ops/"))["result"] == "blocked"
    assert mod.block_principal("support-bot/i-1", "automatic", day_end, "day limit", role_arn("support-bot", "i-1"))["result"] == "blocked"
    assert mod.block_principal("support-bot/i-2", "automatic", month_end, "month limit", role_arn("support-bot", "i-2"))["result"] == "blocked"
    assert mod.block_principal("jane@example.com", "automatic", day_end, "day limit", sso_arn("jane@example.com"))["result"] == "blocked"
    assert role_block(qaws, "support-bot") == {"policies": ["session"], "sessions": ["i-1", "i-2"]}
    assert len(_inline(qaws, instance, ps)["Statement"]) == 2

    # The schedule fires at midnight in Berlin (23:00Z in November).
    summary = reset(cfg, utc("2026-11-20T23:00:05Z")).handler({}, None)
    assert summary["removed"] == 3 and summary["kept"] == 1 and summary["errors"] == 0
    assert sorted(summary["principals"]) == ["bob", "jane@example.com", "support-bot/i-1"]
    assert user_policy(qaws, "bob") is None
    assert role_block(qaws, "support-bot") == {"policies": ["session"], "sessions": ["i-2"]}, "the unexpired block stays"
    assert _inline(qaws, instance, ps) == EXISTING, "only our statement is removed from the permission set"
    assert item(qaws, "PRINCIPAL#bob", "BLOCK") is None
    assert item(qaws, "PRINCIPAL#support-bot/i-2", "BLOCK")["until"] == "2026-11-30T23:00:00Z"

    unblocks = audits(qaws, "unblock")
    assert sorted(a["principal"] for a in unblocks) == ["bob", "jane@example.com", "support-bot/i-1"]
    assert {a["actor"] for a in unblocks} == {"automatic-reset"} and {a["result"] for a in unblocks} == {"ok"}
    assert {a["until"] for a in unblocks} == {"2026-11-20T23:00:00Z"}
    [summary_entry] = audits(qaws, "reset")
    assert json.loads(summary_entry["details"])["removed"] == 3
    assert sorted(a["principal"] for _, _, a in notifications(qaws, "unblock")) == ["bob", "jane@example.com", "support-bot/i-1"]

    # Idempotent: nothing more to do, nothing more recorded.
    again = reset(cfg, utc("2026-11-20T23:10:00Z")).handler({}, None)
    assert again["removed"] == 0 and again["kept"] == 1
    assert len(audits(qaws, "reset")) == 1 and len(audits(qaws, "unblock")) == 3

    # At the start of December the monthly block goes too, and the session policy with it.
    assert reset(cfg, utc("2026-11-30T23:00:00Z")).handler({}, None)["removed"] == 1
    assert role_block(qaws, "support-bot") is None


def test_blocks_end_at_local_midnight_across_daylight_saving_changes(qaws):
    qaws["iam"].create_user(UserName="bob")
    qaws["iam"].create_user(UserName="eve")
    cfg = config(mode="block", daily_limit=1000.0)
    # 29 March 2026 has 23 hours in Berlin: its block ends at 22:00Z.
    core(cfg, utc("2026-03-29T12:00:00Z")).handler(
        subscription_event([record("d-1", user_arn("bob"), "2026-03-29T10:00:00Z", inp=5000)]), None)
    assert item(qaws, "PRINCIPAL#bob", "BLOCK")["until"] == "2026-03-29T22:00:00Z"
    # One hour before (still 23:00 local), the block stays.
    assert reset(cfg, utc("2026-03-29T21:00:00Z")).handler({}, None)["removed"] == 0
    assert user_policy(qaws, "bob") is not None
    assert reset(cfg, utc("2026-03-29T22:00:00Z")).handler({}, None)["removed"] == 1
    assert user_policy(qaws, "bob") is None

    # 25 October 2026 has 25 hours: its block ends at 23:00Z, not 22:00Z.
    core(cfg, utc("2026-10-25T12:00:00Z")).handler(
        subscription_event([record("d-2", user_arn("eve"), "2026-10-25T10:00:00Z", inp=5000)]), None)
    assert item(qaws, "PRINCIPAL#eve", "BLOCK")["until"] == "2026-10-25T23:00:00Z"
    assert reset(cfg, utc("2026-10-25T22:00:00Z")).handler({}, None)["removed"] == 0
    assert user_policy(qaws, "eve") is not None
    assert reset(cfg, utc("2026-10-25T22:59:00Z")).handler({}, None)["removed"] == 1, "a schedule firing a moment early"
    assert user_policy(qaws, "eve") is None


def test_a_block_extended_meanwhile_is_not_lifted(qaws):
    qaws["iam"].create_user(UserName="bob")
    cfg = config(mode="block")
    mod = core(cfg, utc("2026-11-20T12:00:00Z"))
    mod.block_principal("bob", "automatic", utc("2026-11-20T23:00:00Z"), "day limit", user_arn("bob"))
    result = mod.unblock_principal("bob", "automatic-reset", "ended", expected_until="2026-11-19T23:00:00Z")
    assert result["result"] == "extended"
    assert user_policy(qaws, "bob") is not None and item(qaws, "PRINCIPAL#bob", "BLOCK") is not None
    # Extended between reading the item and deleting it: the block is put back.
    r = reset(cfg, utc("2026-11-20T23:00:00Z"))
    real_delete = r.unblock_principal.__globals__["ddb"]().delete_item

    class Racing:
        def __init__(self, real):
            self.real = real

        def delete_item(self, **kwargs):
            if kwargs["Key"]["sk"] == "BLOCK":
                qaws["table"].update_item(Key=kwargs["Key"], UpdateExpression="SET #u = :u",
                                          ExpressionAttributeNames={"#u": "until"},
                                          ExpressionAttributeValues={":u": "2026-11-30T23:00:00Z"})
            return real_delete(**kwargs)

        def __getattr__(self, name):
            return getattr(self.real, name)

    real_client = r.client
    r.client = lambda service, region=None: Racing(real_client(service)) if service == "dynamodb" else real_client(service, region)
    summary = r.handler({}, None)
    assert summary["removed"] == 0 and summary["extended"] == 1
    assert user_policy(qaws, "bob") is not None, "re-applied after the concurrent extension"
    assert item(qaws, "PRINCIPAL#bob", "BLOCK")["until"] == "2026-11-30T23:00:00Z"


def test_a_failed_unblock_keeps_the_block_is_audited_notified_and_retried(qaws):
    qaws["iam"].create_user(UserName="bob")
    cfg = config(mode="block")
    core(cfg, utc("2026-11-20T12:00:00Z")).block_principal("bob", "automatic", utc("2026-11-20T23:00:00Z"),
                                                           "day limit", user_arn("bob"))
    r = reset(cfg, utc("2026-11-20T23:00:00Z"))
    real_client = r.client

    class DeniedIam:
        def detach_user_policy(self, **kwargs):
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "not allowed"}}, "DetachUserPolicy")

    r.client = lambda service, region=None: DeniedIam() if service == "iam" else real_client(service, region)
    summary = r.handler({}, None)
    assert summary["errors"] == 1 and summary["removed"] == 0
    assert item(qaws, "PRINCIPAL#bob", "BLOCK") is not None
    [failed] = audits(qaws, "unblock")
    assert failed["result"] == "failed" and "AccessDenied" in failed["details"]
    assert "AccessDenied" in notifications(qaws, "unblock-failed")[0][1]
    assert json.loads(audits(qaws, "reset")[0]["details"])["errors"] == 1
    # The next run (with permissions fixed) lifts it.
    assert reset(cfg, utc("2026-11-21T23:00:00Z")).handler({}, None)["removed"] == 1
    assert user_policy(qaws, "bob") is None


def test_operator_unblock_and_protect_mirror_the_cli(qaws):
    qaws["iam"].create_user(UserName="bob")
    cfg = config(mode="block", daily_limit=1000.0)
    mod = core(cfg, utc("2026-11-20T12:00:00Z"))
    mod.handler(subscription_event([record("o-1", user_arn("bob"), "2026-11-20T10:00:00Z", inp=5000)]), None)
    operator = f"arn:aws:sts::{ACCOUNT}:assumed-role/AWSReservedSSO_Admin_1/ops@example.com"
    assert mod.unblock_principal("bob", operator, "false alarm")["result"] == "unblocked"
    assert mod.unblock_principal("bob", operator, "again")["result"] == "not-blocked"
    assert user_policy(qaws, "bob") is None
    # The operator's decision holds for the period: more calls do not block bob again.
    mod.handler(subscription_event([record("o-2", user_arn("bob"), "2026-11-20T11:00:00Z", inp=5000)]), None)
    assert user_policy(qaws, "bob") is None
    assert sorted((a["action"], a["actor"]) for a in audits(qaws) if a["action"] in ("block", "unblock")) == [
        ("block", "automatic"), ("unblock", operator)]
    assert reset(cfg, utc("2026-11-20T23:00:00Z")).handler({}, None) == {
        "removed": 0, "kept": 0, "extended": 0, "errors": 0, "principals": []}
