#!/usr/bin/env bash
# Configures and builds the C++ tree into build/ (or $BYOK_BUILD_DIR), with ccache keeping
# objects under ~/.cache/byok-operator/ccache so a fresh clone rebuilds quickly.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BYOK_BUILD_DIR:-$ROOT/build}
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/byok-operator/ccache}
# Paths relative to the checkout, so a fresh clone elsewhere hits the same cache entries. The
# build has debug info (RelWithDebInfo), for which ccache also hashes the working directory by
# default: then no clone at another path (CI's, a worktree) ever hit. Without it, an object's
# DW_AT_comp_dir names the folder it was first compiled in (a debugger may need `directory`).
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$ROOT}
export CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}
launcher=()
command -v ccache >/dev/null 2>&1 && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S "$ROOT" -B "$BUILD" -G Ninja "${launcher[@]}" "$@" >/dev/null
cmake --build "$BUILD" -j"$(nproc)"
