#!/usr/bin/env bash
# ThreadSanitizer over the runtime's unit tests (work queue, informer, leader election, the
# controller loop, the metrics and probe server): the code where threads meet. A separate build
# (build-tsan/, clang, -fsanitize=thread). Not part of scripts/test.sh: run it after changing
# controller/runtime or anything it shares between threads.
#   scripts/tsan.sh [catch test spec; default: the runtime, metrics and KMS transport tests]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BYOK_TSAN_BUILD_DIR:-$ROOT/build-tsan}
BYOK_BUILD_DIR=$BUILD "$ROOT/scripts/build.sh" -DCMAKE_CXX_COMPILER=clang++-14 \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBYOK_SANITIZE=thread -DBYOK_UNIT_ONLY=ON
# halt_on_error: the first race fails the run; second_deadlock_stack: both stacks of an inversion.
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$ROOT/scripts/tsan.supp ${TSAN_OPTIONS:-}" \
  "$BUILD/tests/unit/byok_unit_tests" "${1:-[workqueue],[leader],[informer],[controller],[observability],[runtime],[store],[events],[metrics],[http],[fairness]}"
