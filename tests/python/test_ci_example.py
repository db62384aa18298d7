"""examples/github-actions-synth-check.yml is a workflow users copy: it must parse, build the
synth-only binary the way the test command does, run `synth --check`, and pin the cfn-lint the
test command lints with."""
import re
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = REPO_ROOT / "examples" / "github-actions-synth-check.yml"


def load():
    doc = yaml.safe_load(WORKFLOW.read_text())
    assert isinstance(doc, dict), "the workflow is not a YAML mapping"
    return doc


def steps():
    return load()["jobs"]["synth-check"]["steps"]


def runs():
    return "\n".join(s.get("run", "") for s in steps())


def test_workflow_parses_with_triggers_and_read_only_permissions():
    doc = load()
    # YAML 1.1 (PyYAML, and GitHub's own parser accepts it) reads the key `on` as True.
    triggers = doc.get("on", doc.get(True))
    assert "pull_request" in triggers, triggers
    assert doc["permissions"] == {"contents": "read"}


def test_it_builds_without_the_aws_sdk_and_checks_the_templates():
    text = runs()
    assert "cargo build --locked --no-default-features --bin bedrock-watch" in text, text
    assert re.search(r"^\s*\"\$bin\" synth --check$", text, re.M), text
    assert "synth --check --config" in text, text
    # The same build the test command's synth-only stage makes.
    test_sh = (REPO_ROOT / ".ci" / "test.sh").read_text()
    assert "cargo build --locked --no-default-features --bin bedrock-watch" in test_sh


def test_the_cache_covers_the_build_folder_and_keys_on_the_lock_file():
    cache = [s for s in steps() if s.get("uses", "").startswith("actions/cache@")]
    assert len(cache) == 1, steps()
    assert "target/synth-only" in cache[0]["with"]["path"]
    assert "hashFiles('Cargo.lock'" in cache[0]["with"]["key"]


def test_actions_and_cfn_lint_are_pinned_to_the_test_commands_version():
    for s in steps():
        if "uses" in s:
            assert re.fullmatch(r"[\w-]+/[\w-]+@v\d+", s["uses"]), s["uses"]
    requirements = (REPO_ROOT / ".ci" / "requirements.txt").read_text()
    pinned = re.search(r"^cfn-lint==(\S+)$", requirements, re.M).group(1)
    assert f"cfn-lint=={pinned}" in runs(), runs()
    assert "cfn-lint --non-zero-exit-code warning templates/" in runs()
