#!/usr/bin/env bash
# The one test command of bedrock-watch:   bash .ci/test.sh
#
# Runs from any directory (it works from the repo root it lives in) on a fresh
# clone with: rustup's cargo, CPython >= 3.10 with venv+pip, and network access
# to crates.io and PyPI. Stages, in order, failing fast:
#   1. python venv   .venv/ with .ci/requirements.txt (reused while the stamp
#                    .venv/.bedrock-watch-stamp = sha256(requirements.txt) +
#                    Python version matches; rebuilt when it differs); pip check
#   2. tools         cargo-insta $INSTA_VERSION and cfn-guard $GUARD_VERSION into
#                    .tools/ (each reused while its version matches); the Control
#                    Tower Guard rules from PyPI (cdklabs-cdk-validator-cfnguard,
#                    sha256-pinned) into .tools/guard-rules/ by
#                    .ci/install-guard-rules.sh (reused while the pin matches)
#   3. rust tests    cargo build --locked --all-targets, then cargo insta test
#                    --check --unreferenced=reject (never writes snapshots)
#   4. python tests  pytest -q tests/python (no tests collected = failure)
#   5. templates     bedrock-watch synth --check (templates/ must be current)
#   6. cfn-lint      every template under templates/: 0 errors, 0 warnings
#   7. checkov       templates/: 0 failed checks (Metadata skips allowed)
#   8. cfn-guard     .ci/guard-templates.sh: every template against the 237 AWS
#                    Control Tower proactive-control Guard rules: 0 unsuppressed
#                    findings (a resource listing a rule in its
#                    Metadata.guard.SuppressedRules is exempt from it)
#   9. browser       Debian's chromium for the preview/report browser tests
#                    (apt-get install when /usr/bin/chromium is missing)
#  10. end to end    starts moto_server on 127.0.0.1, runs pytest tests/e2e
#                    (deploy/diff/destroy, report, quota against the emulator,
#                    also through a fault-injecting proxy) and tests/browser,
#                    stops the emulator
#  11. synth-only    cargo build --locked --no-default-features into
#                    target/synth-only (the CI install without the AWS SDK;
#                    README's first command builds the same): no SDK crate in
#                    it, synth --check of the default and every example,
#                    validate, and the AWS commands exit 2 naming the feature
#
# Other entry point:
#   bash .ci/test.sh --emulator-check   builds/reuses the venv, starts the moto
#                                       emulator, probes it, stops it.
#
# Environment: PYTHON (interpreter for the venv, default python3),
# TEMPLATES_DIR (default templates/; read by stages 6-8).
set -euo pipefail

INSTA_VERSION=1.49.0 # cargo-insta; keep on the same 1.x line as the insta dev-dependency
GUARD_VERSION=3.2.1  # cfn-guard (AWS CloudFormation Guard) for stage 8
TOTAL_STAGES=11

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

VENV=$ROOT/.venv
VENV_PY=$VENV/bin/python
TOOLS=$ROOT/.tools
REQUIREMENTS=$ROOT/.ci/requirements.txt
TEMPLATES_DIR=${TEMPLATES_DIR:-templates} # relative to the repo root
export TEMPLATES_DIR

# ---------------------------------------------------------------------------
# stage bookkeeping
# ---------------------------------------------------------------------------
CURRENT_STAGE="setup"
STAGE_NO=0
STAGE_START=$SECONDS

stage() {
  STAGE_NO=$((STAGE_NO + 1))
  CURRENT_STAGE=$1
  STAGE_START=$SECONDS
  echo
  echo "==> stage $STAGE_NO/$TOTAL_STAGES: $CURRENT_STAGE"
}

stage_done() {
  echo "==> stage $STAGE_NO/$TOTAL_STAGES ok: $CURRENT_STAGE ($((SECONDS - STAGE_START))s)"
}

on_exit() {
  local rc=$?
  stop_emulator
  if [[ $rc -ne 0 && ${DIED:-0} -eq 0 ]]; then
    echo "==> FAILED in stage $STAGE_NO/$TOTAL_STAGES ($CURRENT_STAGE): exit code $rc" >&2
  fi
  exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
# die() prints the reason; on_exit then stays quiet (DIED=1).
die() {
  echo "==> FAILED in stage $STAGE_NO/$TOTAL_STAGES ($CURRENT_STAGE): $*" >&2
  DIED=1
  exit 1
}

# ---------------------------------------------------------------------------
# moto emulator (for the end-to-end stage)
#
# start_emulator runs `.ci/moto_server.py -H 127.0.0.1 -p PORT` on a free
# loopback port, waits (60 s at most) until GET /moto-api/ answers 200, then
# exports BEDROCK_WATCH_TEST_ENDPOINT and AWS_ENDPOINT_URL (both
# http://127.0.0.1:PORT), dummy credentials (testing/testing, us-east-1) and
# adds 127.0.0.1/localhost to NO_PROXY. The EXIT trap above always calls
# stop_emulator, so the server never outlives this script.
# Try it by hand: bash .ci/test.sh --emulator-check
# ---------------------------------------------------------------------------
EMULATOR_PID=""
EMULATOR_LOG=""

start_emulator() {
  # .ci/moto_server.py is moto_server with one emulator bug fixed (see its docstring).
  local server=$ROOT/.ci/moto_server.py attempt port
  [[ -x $VENV/bin/moto_server ]] || die "moto_server not found in $VENV/bin (is moto[server] in .ci/requirements.txt?)"
  [[ -z ${EMULATOR_PID:-} ]] || die "emulator already running (pid $EMULATOR_PID)"
  EMULATOR_LOG=$(mktemp "${TMPDIR:-/tmp}/bedrock-watch-moto.XXXXXX")
  # A free port is picked, then bound by moto: retry if another process took
  # it in between (moto then exits at once).
  for attempt in 1 2 3; do
    port=$("$VENV_PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
    "$VENV_PY" "$server" -H 127.0.0.1 -p "$port" >"$EMULATOR_LOG" 2>&1 &
    EMULATOR_PID=$!
    echo "emulator: moto_server pid $EMULATOR_PID on 127.0.0.1:$port (log $EMULATOR_LOG)"
    local rc=0
    "$VENV_PY" - "$port" "$EMULATOR_PID" 60 <<'PY' || rc=$?
import os, sys, time, urllib.request

port, pid, timeout = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
url = f"http://127.0.0.1:{port}/moto-api/"
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy
deadline = time.monotonic() + timeout
last = "no attempt"
while True:
    try:
        os.kill(pid, 0)
    except OSError:
        print(f"emulator: moto_server (pid {pid}) exited before answering", file=sys.stderr)
        sys.exit(3)
    try:
        with opener.open(url, timeout=2) as resp:
            if resp.status == 200:
                sys.exit(0)
            last = f"HTTP {resp.status}"
    except Exception as exc:  # connection refused while starting, etc.
        last = repr(exc)
    if time.monotonic() > deadline:
        print(f"emulator: no answer from {url} within {timeout:.0f}s (last: {last})", file=sys.stderr)
        sys.exit(1)
    time.sleep(0.25)
PY
    if [[ $rc -eq 0 ]]; then
      export BEDROCK_WATCH_TEST_ENDPOINT="http://127.0.0.1:$port"
      export AWS_ENDPOINT_URL="$BEDROCK_WATCH_TEST_ENDPOINT"
      export AWS_ACCESS_KEY_ID=testing
      export AWS_SECRET_ACCESS_KEY=testing
      export AWS_DEFAULT_REGION=us-east-1
      export NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}"
      export no_proxy="$NO_PROXY"
      echo "emulator: ready at $BEDROCK_WATCH_TEST_ENDPOINT"
      return 0
    fi
    if [[ $rc -eq 3 && $attempt -lt 3 ]]; then
      echo "emulator: moto_server exited early (port $port taken?), retrying; log tail:" >&2
      tail -n 5 "$EMULATOR_LOG" >&2 || true
      EMULATOR_PID=""
      continue
    fi
    echo "emulator: moto_server log tail ($EMULATOR_LOG):" >&2
    tail -n 40 "$EMULATOR_LOG" >&2 || true
    stop_emulator
    die "the moto emulator did not start"
  done
}

stop_emulator() {
  [[ -n ${EMULATOR_PID:-} ]] || return 0
  local pid=$EMULATOR_PID i
  EMULATOR_PID=""
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do # up to 10 s for a clean exit
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
    if kill -0 "$pid" 2>/dev/null; then
      echo "emulator: moto_server (pid $pid) ignored SIGTERM, sending SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  wait "$pid" 2>/dev/null || true
  echo "emulator: stopped (pid $pid)"
  unset BEDROCK_WATCH_TEST_ENDPOINT AWS_ENDPOINT_URL AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_DEFAULT_REGION
  [[ -n $EMULATOR_LOG ]] && rm -f "$EMULATOR_LOG"
  EMULATOR_LOG=""
}

# ---------------------------------------------------------------------------
# stage 1: python venv
# ---------------------------------------------------------------------------
setup_venv() {
  local python=${PYTHON:-python3} want have=""
  command -v "$python" >/dev/null || die "'$python' not found: install CPython >= 3.10 (or set PYTHON=...)"
  "$python" -c 'import sys; sys.exit(sys.version_info < (3, 10))' ||
    die "$("$python" --version 2>&1) is too old: pytest and cfn-lint need Python >= 3.10"
  [[ -f $REQUIREMENTS ]] || die "$REQUIREMENTS is missing"

  want="$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1) $("$python" -c 'import platform; print(platform.python_implementation(), platform.python_version())')"
  if [[ -f $VENV/.bedrock-watch-stamp ]] && "$VENV_PY" -c 'import sys' 2>/dev/null; then
    have=$(<"$VENV/.bedrock-watch-stamp")
  fi

  if [[ $have == "$want" ]]; then
    echo "reusing .venv ($("$VENV_PY" --version), requirements unchanged)"
  else
    if [[ -n $have ]]; then
      echo "requirements.txt or Python changed: rebuilding .venv"
    elif [[ -d $VENV ]]; then
      echo ".venv has no valid stamp: rebuilding it"
    else
      echo "creating .venv with $("$python" --version)"
    fi
    local t0=$SECONDS
    "$python" -m venv --clear "$VENV" ||
      die "'$python -m venv' failed (on Debian's own python3: apt-get install python3-venv)"
    "$VENV/bin/pip" install --disable-pip-version-check -q -r "$REQUIREMENTS" ||
      die "pip install -r .ci/requirements.txt failed"
    echo "installed .ci/requirements.txt in $((SECONDS - t0))s"
  fi

  "$VENV/bin/pip" check --disable-pip-version-check || die "pip check found broken requirements in .venv"
  # written only after a successful install and pip check
  [[ $have == "$want" ]] || printf '%s\n' "$want" >"$VENV/.bedrock-watch-stamp"
}

# ---------------------------------------------------------------------------
# stage 2: rust tools
# ---------------------------------------------------------------------------
setup_rust_tools() {
  command -v cargo >/dev/null || die "cargo not found: install Rust with rustup"
  cargo --version
  install_tool cargo-insta cargo-insta "$INSTA_VERSION" "cargo-insta $INSTA_VERSION" "~1.5 min"
  install_tool cfn-guard cfn-guard "$GUARD_VERSION" "cfn-guard $GUARD_VERSION" "~6 min"
  VENV=$VENV bash "$ROOT/.ci/install-guard-rules.sh" || die "installing the Control Tower Guard rules failed"
}

# install_tool CRATE BIN VERSION EXPECTED_VERSION_OUTPUT DURATION: cargo install --locked into
# .tools/ unless .tools/bin/BIN already reports EXPECTED_VERSION_OUTPUT.
install_tool() {
  local crate=$1 bin=$TOOLS/bin/$2 version=$3 want=$4 duration=$5 have=""
  if [[ -x $bin ]]; then
    have=$("$bin" --version 2>/dev/null || true)
  fi
  if [[ $have == "$want" ]]; then
    echo "reusing .tools/bin/$2 ($have)"
    return 0
  fi
  echo "installing $crate $version into .tools/ (found: ${have:-none}; takes $duration on 2 cores)"
  local t0=$SECONDS
  cargo install --locked --force --root "$TOOLS" "$crate" --version "$version" ||
    die "cargo install $crate $version failed"
  have=$("$bin" --version)
  [[ $have == "$want" ]] || die "installed $crate reports '$have', expected $version"
  echo "installed $have in $((SECONDS - t0))s"
}

# ---------------------------------------------------------------------------
# stage 3: rust tests
# ---------------------------------------------------------------------------
rust_tests() {
  [[ -f Cargo.toml ]] || die "no Cargo.toml at the repo root"
  [[ -f Cargo.lock ]] || die "Cargo.lock is missing: it must be committed (builds use --locked)"
  cargo build --locked --all-targets ||
    die "cargo build --locked --all-targets failed (if Cargo.lock is out of date: run cargo build and commit Cargo.lock)"
  # Snapshots must match exactly and none may be left over: --check never
  # writes .snap/.snap.new files; --unreferenced=reject fails on snapshot
  # files no test uses. cargo-test runner (not nextest) so doc tests run and
  # libtest's "test result:" lines reach stdout.
  export INSTA_UPDATE=no
  unset INSTA_FORCE_PASS INSTA_FORCE_UPDATE INSTA_FORCE_UPDATE_SNAPSHOTS
  "$TOOLS/bin/cargo-insta" test --check --unreferenced=reject --workspace --test-runner cargo-test ||
    die "cargo tests failed or snapshots/ is stale (review with: cargo insta test --review; remove unreferenced .snap files)"
}

# ---------------------------------------------------------------------------
# stage 4: python tests
# ---------------------------------------------------------------------------
python_tests() {
  [[ -d tests/python ]] || die "tests/python does not exist"
  local rc=0
  # -p no:cacheprovider: leave no .pytest_cache in the work tree
  "$VENV_PY" -m pytest -q -p no:cacheprovider tests/python || rc=$?
  case $rc in
    0) ;;
    5) die "pytest collected no tests in tests/python (exit 5): there must be tests" ;;
    *) die "pytest failed (exit $rc)" ;;
  esac
}

# ---------------------------------------------------------------------------
# stage 5: templates are current
# ---------------------------------------------------------------------------
templates_current() {
  local rc=0 bin=$ROOT/target/debug/bedrock-watch
  # The binary stage 3 built: `cargo run` would rebuild it, because dev-dependencies unify
  # crate features differently for a plain binary build (minutes of compiling for nothing).
  [[ -x $bin ]] || die "$bin was not built by the rust tests stage"
  "$bin" synth --check || rc=$?
  case $rc in
    0) echo "templates/ matches what bedrock-watch synthesizes" ;;
    1) die "templates/ is stale (files named above): run 'cargo run -- synth' and commit templates/" ;;
    *) die "bedrock-watch synth --check failed (exit $rc)" ;;
  esac
}

# ---------------------------------------------------------------------------
# stage 8: browser
# ---------------------------------------------------------------------------
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
setup_browser() {
  if [[ ! -x $CHROMIUM ]]; then
    command -v apt-get >/dev/null || die "$CHROMIUM is missing and there is no apt-get: install Chromium and set CHROMIUM=/path/to/chromium"
    local sudo=""
    [[ $(id -u) -eq 0 ]] || sudo="sudo"
    echo "installing Debian's chromium (for the browser tests)"
    $sudo apt-get update -qq || die "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null || die "apt-get install chromium failed"
  fi
  [[ -x $CHROMIUM ]] || die "chromium is still missing at $CHROMIUM"
  "$CHROMIUM" --version
  export CHROMIUM
}

# ---------------------------------------------------------------------------
# stage 9: end to end (emulator) and browser tests
# ---------------------------------------------------------------------------
end_to_end() {
  local rc=0 dirs=()
  for d in tests/e2e tests/browser; do
    [[ -d $d ]] && dirs+=("$d")
  done
  [[ ${#dirs[@]} -gt 0 ]] || die "neither tests/e2e nor tests/browser exists"
  export BEDROCK_WATCH_BIN=$ROOT/target/debug/bedrock-watch
  [[ -x $BEDROCK_WATCH_BIN ]] || die "$BEDROCK_WATCH_BIN was not built by the rust tests stage"
  start_emulator
  "$VENV_PY" -m pytest -q -p no:cacheprovider "${dirs[@]}" || rc=$?
  stop_emulator
  case $rc in
    0) ;;
    5) die "pytest collected no tests in ${dirs[*]} (exit 5): there must be tests" ;;
    *) die "end-to-end or browser tests failed (exit $rc)" ;;
  esac
}

# ---------------------------------------------------------------------------
# stage 10: synth-only build
# ---------------------------------------------------------------------------
SYNTH_ONLY_TARGET=$ROOT/target/synth-only
synth_only() {
  local bin=$SYNTH_ONLY_TARGET/debug/bedrock-watch rc=0 out config sdk
  # Its own target folder: sharing target/debug would swap the binary stages 5 and 9 use.
  # Only crates whose features differ from stage 3's are compiled here, none of the SDK.
  cargo build --locked --no-default-features --bin bedrock-watch --target-dir "$SYNTH_ONLY_TARGET" ||
    die "cargo build --no-default-features failed: code that needs the AWS SDK must be behind #[cfg(feature = \"aws\")]"
  sdk=$(cd "$SYNTH_ONLY_TARGET/debug/deps" && ls | grep -E '^lib(aws_|hyper|rustls|h2)' | sed 's/-[0-9a-f]*\..*//' | sort -u | tr '\n' ' ' || true)
  [[ -z $sdk ]] || die "the synth-only build compiled crates of the AWS SDK or its HTTP stack: $sdk(make them optional under the aws feature)"
  for config in "" examples/*.yaml; do
    rc=0
    "$bin" synth --check ${config:+--config "$config"} >/dev/null 2>&1 || rc=$?
    [[ $rc -eq 0 ]] || die "synth-only: synth --check${config:+ --config $config} exited $rc (run it to see the diff)"
  done
  "$bin" validate >/dev/null || die "synth-only: bedrock-watch validate failed"
  rc=0
  out=$("$bin" deploy --region us-east-1 2>&1) || rc=$?
  [[ $rc -eq 2 && $out == *"no AWS support"* ]] || die "synth-only: deploy should exit 2 saying the build has no AWS support; got exit $rc: $out"
  echo "synth-only binary ($(du -h "$bin" | cut -f1)): synth --check, validate ok; deploy says: ${out%%$'\n'*}"
}

# ---------------------------------------------------------------------------
main() {
  case ${1:-} in
    "") ;;
    --emulator-check)
      TOTAL_STAGES=2
      stage "python venv"
      setup_venv
      stage_done
      stage "moto emulator start/stop"
      start_emulator
      "$VENV_PY" -c 'import os, sys, urllib.request
url = os.environ["BEDROCK_WATCH_TEST_ENDPOINT"] + "/moto-api/"
op = urllib.request.build_opener(urllib.request.ProxyHandler({}))
print("GET", url, "->", op.open(url, timeout=5).status)'
      stop_emulator
      stage_done
      echo "all $TOTAL_STAGES stages passed"
      return 0
      ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
      return 0
      ;;
    *)
      echo "usage: bash .ci/test.sh [--emulator-check|--help]" >&2
      exit 64
      ;;
  esac

  local t0=$SECONDS

  stage "python venv"
  setup_venv
  stage_done

  stage "tools"
  setup_rust_tools
  stage_done

  stage "rust tests"
  rust_tests
  stage_done

  stage "python tests"
  python_tests
  stage_done

  stage "templates are current"
  templates_current
  stage_done

  stage "cfn-lint"
  VENV=$VENV bash "$ROOT/.ci/lint-templates.sh" cfn-lint "$TEMPLATES_DIR" || die "cfn-lint found problems in $TEMPLATES_DIR"
  stage_done

  stage "checkov"
  VENV=$VENV bash "$ROOT/.ci/lint-templates.sh" checkov "$TEMPLATES_DIR" || die "checkov found problems in $TEMPLATES_DIR"
  stage_done

  stage "cfn-guard"
  CFN_GUARD=$TOOLS/bin/cfn-guard VENV=$VENV bash "$ROOT/.ci/guard-templates.sh" "$TEMPLATES_DIR" ||
    die "cfn-guard found unsuppressed findings in $TEMPLATES_DIR (fix the template, or give the resource a Deviation with its reason: see README 'Rule packs')"
  stage_done

  stage "browser"
  setup_browser
  stage_done

  stage "end to end"
  end_to_end
  stage_done

  stage "synth-only build"
  synth_only
  stage_done

  echo
  echo "all $TOTAL_STAGES stages passed in $((SECONDS - t0))s"
}

main "$@"
