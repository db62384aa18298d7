"""The Python side of tests/data/quota-policies.json: quota_core's Sids, block targets, deny
statements and merged policies. src/quotas/admin/fixture_tests.rs checks the Rust side (the
`quota` CLI) against the same file, so both write the same IAM documents and items."""
import json
from pathlib import Path

import pytest

import quota_build

FIXTURE = json.loads((Path(__file__).resolve().parents[1] / "data" / "quota-policies.json").read_text())


def core(people=False, ic=None):
    return quota_build.build("reset", {"usage_table": "u", "audit_table": "a", "sessions_are_people": people,
                                        "identity_center": ic, "session_tag_keys": FIXTURE["session_tag_keys"],
                                        "time_zone": "UTC"})


@pytest.mark.parametrize("case", FIXTURE["block_targets"], ids=lambda c: c["arn"].rsplit(":", 1)[-1])
def test_block_targets(case):
    m = core(case["sessions_are_people"], case["identity_center"])
    assert m.identity(case["arn"])[1] == case["principal"]
    if "error" in case:
        with pytest.raises(m.CannotBlock) as err:
            m.block_target(case["principal"], case["arn"])
        assert str(err.value) == case["error"]
    else:
        assert m.block_target(case["principal"], case["arn"]) == (case["mechanism"], case["target"])


def test_sids_statements_and_merges():
    m = core()
    for c in FIXTURE["sids"]:
        assert m.sid_for(c["kind"], c["value"]) == c["sid"]
    for c in FIXTURE["deny_statements"]:
        assert m.deny_statement(c["sid"], c["userid"]) == c["statement"]
    assert {"Version": "2012-10-17", "Statement": [m.deny_statement("BedrockWatchQuotaBlock")]} == FIXTURE["user_policy"]
    for c in FIXTURE["merges"]:
        assert m.merge_statement(c["document"], c["sid"], c["statement"]) == c["result"]


@pytest.mark.parametrize("case", FIXTURE["session_slots"], ids=lambda c: f"{len(c['tags'])}-tags-{c['session']}")
def test_session_slots(case):
    assert core(True).session_slots(case["tags"], case["session"]) == (case["held"], case["free"])


def test_tag_values():
    m = core(True)
    for c in FIXTURE["tag_values"]:
        assert bool(m.TAG_VALUE.match(c["session"])) == c["fits"], c["session"]
