#!/usr/bin/env bash
# Builds what it needs, starts a control plane of its own, runs the CMK throughput benchmark,
# and stops the control plane. Usage: bench/cmk/run.sh [N=1000] [workers=4]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BYOK_BUILD_DIR:-$ROOT/build}
source "$ROOT/scripts/go-env.sh" && go_env_setup
"$ROOT/scripts/build-control-plane.sh" >/dev/null
"$ROOT/scripts/build.sh" >/dev/null
DIR=$(mktemp -d /tmp/byok-bench-XXXXXX)
trap '"$ROOT/tests/harness/control-plane.sh" stop "$DIR"; rm -rf "$DIR"' EXIT
"$ROOT/tests/harness/control-plane.sh" start "$DIR"
KUBECONFIG="$DIR/kubeconfig" "$BUILD/bench/cmk/bench_cmk_throughput" "${1:-1000}" "${2:-4}"
