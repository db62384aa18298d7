#!/usr/bin/env bash
# Install the AWS Control Tower proactive-control Guard rules that .ci/guard-templates.sh runs.
#
# Usage: bash .ci/install-guard-rules.sh      (run by .ci/test.sh stage 2; VENV as there)
#
# The AWS Guard Rules Registry is not published on any package registry this project's machines
# reach, so the rules come from the PyPI package cdklabs-cdk-validator-cfnguard (AWS cdklabs,
# Apache-2.0): its wheel holds a jsii tarball whose package/rules/control-tower/cfn-guard/
# <service>/ct-*.guard files are Control Tower's proactive controls (one rule each, its CT id in
# the message). Steps:
#   1. `pip download --no-deps` the pinned wheel into .tools/cache/ (kept; reused when present)
#      - not installed into the venv: its dependencies would pull aws-cdk-lib and jsii;
#   2. check the wheel's sha256 against GUARD_RULES_SHA256 (a mismatch deletes it and fails);
#   3. extract every ct-*.guard file (all 237; rules for resource types the templates do not
#      use report SKIP) into .tools/guard-rules/ct-$VERSION/<service>/, through a temporary
#      directory renamed into place, so a broken run never leaves half a rule set.
# A present .tools/guard-rules/ct-$VERSION/ with its .sha256 stamp equal to the pin is reused.
set -euo pipefail

GUARD_RULES_PACKAGE=cdklabs-cdk-validator-cfnguard
GUARD_RULES_VERSION=0.0.62
GUARD_RULES_SHA256=83c9c9a086de47637611f414ca90200db97e7b8cd3c4a69475b5f81034bd4b45

root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
venv=${VENV:-$root/.venv}
cache=$root/.tools/cache
dest=$root/.tools/guard-rules/ct-$GUARD_RULES_VERSION
wheel=$cache/cdklabs_cdk_validator_cfnguard-$GUARD_RULES_VERSION-py3-none-any.whl

fail() {
  echo "install-guard-rules: $*" >&2
  exit 1
}

[[ -x $venv/bin/python ]] || fail "$venv/bin/python not found: stage 1 of .ci/test.sh makes the venv"
if [[ -f $dest/.sha256 && $(<"$dest/.sha256") == "$GUARD_RULES_SHA256" ]]; then
  echo "reusing .tools/guard-rules/ct-$GUARD_RULES_VERSION ($(find "$dest" -name '*.guard' | wc -l) rules from $GUARD_RULES_PACKAGE $GUARD_RULES_VERSION)"
  exit 0
fi

mkdir -p "$cache"
if [[ ! -f $wheel ]]; then
  echo "downloading $GUARD_RULES_PACKAGE==$GUARD_RULES_VERSION from PyPI (wheel only, no dependencies)"
  "$venv/bin/pip" download --disable-pip-version-check --no-deps --only-binary=:all: --dest "$cache" \
    "$GUARD_RULES_PACKAGE==$GUARD_RULES_VERSION" || fail "pip download $GUARD_RULES_PACKAGE==$GUARD_RULES_VERSION failed"
  [[ -f $wheel ]] || fail "pip download did not write $wheel"
fi
have=$(sha256sum "$wheel" | cut -d' ' -f1)
if [[ $have != "$GUARD_RULES_SHA256" ]]; then
  rm -f "$wheel"
  fail "$wheel has sha256 $have, expected $GUARD_RULES_SHA256 (deleted; the pin in this script is the one to trust)"
fi

"$venv/bin/python" - "$wheel" "$dest" "$GUARD_RULES_SHA256" <<'PY'
"""Extract package/rules/control-tower/cfn-guard/<service>/ct-*.guard from the wheel's jsii tarball."""
import io
import pathlib
import shutil
import sys
import tarfile
import tempfile
import zipfile

wheel, dest, sha = sys.argv[1], pathlib.Path(sys.argv[2]), sys.argv[3]
prefix = "package/rules/control-tower/cfn-guard/"
with zipfile.ZipFile(wheel) as z:
    jsii = [n for n in z.namelist() if n.endswith(".jsii.tgz")]
    if len(jsii) != 1:
        sys.exit(f"install-guard-rules: expected one .jsii.tgz in {wheel}, found {jsii}")
    tgz = z.read(jsii[0])
dest.parent.mkdir(parents=True, exist_ok=True)
tmp = pathlib.Path(tempfile.mkdtemp(prefix=dest.name + ".", dir=dest.parent))
count = 0
with tarfile.open(fileobj=io.BytesIO(tgz), mode="r:gz") as tar:
    for m in tar.getmembers():
        rel = m.name[len(prefix):] if m.name.startswith(prefix) else ""
        parts = rel.split("/")
        # only regular files <service>/ct-*.guard: no links, no other paths
        if not (m.isfile() and len(parts) == 2 and parts[1].startswith("ct-") and parts[1].endswith(".guard")):
            continue
        if not all(p and p not in (".", "..") for p in parts):
            continue
        out = tmp / parts[0] / parts[1]
        out.parent.mkdir(exist_ok=True)
        out.write_bytes(tar.extractfile(m).read())
        count += 1
if count < 200:
    shutil.rmtree(tmp)
    sys.exit(f"install-guard-rules: only {count} ct-*.guard files under {prefix} in {jsii[0]}")
(tmp / ".sha256").write_text(sha)
if dest.exists():
    shutil.rmtree(dest)
tmp.rename(dest)
print(f"installed {count} Control Tower Guard rules into {dest}")
PY
