#!/usr/bin/env bash
# Builds what it needs (the operator, the bench, the controller-runtime peer), starts a control
# plane of its own, runs the CMK benchmark (ceiling, operator, peer side by side), and stops the
# control plane. Usage: bench/cmk/run.sh [N=1000] [workers=4] [bench flags: --idle-seconds S
# --resync-seconds R --timeout-seconds T --no-ceiling-again --peer-only --peer PATH|--no-peer]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BYOK_BUILD_DIR:-$ROOT/build}
source "$ROOT/scripts/go-env.sh" && go_env_setup
"$ROOT/scripts/build-control-plane.sh" >/dev/null
"$ROOT/scripts/build.sh" >/dev/null
N=${1:-1000}
WORKERS=${2:-4}
shift $(($# < 2 ? $# : 2))
args=()
peer=auto
for a in "$@"; do
  case $a in
    --no-peer) peer=none ;;
    --peer) peer=given; args+=("$a") ;;
    *) args+=("$a") ;;
  esac
done
if [[ $peer == auto ]]; then
  args+=(--peer "$("$ROOT/scripts/build-bench-peer.sh")")
fi
DIR=$(mktemp -d /tmp/byok-bench-XXXXXX)
trap '"$ROOT/tests/harness/control-plane.sh" stop "$DIR"; rm -rf "$DIR"' EXIT
"$ROOT/tests/harness/control-plane.sh" start "$DIR"
# shellcheck disable=SC1091
source "$DIR/env"
"$BUILD/bench/cmk/bench_cmk_throughput" "$N" "$WORKERS" "${args[@]}"
