#!/usr/bin/env bash
# Cold debug build of the synth-only binary vs the full binary, side by side.
#
#   bash benches/cold-build.sh            # from any directory; builds this checkout
#   nice -n 10 bash benches/cold-build.sh # on a shared machine
#
# Each build goes into its own fresh temporary --target-dir (nothing reused, as on a fresh CI
# runner; the crates must already be in ~/.cargo/registry, so no download is measured), one
# after the other, and is measured with /usr/bin/time -v: wall time, CPU time (user + system:
# the fairer figure when other work shares the machine) and peak RSS of the largest process
# (rustc or the linker). The synth-only build is
#   cargo build --locked --no-default-features --bin bedrock-watch
# and the full one the same without --no-default-features. Target (issue 16): the synth-only
# build takes at most a quarter of the full build's time.
#
# It costs a full cold build (minutes of every core): run it by hand, never from the tests.
# Environment: JOBS (cargo -j, default: all cores), KEEP=1 keeps the target folders.
set -euo pipefail

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
[[ -x /usr/bin/time ]] || { echo "needs GNU time at /usr/bin/time (Debian: apt-get install time)" >&2; exit 2; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/bedrock-watch-cold-build.XXXXXX")
cleanup() { [[ ${KEEP:-0} == 1 ]] || rm -rf "$WORK"; }
trap cleanup EXIT

# Fetch first so that neither build measures a download.
cargo fetch --locked >/dev/null

jobs=()
[[ -n ${JOBS:-} ]] && jobs=(-j "$JOBS")

# measure NAME [cargo flags...]: one cold build; prints nothing, writes $WORK/NAME.time
measure() {
  local name=$1
  shift
  echo "building $name (cold, into $WORK/$name) ..." >&2
  /usr/bin/time -v -o "$WORK/$name.time" cargo build --locked --quiet "${jobs[@]}" --target-dir "$WORK/$name" --bin bedrock-watch "$@"
  # A build that did not produce the binary is no measurement.
  [[ -x $WORK/$name/debug/bedrock-watch ]] || { echo "$name: no binary built" >&2; exit 1; }
  "$WORK/$name/debug/bedrock-watch" --version >/dev/null
}

# field FILE LABEL: the value of one /usr/bin/time -v line
field() {
  sed -n "s/^[[:space:]]*$2: //p" "$1"
}

# Wall clock "h:mm:ss" or "m:ss.ss" -> seconds.
seconds() {
  awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; printf "%.1f", s }' <<<"$1"
}

measure synth-only --no-default-features
measure full

echo
echo "cold debug build of bedrock-watch on $(nproc) core(s); load average (1, 5, 15 min) at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-12s %10s %10s %10s %14s %10s\n' build wall_s user_s sys_s cpu_s peak_rss_mb
declare -A wall cpu
for name in synth-only full; do
  t=$WORK/$name.time
  w=$(seconds "$(field "$t" 'Elapsed (wall clock) time (h:mm:ss or m:ss)')")
  u=$(field "$t" 'User time (seconds)')
  s=$(field "$t" 'System time (seconds)')
  rss=$(field "$t" 'Maximum resident set size (kbytes)')
  c=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.1f", u + s }')
  wall[$name]=$w
  cpu[$name]=$c
  printf '%-12s %10s %10s %10s %14s %10s\n' "$name" "$w" "$u" "$s" "$c" "$((rss / 1024))"
done
awk -v sw="${wall[synth-only]}" -v fw="${wall[full]}" -v sc="${cpu[synth-only]}" -v fc="${cpu[full]}" 'BEGIN {
  printf "synth-only / full: wall %.2f, cpu %.2f (target: at most 0.25)\n", sw / fw, sc / fc
}'
echo "crates compiled: synth-only $(ls "$WORK/synth-only/debug/deps" | grep -c '\.rlib$'), full $(ls "$WORK/full/debug/deps" | grep -c '\.rlib$') (rlibs)"
