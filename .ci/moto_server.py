"""moto's server, as `moto_server` starts it, with one emulator bug fixed first.

moto 5.2.5 (the newest release) creates an `AWS::KMS::Key` from CloudFormation by passing the
template's `Tags` straight to its KMS backend, which expects the KMS API's `TagKey`/`TagValue`
shape; CloudFormation's `Key`/`Value` tags then crash the create with `KeyError: 'TagKey'`,
and since every resource of a bedrock-watch stack depends on its key, no resource is created
at all. Real CloudFormation accepts those tags (AWS::KMS::Key's `Tags` property is a list of
Key/Value pairs). This launcher converts them before moto's own code runs; nothing else of
moto is changed. Remove it when a moto release fixes `Key.create_from_cloudformation_json`.

Usage (as .ci/test.sh runs it): python .ci/moto_server.py -H 127.0.0.1 -p PORT
"""
import sys

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

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
