"""Validate CloudFormation templates with cfn-guard and the Control Tower proactive-control rules,
honouring each resource's `Metadata.guard.SuppressedRules`.

Usage: python .ci/guard_templates.py --guard BIN --rules DIR TEMPLATE_DIR

The Control Tower rules (installed by .ci/test.sh stage 2 from the PyPI package
cdklabs-cdk-validator-cfnguard) do not read any suppression metadata themselves, so the filter
lives here:

1. Every template is decoded with cfn-lint's decoder (YAML short-form tags such as !Ref become
   their JSON form) and written as indented JSON into a temporary directory.
2. A rule is named by its `rule <name> when` identifier (one per ct-*.guard file). A resource
   that lists that name in `Metadata.guard.SuppressedRules` is removed from the JSON copy that
   this one rule is evaluated on; the rule still runs on every other resource.
3. Rules that no resource suppresses run together on the unfiltered copies in one cfn-guard call;
   each suppressed rule runs once on its filtered copies.
4. Per template the passing and suppressed rules are printed; a failing rule is re-run in
   cfn-guard's own text output and printed in full. Exit 1 on any unsuppressed failure, 2 on a
   usage or input problem (an unknown rule name in SuppressedRules among them: a typo must not
   silently suppress nothing).
"""

from __future__ import annotations

import argparse
import json
import pathlib
import re
import subprocess
import sys
import tempfile

from cfnlint.decode import decode_str

TEMPLATE_SUFFIXES = (".yaml", ".yml", ".json", ".template")
RULE_NAME = re.compile(r"^rule\s+([A-Za-z0-9_]+)\s+when\b", re.MULTILINE)
CT_ID = re.compile(r"\[(CT\.[A-Z0-9]+\.PR\.[0-9]+)\]")


class InputError(Exception):
    """A problem with the arguments, a template or the rule set (exit 2)."""


def load_rules(rules_dir: pathlib.Path) -> dict[str, tuple[pathlib.Path, str]]:
    """Rule name -> (file, Control Tower id) for every *.guard file under rules_dir."""
    rules: dict[str, tuple[pathlib.Path, str]] = {}
    for path in sorted(rules_dir.rglob("*.guard")):
        text = path.read_text(encoding="utf-8")
        names = set(RULE_NAME.findall(text))
        if len(names) != 1:
            raise InputError(f"{path}: expected one `rule <name> when` identifier, found {sorted(names) or 'none'}")
        (name,) = names
        if name in rules:
            raise InputError(f"rule {name} is defined by both {rules[name][0]} and {path}")
        ct = CT_ID.search(text)
        rules[name] = (path, ct.group(1) if ct else "")
    if not rules:
        raise InputError(f"no *.guard rule file under {rules_dir}")
    return rules


def load_template(path: pathlib.Path) -> dict:
    template, matches = decode_str(path.read_text(encoding="utf-8"))
    if matches or not isinstance(template, dict):
        raise InputError(f"{path}: not a readable CloudFormation template: {'; '.join(str(m) for m in matches)}")
    return dict(template)


def suppressions(template: dict, path: pathlib.Path) -> dict[str, list[str]]:
    """Rule name -> logical ids of the resources that suppress it."""
    by_rule: dict[str, list[str]] = {}
    for logical_id, resource in (template.get("Resources") or {}).items():
        guard = ((resource or {}).get("Metadata") or {}).get("guard") or {}
        rules = guard.get("SuppressedRules") or []
        if not isinstance(rules, list) or not all(isinstance(r, str) for r in rules):
            raise InputError(f"{path}: Resources.{logical_id}.Metadata.guard.SuppressedRules must be a list of rule names")
        for rule in rules:
            by_rule.setdefault(rule, []).append(logical_id)
    return by_rule


def write_json(template: dict, path: pathlib.Path) -> None:
    # Indented, so cfn-guard's failure report quotes a few lines, not the whole document.
    path.write_text(json.dumps(template, indent=1, default=str), encoding="utf-8")


def run_guard(guard: str, rule_files: list[pathlib.Path], data: list[pathlib.Path]) -> list[dict]:
    """cfn-guard's JSON results, one object per (rule file, data file)."""
    cmd = [guard, "validate", "--output-format", "json", "--show-summary", "none"]
    for f in rule_files:
        cmd += ["--rules", str(f)]
    for d in data:
        cmd += ["--data", str(d)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode not in (0, 19):
        raise InputError(f"cfn-guard exited {proc.returncode}: {proc.stderr.strip() or proc.stdout.strip()}")
    decoder, text, i, results = json.JSONDecoder(), proc.stdout, 0, []
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return results
        obj, i = decoder.raw_decode(text, i)
        results.append(obj)


def failing_resources(node) -> set[str]:
    """Logical ids of the resources a cfn-guard failure report points at (its `path` values)."""
    found: set[str] = set()
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "path" and isinstance(v, str) and v.startswith("/Resources/"):
                found.add(v.split("/")[2])
            else:
                found |= failing_resources(v)
    elif isinstance(node, list):
        for v in node:
            found |= failing_resources(v)
    return found


def outcomes(results: list[dict]) -> dict[tuple[str, str], tuple[str, set[str]]]:
    """(data file name, rule name) -> (PASS / FAIL / SKIP, logical ids the failure points at)."""
    out: dict[tuple[str, str], tuple[str, set[str]]] = {}
    for r in results:
        name = pathlib.Path(r["name"]).name
        # A passing rule is listed under both (its guard clause `when` is "not applicable").
        for rule in r.get("not_applicable", []):
            out[(name, rule)] = ("SKIP", set())
        for rule in r.get("compliant", []):
            out[(name, rule)] = ("PASS", set())
        for nc in r.get("not_compliant", []):
            out[(name, nc["Rule"]["name"])] = ("FAIL", failing_resources(nc))
    return out


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--guard", required=True, help="cfn-guard binary")
    ap.add_argument("--rules", required=True, type=pathlib.Path, help="directory of *.guard rule files")
    ap.add_argument("templates", type=pathlib.Path, help="directory of CloudFormation templates")
    args = ap.parse_args(argv)

    if not args.templates.is_dir():
        raise InputError(f"template directory '{args.templates}' does not exist")
    if not args.rules.is_dir():
        raise InputError(f"rules directory '{args.rules}' does not exist: run .ci/test.sh (stage 2 installs it)")
    rules = load_rules(args.rules)
    paths = sorted(p for p in args.templates.rglob("*") if p.is_file() and p.suffix in TEMPLATE_SUFFIXES)
    if not paths:
        raise InputError(f"no CloudFormation template under '{args.templates}'")

    with tempfile.TemporaryDirectory(prefix="guard-templates.") as tmp:
        tmp_dir = pathlib.Path(tmp)
        templates, suppressed = {}, {}
        for i, path in enumerate(paths):
            key = f"{i:03d}-{path.stem}.json"
            templates[key] = (path, load_template(path))
            suppressed[key] = suppressions(templates[key][1], path)
            for rule in suppressed[key]:
                if rule not in rules:
                    raise InputError(f"{path}: Metadata.guard.SuppressedRules names '{rule}', which is no rule in {args.rules}")

        plain_dir = tmp_dir / "plain"
        plain_dir.mkdir()
        for key, (_, template) in templates.items():
            write_json(template, plain_dir / key)
        # Every rule on the unfiltered copies, in one call.
        results = outcomes(run_guard(args.guard, [f for f, _ in rules.values()], [plain_dir / k for k in templates]))
        status: dict[tuple[str, str], str] = {}
        data_for: dict[tuple[str, str], pathlib.Path] = {}
        refilter: dict[str, list[str]] = {}
        for key, (path, _) in templates.items():
            for rule in rules:
                if (key, rule) not in results:
                    raise InputError(f"cfn-guard reported nothing for {path} and rule {rule}")
                outcome, located = results[(key, rule)]
                status[(key, rule)], data_for[(key, rule)] = outcome, plain_dir / key
                drop = set(suppressed[key].get(rule, []))
                if outcome != "FAIL" or not drop:
                    continue
                if located and located <= drop:
                    status[(key, rule)] = "SUPPRESSED"  # every resource the failure points at suppresses it
                elif not located:
                    refilter.setdefault(rule, []).append(key)  # a failure without location: re-run without them
        # A failure that names no resource: evaluate the rule again on a copy without the
        # resources that suppress it (only then, since removing a resource also breaks references
        # to it, e.g. a bucket's LoggingConfiguration naming the access-log bucket).
        for n, (rule, keys) in enumerate(sorted(refilter.items())):
            rule_dir = tmp_dir / f"rule-{n:03d}"
            rule_dir.mkdir()
            for key in keys:
                template, drop = templates[key][1], set(suppressed[key][rule])
                filtered = dict(template, Resources={k: v for k, v in template["Resources"].items() if k not in drop})
                write_json(filtered, rule_dir / key)
            again = outcomes(run_guard(args.guard, [rules[rule][0]], [rule_dir / k for k in keys]))
            for key in keys:
                if again[(key, rule)][0] == "FAIL":
                    data_for[(key, rule)] = rule_dir / key
                else:
                    status[(key, rule)] = "SUPPRESSED"

        failed_total = 0
        for key, (path, _) in templates.items():
            st = {r: status[(key, r)] for r in rules}
            passed = sorted(r for r, s in st.items() if s == "PASS")
            failed = sorted(r for r, s in st.items() if s == "FAIL")
            skipped = sum(1 for s in st.values() if s == "SKIP")
            n_supp = sum(1 for s in st.values() if s == "SUPPRESSED")
            print(f"guard: {path}: {len(passed)} passed, {n_supp} suppressed, {len(failed)} failed, {skipped} not applicable")
            print(f"  passed: {', '.join(passed) or '-'}")
            for rule, ids in sorted(suppressed[key].items()):
                note = "" if st[rule] in ("SUPPRESSED", "FAIL") else f" (not needed here: the rule {'passes' if st[rule] == 'PASS' else 'does not apply'})"
                print(f"  suppressed: {rule} [{rules[rule][1]}] for {', '.join(ids)}{note}")
            for rule in failed:
                failed_total += 1
                print(f"  FAILED: {rule} [{rules[rule][1]}] ({rules[rule][0].name}):")
                proc = subprocess.run(
                    [args.guard, "validate", "--rules", str(rules[rule][0]), "--data", str(data_for[(key, rule)]), "--show-summary", "fail"],
                    capture_output=True, text=True, check=False,
                )
                sys.stdout.write(proc.stdout + proc.stderr)
        n = len(templates)
        if failed_total:
            print(f"guard: {failed_total} unsuppressed finding(s) in {n} template(s) against {len(rules)} rules", file=sys.stderr)
            return 1
        print(f"guard: {n} template(s), {len(rules)} rules: no unsuppressed finding")
        return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except InputError as e:
        print(f"guard-templates: {e}", file=sys.stderr)
        sys.exit(2)
