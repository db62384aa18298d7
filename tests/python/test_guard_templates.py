"""The suppression filter of .ci/guard_templates.py, run for real: cfn-guard and the Control Tower
rules installed by .ci/test.sh stage 2 (which runs before these tests), on small templates."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GUARD = ROOT / ".tools" / "bin" / "cfn-guard"
RULES = ROOT / ".tools" / "guard-rules" / "ct-0.0.62"

if not (GUARD.exists() and RULES.is_dir()):
    if os.environ.get("CI"):
        raise RuntimeError(f"{GUARD} or {RULES} missing: .ci/test.sh stage 2 installs them")
    pytest.skip(f"{GUARD} or {RULES} missing: run .ci/test.sh once (stage 2 installs them)", allow_module_level=True)

# A log group kept 30 days fails CT.CLOUDWATCH.PR.2 (at least 365 days); one kept 400 days passes.
TEMPLATE = """AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Short:
    Type: AWS::Logs::LogGroup
{metadata}    Properties:
      RetentionInDays: 30
      KmsKeyId: arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab
  Long:
    Type: AWS::Logs::LogGroup
    Properties:
      RetentionInDays: 400
      KmsKeyId: arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab
"""
SUPPRESS = """    Metadata:
      guard:
        SuppressedRules:
          - {rule}
"""
RULE = "cloudwatch_log_group_retention_period_check"


def run(tmp_path: Path, metadata: str) -> subprocess.CompletedProcess:
    d = tmp_path / "templates"
    d.mkdir()
    (d / "t.yaml").write_text(TEMPLATE.format(metadata=metadata))
    return subprocess.run(
        [sys.executable, str(ROOT / ".ci" / "guard_templates.py"), "--guard", str(GUARD), "--rules", str(RULES), str(d)],
        capture_output=True, text=True, check=False,
    )


def test_an_unsuppressed_failure_fails_and_is_printed_in_full(tmp_path):
    p = run(tmp_path, "")
    assert p.returncode == 1, p.stdout + p.stderr
    assert f"FAILED: {RULE} [CT.CLOUDWATCH.PR.2]" in p.stdout
    assert "Resource = Short" in p.stdout and "Resource = Long" not in p.stdout


def test_the_resource_naming_the_rule_is_exempt_from_it_alone(tmp_path):
    p = run(tmp_path, SUPPRESS.format(rule=RULE))
    assert p.returncode == 0, p.stdout + p.stderr
    assert f"suppressed: {RULE} [CT.CLOUDWATCH.PR.2] for Short\n" in p.stdout
    assert "0 failed" in p.stdout


def test_a_suppression_of_another_rule_exempts_nothing(tmp_path):
    p = run(tmp_path, SUPPRESS.format(rule="s3_bucket_logging_enabled_check"))
    assert p.returncode == 1, p.stdout + p.stderr
    assert f"FAILED: {RULE}" in p.stdout


def test_an_unknown_rule_name_is_refused(tmp_path):
    p = run(tmp_path, SUPPRESS.format(rule="S3_BUCKET_LOGGING_ENABLED"))
    assert p.returncode == 2
    assert "'S3_BUCKET_LOGGING_ENABLED', which is no rule in" in p.stderr
