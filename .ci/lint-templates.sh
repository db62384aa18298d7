#!/usr/bin/env bash
# Lint the synthesized CloudFormation templates with cfn-lint and/or checkov.
#
# Usage: bash .ci/lint-templates.sh {cfn-lint|checkov|all} [DIR]
#
#   DIR defaults to $TEMPLATES_DIR, else templates/ at the repo root. Relative
#   paths are taken from the current directory.
#   The tools come from the repo-root .venv/ (made by .ci/test.sh); set VENV to
#   use another virtualenv.
#
# cfn-lint: every *.yaml / *.yml / *.json / *.template file under DIR (any
#   depth) is linted in one run with `--non-zero-exit-code warning`. cfn-lint's
#   exit code is a bit mask: 2 = errors (parse failures are error E0000),
#   4 = warnings, 8 = informational; 1 = cfn-lint itself failed. With that flag
#   informational matches do not set a bit, so any non-zero code (errors,
#   warnings, crashes) fails this stage. A .cfnlintrc at the repo root is
#   picked up by cfn-lint as usual.
# checkov: `checkov -d DIR --framework cloudformation --quiet --compact
#   --skip-download`, fully offline (no guideline/mapping download, no PyPI
#   update check), failing on parse errors. Any failed check fails the stage;
#   checks skipped through resource Metadata are allowed and counted.
# Either tool fails when DIR holds no template at all.
#
# Suppressions honoured (verified with cfn-lint 1.58.0 and checkov 3.3.30):
#   cfn-lint: resource-level  Metadata: {cfn-lint: {config: {ignore_checks: [W3005]}}}
#             template-level  Metadata: {cfn-lint: {config: {ignore_checks: [...]}}}
#   checkov:  resource-level  Metadata: {checkov: {skip: [{id: CKV_AWS_158, comment: why}]}}
#             (the key `bridgecrew` instead of `checkov` works too), or a YAML
#             comment inside the resource: `# checkov:skip=CKV_AWS_158: why`.
#             checkov has no template-level suppression in Metadata.
set -euo pipefail

usage() {
  echo "usage: bash .ci/lint-templates.sh {cfn-lint|checkov|all} [DIR]" >&2
  exit 64
}

[[ $# -ge 1 && $# -le 2 ]] || usage
tool=$1
case $tool in cfn-lint | checkov | all) ;; *) usage ;; esac

script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
root=$(cd -- "$script_dir/.." && pwd)
venv=${VENV:-$root/.venv}
dir=${2:-${TEMPLATES_DIR:-$root/templates}}

fail() {
  echo "lint-templates ($tool): $*" >&2
  exit 1
}

[[ -d $dir ]] || fail "template directory '$dir' does not exist"

templates=()
while IFS= read -r -d '' f; do
  templates+=("$f")
done < <(find "$dir" -type f \( -name '*.yaml' -o -name '*.yml' -o -name '*.json' -o -name '*.template' \) -print0 | sort -z)
[[ ${#templates[@]} -gt 0 ]] ||
  fail "no CloudFormation template (*.yaml, *.yml, *.json, *.template) under '$dir'"

run_cfn_lint() {
  local bin=$venv/bin/cfn-lint rc=0
  [[ -x $bin ]] || fail "$bin not found: run .ci/test.sh once to build the venv"
  echo "cfn-lint $("$bin" --version | awk '{print $NF}') on ${#templates[@]} template(s):"
  printf '  %s\n' "${templates[@]}"
  "$bin" --non-zero-exit-code warning -- "${templates[@]}" || rc=$?
  if [[ $rc -ne 0 ]]; then
    local what=()
    ((rc & 2)) && what+=(errors)
    ((rc & 4)) && what+=(warnings)
    ((rc & 1)) && what+=("cfn-lint failure")
    ((${#what[@]})) || what+=("exit code $rc")
    fail "cfn-lint reported ${what[*]} (exit code $rc; 2=errors 4=warnings, bitwise)"
  fi
  echo "cfn-lint: ${#templates[@]} template(s), 0 errors, 0 warnings"
}

run_checkov() {
  local bin=$venv/bin/checkov rc=0 out
  [[ -x $bin ]] || fail "$bin not found: run .ci/test.sh once to build the venv"
  out=$(mktemp "${TMPDIR:-/tmp}/bedrock-watch-checkov.XXXXXX")
  # Offline: --skip-download + BC_SKIP_MAPPING stop the guideline/ID-mapping
  # download, CKV_SKIP_PACKAGE_UPDATE_CHECK the PyPI version check.
  # CKV_PARSE_ERROR_FAIL makes an unparsable template a failure, not a skip.
  echo "checkov $("$bin" --version) on $dir (${#templates[@]} file(s)):"
  BC_SKIP_MAPPING=TRUE \
    CKV_SKIP_PACKAGE_UPDATE_CHECK=true \
    CKV_PARSE_ERROR_FAIL=true \
    "$bin" -d "$dir" --framework cloudformation --quiet --compact --skip-download \
    >"$out" 2>&1 || rc=$?
  cat "$out"
  if [[ $rc -ne 0 ]]; then
    rm -f "$out"
    fail "checkov found failed checks or parse errors (exit code $rc)"
  fi
  if ! grep -q 'Passed checks: [0-9]*, Failed checks: 0' "$out"; then
    rm -f "$out"
    fail "checkov recognised no CloudFormation template under '$dir' (no scan summary)"
  fi
  rm -f "$out"
}

case $tool in
  cfn-lint) run_cfn_lint ;;
  checkov) run_checkov ;;
  all)
    run_cfn_lint
    run_checkov
    ;;
esac
