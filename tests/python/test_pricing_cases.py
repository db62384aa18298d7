"""Application inference profiles, service tiers and 1-hour cache writes in the Lambda handlers,
on the shared fixture tests/data/pricing-cases.json that tests/pricing_cases.rs asserts against
the Rust side (src/bedrock/log_usage.rs, src/bedrock/pricing.rs): same readings, same costs."""
import json
from decimal import Decimal

import pytest

import quota_build
import report_build
from quota_support import DATA, config as quota_config

FIXTURE = json.loads((DATA / "pricing-cases.json").read_text())
HANDLER = FIXTURE["handler_config"]


def quota_module():
    return quota_build.build("accounting", quota_config(prices=HANDLER["prices"], inference_profiles=HANDLER["inference_profiles"],
                                                        service_tiers=HANDLER["service_tiers"]))


def report_module():
    return report_build.build({"prices": HANDLER["prices"], "inference_profiles": HANDLER["inference_profiles"],
                               "service_tiers": HANDLER["service_tiers"]})


@pytest.mark.parametrize("case", FIXTURE["records"], ids=[c["name"] for c in FIXTURE["records"]])
def test_quota_function_reads_and_prices_records_like_rust(case):
    mod = quota_module()
    model, tier, tokens = mod.record_pricing(case["record"])
    assert model == case["record"]["modelId"]
    assert tier == case["tier"]
    assert list(tokens) == case["tokens"]
    assert mod.record_cost(model, tokens, tier) == Decimal(str(case["cost_usd"])).quantize(Decimal("0.000000000001"))
    # The accounting path: parse_record counts both write lifetimes and prices each.
    parsed = mod.parse_record({"message": json.dumps(dict(case["record"], requestId="r1", timestamp="2026-11-20T10:00:00Z",
                                                          identity={"arn": "arn:aws:iam::111122223333:user/alice"}))})
    assert parsed["tokens"] == tuple(case["tokens"][:3]) + (case["tokens"][3] + case["tokens"][4],)
    assert parsed["cost"] == mod.record_cost(model, tokens, tier)


@pytest.mark.parametrize("case", FIXTURE["metric_models"], ids=[c["model_id"] for c in FIXTURE["metric_models"]])
def test_scheduled_report_prices_metric_model_ids_like_rust(case):
    mod = report_module()
    price = mod.price_for(case["model_id"])
    assert price is not None
    assert mod.cost(price, case["tokens"]) == pytest.approx(case["cost_usd"], abs=1e-12)


def test_quota_function_prices_metric_style_ids_and_unknown_profiles():
    mod = quota_module()
    for case in FIXTURE["metric_models"]:
        t = case["tokens"]
        tokens = (t["input"], t["output"], t["cache_read"], t["cache_write"])
        assert mod.record_cost(case["model_id"], tokens) == Decimal(str(case["cost_usd"])).quantize(Decimal("0.000000000001"))
    unknown = "arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/zzzz00000000"
    assert mod.record_cost(unknown, (1, 1, 0, 0)) is None, "an unmapped application profile has no price"


def test_tier_split_is_a_sum_of_parts():
    """Any usage split across tiers and cache lifetimes costs the sum of its parts, never less than 0."""
    mod = quota_module()
    model = "anthropic.claude-haiku-4-5-20251001-v1:0"
    whole = (1000, 300, 2000, 700, 500)
    parts = [(600, 100, 2000, 0, 500), (400, 200, 0, 700, 0)]
    for tier in ("standard", "flex", "priority", "reserved"):
        total = mod.record_cost(model, whole, tier)
        assert total >= 0
        assert total == sum(mod.record_cost(model, p, tier) for p in parts)
