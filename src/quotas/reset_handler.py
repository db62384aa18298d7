"""bedrock-watch quota reset: run by a schedule at midnight in the configured time zone.

Runs after the generated CONFIG line and quota_core.py in the same module. Lifts every block
whose ``until`` has passed (with a small grace, since a schedule may fire a moment early):
undoes its mechanism exactly, deletes the block item (only if it was not extended meanwhile),
audits ``unblock`` with actor ``automatic-reset`` and notifies; then audits one ``reset``
summary when anything was lifted or failed. Blocks still in force are kept. Idempotent: a
second run finds nothing to do. A failed unblock keeps its item, so the next run retries it.
"""

RESET_ACTOR = "automatic-reset"
RESET_GRACE_SECONDS = 120


def block_items():
    """Every block item (a scan: block items are few, but share the table with counters)."""
    paginator = ddb().get_paginator("scan")
    for page in paginator.paginate(TableName=usage_table(), FilterExpression="sk = :b",
                                   ExpressionAttributeValues={":b": "BLOCK"}, ConsistentRead=True):
        yield from page.get("Items", [])


def handler(event, context):
    at = now()
    cutoff = iso(at + timedelta(seconds=RESET_GRACE_SECONDS))
    summary = {"removed": 0, "kept": 0, "extended": 0, "errors": 0, "principals": []}
    for item in block_items():
        principal = item.get("principal") or item["pk"].split("#", 1)[1]
        until = item.get("until") or ""
        if until > cutoff:
            summary["kept"] += 1
            continue
        result = unblock_principal(principal, RESET_ACTOR, f"the block ended at {until}", expected_until=until)
        if result["result"] == "unblocked":
            summary["removed"] += 1
            summary["principals"].append(principal)
        elif result["result"] == "extended":
            summary["extended"] += 1
        elif result["result"] == "failed":
            summary["errors"] += 1
    if summary["removed"] or summary["errors"]:
        audit("reset", "*", RESET_ACTOR, "start of a period", None, summary)
    LOG.info("reset %s", json.dumps(summary))
    return summary
