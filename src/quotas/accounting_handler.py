"""bedrock-watch quota accounting: CloudWatch Logs subscription on the invocation log group.

Runs after the generated CONFIG line and quota_core.py in the same module (no import of the
core at run time). For each batch: decode (base64, gzip, JSON), ignore control messages, parse
every log event (a malformed one is logged without its content and skipped), drop records
older than STALE_AFTER_DAYS, count the rest exactly once, then evaluate warnings and limits for
every principal, period and team the batch touched (also for records that were duplicates, so a
redelivery finishes the evaluation an interrupted run did not). Returns a summary; raises only
when counting failed after its retries, so that Lambda redelivers the batch.
"""


def new_summary():
    return {"counted": 0, "duplicates": 0, "malformed": 0, "stale": 0, "unpriced": 0,
            "retries": 0, "warnings": 0, "limits": 0, "blocks": 0, "errors": 0}


def _claim_and_notify(key, flag, event, subject, lines, principal, summary):
    """Claims the once-only flag, then notifies; a failed notification releases the flag so a
    later batch tries again. True when this call sent it."""
    if not claim_flag(key, flag):
        return False
    if not notify(event, subject, lines, principal):
        summary["errors"] += 1
        release_flag(key, flag)
        return False
    return True


def evaluate_period(principal, arn, sk, limit, at, summary, records=()):
    """Warning or limit for one principal and period (DAY#... or MONTH#...); ``records`` are the
    batch's records of that principal and period (they date the call that reached the limit)."""
    if limit is None:
        return
    key = principal_key(principal, sk)
    item = get_item(key) or {}
    used = usage_of(item)
    limit_d = Decimal(str(limit))
    percent = CONFIG.get("warning_percent")
    percent = 100 if percent is None else percent
    warn_at = limit_d * Decimal(str(percent)) / Decimal(100)
    period = "day" if sk.startswith("DAY#") else "month"
    label = sk.split("#", 1)[1]
    until = period_end(sk)
    if used >= limit_d:
        if not claim_flag(key, "limit_notified", at):
            return
        summary["limits"] += 1
        reason = f"{period} limit {fmt(limit_d)} reached on {label}: {fmt(used)} used"
        if CONFIG.get("mode") != "block":
            if notify("limit", f"{principal} reached the {period} limit",
                      [f"{principal} used {fmt(used)} of its {period} limit {fmt(limit_d)} ({label}).",
                       "Mode alert: nothing is blocked."], principal):
                audit("limit", principal, "automatic", reason, iso(until), {"used": str(used)})
            else:
                summary["errors"] += 1
                release_flag(key, "limit_notified")
            return
        _block(principal, arn, until, reason, at, summary, over_limit_call(records, used, limit_d))
        return
    if used >= warn_at and item.get("warned") is None:
        lines = [f"{principal} used {fmt(used)} of its {period} limit {fmt(limit_d)} ({label}),",
                 f"at least {percent:g} percent.",
                 "Mode block: calls are denied once the limit is reached, until the period ends."
                 if CONFIG.get("mode") == "block" else "Mode alert: the limit is notified, nothing is blocked."]
        if _claim_and_notify(key, "warned", "warning", f"{principal} is near the {period} limit", lines,
                             principal, summary):
            summary["warnings"] += 1
            audit("warn", principal, "automatic", f"{fmt(used)} of {fmt(limit_d)} ({period} {label})",
                  None, {"used": str(used), "limit": str(limit_d)})


def _block(principal, arn, until, reason, at, summary, over_limit_at=None):
    if until <= at:
        audit("limit", principal, "automatic", reason, iso(until), {"late": True}, result="skipped")
        notify("limit", f"{principal} exceeded a limit of an ended period",
               [f"{reason}.", "The records arrived after the period ended, so nothing is blocked."], principal)
        return
    if is_protected(principal):
        audit("block", principal, "automatic", reason, iso(until), {"protected": True}, result="skipped")
        notify("limit", f"{principal} reached a limit (protected, not blocked)",
               [f"{reason}.", f"{principal} is protected and is never blocked automatically."], principal)
        return
    result = block_principal(principal, "automatic", until, reason, arn, over_limit_at)
    if result["result"] == "blocked":
        summary["blocks"] += 1
    else:
        summary["errors"] += 1


def evaluate_team(team, month, arns, at, summary, newest=None):
    """Team monthly limit: notify once (alert) or block every unprotected member (block).
    Members are blocked when the limit is first reached (those whose caller ARN is known) and,
    later in the month, when they appear in a batch; once per member and month."""
    spec = (CONFIG.get("teams") or {}).get(team) or {}
    limit = spec.get("monthly_limit")
    if limit is None:
        return
    key = team_key(team, f"MONTH#{month}")
    used = usage_of(get_item(key))
    limit_d = Decimal(str(limit))
    if used < limit_d:
        return
    until = month_end(month)
    reason = f"team {team} monthly limit {fmt(limit_d)} reached in {month}: {fmt(used)} used"
    first = claim_flag(key, "limit_notified", at)
    if first:
        summary["limits"] += 1
    if CONFIG.get("mode") != "block":
        if first:
            if notify("team-limit", f"team {team} reached its monthly limit", [f"{reason}.", "Mode alert: nothing is blocked."]):
                audit("limit", f"TEAM#{team}", "automatic", reason, iso(until), {"members": spec.get("members")})
            else:
                summary["errors"] += 1
                release_flag(key, "limit_notified")
        return
    if first:
        audit("limit", f"TEAM#{team}", "automatic", reason, iso(until), {"members": spec.get("members")})
    candidates = (spec.get("members") or []) if first else [m for m in arns if m in (spec.get("members") or [])]
    outcome = []
    for member in candidates:
        arn = arns.get(member) or known_arn(member, month)
        if not arn:
            continue  # has not called this month; blocked when it first appears
        if is_protected(member):
            if first:
                outcome.append(f"{member}: protected, not blocked")
            continue
        if until <= at or not claim_flag(principal_key(member, f"MONTH#{month}"), f"team_blocked_{team}", at):
            continue
        result = block_principal(member, "automatic", until, reason, arn, (newest or {}).get(member))
        outcome.append(f"{member}: {result['result']}")
        summary["blocks" if result["result"] == "blocked" else "errors"] += 1
    if first:
        notify("team-limit", f"team {team} reached its monthly limit",
               [f"{reason}.", "Mode block: members are blocked until the month ends."] + outcome)


def handler(event, context):
    summary = new_summary()
    try:
        payload = decode_subscription(event)
    except Exception as exc:
        LOG.error("not a CloudWatch Logs subscription event: %s", type(exc).__name__)
        summary["malformed"] += 1
        return summary
    if payload.get("messageType") != "DATA_MESSAGE":
        summary["control"] = True
        return summary
    at = now()
    groups = {}
    seen = set()
    for log_event in payload.get("logEvents") or []:
        try:
            record = parse_record(log_event)
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError, OSError) as exc:
            summary["malformed"] += 1
            LOG.warning("skipped log event %s: %s", (log_event or {}).get("id") if isinstance(log_event, dict)
                        else None, exc)
            continue
        if record["ts"] < at - timedelta(days=STALE_AFTER_DAYS):
            summary["stale"] += 1
            LOG.warning("skipped request %s from %s: older than %s days", record["request_id"],
                        iso(record["ts"]), STALE_AFTER_DAYS)
            continue
        if record["request_id"] in seen:
            summary["duplicates"] += 1
            continue
        seen.add(record["request_id"])
        groups.setdefault((record["principal"], record["day"], record["month"]), {})[record["request_id"]] = record

    failed = []
    for (principal, day, month), records in groups.items():
        try:
            count_group(principal, day, month, list(records.values()), summary)
        except Exception as exc:
            summary["errors"] += 1
            failed.append(principal)
            LOG.error("counting %d records of %s failed: %s", len(records), principal, describe_error(exc))

    arns = {}
    newest = {}
    periods = {}
    in_period = {}
    team_months = set()
    for (principal, day, month), records in groups.items():
        latest = max(records.values(), key=lambda r: r["ts"])
        if principal not in newest or latest["ts"] > newest[principal]:
            arns[principal], newest[principal] = latest["arn"], latest["ts"]
        periods.setdefault(principal, set()).update({f"DAY#{day}", f"MONTH#{month}"})
        for sk in (f"DAY#{day}", f"MONTH#{month}"):
            in_period.setdefault((principal, sk), []).extend(records.values())
        team_months.update((team, month) for team in teams_of(principal))
    for principal, sks in sorted(periods.items()):
        daily, monthly = limits_for(principal)
        for sk in sorted(sks):
            try:
                evaluate_period(principal, arns[principal], sk, daily if sk.startswith("DAY#") else monthly,
                                at, summary, in_period.get((principal, sk), ()))
            except Exception as exc:
                summary["errors"] += 1
                LOG.error("evaluating %s %s failed: %s", principal, sk, describe_error(exc))
    for team, month in sorted(team_months):
        try:
            evaluate_team(team, month, arns, at, summary, newest)
        except Exception as exc:
            summary["errors"] += 1
            LOG.error("evaluating team %s %s failed: %s", team, month, describe_error(exc))

    LOG.info("summary %s", json.dumps(summary, default=str))
    if failed:
        raise RuntimeError(f"counting failed for {', '.join(sorted(set(failed)))}; "
                           "the batch will be redelivered and counted records skipped")
    return summary
