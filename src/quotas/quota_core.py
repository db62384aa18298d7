"""bedrock-watch quotas: logic shared by the accounting and the reset functions.

Packaging. Each function is deployed as inline Lambda code (python3.14, handler
``index.handler``) made of one generated ``CONFIG = {...}`` line, then this file, then the
handler file. Nothing here imports the handler files or the other way round; the handler calls
these functions as globals of the same module. The tests build their module the same way
(tests/python/quota_build.py). Only the standard library and boto3/botocore are used, and the
text never contains a dollar sign followed by a brace (the code travels through Fn::Sub).

The operator side. ``bedrock-watch quota`` (src/quotas/admin in Rust) reads and writes the same
items, lock items and IAM documents as this file, so that the reset function lifts a block the
CLI made and the CLI lifts one a function made. The two must agree: key prefixes, item
attributes, the block policies and session slot tags, the Sid scheme (``sid_for``), ``deny_statement``,
``block_target`` and ``merge_statement``. tests/data/quota-policies.json pins both sides
(tests/python/test_quota_fixture.py and src/quotas/admin/fixture_tests.rs); change them together.

Identity and price. ``identity`` is the project's identity rule (src/bedrock/identity.rs) and
``record_cost`` its cost arithmetic (src/bedrock/pricing.rs, ``Price::cost``, ``base_model_id``
and the application-profile and service-tier resolution), its reading of a record
(src/bedrock/log_usage.rs) is ``record_pricing``; all are checked against the shared fixtures in tests/data
(invocation-logs.jsonl, pricing-cases.json).

Storage (usage table, key ``pk``/``sk``, TTL attribute ``ttl``):

- ``REQUEST#<requestId>`` / ``REQUEST``: the marker that makes counting exactly once; it expires
  after ``MARKER_TTL_DAYS``. Records older than ``STALE_AFTER_DAYS`` are not counted (their
  marker may already be gone, so a replay could count them twice).
- ``PRINCIPAL#<name>`` / ``DAY#YYYY-MM-DD`` and ``MONTH#YYYY-MM``, ``TEAM#<team>`` /
  ``MONTH#YYYY-MM``: counters ``calls``, ``input_tokens``, ``output_tokens``,
  ``cache_read_tokens``, ``cache_write_tokens``, ``cost_usd`` (USD, 12 decimals) and
  ``unpriced_calls`` (calls of models without a price: counted in tokens, cost unknown), plus the
  once-per-period flags ``warned`` and ``limit_notified`` (ISO time when set) and, on a member's
  month item, ``team_blocked_<team>``. Principal items also carry ``arn`` (the last caller ARN
  seen), which tells how to block the principal.
- ``PRINCIPAL#<name>`` / ``BLOCK``: the block in force: ``until`` (ISO UTC, start of the next
  period in the configured time zone), ``reason``, ``blocked_by``, ``blocked_at``,
  ``mechanism`` (``user-policy``, ``role-statement`` or ``permission-set``), ``target`` (what was
  edited, enough to undo it), ``arn``.
- ``PRINCIPAL#<name>`` / ``PROTECTED``: never blocked automatically (``quota protect``).
- ``LOCK#<what>`` / ``LOCK``: short-lived lock around read-modify-write of shared state
  (a role's session slot tags, a permission set's inline policy).

Audit table: ``pk = AUDIT#YYYY-MM`` (month in the configured time zone), ``sk = <ISO UTC time
with milliseconds>#<uuid>``, with ``action`` (warn, limit, block, unblock, protect, unprotect,
reset), ``principal``, ``actor``, ``reason``, ``until``, ``result`` (ok, failed, skipped) and
``details`` (a JSON string; an automatic block adds ``over_limit_call_at`` and
``enforcement_delay_ms``, see ``block_principal``).

Counting. Records of one batch are grouped by principal and period; each group is written by
one ``TransactWriteItems`` holding a conditional Put of every record's marker and ``ADD``
updates of the counters with the group's sums. A marker that already exists cancels the
transaction with ``ConditionalCheckFailed`` for that item: the record was counted before, so it
is dropped and the rest is written again. ``TransactionConflict`` and throttling are retried
with bounded exponential backoff. ``ADD`` is atomic, so concurrent batches never lose an
update. If counting still fails the handler raises after finishing the batch, so that Lambda's
retry redelivers it; the markers make that redelivery harmless.

Warnings and limits are evaluated after counting, on consistent reads of the period items.
Each notification is claimed first by a conditional update of its flag, so replays and
concurrent batches notify once per principal and period. When a notification cannot be sent
the flag is released, so the next batch tries again. Crossing a limit claims ``limit_notified``
once per period: ``alert`` notifies, ``block`` blocks (unless the principal is protected) and
notifies. An operator's unblock within the period is therefore not undone by the next batch.

Blocking. A block denies the Bedrock invoke and converse actions. The functions cannot write
policy text into IAM: the deny documents are stack-owned managed policies whose content the
template fixes, and the functions may only attach and detach those two (their grants carry an
``iam:PolicyARN`` condition naming them) and set the session tags below.

- IAM user: the managed policy ``block_policy_arn`` (an unconditioned deny) is attached to it.
- Role (``sessions_are_people`` false: the principal is the whole role): the same policy is
  attached to the role.
- Role session (true): one session of a shared role must be denied without denying the others,
  yet the policy text is fixed. The managed policy ``session_block_policy_arn`` denies when
  ``aws:userid`` is ``*:<value of the role tag K>`` for each slot tag key K in
  ``session_tag_keys`` (an unset tag resolves to a default no session name can match). Blocking a
  session writes its name into a free slot tag of the role and attaches that policy; unblocking
  removes the tag and detaches the policy when no slot is left in use. The functions may tag only
  those keys. Session names holding a character tags do not allow (a comma) cannot be blocked
  this way, nor more sessions of one role at once than there are slots; both are reported.
- IAM Identity Center user: the reserved ``AWSReservedSSO_*`` roles cannot be edited, so where
  ``identity_center`` is configured a statement conditioned on ``aws:userid`` = ``*:<user>`` is
  merged into the inline policy of every configured permission set (a user may hold several;
  other statements are kept), which is then provisioned to all its accounts. IAM Identity Center
  has no condition key on the content of an inline policy, so this is the one path where the
  grant cannot fix the text: the code writes only ``deny_statement`` output (tests assert it) and
  the grant names only the configured permission sets. Without that config the principal
  cannot be blocked automatically; this is notified and audited.

The block item is written before the mechanism is applied, so a block in force always has an
item the reset function can find. If applying fails, what was applied is undone and the item
removed (if undoing fails too, the item stays and the reset lifts it). A failed block is
notified and audited, and not retried within the period (the flag stays claimed): the
notification asks an operator to act. A permission set's inline policy holds 32,768
characters. Unblocking undoes
exactly what ``target`` names and then deletes the item on condition that ``until`` has not
changed meanwhile (a concurrent extension re-applies the block).

Periods. Days and months begin at midnight in ``time_zone`` (zoneinfo, so daylight-saving
days have 23 or 25 hours); a record belongs to the period of its own ``timestamp``. zoneinfo
reads the system time zone database (present in the python3.14 Lambda runtime); a missing zone
fails the function loudly rather than counting in the wrong zone.

Configuration (``CONFIG``, generated by src/quotas/mod.rs): usage_table, audit_table,
topic_arn, mode, unit, daily_limit, monthly_limit, warning_percent, overrides, teams,
protected, emails, time_zone, sessions_are_people, prices, inference_profiles (profile id -> model
id), service_tiers (flex, priority, reserved multipliers), discount_percent, identity_center
(instance_arn, permission_set_arns and an optional region of the Identity Center instance),
block_policy_arn, session_block_policy_arn, session_tag_keys, stack_name. An override's null limit keeps the default.
"""
import base64
import gzip
import hashlib
import json
import logging
import random
import re
import threading
import time
import urllib.parse
import uuid
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError

LOG = logging.getLogger("bedrock-watch-quotas")
LOG.setLevel(logging.INFO)

# Converse and ConverseStream are authorized as InvokeModel and InvokeModelWithResponseStream
# (IAM has no bedrock:Converse action), so these two deny all four runtime calls. The other three
# close the bypasses: API keys (bearer tokens) on both endpoints and bedrock-mantle inference
# (Rust mirror: src/quotas/admin/mod.rs BLOCKED_ACTIONS).
BLOCKED_ACTIONS = [
    "bedrock:InvokeModel",
    "bedrock:InvokeModelWithResponseStream",
    "bedrock:CallWithBearerToken",
    "bedrock-mantle:CreateInference",
    "bedrock-mantle:CallWithBearerToken",
]
PROFILE_PREFIXES = ("us.", "eu.", "apac.", "global.", "us-gov.", "ca.", "jp.", "au.")
SSO_ROLE_PREFIX = "AWSReservedSSO_"
MARKER_TTL_DAYS = 40
STALE_AFTER_DAYS = 35
TRANSACTION_MAX_ITEMS = 100
TRANSACTION_ATTEMPTS = 8
RETRYABLE_REASONS = {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded",
                     "RequestLimitExceeded", "InternalServerError"}
RETRYABLE_CODES = {"TransactionInProgressException", "ThrottlingException", "InternalServerError",
                   "ProvisionedThroughputExceededException", "RequestLimitExceeded",
                   "TransactionConflictException"}
LOCK_SECONDS = 60
LOCK_ATTEMPTS = 40
PROVISIONING_POLLS = 10
COST_QUANTUM = Decimal("0.000000000001")
COUNTERS = ("calls", "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens",
            "cost_usd", "unpriced_calls")
UTC = timezone.utc

# Module-level so tests can replace them (no real sleeping, a fixed clock).
sleep = time.sleep


def now():
    return datetime.now(UTC)


class CannotBlock(Exception):
    """The principal cannot be blocked automatically; the message says why."""


# --- AWS clients --------------------------------------------------------------------------

_CLIENTS = {}
_CLIENTS_LOCK = threading.Lock()


def client(service, region=None):
    """Cached clients (boto3's default session is not thread-safe, so creation is locked).
    DynamoDB goes through the resource's client, which takes and returns plain Python values
    (Decimal for numbers)."""
    key = (service, region)
    with _CLIENTS_LOCK:
        if key not in _CLIENTS:
            cfg = BotoConfig(retries={"mode": "standard", "max_attempts": 5})
            if service == "dynamodb":
                _CLIENTS[key] = boto3.resource("dynamodb", region_name=region, config=cfg).meta.client
            else:
                _CLIENTS[key] = boto3.client(service, region_name=region, config=cfg)
        return _CLIENTS[key]


def error_code(exc):
    if isinstance(exc, ClientError):
        return exc.response.get("Error", {}).get("Code", "")
    return type(exc).__name__


def describe_error(exc):
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        return f"{err.get('Code', 'Error')}: {err.get('Message', '')}".strip()
    return f"{type(exc).__name__}: {exc}"


# --- identity rule ------------------------------------------------------------------------

def identity(arn, sessions_are_people=None):
    """(kind, name) for an ``identity.arn``; kind is sso-user, role, role-session, iam-user or
    other. Mirrors ``bedrock::identity::principal``."""
    if sessions_are_people is None:
        sessions_are_people = bool(CONFIG.get("sessions_are_people"))
    arn = arn if isinstance(arn, str) else ""
    pieces = arn.split(":", 5)
    resource = pieces[5] if len(pieces) == 6 else ""
    parts = resource.split("/")
    first = parts[0]
    second = parts[1] if len(parts) > 1 else None
    third = parts[2] if len(parts) > 2 else None
    if first == "assumed-role" and second is not None:
        if third is not None and second.startswith(SSO_ROLE_PREFIX):
            return "sso-user", third
        if third is not None and sessions_are_people:
            return "role-session", f"{second}/{third}"
        return "role", second
    if first == "user" and second is not None:
        return "iam-user", (parts[-1] if third is not None else second)
    return "other", arn


def principal_of(arn):
    return identity(arn)[1]


# --- prices -------------------------------------------------------------------------------

def base_model_id(model_id):
    """The last ARN segment without an inference-profile prefix (pricing.rs ``base_model_id``)."""
    mid = model_id.rsplit("/", 1)[-1]
    for prefix in PROFILE_PREFIXES:
        if mid.startswith(prefix):
            return mid[len(prefix):]
    return mid


APP_PROFILE_MARKER = ":application-inference-profile/"
TIER_SUFFIXES = ("flex", "priority")
TIERS = {"default": "standard", "standard": "standard", "flex": "flex", "priority": "priority", "reserved": "reserved"}


def split_tier(model_id):
    """service_tier.rs ``split_tier_suffix``: a CloudWatch ``<model>+flex`` id as (model, tier)."""
    for tier in TIER_SUFFIXES:
        if model_id.endswith("+" + tier):
            return model_id[: -len(tier) - 1], tier
    return model_id, None


def resolve_model(model_id):
    """pricing.rs ``PriceTable::resolve``: the mapped model of an application inference profile
    (``inference_profiles``: profile id -> model id), else the id without a tier suffix."""
    mid = split_tier(model_id)[0]
    profiles = CONFIG.get("inference_profiles") or {}
    key = mid.split(APP_PROFILE_MARKER, 1)[1] if APP_PROFILE_MARKER in mid else mid
    return profiles.get(key, mid)


def price_for(model_id):
    prices = CONFIG.get("prices") or {}
    if not isinstance(model_id, str) or not model_id:
        return None
    mid = resolve_model(model_id)
    return prices.get(mid) or prices.get(base_model_id(mid))


def tier_factor(tier):
    if tier in (None, "standard"):
        return Decimal(1)
    return _dec((CONFIG.get("service_tiers") or {}).get(tier, 1))


def _dec(x):
    return Decimal(str(x))


def record_cost(model_id, tokens, tier=None):
    """Estimated USD of (input, output, cache_read, cache_write[, cache_write_1h]) tokens on
    ``tier`` (default: the model id's ``+flex``/``+priority`` suffix, else standard), or None when
    the model has no price. A missing cache price means the input price, a missing 1-hour write
    price the 5-minute one; the discount and the tier multiplier scale everything."""
    price = price_for(model_id)
    if price is None:
        return None
    if tier is None and isinstance(model_id, str):
        tier = split_tier(model_id)[1]
    p_in = _dec(price.get("input") or 0)
    p_out = _dec(price.get("output") or 0)
    p_read = p_in if price.get("cache_read") is None else _dec(price["cache_read"])
    p_write = p_in if price.get("cache_write") is None else _dec(price["cache_write"])
    p_hour = p_write if price.get("cache_write_1h") is None else _dec(price["cache_write_1h"])
    t_in, t_out, t_read, t_write = tokens[:4]
    t_hour = tokens[4] if len(tokens) > 4 else 0
    total = (t_in * p_in + t_out * p_out + t_read * p_read + t_write * p_write + t_hour * p_hour) / Decimal(1000)
    factor = (Decimal(1) - _dec(CONFIG.get("discount_percent") or 0) / Decimal(100)) * tier_factor(tier)
    return (total * factor).quantize(COST_QUANTUM)


def _body_tier(body):
    tier = body.get("serviceTier") if isinstance(body, dict) else None
    kind = tier.get("type") if isinstance(tier, dict) else None
    return TIERS.get(kind.strip().lower()) if isinstance(kind, str) else None


def _one_hour_writes(body):
    usage = body.get("usage") if isinstance(body, dict) else None
    details = usage.get("cacheDetails") if isinstance(usage, dict) else None
    if not isinstance(details, list):
        return 0
    return sum(_count(d.get("inputTokens")) for d in details if isinstance(d, dict) and d.get("ttl") == "1h")


def record_pricing(record):
    """log_usage.rs ``Usage::from_record``: (model, tier, (input, output, cache_read,
    cache_write_5m, cache_write_1h)) of an invocation-log record. The tier is the logged Converse
    response's serviceTier.type, else the request's, else the model id's suffix, else standard;
    1-hour cache writes come from the response's usage.cacheDetails."""
    inp = record.get("input") if isinstance(record.get("input"), dict) else {}
    out = record.get("output") if isinstance(record.get("output"), dict) else {}
    model = record.get("modelId") if isinstance(record.get("modelId"), str) else ""
    out_body = out.get("outputBodyJson") if isinstance(out.get("outputBodyJson"), dict) else {}
    in_body = inp.get("inputBodyJson") if isinstance(inp.get("inputBodyJson"), dict) else {}
    tier = _body_tier(out_body) or _body_tier(in_body) or split_tier(model)[1] or "standard"
    hour = _one_hour_writes(out_body)
    total = max(_count(inp.get("cacheWriteInputTokenCount")), hour)
    tokens = (_count(inp.get("inputTokenCount")), _count(out.get("outputTokenCount")),
              _count(inp.get("cacheReadInputTokenCount")), total - hour, hour)
    return model, tier, tokens


# --- time and periods ---------------------------------------------------------------------

_TZ = {}


def tz():
    name = CONFIG.get("time_zone") or "UTC"
    if name not in _TZ:
        _TZ[name] = ZoneInfo(name)
    return _TZ[name]


def iso(dt):
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_ms(dt):
    dt = dt.astimezone(UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def parse_time(value):
    """A record timestamp (ISO 8601, or epoch milliseconds) as an aware UTC datetime."""
    if isinstance(value, bool):
        raise ValueError("timestamp is not a time")
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value / 1000, UTC)
    if not isinstance(value, str) or not value:
        raise ValueError("timestamp missing")
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    m = re.match(r"^(.*T\d\d:\d\d:\d\d)\.(\d+)(.*)$", text)
    if m:  # Python 3.10 and older accept at most 6 fraction digits
        text = f"{m.group(1)}.{(m.group(2) + '000000')[:6]}{m.group(3)}"
    dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def day_key(dt):
    return dt.astimezone(tz()).strftime("%Y-%m-%d")


def month_key(dt):
    return dt.astimezone(tz()).strftime("%Y-%m")


def _local_midnight(d):
    # A midnight skipped by a DST jump resolves (fold=0) to the instant the day really begins.
    return datetime(d.year, d.month, d.day, tzinfo=tz()).astimezone(UTC)


def day_end(day):
    """Start of the next local day after ``YYYY-MM-DD``, as a UTC datetime."""
    return _local_midnight(date.fromisoformat(day) + timedelta(days=1))


def month_end(month):
    """Start of the next local month after ``YYYY-MM``, as a UTC datetime."""
    year, mon = int(month[:4]), int(month[5:7])
    return _local_midnight(date(year + mon // 12, mon % 12 + 1, 1))


def period_end(sk):
    kind, key = sk.split("#", 1)
    return day_end(key) if kind == "DAY" else month_end(key)


# --- config helpers -----------------------------------------------------------------------

def limits_for(principal):
    """(daily, monthly) limit of a principal in ``unit``; an override's null keeps the default."""
    override = (CONFIG.get("overrides") or {}).get(principal) or {}
    daily = override.get("daily_limit")
    monthly = override.get("monthly_limit")
    return (CONFIG.get("daily_limit") if daily is None else daily,
            CONFIG.get("monthly_limit") if monthly is None else monthly)


def teams_of(principal):
    return sorted(t for t, spec in (CONFIG.get("teams") or {}).items()
                  if principal in ((spec or {}).get("members") or []))


def usage_of(item):
    """An item's usage in ``unit``."""
    item = item or {}
    if CONFIG.get("unit") == "usd":
        return Decimal(item.get("cost_usd", 0))
    return sum(Decimal(item.get(k, 0)) for k in
               ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens"))


def record_usage(record):
    """A parsed record's usage in ``unit`` (what ``usage_of`` sums for the counters)."""
    if CONFIG.get("unit") == "usd":
        return record["cost"] or Decimal(0)
    return Decimal(sum(record["tokens"]))


def over_limit_call(records, used, limit):
    """The time of the call that took usage to ``limit``, among this batch's ``records`` of one
    principal and period, given ``used`` read after counting them: usage before the batch is
    ``used`` less the batch, then the records are added in time order until the limit is reached.
    Usage another batch counted in between only makes the walk stop earlier (the figure is then
    an upper bound of the delay); if the walk never reaches the limit, the newest call of the
    batch is taken. None without records."""
    if not records:
        return None
    ordered = sorted(records, key=lambda r: (r["ts"], r["request_id"]))
    running = used - sum((record_usage(r) for r in ordered), Decimal(0))
    for r in ordered:
        running += record_usage(r)
        if running >= limit:
            return r["ts"]
    return ordered[-1]["ts"]


def fmt(value):
    value = Decimal(str(value))
    if CONFIG.get("unit") == "usd":
        return f"{value.quantize(Decimal('0.0001'))} USD"
    return f"{value.to_integral_value():,} tokens"


def principal_key(principal, sk):
    return {"pk": f"PRINCIPAL#{principal}", "sk": sk}


def team_key(team, sk):
    return {"pk": f"TEAM#{team}", "sk": sk}


def ddb():
    return client("dynamodb")


def usage_table():
    return CONFIG["usage_table"]


def get_item(key, consistent=True):
    resp = ddb().get_item(TableName=usage_table(), Key=key, ConsistentRead=consistent)
    return resp.get("Item")


# --- invocation records -------------------------------------------------------------------

def decode_subscription(event):
    """The CloudWatch Logs subscription payload: base64 of gzip of JSON."""
    data = event["awslogs"]["data"]
    return json.loads(gzip.decompress(base64.b64decode(data)))


def _count(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        return 0
    return int(value)


def parse_record(log_event):
    """One log event as the usage it carries; ValueError when it is not an invocation record."""
    try:
        record = json.loads(log_event["message"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"message is not JSON ({type(exc).__name__})") from None
    if not isinstance(record, dict):
        raise ValueError("message is not a JSON object")
    request_id = record.get("requestId")
    if not isinstance(request_id, str) or not request_id:
        raise ValueError("requestId missing")
    ident = record.get("identity")
    arn = ident.get("arn") if isinstance(ident, dict) else None
    if not isinstance(arn, str) or not arn:
        raise ValueError("identity.arn missing")
    try:
        ts = parse_time(record.get("timestamp"))
    except (ValueError, OverflowError, OSError):
        ts = parse_time(log_event.get("timestamp"))  # when the record's own time is unusable
    model, tier, priced = record_pricing(record)
    # The counters keep one cache-write count (both lifetimes); the cost prices each lifetime.
    tokens = priced[:3] + (priced[3] + priced[4],)
    kind, name = identity(arn)
    return {"request_id": request_id, "arn": arn, "kind": kind, "principal": name,
            "model": model, "tokens": tokens, "cost": record_cost(model, priced, tier), "ts": ts,
            "day": day_key(ts), "month": month_key(ts)}


# --- exactly-once counting ----------------------------------------------------------------

def _sums(records):
    s = dict.fromkeys(COUNTERS, 0)
    s["cost_usd"] = Decimal(0)
    for r in records:
        t = r["tokens"]
        s["calls"] += 1
        s["input_tokens"] += t[0]
        s["output_tokens"] += t[1]
        s["cache_read_tokens"] += t[2]
        s["cache_write_tokens"] += t[3]
        if r["cost"] is None:
            s["unpriced_calls"] += 1
        else:
            s["cost_usd"] += r["cost"]
    return s


def _counter_update(key, sums, sets):
    adds = ", ".join(f"#{c} :{c}" for c in COUNTERS)
    names = {f"#{c}": c for c in COUNTERS}
    values = {f":{c}": sums[c] for c in COUNTERS}
    expr = f"ADD {adds}"
    if sets:
        expr += " SET " + ", ".join(f"#s_{k} = :s_{k}" for k in sets)
        names.update({f"#s_{k}": k for k in sets})
        values.update({f":s_{k}": v for k, v in sets.items()})
    return {"Update": {"TableName": usage_table(), "Key": key, "UpdateExpression": expr,
                       "ExpressionAttributeNames": names, "ExpressionAttributeValues": values}}


def _marker(record, at):
    expires = max(at, record["ts"]) + timedelta(days=MARKER_TTL_DAYS)
    return {"Put": {"TableName": usage_table(),
                    "Item": {"pk": f"REQUEST#{record['request_id']}", "sk": "REQUEST",
                             "principal": record["principal"], "counted_at": iso(at),
                             "ttl": int(expires.timestamp())},
                    "ConditionExpression": "attribute_not_exists(pk)"}}


def _backoff(attempt):
    return min(2.0, 0.05 * (2 ** attempt)) * (0.5 + random.random() / 2)


def count_group(principal, day, month, records, summary):
    """Counts one principal's records of one day exactly once (see the module notes)."""
    teams = teams_of(principal)
    room = TRANSACTION_MAX_ITEMS - 2 - len(teams)
    if room < 1:
        raise ValueError(f"{principal} is in {len(teams)} teams; at most {TRANSACTION_MAX_ITEMS - 3}")
    for start in range(0, len(records), room):
        pending = records[start:start + room]
        attempt = 0
        while pending:
            at = now()
            sums = _sums(pending)
            last = max(pending, key=lambda r: r["ts"])
            items = [_marker(r, at) for r in pending]
            who = {"principal": principal, "arn": last["arn"]}
            items.append(_counter_update(principal_key(principal, f"DAY#{day}"), sums, who))
            items.append(_counter_update(principal_key(principal, f"MONTH#{month}"), sums, who))
            for team in teams:
                items.append(_counter_update(team_key(team, f"MONTH#{month}"), sums, {"team": team}))
            try:
                ddb().transact_write_items(TransactItems=items)
                summary["counted"] += len(pending)
                summary["unpriced"] += sums["unpriced_calls"]
                pending = []
                break
            except ClientError as exc:
                code = error_code(exc)
                reasons = exc.response.get("CancellationReasons") or []
                if code == "TransactionCanceledException":
                    seen = {i for i, r in enumerate(reasons[:len(pending)])
                            if (r or {}).get("Code") == "ConditionalCheckFailed"}
                    if seen:
                        summary["duplicates"] += len(seen)
                        pending = [r for i, r in enumerate(pending) if i not in seen]
                        continue
                    retry = not reasons or any((r or {}).get("Code") in RETRYABLE_REASONS for r in reasons)
                else:
                    retry = code in RETRYABLE_CODES
                attempt += 1
                if not retry or attempt >= TRANSACTION_ATTEMPTS:
                    raise
                summary["retries"] += 1
                sleep(_backoff(attempt))


# --- once-only flags ----------------------------------------------------------------------

def claim_flag(key, flag, at=None):
    """Sets ``flag`` on the item unless it is set; True for the one caller that set it."""
    try:
        ddb().update_item(TableName=usage_table(), Key=key, UpdateExpression="SET #f = :at",
                          ConditionExpression="attribute_not_exists(#f)",
                          ExpressionAttributeNames={"#f": flag},
                          ExpressionAttributeValues={":at": iso(at or now())})
        return True
    except ClientError as exc:
        if error_code(exc) == "ConditionalCheckFailedException":
            return False
        raise


def release_flag(key, flag):
    try:
        ddb().update_item(TableName=usage_table(), Key=key, UpdateExpression="REMOVE #f",
                          ExpressionAttributeNames={"#f": flag})
    except (ClientError, BotoCoreError) as exc:
        LOG.error("could not release %s on %s: %s", flag, key, describe_error(exc))


# --- notifications and audit --------------------------------------------------------------

def notify(event, subject, lines, principal=None):
    """Publishes to the alert topic; the message attributes ``event``, ``principal`` and
    ``email`` let subscriptions filter (an e-mail subscription per person can filter on
    ``email``). Returns False on failure (logged), never raises."""
    email = (CONFIG.get("emails") or {}).get(principal) if principal else None
    attrs = {"event": {"DataType": "String", "StringValue": event}}
    if principal:
        attrs["principal"] = {"DataType": "String", "StringValue": principal}
    if email:
        attrs["email"] = {"DataType": "String", "StringValue": email}
        lines = list(lines) + [f"E-mail of {principal}: {email}"]
    stack = CONFIG.get("stack_name") or "bedrock-watch"
    subject = re.sub(r"[^\x20-\x7e]", "?", f"[{stack}] {subject}")[:100]
    try:
        client("sns").publish(TopicArn=CONFIG["topic_arn"], Subject=subject,
                              Message="\n".join(lines), MessageAttributes=attrs)
        return True
    except (ClientError, BotoCoreError) as exc:
        LOG.error("notification %s for %s failed: %s", event, principal, describe_error(exc))
        return False


def audit(action, principal, actor, reason, until=None, details=None, result="ok"):
    """Appends to the audit trail. Returns False on failure (logged), never raises."""
    at = now()
    item = {"pk": f"AUDIT#{at.astimezone(tz()).strftime('%Y-%m')}",
            "sk": f"{iso_ms(at)}#{uuid.uuid4()}", "action": action, "principal": principal,
            "actor": actor, "reason": reason, "result": result, "at": iso_ms(at),
            "details": json.dumps(details or {}, default=str, sort_keys=True)}
    if until:
        item["until"] = until
    try:
        ddb().put_item(TableName=CONFIG["audit_table"], Item=item)
        return True
    except (ClientError, BotoCoreError) as exc:
        LOG.error("audit %s %s failed: %s", action, principal, describe_error(exc))
        return False


# --- protection ---------------------------------------------------------------------------

def is_protected(principal):
    if principal in (CONFIG.get("protected") or []):
        return True
    return get_item(principal_key(principal, "PROTECTED")) is not None


def protect_principal(principal, actor, reason=""):
    """What ``quota protect`` does: the principal is never blocked automatically."""
    ddb().put_item(TableName=usage_table(), Item={
        **principal_key(principal, "PROTECTED"), "principal": principal,
        "protected_by": actor, "protected_at": iso(now()), "reason": reason})
    audit("protect", principal, actor, reason)
    return {"result": "protected", "principal": principal}


def unprotect_principal(principal, actor, reason=""):
    ddb().delete_item(TableName=usage_table(), Key=principal_key(principal, "PROTECTED"))
    audit("unprotect", principal, actor, reason)
    return {"result": "unprotected", "principal": principal}


# --- block mechanisms ---------------------------------------------------------------------

def sid_for(kind, value):
    """An IAM Sid (letters and digits only), readable and unique per value."""
    clean = re.sub(r"[^A-Za-z0-9]", "", value)[:40]
    return f"BedrockWatchQuota{kind}{clean}{hashlib.sha256(value.encode()).hexdigest()[:8]}"


def deny_statement(sid, userid=None):
    stmt = {"Sid": sid, "Effect": "Deny", "Action": list(BLOCKED_ACTIONS), "Resource": "*"}
    if userid:
        stmt["Condition"] = {"StringLike": {"aws:userid": userid}}
    return stmt


def block_target(principal, arn):
    """How ``principal`` (whose caller ARN is ``arn``) is blocked: (mechanism, target)."""
    kind, name = identity(arn)
    if name != principal:
        raise CannotBlock(f"the ARN {arn} belongs to {name}, not {principal}")
    parts = arn.split(":", 5)[5].split("/")
    if kind == "iam-user":
        return "user-policy", {"user_name": name}
    if kind == "role":
        return "role-statement", {"role_name": parts[1], "sid": sid_for("Role", parts[1]), "session": ""}
    if kind == "role-session":
        return "role-statement", {"role_name": parts[1], "session": parts[2],
                                  "sid": sid_for("Session", parts[2])}
    if kind == "sso-user":
        permission_set = parts[1][len(SSO_ROLE_PREFIX):].rsplit("_", 1)[0]
        ic = CONFIG.get("identity_center")
        if not ic:
            raise CannotBlock(
                f"{principal} is an IAM Identity Center user (permission set {permission_set}); the "
                "reserved AWSReservedSSO roles cannot be edited and identity_center is not configured, "
                "so the block must be applied by hand (e.g. remove the account assignment)")
        arns = ic.get("permission_set_arns") or {}
        if permission_set not in arns:
            raise CannotBlock(
                f"{principal} uses permission set {permission_set}, which is not in "
                "identity_center.permission_set_arns")
        return "permission-set", {"instance_arn": ic["instance_arn"], "region": ic.get("region") or "",
                                  "permission_sets": dict(sorted(arns.items())),
                                  "sid": sid_for("User", name), "user": name}
    raise CannotBlock(f"{arn} is not an IAM user, role or IAM Identity Center user")


def with_lock(name, fn):
    """Runs ``fn`` holding a DynamoDB lock item (policy read-modify-write is not atomic)."""
    token = str(uuid.uuid4())
    key = {"pk": f"LOCK#{name}", "sk": "LOCK"}
    for attempt in range(LOCK_ATTEMPTS):
        t = int(now().timestamp())
        try:
            ddb().put_item(TableName=usage_table(),
                           Item={**key, "owner": token, "expires": t + LOCK_SECONDS, "ttl": t + 3600},
                           ConditionExpression="attribute_not_exists(pk) OR #e < :now",
                           ExpressionAttributeNames={"#e": "expires"},
                           ExpressionAttributeValues={":now": t})
            break
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            sleep(0.25 + random.random() / 4)
    else:
        raise TimeoutError(f"lock {name} is held by another function")
    try:
        return fn()
    finally:
        try:
            ddb().delete_item(TableName=usage_table(), Key=key, ConditionExpression="#o = :t",
                              ExpressionAttributeNames={"#o": "owner"},
                              ExpressionAttributeValues={":t": token})
        except (ClientError, BotoCoreError) as exc:
            LOG.warning("lock %s not released: %s", name, describe_error(exc))


def _statements(document):
    if not document:
        return "2012-10-17", []
    if isinstance(document, str):
        text = document.strip()
        document = json.loads(text if text.startswith("{") else urllib.parse.unquote(text))
    stmts = document.get("Statement") or []
    if isinstance(stmts, dict):
        stmts = [stmts]
    return document.get("Version") or "2012-10-17", list(stmts)


def merge_statement(document, sid, statement):
    """The policy with the statement ``sid`` removed and, if given, ``statement`` added; None
    when no statement is left. Other statements are kept as they are."""
    version, stmts = _statements(document)
    stmts = [s for s in stmts if s.get("Sid") != sid]
    if statement is not None:
        stmts.append(statement)
    return {"Version": version, "Statement": stmts} if stmts else None


# Characters IAM allows in a tag value; a role session name may also hold a comma.
TAG_VALUE = re.compile(r"^[A-Za-z0-9_.:/=+@ -]{1,256}$")


def _attachment(kind, name, policy_arn, attach):
    """Attaches or detaches one of the stack's block policies; detaching what is not attached
    is not an error (unblocking is idempotent)."""
    call = getattr(client("iam"), f"{'attach' if attach else 'detach'}_{kind}_policy")
    args = {"UserName": name} if kind == "user" else {"RoleName": name}
    try:
        call(PolicyArn=policy_arn, **args)
    except ClientError as exc:
        if attach or error_code(exc) != "NoSuchEntity":
            raise


def session_slots(tags, session):
    """(slot keys holding ``session``, free slot keys) among a role's ``tags`` ({key: value})."""
    keys = CONFIG["session_tag_keys"]
    return [k for k in keys if tags.get(k) == session], [k for k in keys if k not in tags]


def _edit_session_block(role, session, block):
    iam = client("iam")
    tags = {t["Key"]: t["Value"] for t in iam.get_role(RoleName=role)["Role"].get("Tags") or []}
    held, free = session_slots(tags, session)
    policy = CONFIG["session_block_policy_arn"]
    if block:
        if not held:
            if not TAG_VALUE.match(session):
                raise CannotBlock(f"the session name {session!r} holds a character IAM tag values do not allow")
            if not free:
                raise CannotBlock(f"{len(CONFIG['session_tag_keys'])} sessions of role {role} are blocked "
                                  "already; no session slot is free")
            iam.tag_role(RoleName=role, Tags=[{"Key": free[0], "Value": session}])
            held = [free[0]]
        _attachment("role", role, policy, True)
        return held[0]
    if held:
        iam.untag_role(RoleName=role, TagKeys=held)
    if not [k for k in CONFIG["session_tag_keys"] if k in tags and k not in held]:
        _attachment("role", role, policy, False)
    return None


def _sso(target):
    return client("sso-admin", target.get("region") or None)


def _edit_permission_set(target, ps_arn, statement):
    sso = _sso(target)
    current = sso.get_inline_policy_for_permission_set(
        InstanceArn=target["instance_arn"], PermissionSetArn=ps_arn).get("InlinePolicy") or None
    merged = merge_statement(current, target["sid"], statement)
    if merged is None:
        if current:
            sso.delete_inline_policy_from_permission_set(InstanceArn=target["instance_arn"],
                                                         PermissionSetArn=ps_arn)
    else:
        sso.put_inline_policy_to_permission_set(InstanceArn=target["instance_arn"],
                                                PermissionSetArn=ps_arn, InlinePolicy=json.dumps(merged))


def provision(target, ps_arn):
    """Provisions the permission set to all its accounts and waits (bounded) for the result."""
    sso = _sso(target)
    status = sso.provision_permission_set(InstanceArn=target["instance_arn"], PermissionSetArn=ps_arn,
                                          TargetType="ALL_PROVISIONED_ACCOUNTS")["PermissionSetProvisioningStatus"]
    for _ in range(PROVISIONING_POLLS):
        if status.get("Status") != "IN_PROGRESS":
            break
        sleep(1)
        status = sso.describe_permission_set_provisioning_status(
            InstanceArn=target["instance_arn"],
            ProvisionPermissionSetRequestId=status["RequestId"])["PermissionSetProvisioningStatus"]
    if status.get("Status") == "FAILED":
        raise RuntimeError(f"provisioning {ps_arn} failed: {status.get('FailureReason', 'no reason given')}")
    return status.get("Status", "UNKNOWN")


def apply_mechanism(mechanism, target, block):
    """Applies (block=True) or removes (block=False) a block; idempotent. Returns details."""
    if mechanism == "user-policy":
        _attachment("user", target["user_name"], CONFIG["block_policy_arn"], block)
        return {"user": target["user_name"], "policy": CONFIG["block_policy_arn"]}
    if mechanism == "role-statement":
        role = target["role_name"]
        if not target.get("session"):
            _attachment("role", role, CONFIG["block_policy_arn"], block)
            return {"role": role, "policy": CONFIG["block_policy_arn"]}
        session = target["session"]
        slot = with_lock(f"ROLE#{role}", lambda: _edit_session_block(role, session, block))
        return {"role": role, "policy": CONFIG["session_block_policy_arn"], "session": session, "slot": slot}
    if mechanism == "permission-set":
        statement = deny_statement(target["sid"], f"*:{target['user']}") if block else None
        provisioned = {}
        for ps_name, ps_arn in sorted(target["permission_sets"].items()):
            with_lock(f"PERMISSIONSET#{ps_arn}", lambda a=ps_arn: _edit_permission_set(target, a, statement))
            provisioned[ps_name] = provision(target, ps_arn)
        return {"permission_sets": provisioned, "sid": target["sid"]}
    raise CannotBlock(f"unknown mechanism {mechanism}")


def known_arn(principal, month=None):
    """The caller ARN last counted for a principal (this month's item, else the latest one)."""
    if month:
        item = get_item(principal_key(principal, f"MONTH#{month}"))
        if item and item.get("arn"):
            return item["arn"]
    resp = ddb().query(TableName=usage_table(), KeyConditionExpression="pk = :pk AND begins_with(sk, :m)",
                       ExpressionAttributeValues={":pk": f"PRINCIPAL#{principal}", ":m": "MONTH#"},
                       ScanIndexForward=False, Limit=3)
    for item in resp.get("Items", []):
        if item.get("arn"):
            return item["arn"]
    return None


def _roll_back_block(principal, key, item, existing, mechanism, target):
    """After a failed block: a new block is undone (it may be half applied, e.g. one permission
    set of two) and its item removed; if undoing fails too, the item stays so that the reset
    function lifts whatever is in place when it expires. An extended block gets its old item."""
    try:
        if existing:
            if item is not existing:
                ddb().put_item(TableName=usage_table(), Item=existing)
            return
        apply_mechanism(mechanism, target, False)
        ddb().delete_item(TableName=usage_table(), Key=key)
    except Exception as exc:
        LOG.error("could not roll back the failed block of %s: %s", principal, describe_error(exc))


def block_principal(principal, actor, until, reason, arn=None, over_limit_at=None):
    """Blocks ``principal`` until ``until`` (datetime or ISO string); what ``quota block`` does.
    A longer block in force is kept. Every outcome is audited and notified; never raises.

    ``over_limit_at`` (the time of the call that reached the limit, for automatic blocks) puts
    ``over_limit_call_at`` and ``enforcement_delay_ms`` in the audit details: the time from that
    call to the deny being attached, which is log delivery plus this function. IAM's own
    propagation of the attachment (eventually consistent, usually seconds) comes after it and
    cannot be observed from here."""
    until_s = str(until)
    try:
        until_s = until if isinstance(until, str) else iso(until)
        arn = arn or known_arn(principal)
        if not arn:
            raise CannotBlock(f"no call of {principal} has been counted, so how to block it is unknown")
        mechanism, target = block_target(principal, arn)
        key = principal_key(principal, "BLOCK")
        existing = get_item(key)
        if existing and existing.get("until", "") >= until_s:
            item = existing
        else:
            item = {**key, "principal": principal, "arn": arn, "until": until_s, "reason": reason,
                    "blocked_by": actor, "blocked_at": iso(now()), "mechanism": mechanism, "target": target}
            ddb().put_item(TableName=usage_table(), Item=item)
        try:
            details = apply_mechanism(mechanism, target, True)
        except Exception:
            _roll_back_block(principal, key, item, existing, mechanism, target)
            raise
    except Exception as exc:  # every failure is reported, none is dropped
        error = str(exc) if isinstance(exc, CannotBlock) else describe_error(exc)
        LOG.error("block of %s failed: %s", principal, error)
        audit("block", principal, actor, reason, until_s, {"error": error, "arn": arn}, result="failed")
        notify("block-failed", f"Could not block {principal}",
               [f"{principal} should be blocked until {until_s}: {reason}.",
                f"It could not be blocked automatically: {error}",
                "Block it by hand or protect it explicitly with `bedrock-watch quota protect`."], principal)
        return {"result": "failed", "principal": principal, "error": error}
    details.update({"mechanism": mechanism, "arn": arn})
    if over_limit_at is not None:
        details["over_limit_call_at"] = iso_ms(over_limit_at)
        details["enforcement_delay_ms"] = max(0, int((now() - over_limit_at).total_seconds() * 1000))
    audit("block", principal, actor, reason, item["until"], details)
    notify("block", f"{principal} blocked until {item['until']}",
           [f"{principal} is blocked from Bedrock (invoke and converse) until {item['until']}.",
            f"Reason: {reason}", f"Blocked by: {actor}",
            f"Mechanism: {mechanism} ({json.dumps(details, default=str, sort_keys=True)})",
            "Callers see AccessDenied (explicit deny). Lift it early with `bedrock-watch quota unblock`."],
           principal)
    return {"result": "blocked", "principal": principal, "until": item["until"], "mechanism": mechanism}


def unblock_principal(principal, actor, reason, expected_until=None):
    """Removes a block: undoes its mechanism, deletes its item; what ``quota unblock`` does.
    With ``expected_until`` (the reset function) a block extended meanwhile is left alone."""
    key = principal_key(principal, "BLOCK")
    try:
        item = get_item(key)
        if not item:
            return {"result": "not-blocked", "principal": principal}
        if expected_until is not None and item.get("until") != expected_until:
            return {"result": "extended", "principal": principal, "until": item.get("until")}
        details = apply_mechanism(item["mechanism"], item["target"], False)
        try:
            ddb().delete_item(TableName=usage_table(), Key=key, ConditionExpression="#u = :u",
                              ExpressionAttributeNames={"#u": "until"},
                              ExpressionAttributeValues={":u": item["until"]})
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            # Extended while we were lifting it: put the block back as the new item says.
            newer = get_item(key)
            if newer:
                apply_mechanism(newer["mechanism"], newer["target"], True)
                return {"result": "extended", "principal": principal, "until": newer.get("until")}
    except Exception as exc:
        error = describe_error(exc)
        LOG.error("unblock of %s failed: %s", principal, error)
        audit("unblock", principal, actor, reason, None, {"error": error}, result="failed")
        notify("unblock-failed", f"Could not unblock {principal}",
               [f"Lifting the block of {principal} failed: {error}", "It stays recorded as blocked; "
                "the reset function retries at the start of the next period, or run `bedrock-watch quota unblock`."],
               principal)
        return {"result": "failed", "principal": principal, "error": error}
    details["mechanism"] = item["mechanism"]
    audit("unblock", principal, actor, reason, item.get("until"), details)
    notify("unblock", f"{principal} unblocked",
           [f"{principal} may use Bedrock again.", f"Reason: {reason}", f"Unblocked by: {actor}",
            f"The block was: {item.get('reason', '')} (until {item.get('until')}, by {item.get('blocked_by')})."],
           principal)
    return {"result": "unblocked", "principal": principal}
