#!/usr/bin/env bash
# Runs every fuzz target (tests/fuzz) for SECONDS each (default 600), NPROC at a time, from the
# committed seeds plus what earlier runs found (build-sanitize/tests/fuzz/found), and prints each
# target's executions. A crash leaves its input as build-sanitize/tests/fuzz/<target>-crash-*:
# make it a unit test, fix it, and add it to the seeds.
#   scripts/fuzz.sh [SECONDS]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BYOK_SANITIZE_BUILD_DIR:-$ROOT/build-sanitize}
SECONDS_EACH=${1:-600}
"$ROOT/scripts/build-sanitize.sh"
LOGS="$BUILD/tests/fuzz/logs"
mkdir -p "$LOGS"
targets=()
for t in "$BUILD"/tests/fuzz/fuzz_*; do targets+=("$(basename "$t")"); done
run() {
  local bin=$1 name=${1#fuzz_}
  mkdir -p "$BUILD/tests/fuzz/found/$name"
  "$BUILD/tests/fuzz/$bin" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$BUILD/tests/fuzz/$name-" \
    "$BUILD/tests/fuzz/found/$name" "$ROOT/tests/fuzz/corpus/$name" >"$LOGS/$name.log" 2>&1
}
export -f run
export BUILD ROOT SECONDS_EACH LOGS
failed=0
printf '%s\n' "${targets[@]}" | xargs -P "$(nproc)" -I{} bash -c 'run {}' || failed=1
total=0
for t in "${targets[@]}"; do
  name=${t#fuzz_}
  runs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$LOGS/$name.log" | awk '{print $2}')
  printf '%-16s %12s executions%s\n' "$name" "${runs:-?}" \
    "$(grep -q 'ERROR: \|deadly signal' "$LOGS/$name.log" && echo '  CRASH: see '"$LOGS/$name.log")"
  total=$((total + ${runs:-0}))
done
printf '%-16s %12s executions\n' total "$total"
exit "$failed"
