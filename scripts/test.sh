#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds the control plane binaries (cached) and
# the C++ tree, then runs unit tests (seconds) and integration tests against a real
# kube-apiserver + etcd and SoftHSM2 (minutes). Extra arguments go to ctest (e.g. -L unit).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BYOK_BUILD_DIR:-$ROOT/build}
"$ROOT/scripts/install-deps.sh"
[[ -x /usr/local/go/bin/go ]] && export PATH="/usr/local/go/bin:$PATH"
"$ROOT/scripts/build-control-plane.sh" >/dev/null
# The transit tests' real server (Vault, built from source once: 10-20 min on 2 cores, then
# cached), built here so that no ctest fixture runs into its timeout building it.
"$ROOT/scripts/build-vault.sh" >/dev/null
"$ROOT/scripts/build.sh"
cd "$BUILD"
ctest --output-on-failure --timeout 600 -j"$(nproc)" "$@"
