#!/usr/bin/env bash
# The sanitizer lane's build: the libraries, the unit tests, the HSM tests and the fuzz targets,
# compiled by clang with AddressSanitizer + UndefinedBehaviorSanitizer (UB is fatal) and libFuzzer
# coverage, into build-sanitize/ (or $BYOK_SANITIZE_BUILD_DIR), through scripts/build.sh (same
# ccache). scripts/test.sh runs its tests after the main suite.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BYOK_BUILD_DIR=${BYOK_SANITIZE_BUILD_DIR:-$ROOT/build-sanitize} exec "$ROOT/scripts/build.sh" \
  -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DBYOK_SANITIZE=address,undefined -DBYOK_FUZZ=ON -DBYOK_UNIT_ONLY=ON "$@"
