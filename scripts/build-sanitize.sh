#!/usr/bin/env bash
# The sanitizer lane's build: the libraries, the unit tests, the HSM tests and the fuzz targets,
# compiled by clang with AddressSanitizer + UndefinedBehaviorSanitizer (UB is fatal) and libFuzzer
# coverage, into build-sanitize/ (or $BYOK_SANITIZE_BUILD_DIR). ccache keeps it quick after the
# first time. scripts/test.sh runs its tests after the main suite.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BYOK_SANITIZE_BUILD_DIR:-$ROOT/build-sanitize}
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/byok-operator/ccache}
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$ROOT}
launcher=()
command -v ccache >/dev/null 2>&1 && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S "$ROOT" -B "$BUILD" -G Ninja "${launcher[@]}" -DCMAKE_CXX_COMPILER=clang++-14 \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBYOK_SANITIZE=address,undefined -DBYOK_FUZZ=ON -DBYOK_UNIT_ONLY=ON "$@" >/dev/null
cmake --build "$BUILD" -j"$(nproc)"
