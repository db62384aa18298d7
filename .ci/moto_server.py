"""moto's server, as `moto_server` starts it, with emulator bugs fixed first.

Two emulator bugs are fixed; nothing else of moto is changed.

(1) moto 5.2.5 (the newest release) creates an `AWS::KMS::Key` from CloudFormation by passing the
template's `Tags` straight to its KMS backend, which expects the KMS API's `TagKey`/`TagValue`
shape; CloudFormation's `Key`/`Value` tags then crash the create with `KeyError: 'TagKey'`,
and since every resource of a bedrock-watch stack depends on its key, no resource is created
at all. Real CloudFormation accepts those tags (AWS::KMS::Key's `Tags` property is a list of
Key/Value pairs). This launcher converts them before moto's own code runs. Remove it when a moto
release fixes `Key.create_from_cloudformation_json`.

(2) DynamoDB operations are serialized, as DynamoDB's are atomic (see `_DYNAMODB_LOCK`).

Usage (as .ci/test.sh runs it): python .ci/moto_server.py -H 127.0.0.1 -p PORT
"""
import sys
import threading

from moto.dynamodb.models import DynamoDBBackend
from moto.kms import models as kms_models
from moto.server import main

import moto_stackset_fix  # noqa: F401  (stack-set instance stacks named as AWS names them)

_original = kms_models.Key.create_from_cloudformation_json.__func__


def _create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
    props = cloudformation_json.get("Properties") or {}
    tags = props.get("Tags")
    if isinstance(tags, list):
        props["Tags"] = [
            {"TagKey": t.get("Key", t.get("TagKey")), "TagValue": t.get("Value", t.get("TagValue"))}
            for t in tags
            if isinstance(t, dict)
        ]
    return _original(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)


kms_models.Key.create_from_cloudformation_json = classmethod(_create_from_cloudformation_json)

# DynamoDB makes every item write atomic and transactions serializable. moto's server answers
# requests on threads, and its backend does neither: a cancelled TransactWriteItems restores a
# snapshot of the whole table, undoing writes other requests made meanwhile. One lock around the
# backend's data operations gives concurrent clients (tests/e2e/test_quota_cli.py's concurrent
# accounting test) the guarantees real DynamoDB gives; tests/python/quota_support.py does the
# same for the in-process backend.
_DYNAMODB_LOCK = threading.RLock()


def _serialized(original):
    def locked(self, *args, **kwargs):
        with _DYNAMODB_LOCK:
            return original(self, *args, **kwargs)

    return locked


for _name in ("transact_write_items", "put_item", "update_item", "get_item", "delete_item", "query", "scan",
              "batch_write_item", "transact_get_items"):
    if hasattr(DynamoDBBackend, _name):
        setattr(DynamoDBBackend, _name, _serialized(getattr(DynamoDBBackend, _name)))

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
