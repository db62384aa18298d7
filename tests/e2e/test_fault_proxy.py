"""The fault-injecting proxy really injects faults, and a client with standard retries gets
through it: the premise of the deploy-under-faults test."""
import boto3
import pytest
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError


def _cfn(url, attempts):
    return boto3.client("cloudformation", region_name="us-east-1", endpoint_url=url,
                        aws_access_key_id="testing", aws_secret_access_key="testing",
                        config=BotoConfig(retries={"mode": "standard", "total_max_attempts": attempts}))


def test_proxy_injects_throttling_and_500s_that_retries_absorb(reset, fault_proxy):
    cfn = _cfn(fault_proxy.url, attempts=3)
    for _ in range(20):
        assert cfn.list_stacks()["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert fault_proxy.throttled >= 1 and fault_proxy.failed >= 1, vars(fault_proxy)
    assert fault_proxy.forwarded >= 20


def test_without_retries_the_injected_faults_surface(reset, fault_proxy):
    cfn = _cfn(fault_proxy.url, attempts=1)
    codes = []
    for _ in range(14):
        try:
            cfn.list_stacks()
        except ClientError as err:
            codes.append(err.response["Error"]["Code"])
    assert sorted(codes) == ["InternalFailure", "Throttling"], codes
