#!/usr/bin/env bash
# Validate the synthesized CloudFormation templates with AWS CloudFormation
# Guard (cfn-guard) and the vendored AWS Guard Rules Registry rules.
#
# Usage: bash .ci/guard-templates.sh [DIR]
#
#   DIR defaults to $TEMPLATES_DIR, else templates/ at the repo root.
#   cfn-guard comes from .tools/bin (installed by .ci/test.sh stage 2); set
#   CFN_GUARD to use another binary. Rules: .ci/guard-rules/ (see its SOURCE).
#   Every template is validated against every rule; any failed rule fails the
#   stage (cfn-guard exits 19 on a non-compliant template, 5 on a parse error).
#   Suppression: resource Metadata {guard: {SuppressedRules: [RULE_NAME]}},
#   read by each registry rule itself.
set -euo pipefail

script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
root=$(cd -- "$script_dir/.." && pwd)
guard=${CFN_GUARD:-$root/.tools/bin/cfn-guard}
rules=$root/.ci/guard-rules
dir=${1:-${TEMPLATES_DIR:-$root/templates}}

fail() {
  echo "guard-templates: $*" >&2
  exit 1
}

[[ -x $guard ]] || fail "$guard not found: run .ci/test.sh (stage 2 installs it)"
[[ -d $rules ]] || fail "rules directory $rules does not exist"
[[ -d $dir ]] || fail "template directory '$dir' does not exist"

templates=()
while IFS= read -r -d '' f; do
  templates+=("$f")
done < <(find "$dir" -type f \( -name '*.yaml' -o -name '*.yml' -o -name '*.json' -o -name '*.template' \) -print0 | sort -z)
[[ ${#templates[@]} -gt 0 ]] || fail "no CloudFormation template under '$dir'"

"$guard" --version
rc=0
for t in "${templates[@]}"; do
  r=0
  "$guard" validate --rules "$rules" --data "$t" --type CFNTemplate --show-summary fail || r=$?
  case $r in
    0) echo "guard: $t: every rule passes or is suppressed" ;;
    19) echo "guard: $t: failed rules above" >&2; rc=1 ;;
    *) echo "guard: $t: cfn-guard exited $r" >&2; rc=1 ;;
  esac
done
exit "$rc"
