"""The quota accounting function, run in-process against moto exactly as Lambda runs it
(CONFIG prelude + quota_core.py + accounting_handler.py, see quota_build.py)."""
import json
import random
import re
import threading
import time
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from quota_support import (ACCOUNT, BLOCK_POLICY, DATA, DENIED, PRICES, REGION, SESSION_POLICY, SESSION_TAG_KEYS, audits, build, config, counters, create_role,
                           fixture_records, item, notifications, record, role_arn, role_block, sso_arn,
                           subscription_event, user_arn, user_policy, utc)
from quota_support import qaws, serialized_dynamodb  # noqa: F401 (pytest fixtures)

NOW = utc("2026-11-20T12:00:00Z")
DAY = "DAY#2026-11-20"
MONTH = "MONTH#2026-11"
TS = "2026-11-20T10:00:00Z"


def accounting(cfg=None, at=NOW, **overrides):
    return build("accounting", cfg or config(**overrides), at)


# --- identity rule and prices (pure) ------------------------------------------------------

def test_identity_rule_matches_the_shared_expectations():
    expected = json.loads((DATA / "expected-principals.json").read_text())
    for key, sessions in (("sessions_are_people_false", False), ("sessions_are_people_true", True)):
        mod = accounting(sessions_are_people=sessions)
        got = [mod.principal_of(r["identity"]["arn"]) for r in fixture_records()]
        assert got == expected[key], key


def test_identity_rule_edge_cases_match_the_rust_unit_test():
    mod = accounting()
    sso = "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_BedrockDeveloper_0123abcd/jane.doe@example.com"
    assert mod.identity(sso, False) == ("sso-user", "jane.doe@example.com")
    assert mod.identity(sso, True) == ("sso-user", "jane.doe@example.com")
    role = "arn:aws:sts::111122223333:assumed-role/chatbot-prod/i-0abc"
    assert mod.identity(role, False) == ("role", "chatbot-prod")
    assert mod.identity(role, True) == ("role-session", "chatbot-prod/i-0abc")
    assert mod.identity("arn:aws:iam::111122223333:user/ops/alice", False) == ("iam-user", "alice")
    assert mod.identity("arn:aws:iam::111122223333:user/bob", False) == ("iam-user", "bob")
    assert mod.identity("arn:aws:iam::111122223333:root", False) == ("other", "arn:aws:iam::111122223333:root")
    assert mod.identity("garbage", False) == ("other", "garbage")
    # A role ARN without a session is the role (the Rust match's last assumed-role arm).
    assert mod.identity("arn:aws:sts::1:assumed-role/r", True) == ("role", "r")


def test_fixture_costs_match_the_hand_computation_in_invocation_logs_rs():
    mod = accounting()
    by_principal = defaultdict(Decimal)
    for r in fixture_records():
        tokens = (r["input"].get("inputTokenCount", 0), r["output"].get("outputTokenCount", 0),
                  r["input"].get("cacheReadInputTokenCount", 0), r["input"].get("cacheWriteInputTokenCount", 0))
        by_principal[mod.principal_of(r["identity"]["arn"])] += mod.record_cost(r["modelId"], tokens)
    assert dict(by_principal) == {
        "jane.doe@example.com": Decimal("0.005"), "raj.patel@example.com": Decimal("0.0321"),
        "li.wei@example.com": Decimal("0.0152"), "support-bot-prod": Decimal("0.0084"),
        "etl-batch": Decimal("0.00088"), "legacy-script": Decimal("0.00025"),
    }


def test_prices_profiles_arns_discount_and_unpriced_models():
    mod = accounting(discount_percent=10.0)
    assert mod.base_model_id("us-gov.anthropic.x") == "anthropic.x"
    assert mod.base_model_id("arn:aws:bedrock:eu-central-1:1:inference-profile/eu.amazon.nova-pro-v1:0") == "amazon.nova-pro-v1:0"
    assert mod.base_model_id("arn:aws:bedrock:us-east-1::foundation-model/meta.llama3-1-8b-instruct-v1:0") == "meta.llama3-1-8b-instruct-v1:0"
    # Haiku 3.5: 1,000,000 in and 200,000 out = 1.60 USD, less 10 percent.
    assert mod.record_cost("global.anthropic.claude-3-5-haiku-20241022-v1:0", (1_000_000, 200_000, 0, 0)) == Decimal("1.44")
    # Mistral 7B has no cache prices: cache tokens are charged like input (0.00015).
    assert accounting().record_cost("mistral.mistral-7b-instruct-v0:2", (0, 0, 1000, 1000)) == Decimal("0.0003")
    assert mod.record_cost("unknown.model-v1", (10, 10, 0, 0)) is None
    # An exact entry wins over the base id (as PriceTable::price).
    special = accounting(prices={**PRICES, "us.amazon.nova-pro-v1:0": {"input": 1.0, "output": 1.0}})
    assert special.record_cost("us.amazon.nova-pro-v1:0", (1000, 0, 0, 0)) == Decimal("1")


# --- counting -----------------------------------------------------------------------------

TEAMS = {"developers": {"members": ["jane.doe@example.com", "li.wei@example.com"], "monthly_limit": None},
         "support": {"members": ["support-bot-prod"], "monthly_limit": None}}


def test_subscription_event_counts_the_fixture_per_principal_day_month_and_team(qaws):
    mod = accounting(teams=TEAMS)
    summary = mod.handler(subscription_event(fixture_records()), None)
    assert summary["counted"] == 9 and summary["duplicates"] == 0 and summary["errors"] == 0
    jane = {"calls": 2, "input_tokens": 2000, "output_tokens": 500, "cache_read_tokens": 5000,
            "cache_write_tokens": 1000, "cost_usd": Decimal("0.005"), "unpriced_calls": 0}
    assert counters(qaws, "PRINCIPAL#jane.doe@example.com", DAY) == jane
    assert counters(qaws, "PRINCIPAL#jane.doe@example.com", MONTH) == jane
    assert counters(qaws, "PRINCIPAL#raj.patel@example.com", DAY) == {
        "calls": 2, "input_tokens": 3000, "output_tokens": 1500, "cache_read_tokens": 2000,
        "cache_write_tokens": 0, "cost_usd": Decimal("0.0321"), "unpriced_calls": 0}
    assert counters(qaws, "PRINCIPAL#support-bot-prod", MONTH)["input_tokens"] == 80000
    assert counters(qaws, "PRINCIPAL#support-bot-prod", MONTH)["cost_usd"] == Decimal("0.0084")
    assert counters(qaws, "PRINCIPAL#etl-batch", DAY)["cost_usd"] == Decimal("0.00088")
    assert counters(qaws, "PRINCIPAL#legacy-script", DAY)["cost_usd"] == Decimal("0.00025")
    # Team = jane + li (10,000 in, 2,000 out, 4,000 cache read, 0.0152 USD).
    assert counters(qaws, "TEAM#developers", MONTH) == {
        "calls": 3, "input_tokens": 12000, "output_tokens": 2500, "cache_read_tokens": 9000,
        "cache_write_tokens": 1000, "cost_usd": Decimal("0.0202"), "unpriced_calls": 0}
    assert counters(qaws, "TEAM#support", MONTH)["calls"] == 2
    assert item(qaws, "TEAM#developers", DAY) is None, "teams are counted per month only"
    marker = item(qaws, "REQUEST#req-0004", "REQUEST")
    assert marker["principal"] == "support-bot-prod"
    assert int(marker["ttl"]) == int((NOW + timedelta(days=40)).timestamp())
    # The principal item remembers the caller ARN (how to block it).
    assert item(qaws, "PRINCIPAL#legacy-script", DAY)["arn"] == "arn:aws:iam::111122223333:user/ops/legacy-script"
    assert notifications(qaws) == [] and audits(qaws) == [], "no limits configured"


def test_sessions_as_people_count_each_session(qaws):
    mod = accounting(sessions_are_people=True)
    mod.handler(subscription_event(fixture_records()), None)
    assert counters(qaws, "PRINCIPAL#support-bot-prod/i-0123456789abcdef0", DAY)["input_tokens"] == 50000
    assert counters(qaws, "PRINCIPAL#support-bot-prod/i-0fedcba9876543210", DAY)["input_tokens"] == 30000
    assert item(qaws, "PRINCIPAL#support-bot-prod", DAY) is None


def test_control_messages_are_ignored(qaws):
    summary = accounting().handler(subscription_event([], message_type="CONTROL_MESSAGE"), None)
    assert summary["control"] is True and summary["counted"] == 0
    assert qaws["table"].scan()["Items"] == []


def test_malformed_events_are_logged_without_content_and_skipped(qaws, caplog):
    good = record("ok-1", user_arn("bob"), TS, inp=10, out=5)
    secret = {"requestId": "r-x", "timestamp": TS, "input": {"inputBodyJson": "TOP-SECRET-PROMPT"}}
    messages = ["not json TOP-SECRET-PROMPT", json.dumps([1, 2]), secret, good,
                {"requestId": "r-y", "identity": {"arn": user_arn("bob")}, "timestamp": "yesterday-ish"}]
    summary = accounting().handler(subscription_event(messages), None)
    # The last one has an unusable timestamp: the log event's own timestamp is used instead.
    assert summary["counted"] == 2 and summary["malformed"] == 3 and summary["errors"] == 0
    assert counters(qaws, "PRINCIPAL#bob", DAY)["calls"] == 2
    assert "TOP-SECRET-PROMPT" not in caplog.text
    assert accounting().handler({"awslogs": {"data": "!!!"}}, None)["malformed"] == 1
    assert accounting().handler({"detail": {}}, None)["malformed"] == 1


def test_replayed_batch_is_counted_once(qaws):
    mod = accounting(teams=TEAMS)
    event = subscription_event(fixture_records())
    mod.handler(event, None)
    before = counters(qaws, "TEAM#developers", MONTH)
    again = mod.handler(event, None)
    assert again["counted"] == 0 and again["duplicates"] == 9
    # Overlapping batch: two old records and a new one, plus a duplicate inside the batch.
    extra = record("req-new", user_arn("legacy-script", "/ops/"), TS, model="mistral.mistral-7b-instruct-v0:2",
                   inp=1000, out=0)
    overlap = mod.handler(subscription_event(fixture_records()[6:8] + [extra, extra]), None)
    assert overlap["counted"] == 1 and overlap["duplicates"] == 3
    assert counters(qaws, "TEAM#developers", MONTH) == before
    assert counters(qaws, "PRINCIPAL#legacy-script", DAY)["input_tokens"] == 2000
    assert counters(qaws, "PRINCIPAL#legacy-script", DAY)["cost_usd"] == Decimal("0.0004")


def test_unpriced_models_are_counted_in_tokens_with_unknown_cost(qaws):
    summary = accounting(unit="usd").handler(subscription_event(
        [record("u-1", user_arn("bob"), TS, model="custom.my-model", inp=700, out=300),
         record("u-2", user_arn("bob"), TS, model="amazon.nova-lite-v1:0", inp=1000, out=1000)]), None)
    assert summary["unpriced"] == 1
    c = counters(qaws, "PRINCIPAL#bob", DAY)
    assert c["calls"] == 2 and c["unpriced_calls"] == 1 and c["input_tokens"] == 1700
    assert c["cost_usd"] == Decimal("0.0003")  # only the priced call


def test_stale_records_are_not_counted(qaws):
    old = record("old-1", user_arn("bob"), "2026-10-01T10:00:00Z", inp=10)
    summary = accounting().handler(subscription_event([old]), None)
    assert summary["stale"] == 1 and summary["counted"] == 0
    assert item(qaws, "REQUEST#old-1", "REQUEST") is None


# --- exactly once under conflicts, failures, replays and concurrency ----------------------

class ConflictingDynamoDB:
    """Wraps the handler's DynamoDB client: some transactions are cancelled with
    TransactionConflict before reaching the table, as DynamoDB does under contention."""

    def __init__(self, real, rng, probability=0.0, fail_first=0, permanent=None):
        self.real, self.rng, self.p = real, rng, probability
        self.fail_first, self.permanent, self.calls = fail_first, permanent, 0
        self.lock = threading.Lock()

    def transact_write_items(self, **kwargs):
        with self.lock:
            self.calls += 1
            conflict = self.calls <= self.fail_first or self.rng.random() < self.p
        if self.permanent:
            raise ClientError({"Error": {"Code": self.permanent, "Message": "no"}}, "TransactWriteItems")
        if conflict:
            # DynamoDB names the item that conflicted: a marker or a counter.
            reasons = [{"Code": "None"} for _ in kwargs["TransactItems"]]
            with self.lock:
                reasons[self.rng.randrange(len(reasons))] = {"Code": "TransactionConflict", "Message": "conflict"}
            raise ClientError({"Error": {"Code": "TransactionCanceledException", "Message": "cancelled"},
                               "CancellationReasons": reasons}, "TransactWriteItems")
        return self.real.transact_write_items(**kwargs)

    def __getattr__(self, name):
        return getattr(self.real, name)


def wrap_dynamodb(mod, wrapper_factory):
    real_client = mod.client
    wrapped = {}

    def client(service, region=None):
        c = real_client(service, region)
        if service != "dynamodb":
            return c
        if "w" not in wrapped:
            wrapped["w"] = wrapper_factory(c)
        return wrapped["w"]

    mod.client = client
    return lambda: wrapped["w"]


def test_transaction_conflicts_are_retried(qaws):
    mod = accounting()
    wrapper = wrap_dynamodb(mod, lambda c: ConflictingDynamoDB(c, random.Random(0), fail_first=3))
    summary = mod.handler(subscription_event([record("c-1", user_arn("bob"), TS, inp=100)]), None)
    assert summary["counted"] == 1 and summary["retries"] == 3
    assert wrapper().calls == 4
    assert counters(qaws, "PRINCIPAL#bob", DAY)["input_tokens"] == 100


def test_failed_counting_raises_so_lambda_redelivers_and_the_redelivery_counts_once(qaws):
    mod = accounting()
    wrap_dynamodb(mod, lambda c: ConflictingDynamoDB(c, random.Random(0), permanent="AccessDeniedException"))
    event = subscription_event([record("f-1", user_arn("bob"), TS, inp=100)])
    with pytest.raises(RuntimeError, match="redelivered"):
        mod.handler(event, None)
    assert item(qaws, "PRINCIPAL#bob", DAY) is None
    good = accounting()
    assert good.handler(event, None)["counted"] == 1
    assert good.handler(event, None)["duplicates"] == 1
    assert counters(qaws, "PRINCIPAL#bob", DAY)["input_tokens"] == 100

    # Conflicts that never end are bounded too.
    endless = accounting()
    wrap_dynamodb(endless, lambda c: ConflictingDynamoDB(c, random.Random(0), probability=1.0))
    with pytest.raises(RuntimeError):
        endless.handler(subscription_event([record("f-2", user_arn("bob"), TS, inp=1)]), None)


PEOPLE = [user_arn("ann"), user_arn("ben", "/eng/"), sso_arn("cy@example.com"),
          role_arn("bot", "i-1"), role_arn("bot", "i-2")]
PROP_LIMITS = {"daily_limit": 20000.0, "monthly_limit": 60000.0, "warning_percent": 50.0}


def _random_record(rng, n):
    arn = rng.choice(PEOPLE)
    # Around the local midnights of 20 and 21 November (23:00Z), to cross day boundaries.
    ts = utc("2026-11-19T20:00:00Z") + timedelta(seconds=rng.randrange(0, 30 * 3600))
    model = rng.choice(["amazon.nova-lite-v1:0", "us.anthropic.claude-3-5-haiku-20241022-v1:0", "custom.unpriced"])
    return record(f"p-{n}", arn, ts.strftime("%Y-%m-%dT%H:%M:%SZ"), model=model,
                  inp=rng.randrange(0, 3000), out=rng.randrange(0, 1500), cache_read=rng.choice([None, rng.randrange(0, 500)]))


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_exactly_once_under_random_replays_and_concurrent_batches(qaws, seed):
    """Random action sequences (new batches with internal duplicates, replays of earlier
    batches, several overlapping batches delivered at once from threads, transactions
    cancelled by conflicts) leave the counters equal to a model that sums each requestId
    once, and send each warning or limit notification exactly once."""
    rng = random.Random(seed)
    cfg = config(mode="alert", teams={"t": {"members": ["ann", "cy@example.com"], "monthly_limit": 30000.0}},
                 **PROP_LIMITS)
    mod = build("accounting", cfg, utc("2026-11-21T03:00:00Z"))
    wrap_dynamodb(mod, lambda c: ConflictingDynamoDB(c, random.Random(seed), probability=0.15))
    delivered, batches, fresh = {}, [], iter(range(10_000))

    def new_batch():
        records = [_random_record(rng, next(fresh)) for _ in range(rng.randrange(1, 7))]
        old = rng.sample(list(delivered.values()), min(len(delivered), rng.randrange(0, 3)))
        batch = records + old + rng.sample(records, rng.randrange(0, 2))
        rng.shuffle(batch)
        return batch

    def deliver(batches_now):
        errors = []

        def run(b):
            try:
                mod.handler(subscription_event(b), None)
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(b,)) for b in batches_now]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        for b in batches_now:
            batches.append(b)
            delivered.update({r["requestId"]: r for r in b})

    for _ in range(12):
        action = rng.random()
        if action < 0.4 or not batches:
            deliver([new_batch()])
        elif action < 0.65:
            deliver([rng.choice(batches)])
        else:
            deliver([new_batch() if rng.random() < 0.6 else rng.choice(batches) for _ in range(rng.randrange(2, 5))])

    model = defaultdict(lambda: defaultdict(Decimal))
    for r in delivered.values():
        principal = mod.principal_of(r["identity"]["arn"])
        ts = mod.parse_time(r["timestamp"])
        tokens = (r["input"]["inputTokenCount"], r["output"]["outputTokenCount"],
                  r["input"].get("cacheReadInputTokenCount", 0), 0)
        cost = mod.record_cost(r["modelId"], tokens)
        keys = [f"PRINCIPAL#{principal}|DAY#{mod.day_key(ts)}", f"PRINCIPAL#{principal}|MONTH#{mod.month_key(ts)}"]
        keys += [f"TEAM#{t}|MONTH#{mod.month_key(ts)}" for t in mod.teams_of(principal)]
        for k in keys:
            c = model[k]
            c["calls"] += 1
            c["input_tokens"] += tokens[0]
            c["output_tokens"] += tokens[1]
            c["cache_read_tokens"] += tokens[2]
            c["cost_usd"] += cost or 0
            c["unpriced_calls"] += cost is None

    stored = {}
    for it in qaws["table"].scan()["Items"]:
        if it["pk"].startswith(("PRINCIPAL#", "TEAM#")) and it["sk"].startswith(("DAY#", "MONTH#")):
            stored[f"{it['pk']}|{it['sk']}"] = it
    assert set(stored) == set(model)
    for k, want in model.items():
        for counter, value in want.items():
            assert stored[k].get(counter, 0) == value, (k, counter)
    markers = [i for i in qaws["table"].scan()["Items"] if i["pk"].startswith("REQUEST#")]
    assert len(markers) == len(delivered)

    # Notifications: one per principal/team and period whose usage crossed the threshold.
    sent = defaultdict(int)
    for subject, message, attrs in notifications(qaws):
        label = re.search(r"\((\d{4}-\d\d(?:-\d\d)?)\)", message)
        who = attrs.get("principal") or subject
        sent[(attrs["event"], who, label.group(1) if label else None)] += 1
    assert all(n == 1 for n in sent.values()), sent
    for k, want in model.items():
        pk, sk = k.split("|")
        usage = want["input_tokens"] + want["output_tokens"] + want["cache_read_tokens"]
        label = sk.split("#", 1)[1]
        if pk.startswith("TEAM#"):
            team_sent = [key for key in sent if key[0] == "team-limit" and pk[5:] in key[1]]
            assert len(team_sent) == (1 if usage >= 30000 else 0), k
            continue
        who = pk.split("#", 1)[1]
        limit = PROP_LIMITS["daily_limit" if sk.startswith("DAY#") else "monthly_limit"]
        assert sent.get(("limit", who, label), 0) == (1 if usage >= limit else 0), (k, usage)
        if limit / 2 <= usage < limit:
            assert sent.get(("warning", who, label), 0) == 1, (k, usage)
        if usage < limit / 2:
            assert ("warning", who, label) not in sent, (k, usage)


# --- warnings, alert mode, blocks ---------------------------------------------------------

def test_warning_is_sent_once_per_principal_and_period(qaws):
    cfg = config(daily_limit=10000.0, emails={"bob": "bob@example.com"})
    mod = build("accounting", cfg, NOW)
    assert mod.handler(subscription_event([record("w-1", user_arn("bob"), TS, inp=5000)]), None)["warnings"] == 0
    second = subscription_event([record("w-2", user_arn("bob"), TS, inp=3000, out=500)])
    assert mod.handler(second, None)["warnings"] == 1
    assert mod.handler(second, None)["warnings"] == 0, "replay"
    assert mod.handler(subscription_event([record("w-3", user_arn("bob"), TS, inp=500)]), None)["warnings"] == 0
    warnings = notifications(qaws, "warning")
    assert len(warnings) == 1
    subject, message, attrs = warnings[0]
    assert "bob is near the day limit" in subject
    assert "8,500 tokens of its day limit 10,000 tokens (2026-11-20)" in message
    assert attrs == {"event": "warning", "principal": "bob", "email": "bob@example.com"}
    assert "bob@example.com" in message
    assert item(qaws, "PRINCIPAL#bob", DAY)["warned"] == "2026-11-20T12:00:00Z"
    assert [a["principal"] for a in audits(qaws, "warn")] == ["bob"]
    # The next local day is a new period: it warns again.
    next_day = subscription_event([record("w-4", user_arn("bob"), "2026-11-20T23:30:00Z", inp=9000)])
    assert mod.handler(next_day, None)["warnings"] == 1


def test_failed_notification_releases_the_flag_so_a_later_batch_warns(qaws):
    mod = accounting(daily_limit=1000.0)
    real = mod.client

    class BrokenSns:
        def publish(self, **kwargs):
            raise ClientError({"Error": {"Code": "AuthorizationError", "Message": "no"}}, "Publish")

    mod.client = lambda service, region=None: BrokenSns() if service == "sns" else real(service, region)
    summary = mod.handler(subscription_event([record("n-1", user_arn("bob"), TS, inp=900)]), None)
    assert summary["warnings"] == 0 and summary["errors"] == 1
    assert "warned" not in item(qaws, "PRINCIPAL#bob", DAY)
    mod.client = real
    assert mod.handler(subscription_event([record("n-2", user_arn("bob"), TS, inp=1)]), None)["warnings"] == 1


def test_alert_mode_notifies_the_limit_once_and_blocks_nothing(qaws):
    qaws["iam"].create_user(UserName="bob")
    mod = accounting(mode="alert", daily_limit=1000.0)
    summary = mod.handler(subscription_event([record("a-1", user_arn("bob"), TS, inp=1200)]), None)
    assert summary["limits"] == 1 and summary["blocks"] == 0
    mod.handler(subscription_event([record("a-2", user_arn("bob"), TS, inp=50)]), None)
    limits = notifications(qaws, "limit")
    assert len(limits) == 1 and "Mode alert" in limits[0][1]
    assert notifications(qaws, "warning") == [], "the limit notification replaces the warning"
    assert user_policy(qaws, "bob") is None
    assert item(qaws, "PRINCIPAL#bob", "BLOCK") is None
    assert [(a["action"], a["until"]) for a in audits(qaws)] == [("limit", "2026-11-20T23:00:00Z")]


def test_block_mode_attaches_a_deny_policy_to_an_iam_user(qaws):
    qaws["iam"].create_user(UserName="legacy-script", Path="/ops/")
    mod = accounting(mode="block", daily_limit=1000.0, emails={"legacy-script": "ops@example.com"})
    summary = mod.handler(subscription_event([record("b-1", user_arn("legacy-script", "/ops/"), TS, inp=1500)]), None)
    assert summary["blocks"] == 1 and summary["errors"] == 0
    policy = user_policy(qaws, "legacy-script")
    [statement] = policy["Statement"]
    assert statement["Effect"] == "Deny" and set(statement["Action"]) == DENIED and statement["Resource"] == "*"
    assert "Condition" not in statement
    block = item(qaws, "PRINCIPAL#legacy-script", "BLOCK")
    assert block["until"] == "2026-11-20T23:00:00Z"  # midnight in Berlin
    assert block["mechanism"] == "user-policy" and block["target"] == {"user_name": "legacy-script"}
    assert block["blocked_by"] == "automatic" and "day limit 1,000 tokens" in block["reason"]
    [entry] = audits(qaws, "block")
    assert entry["principal"] == "legacy-script" and entry["actor"] == "automatic" and entry["result"] == "ok"
    assert entry["pk"] == "AUDIT#2026-11" and entry["until"] == "2026-11-20T23:00:00Z"
    [(subject, message, attrs)] = notifications(qaws, "block")
    assert "blocked until 2026-11-20T23:00:00Z" in subject and attrs["email"] == "ops@example.com"
    # Once per period: more calls (they would be denied anyway) do not block again.
    assert mod.handler(subscription_event([record("b-2", user_arn("legacy-script", "/ops/"), TS, inp=5)]), None)["blocks"] == 0


def test_block_audit_dates_the_call_that_reached_the_limit_and_the_delay_to_the_deny(qaws):
    """The limit is 1,000 tokens; 600 were counted before. In the next batch (out of order) the
    call at 10:05 takes usage to 1,000, so the delay is measured from it (NOW is 12:00), not from
    the batch's first or newest call."""
    qaws["iam"].create_user(UserName="dana")
    mod = accounting(mode="block", daily_limit=1000.0)
    mod.handler(subscription_event([record("d-0", user_arn("dana"), "2026-11-20T09:00:00Z", inp=600)]), None)
    assert audits(qaws, "block") == []
    batch = [record("d-3", user_arn("dana"), "2026-11-20T10:30:00Z", inp=50),
             record("d-1", user_arn("dana"), "2026-11-20T10:00:00Z", inp=300),
             record("d-2", user_arn("dana"), "2026-11-20T10:05:00Z", inp=100)]
    assert mod.handler(subscription_event(batch), None)["blocks"] == 1
    [entry] = audits(qaws, "block")
    details = json.loads(entry["details"])
    assert details["over_limit_call_at"] == "2026-11-20T10:05:00.000Z"
    assert details["enforcement_delay_ms"] == (115 * 60) * 1000
    # A manual block (quota block, the reset function) names no call: no delay is claimed.
    qaws["iam"].create_user(UserName="erin")
    mod.block_principal("erin", "operator", "2026-11-21T00:00:00Z", "by hand", user_arn("erin"))
    manual = [json.loads(e["details"]) for e in audits(qaws, "block") if e["principal"] == "erin"]
    assert manual and all("enforcement_delay_ms" not in d for d in manual)


def test_over_limit_call_falls_back_to_the_newest_call_when_another_batch_counted_in_between():
    mod = accounting(unit="tokens")
    recs = [{"ts": utc("2026-11-20T10:00:00Z"), "request_id": "a", "tokens": (10, 0, 0, 0), "cost": None},
            {"ts": utc("2026-11-20T10:10:00Z"), "request_id": "b", "tokens": (10, 0, 0, 0), "cost": None}]
    # usage read after counting: 20 from this batch on top of 0 -> the limit 15 is reached by "b"
    assert mod.over_limit_call(recs, Decimal(20), Decimal(15)) == utc("2026-11-20T10:10:00Z")
    assert mod.over_limit_call(recs, Decimal(20), Decimal(5)) == utc("2026-11-20T10:00:00Z")
    # A concurrent batch's usage is in the figure but not in these records: the walk starts
    # higher and dates the first record (the limit was reached by then at the latest).
    assert mod.over_limit_call(recs, Decimal(100), Decimal(50)) == utc("2026-11-20T10:00:00Z")
    # Never reached by the walk (a read older than the batch): the newest call.
    assert mod.over_limit_call(recs, Decimal(10), Decimal(50)) == utc("2026-11-20T10:10:00Z")
    assert mod.over_limit_call([], Decimal(10), Decimal(5)) is None


def test_monthly_limit_blocks_until_the_next_local_month(qaws):
    qaws["iam"].create_user(UserName="bob")
    mod = accounting(mode="block", daily_limit=None, monthly_limit=1000.0,
                     overrides={"bob": {"daily_limit": None, "monthly_limit": 2000.0}})
    mod.handler(subscription_event([record("m-1", user_arn("bob"), TS, inp=1500)]), None)
    assert user_policy(qaws, "bob") is None, "the override raised bob's monthly limit"
    mod.handler(subscription_event([record("m-2", user_arn("bob"), TS, inp=600)]), None)
    assert user_policy(qaws, "bob") is not None
    assert item(qaws, "PRINCIPAL#bob", "BLOCK")["until"] == "2026-11-30T23:00:00Z"


def test_usd_limits_count_estimated_cost(qaws):
    qaws["iam"].create_user(UserName="bob")
    mod = accounting(mode="block", unit="usd", daily_limit=1.0, warning_percent=50.0)
    # Sonnet 4: 100,000 in × 0.003 + 20,000 out × 0.015 = 0.60 USD: warning, not blocked.
    mod.handler(subscription_event([record("d-1", user_arn("bob"), TS, model="anthropic.claude-sonnet-4-20250514-v1:0",
                                           inp=100_000, out=20_000)]), None)
    [(_, message, _)] = notifications(qaws, "warning")
    assert "0.6000 USD of its day limit 1.0000 USD" in message
    assert user_policy(qaws, "bob") is None
    mod.handler(subscription_event([record("d-2", user_arn("bob"), TS, model="anthropic.claude-sonnet-4-20250514-v1:0",
                                           inp=150_000)]), None)
    assert user_policy(qaws, "bob") is not None


def test_shared_role_sessions_are_named_in_slot_tags_under_the_fixed_session_policy(qaws):
    create_role(qaws, "support-bot-prod")
    qaws["iam"].tag_role(RoleName="support-bot-prod", Tags=[{"Key": "team", "Value": "support"}])
    mod = accounting(mode="block", sessions_are_people=True, daily_limit=1000.0)
    batch = [record("s-1", role_arn("support-bot-prod", "i-0123"), TS, inp=2000),
             record("s-2", role_arn("support-bot-prod", "i-0456"), TS, inp=2000),
             record("s-3", role_arn("support-bot-prod", "i-0789"), TS, inp=10)]
    assert mod.handler(subscription_event(batch), None)["blocks"] == 2
    assert role_block(qaws, "support-bot-prod") == {"policies": ["session"], "sessions": ["i-0123", "i-0456"]}
    block = item(qaws, "PRINCIPAL#support-bot-prod/i-0123", "BLOCK")
    assert block["mechanism"] == "role-statement" and block["target"]["session"] == "i-0123"
    [entry] = [a for a in audits(qaws, "block") if a["principal"] == "support-bot-prod/i-0123"]
    assert json.loads(entry["details"])["policy"] == SESSION_POLICY
    # Unblocking one session removes only its tag; the last one detaches the policy too.
    assert mod.unblock_principal("support-bot-prod/i-0123", "arn:aws:iam::1:user/operator", "test")["result"] == "unblocked"
    assert role_block(qaws, "support-bot-prod") == {"policies": ["session"], "sessions": ["i-0456"]}
    mod.unblock_principal("support-bot-prod/i-0456", "arn:aws:iam::1:user/operator", "test")
    assert role_block(qaws, "support-bot-prod") is None
    tags = qaws["iam"].list_role_tags(RoleName="support-bot-prod")["Tags"]
    assert tags == [{"Key": "team", "Value": "support"}], "other tags are left alone"
    assert [a["actor"] for a in audits(qaws, "unblock")] == ["arn:aws:iam::1:user/operator"] * 2


def test_concurrent_blocks_on_one_role_keep_every_session(qaws):
    create_role(qaws, "bot")
    mod = accounting(mode="block", sessions_are_people=True)
    mod.sleep = lambda seconds: time.sleep(0.005)  # waiting for the lock lets the holder run
    until = utc("2026-11-20T23:00:00Z")
    results = []
    threads = [threading.Thread(target=lambda i=i: results.append(
        mod.block_principal(f"bot/s{i}", "automatic", until, "test", role_arn("bot", f"s{i}"))["result"]))
        for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == ["blocked"] * 6
    assert role_block(qaws, "bot") == {"policies": ["session"], "sessions": [f"s{i}" for i in range(6)]}
    assert [i for i in qaws["table"].scan()["Items"] if i["pk"].startswith("LOCK#")] == []


def test_sessions_beyond_the_slots_or_with_a_comma_are_reported_not_blocked(qaws):
    create_role(qaws, "bot")
    mod = accounting(mode="block", sessions_are_people=True)
    until = utc("2026-11-20T23:00:00Z")
    for i in range(len(SESSION_TAG_KEYS)):
        assert mod.block_principal(f"bot/s{i}", "automatic", until, "t", role_arn("bot", f"s{i}"))["result"] == "blocked"
    full = mod.block_principal("bot/one-more", "automatic", until, "t", role_arn("bot", "one-more"))
    assert full["result"] == "failed" and "no session slot is free" in full["error"]
    comma = mod.block_principal("bot/a,b", "automatic", until, "t", role_arn("bot", "a,b"))
    assert comma["result"] == "failed" and "tag values do not allow" in comma["error"]
    assert item(qaws, "PRINCIPAL#bot/one-more", "BLOCK") is None and item(qaws, "PRINCIPAL#bot/a,b", "BLOCK") is None
    assert len(role_block(qaws, "bot")["sessions"]) == len(SESSION_TAG_KEYS)
    assert len(notifications(qaws, "block-failed")) == 2


def test_a_role_as_one_principal_is_blocked_for_every_session(qaws):
    create_role(qaws, "etl-batch")
    mod = accounting(mode="block", daily_limit=1000.0)
    mod.handler(subscription_event([record("r-1", role_arn("etl-batch", "nightly"), TS, inp=2000)]), None)
    assert role_block(qaws, "etl-batch") == {"policies": ["block"], "sessions": []}
    mod.unblock_principal("etl-batch", "operator", "test")
    assert role_block(qaws, "etl-batch") is None


def test_the_functions_only_ever_attach_the_stack_policies_and_tag_slot_keys(qaws):
    """Every IAM call the block mechanism makes, recorded: attach/detach name only the two stack
    policies, tags only the slot keys; nothing writes policy text (Put*Policy, CreatePolicy...)."""
    qaws["iam"].create_user(UserName="bob")
    create_role(qaws, "etl")
    create_role(qaws, "bot")
    calls = []
    real_iam = qaws["iam"]

    class Recording:
        def __getattr__(self, name):
            method = getattr(real_iam, name)

            def record_call(**kwargs):
                calls.append((name, kwargs))
                return method(**kwargs)
            return record_call

    until = utc("2026-11-20T23:00:00Z")
    for people, principal, arn in ((False, "bob", user_arn("bob")), (False, "etl", role_arn("etl", "x")),
                                   (True, "bot/s1", role_arn("bot", "s1"))):
        mod = accounting(mode="block", sessions_are_people=people)
        real = mod.client
        mod.client = lambda service, region=None, real=real: Recording() if service == "iam" else real(service, region)
        assert mod.block_principal(principal, "automatic", until, "t", arn)["result"] == "blocked"
        assert mod.unblock_principal(principal, "operator", "t")["result"] == "unblocked"
    names = {n for n, _ in calls}
    assert names <= {"attach_user_policy", "detach_user_policy", "attach_role_policy", "detach_role_policy",
                     "get_role", "tag_role", "untag_role"}, names
    assert {"attach_user_policy", "attach_role_policy", "tag_role", "untag_role"} <= names
    for n, kwargs in calls:
        if "PolicyArn" in kwargs:
            assert kwargs["PolicyArn"] in (BLOCK_POLICY, SESSION_POLICY)
        for key in [t["Key"] for t in kwargs.get("Tags", [])] + kwargs.get("TagKeys", []):
            assert key in SESSION_TAG_KEYS


def _permission_set(qaws, name, inline=None):
    instance = qaws["sso"].list_instances()["Instances"][0]["InstanceArn"]
    ps = qaws["sso"].create_permission_set(Name=name, InstanceArn=instance)["PermissionSet"]["PermissionSetArn"]
    if inline:
        qaws["sso"].put_inline_policy_to_permission_set(InstanceArn=instance, PermissionSetArn=ps,
                                                        InlinePolicy=json.dumps(inline))
    return instance, ps


def _inline(qaws, instance, ps):
    text = qaws["sso"].get_inline_policy_for_permission_set(InstanceArn=instance, PermissionSetArn=ps)["InlinePolicy"]
    return json.loads(text) if text else None


EXISTING = {"Version": "2012-10-17", "Statement": [{"Sid": "ReadLogs", "Effect": "Allow",
                                                    "Action": "logs:GetLogEvents", "Resource": "*"}]}


def test_identity_center_user_is_blocked_through_the_permission_set_inline_policy(qaws):
    instance, dev = _permission_set(qaws, "BedrockDeveloper", EXISTING)
    _, admin = _permission_set(qaws, "BedrockAdmin")
    ic = {"instance_arn": instance, "permission_set_arns": {"BedrockDeveloper": dev, "BedrockAdmin": admin}}
    mod = accounting(mode="block", daily_limit=1000.0, identity_center=ic)
    summary = mod.handler(subscription_event([record("sso-1", sso_arn("jane.doe@example.com"), TS, inp=5000)]), None)
    assert summary["blocks"] == 1, notifications(qaws)
    policy = _inline(qaws, instance, dev)
    assert policy["Statement"][0] == EXISTING["Statement"][0], "the existing statement is kept"
    deny = policy["Statement"][1]
    assert deny["Effect"] == "Deny" and set(deny["Action"]) == DENIED
    assert deny["Condition"] == {"StringLike": {"aws:userid": "*:jane.doe@example.com"}}
    # The user is blocked in every configured permission set, not only the one in use.
    assert _inline(qaws, instance, admin)["Statement"] == [deny]
    provisioned = qaws["sso"].list_permission_sets_provisioned_to_account(InstanceArn=instance, AccountId=ACCOUNT)
    assert set(provisioned["PermissionSets"]) == {dev, admin}
    block = item(qaws, "PRINCIPAL#jane.doe@example.com", "BLOCK")
    assert block["mechanism"] == "permission-set" and block["target"]["user"] == "jane.doe@example.com"
    # Unblock removes only our statement; a permission set with nothing else loses its inline policy.
    assert mod.unblock_principal("jane.doe@example.com", "operator", "test")["result"] == "unblocked"
    assert _inline(qaws, instance, dev) == EXISTING
    assert _inline(qaws, instance, admin) is None


def test_identity_center_user_without_config_is_notified_as_not_blockable(qaws):
    mod = accounting(mode="block", daily_limit=1000.0)
    summary = mod.handler(subscription_event([record("sso-2", sso_arn("li.wei@example.com"), TS, inp=5000)]), None)
    assert summary["blocks"] == 0 and summary["errors"] == 1
    [(subject, message, attrs)] = notifications(qaws, "block-failed")
    assert "Could not block li.wei@example.com" in subject
    assert "identity_center is not configured" in message and "BedrockDeveloper" in message
    [entry] = audits(qaws, "block")
    assert entry["result"] == "failed" and "identity_center" in json.loads(entry["details"])["error"]
    assert item(qaws, "PRINCIPAL#li.wei@example.com", "BLOCK") is None
    # A permission set that is not configured is reported the same way.
    ic = {"instance_arn": "arn:aws:sso:::instance/ssoins-1", "permission_set_arns": {"Other": "arn:x"}}
    with pytest.raises(Exception, match="not in identity_center.permission_set_arns"):
        accounting(identity_center=ic).block_target("li.wei@example.com", sso_arn("li.wei@example.com"))


def _stubbed_sso(mod, responses):
    """sso-admin calls moto does not implement (DescribePermissionSetProvisioningStatus), with
    botocore's Stubber; every other service stays on moto."""
    sso = boto3.client("sso-admin", region_name=REGION)
    stubber = Stubber(sso)
    for method, response, params in responses:
        stubber.add_response(method, response, params)
    stubber.activate()
    real = mod.client
    mod.client = lambda service, region=None: sso if service == "sso-admin" else real(service, region)
    return stubber


IC = {"instance_arn": "arn:aws:sso:::instance/ssoins-0123456789abcdef",
      "permission_set_arns": {"BedrockDeveloper": "arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-0123456789abcdef"}}
PS = IC["permission_set_arns"]["BedrockDeveloper"]


def _provisioning_calls(mod, final_status):
    sid = mod.sid_for("User", "jane.doe@example.com")
    merged = {"Version": "2012-10-17", "Statement": [
        EXISTING["Statement"][0], mod.deny_statement(sid, "*:jane.doe@example.com")]}
    status = {"Status": "IN_PROGRESS", "RequestId": "11111111-2222-3333-4444-555555555555"}
    final = {"Status": final_status, "RequestId": status["RequestId"]}
    if final_status == "FAILED":
        final["FailureReason"] = "account quota"
    describe = {"InstanceArn": IC["instance_arn"], "ProvisionPermissionSetRequestId": status["RequestId"]}
    return [
        ("get_inline_policy_for_permission_set", {"InlinePolicy": json.dumps(EXISTING)},
         {"InstanceArn": IC["instance_arn"], "PermissionSetArn": PS}),
        ("put_inline_policy_to_permission_set", {},
         {"InstanceArn": IC["instance_arn"], "PermissionSetArn": PS, "InlinePolicy": json.dumps(merged)}),
        ("provision_permission_set", {"PermissionSetProvisioningStatus": status},
         {"InstanceArn": IC["instance_arn"], "PermissionSetArn": PS, "TargetType": "ALL_PROVISIONED_ACCOUNTS"}),
        ("describe_permission_set_provisioning_status", {"PermissionSetProvisioningStatus": status}, describe),
        ("describe_permission_set_provisioning_status", {"PermissionSetProvisioningStatus": final}, describe),
    ]


def test_permission_set_provisioning_is_awaited(qaws):
    mod = accounting(mode="block", daily_limit=1000.0, identity_center=IC)
    stubber = _stubbed_sso(mod, _provisioning_calls(mod, "SUCCEEDED"))
    assert mod.handler(subscription_event([record("st-1", sso_arn("jane.doe@example.com"), TS, inp=5000)]), None)["blocks"] == 1
    stubber.assert_no_pending_responses()
    assert json.loads(audits(qaws, "block")[0]["details"])["permission_sets"] == {"BedrockDeveloper": "SUCCEEDED"}


def test_failed_provisioning_is_notified_audited_undone_and_leaves_no_block_item(qaws):
    mod = accounting(mode="block", daily_limit=1000.0, identity_center=IC)
    calls = _provisioning_calls(mod, "FAILED")
    merged = calls[1][2]["InlinePolicy"]
    undo = [
        ("get_inline_policy_for_permission_set", {"InlinePolicy": merged},
         {"InstanceArn": IC["instance_arn"], "PermissionSetArn": PS}),
        ("put_inline_policy_to_permission_set", {},
         {"InstanceArn": IC["instance_arn"], "PermissionSetArn": PS, "InlinePolicy": json.dumps(EXISTING)}),
        ("provision_permission_set", {"PermissionSetProvisioningStatus": {"Status": "SUCCEEDED", "RequestId": "22222222-2222-3333-4444-555555555555"}},
         {"InstanceArn": IC["instance_arn"], "PermissionSetArn": PS, "TargetType": "ALL_PROVISIONED_ACCOUNTS"}),
    ]
    stubber = _stubbed_sso(mod, calls + undo)
    summary = mod.handler(subscription_event([record("st-2", sso_arn("jane.doe@example.com"), TS, inp=5000)]), None)
    stubber.assert_no_pending_responses()
    assert summary["blocks"] == 0 and summary["errors"] == 1
    assert "account quota" in notifications(qaws, "block-failed")[0][1]
    assert audits(qaws, "block")[0]["result"] == "failed"
    assert item(qaws, "PRINCIPAL#jane.doe@example.com", "BLOCK") is None


def test_a_half_applied_identity_center_block_is_undone(qaws):
    instance, dev = _permission_set(qaws, "BedrockDeveloper", EXISTING)
    _, admin = _permission_set(qaws, "BedrockAdmin")
    ic = {"instance_arn": instance, "permission_set_arns": {"BedrockDeveloper": dev, "BedrockAdmin": admin}}
    mod = accounting(mode="block", daily_limit=1000.0, identity_center=ic)
    real = mod.client
    failures = []

    class FlakySso:
        def __init__(self, c):
            self.c = c

        def provision_permission_set(self, **kwargs):
            if kwargs["PermissionSetArn"] == dev and not failures:
                failures.append(kwargs)
                raise ClientError({"Error": {"Code": "ConflictException", "Message": "busy"}}, "ProvisionPermissionSet")
            return self.c.provision_permission_set(**kwargs)

        def __getattr__(self, name):
            return getattr(self.c, name)

    mod.client = lambda service, region=None: FlakySso(real(service, region)) if service == "sso-admin" else real(service, region)
    # BedrockAdmin (sorted first) is edited and provisioned, then BedrockDeveloper fails.
    summary = mod.handler(subscription_event([record("half-1", sso_arn("jane.doe@example.com"), TS, inp=5000)]), None)
    assert failures and summary["errors"] == 1 and summary["blocks"] == 0
    assert _inline(qaws, instance, admin) is None, "the statement already written is removed again"
    assert _inline(qaws, instance, dev) == EXISTING
    assert item(qaws, "PRINCIPAL#jane.doe@example.com", "BLOCK") is None
    assert "ConflictException" in notifications(qaws, "block-failed")[0][1]


def test_failure_to_block_is_notified_and_audited(qaws):
    # The IAM user does not exist (or the function may not touch it): PutUserPolicy fails.
    mod = accounting(mode="block", daily_limit=1000.0)
    summary = mod.handler(subscription_event([record("x-1", user_arn("ghost"), TS, inp=5000)]), None)
    assert summary["blocks"] == 0 and summary["errors"] == 1
    [(_, message, _)] = notifications(qaws, "block-failed")
    assert "NoSuchEntity" in message
    assert audits(qaws, "block")[0]["result"] == "failed"
    assert item(qaws, "PRINCIPAL#ghost", "BLOCK") is None, "the block item is rolled back"


def test_protected_principals_are_never_blocked_automatically(qaws):
    for name in ("admin", "breakglass", "bob"):
        qaws["iam"].create_user(UserName=name)
    mod = accounting(mode="block", daily_limit=1000.0, protected=["admin"])
    assert mod.protect_principal("breakglass", "arn:aws:iam::1:user/operator", "on call")["result"] == "protected"
    batch = [record(f"pr-{n}", user_arn(n), TS, inp=5000) for n in ("admin", "breakglass", "bob")]
    summary = mod.handler(subscription_event(batch), None)
    assert summary["blocks"] == 1
    assert user_policy(qaws, "admin") is None and user_policy(qaws, "breakglass") is None
    assert user_policy(qaws, "bob") is not None
    skipped = {a["principal"] for a in audits(qaws, "block") if a["result"] == "skipped"}
    assert skipped == {"admin", "breakglass"}
    [protect] = audits(qaws, "protect")
    assert protect["principal"] == "breakglass" and protect["actor"] == "arn:aws:iam::1:user/operator"
    assert any("protected" in s for s, _, a in notifications(qaws, "limit") if a["principal"] == "admin")
    # An operator's manual block still works on a protected principal (only automatic blocks are skipped).
    assert mod.block_principal("admin", "operator", utc("2026-11-21T00:00:00Z"), "manual")["result"] == "blocked"


def test_team_limit_in_alert_mode_notifies_once(qaws):
    teams = {"developers": {"members": ["ann", "ben"], "monthly_limit": 5000.0}}
    mod = accounting(mode="alert", teams=teams)
    mod.handler(subscription_event([record("t-1", user_arn("ann"), TS, inp=3000)]), None)
    assert notifications(qaws, "team-limit") == []
    mod.handler(subscription_event([record("t-2", user_arn("ben"), TS, inp=3000)]), None)
    mod.handler(subscription_event([record("t-3", user_arn("ann"), TS, inp=10)]), None)
    [(subject, message, _)] = notifications(qaws, "team-limit")
    assert "team developers" in subject and "6,000 tokens used" in message
    assert item(qaws, "TEAM#developers", MONTH)["limit_notified"]
    assert [a["principal"] for a in audits(qaws, "limit")] == ["TEAM#developers"]


def test_team_limit_in_block_mode_blocks_every_unprotected_member(qaws):
    for name in ("ann", "ben", "lead", "dan"):
        qaws["iam"].create_user(UserName=name)
    teams = {"developers": {"members": ["ann", "ben", "lead", "dan"], "monthly_limit": 5000.0}}
    mod = accounting(mode="block", teams=teams, protected=["lead"])
    mod.handler(subscription_event([record("tb-1", user_arn("lead"), TS, inp=100),
                                    record("tb-2", user_arn("ben"), TS, inp=100)]), None)
    summary = mod.handler(subscription_event([record("tb-3", user_arn("ann"), TS, inp=6000)]), None)
    assert summary["blocks"] == 2
    assert user_policy(qaws, "ann") is not None and user_policy(qaws, "ben") is not None
    assert user_policy(qaws, "lead") is None, "protected"
    assert user_policy(qaws, "dan") is None, "has not called yet"
    assert item(qaws, "PRINCIPAL#ann", "BLOCK")["until"] == "2026-11-30T23:00:00Z"
    [(_, message, _)] = notifications(qaws, "team-limit")
    assert "lead: protected, not blocked" in message and "ann: blocked" in message
    # A member calling later in the month is blocked on first appearance, once.
    assert mod.handler(subscription_event([record("tb-4", user_arn("dan"), TS, inp=1)]), None)["blocks"] == 1
    assert user_policy(qaws, "dan") is not None
    assert mod.handler(subscription_event([record("tb-5", user_arn("dan"), TS, inp=1)]), None)["blocks"] == 0


def test_manual_block_keeps_a_longer_block_and_records_the_operator(qaws):
    qaws["iam"].create_user(UserName="bob")
    mod = accounting(mode="block")
    mod.handler(subscription_event([record("mb-1", user_arn("bob"), TS, inp=1)]), None)
    operator = "arn:aws:sts::1:assumed-role/AWSReservedSSO_Admin_1/root-admin@example.com"
    # No ARN given: the one counted for bob is used.
    assert mod.block_principal("bob", operator, utc("2026-12-01T00:00:00Z"), "abuse")["result"] == "blocked"
    mod.block_principal("bob", "automatic", utc("2026-11-21T00:00:00Z"), "day limit")
    block = item(qaws, "PRINCIPAL#bob", "BLOCK")
    assert block["until"] == "2026-12-01T00:00:00Z" and block["blocked_by"] == operator and block["reason"] == "abuse"
    # Both audit entries carry the fixed test clock's time, so compare them as a set.
    assert {(a["actor"], a["reason"], a["until"]) for a in audits(qaws, "block")} == {
        (operator, "abuse", "2026-12-01T00:00:00Z"), ("automatic", "day limit", "2026-12-01T00:00:00Z")}
    assert mod.block_principal("nobody", operator, "2026-12-01T00:00:00Z", "x")["result"] == "failed"


def test_late_records_of_an_ended_period_do_not_block(qaws):
    qaws["iam"].create_user(UserName="bob")
    mod = accounting(mode="block", daily_limit=1000.0, at=utc("2026-11-21T08:00:00Z"))
    mod.handler(subscription_event([record("l-1", user_arn("bob"), TS, inp=5000)]), None)
    assert user_policy(qaws, "bob") is None
    assert "ended period" in notifications(qaws, "limit")[0][0]


# --- periods in the configured time zone, across daylight-saving changes -----------------

@pytest.mark.parametrize("ts, day", [
    ("2026-03-28T22:59:59Z", "2026-03-28"), ("2026-03-28T23:00:00Z", "2026-03-29"),  # CET midnight
    ("2026-03-29T00:59:59Z", "2026-03-29"), ("2026-03-29T01:00:00Z", "2026-03-29"),  # 02:00 CET -> 03:00 CEST
    ("2026-03-29T21:59:59Z", "2026-03-29"), ("2026-03-29T22:00:00Z", "2026-03-30"),  # CEST midnight
    ("2026-10-24T21:59:59Z", "2026-10-24"), ("2026-10-24T22:00:00Z", "2026-10-25"),
    ("2026-10-25T22:59:59Z", "2026-10-25"), ("2026-10-25T23:00:00Z", "2026-10-26"),  # 25-hour day
    ("2026-12-31T22:59:59.999Z", "2026-12-31"), ("2026-12-31T23:00:00Z", "2027-01-01"),
])
def test_day_keys_follow_the_configured_time_zone(ts, day):
    mod = accounting()
    assert mod.day_key(mod.parse_time(ts)) == day


def test_period_ends_across_daylight_saving_changes():
    mod = accounting()
    assert mod.iso(mod.day_end("2026-03-28")) == "2026-03-28T23:00:00Z"
    assert mod.iso(mod.day_end("2026-03-29")) == "2026-03-29T22:00:00Z"  # a 23-hour day
    assert mod.iso(mod.day_end("2026-10-25")) == "2026-10-25T23:00:00Z"  # a 25-hour day
    assert mod.iso(mod.day_end("2026-10-24")) == "2026-10-24T22:00:00Z"
    assert mod.iso(mod.month_end("2026-03")) == "2026-03-31T22:00:00Z"
    assert mod.iso(mod.month_end("2026-10")) == "2026-10-31T23:00:00Z"
    assert mod.iso(mod.month_end("2026-12")) == "2026-12-31T23:00:00Z"
    ny = accounting(time_zone="America/New_York")
    assert ny.iso(ny.day_end("2026-03-08")) == "2026-03-09T04:00:00Z"
    assert ny.day_key(ny.parse_time("2026-03-09T03:59:59Z")) == "2026-03-08"


def test_counters_and_blocks_split_at_local_midnight_around_dst(qaws):
    qaws["iam"].create_user(UserName="bob")
    mod = accounting(mode="block", daily_limit=1000.0, at=utc("2026-03-29T12:00:00Z"))
    mod.handler(subscription_event([
        record("dst-1", user_arn("bob"), "2026-03-28T22:59:59Z", inp=600),
        record("dst-2", user_arn("bob"), "2026-03-28T23:00:00Z", inp=700),
        record("dst-3", user_arn("bob"), "2026-03-29T21:59:59Z", inp=400),
    ]), None)
    assert counters(qaws, "PRINCIPAL#bob", "DAY#2026-03-28")["input_tokens"] == 600
    assert counters(qaws, "PRINCIPAL#bob", "DAY#2026-03-29")["input_tokens"] == 1100
    assert counters(qaws, "PRINCIPAL#bob", "MONTH#2026-03")["input_tokens"] == 1700
    assert item(qaws, "PRINCIPAL#bob", "BLOCK")["until"] == "2026-03-29T22:00:00Z"
    assert audits(qaws, "block")[0]["pk"] == "AUDIT#2026-03"

    autumn = accounting(mode="block", daily_limit=1000.0, at=utc("2026-10-25T12:00:00Z"))
    qaws["iam"].create_user(UserName="eve")
    autumn.handler(subscription_event([
        record("dst-4", user_arn("eve"), "2026-10-25T00:30:00Z", inp=600),   # 02:30 CEST
        record("dst-5", user_arn("eve"), "2026-10-25T01:30:00Z", inp=600),   # 02:30 CET, same day
        record("dst-6", user_arn("eve"), "2026-10-25T23:00:00Z", inp=1),     # next day
    ]), None)
    assert counters(qaws, "PRINCIPAL#eve", "DAY#2026-10-25")["input_tokens"] == 1200
    assert counters(qaws, "PRINCIPAL#eve", "DAY#2026-10-26")["input_tokens"] == 1
    assert item(qaws, "PRINCIPAL#eve", "BLOCK")["until"] == "2026-10-25T23:00:00Z"


def test_sources_embed_cleanly_in_fn_sub():
    from quota_build import QUOTAS
    for name in ("quota_core.py", "accounting_handler.py", "reset_handler.py"):
        text = (QUOTAS / name).read_text()
        assert "$" + "{" not in text, f"{name} would be substituted by Fn::Sub"
        assert "import quota_core" not in text and "from quota_core" not in text
