#!/usr/bin/env bash
# Builds the CMK benchmark's peer controller (bench/peer, controller-runtime) once and caches the
# binary under ~/.cache/byok-operator/bin/bench-peer-<hash of its sources>/, so a change to its
# code or its go.mod/go.sum builds anew and nothing else does. Prints the binary's path.
# Its modules come from the Go module proxy; go.mod asks for the Go it needs (GOTOOLCHAIN fetches
# it from the same proxy when the machine's is older).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE="${BYOK_CACHE:-$HOME/.cache/byok-operator}"
SRC="$ROOT/bench/peer"

hash=$(cd "$SRC" && cat go.mod go.sum $(ls ./*.go | sort) | sha256sum | cut -c1-16)
BIN_DIR="$CACHE/bin/bench-peer-$hash"
if [[ ! -x "$BIN_DIR/byok-bench-peer" ]]; then
  # shellcheck source=scripts/go-env.sh
  source "$ROOT/scripts/go-env.sh" && go_env_setup
  printf '[bench-peer] building bench/peer (%s; first run after a change only)\n' "$hash" >&2
  rm -rf "$BIN_DIR.tmp" && mkdir -p "$BIN_DIR.tmp"
  (cd "$SRC" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$BIN_DIR.tmp/byok-bench-peer" .)
  rm -rf "$BIN_DIR" && mv "$BIN_DIR.tmp" "$BIN_DIR"
fi
echo "$BIN_DIR/byok-bench-peer"
