#!/usr/bin/env bash
# Validate the synthesized CloudFormation templates with AWS CloudFormation Guard (cfn-guard)
# and the AWS Control Tower proactive-control Guard rules.
#
# Usage: bash .ci/guard-templates.sh [DIR]
#
#   DIR defaults to $TEMPLATES_DIR, else templates/ at the repo root.
#   cfn-guard comes from .tools/bin (.ci/test.sh stage 2 installs it; CFN_GUARD overrides);
#   the rules from .tools/guard-rules/ct-0.0.62 (stage 2 runs .ci/install-guard-rules.sh;
#   GUARD_RULES overrides); Python from the venv (VENV, default .venv).
#   The work is done by .ci/guard_templates.py (see its docstring): every template against
#   every rule; a resource whose Metadata.guard.SuppressedRules names a rule is exempt from that
#   rule. Exit 0 when no unsuppressed finding remains, 1 on findings, 2 on bad input.
set -euo pipefail

script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
root=$(cd -- "$script_dir/.." && pwd)
guard=${CFN_GUARD:-$root/.tools/bin/cfn-guard}
rules=${GUARD_RULES:-$root/.tools/guard-rules/ct-0.0.62}
venv=${VENV:-$root/.venv}
dir=${1:-${TEMPLATES_DIR:-$root/templates}}

fail() {
  echo "guard-templates: $*" >&2
  exit 2
}

[[ -x $guard ]] || fail "$guard not found: run .ci/test.sh (stage 2 installs it)"
[[ -d $rules ]] || fail "rules directory $rules does not exist: run .ci/install-guard-rules.sh (stage 2 of .ci/test.sh runs it)"
[[ -x $venv/bin/python ]] || fail "$venv/bin/python not found: run .ci/test.sh (stage 1 makes the venv)"

"$guard" --version
exec "$venv/bin/python" "$script_dir/guard_templates.py" --guard "$guard" --rules "$rules" "$dir"
