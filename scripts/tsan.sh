#!/usr/bin/env bash
# ThreadSanitizer over the runtime's unit tests (work queue, informer, leader election, the
# controller loop, the metrics and probe server): the code where threads meet. A separate build
# (build-tsan/, clang, -fsanitize=thread). Not part of scripts/test.sh: run it after changing
# controller/runtime or anything it shares between threads.
#   scripts/tsan.sh [catch test spec; default: the runtime, metrics and KMS transport tests]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BYOK_TSAN_BUILD_DIR:-$ROOT/build-tsan}
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/byok-operator/ccache}
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$ROOT}
launcher=()
command -v ccache >/dev/null 2>&1 && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S "$ROOT" -B "$BUILD" -G Ninja "${launcher[@]}" -DCMAKE_CXX_COMPILER=clang++-14 \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBYOK_SANITIZE=thread -DBYOK_UNIT_ONLY=ON >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target byok_unit_tests
# halt_on_error: the first race fails the run; second_deadlock_stack: both stacks of an inversion.
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$ROOT/scripts/tsan.supp ${TSAN_OPTIONS:-}" \
  "$BUILD/tests/unit/byok_unit_tests" "${1:-[workqueue],[leader],[informer],[controller],[observability],[runtime],[store],[events],[metrics],[http],[fairness]}"
