#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds the control plane binaries (cached) and
# the C++ tree, then runs unit tests (seconds) and integration tests against a real
# kube-apiserver + etcd and SoftHSM2 (minutes); then the sanitizer lane: the unit and HSM tests
# again under ASan + UBSan, and every fuzz target for a bounded time (build-sanitize/, built by
# clang beside the main build). Extra arguments go to both ctest runs (e.g. -L unit).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BYOK_BUILD_DIR:-$ROOT/build}
"$ROOT/scripts/install-deps.sh"
# shellcheck source=go-env.sh
source "$ROOT/scripts/go-env.sh" && go_env_setup  # the Go that install-deps.sh checked
# The Go-built servers and tools (each built once from the Go module proxy, then cached under
# ~/.cache/byok-operator/bin) build beside the C++ tree: downloads overlap compiling.
#   control plane: kube-apiserver, kubectl, etcd
#   Vault: the transit tests' real server (10-20 min on 2 cores the first time), built here so
#          that no ctest fixture runs into its timeout building it
#   helm: for the chart tests (tests/chart)
#   local-kms: the third-party AWS KMS emulator (tests/harness/local-kms.sh)
#   kryoptic: the second PKCS#11 token (Rust, with a static OpenSSL 3.5; 2-4 min the first time)
#   build-sanitize: the sanitizer lane's C++ build (clang, ASan + UBSan, libFuzzer)
LOGS=$(mktemp -d)
pids=()
for tool in build-control-plane build-vault build-helm build-local-kms build-kryoptic build-sanitize; do
  "$ROOT/scripts/$tool.sh" >"$LOGS/$tool.log" 2>&1 &
  pids+=("$!:$tool")
done
# The official SDKs' venv for the conformance tests (tests/conformance), installed here so no
# ctest test spends its timeout on pip.
(source "$ROOT/tests/harness/lib.sh" && conformance_python >/dev/null) >"$LOGS/conformance-venv.log" 2>&1 &
pids+=("$!:conformance-venv")
"$ROOT/scripts/build.sh"
failed=0
for entry in "${pids[@]}"; do
  if ! wait "${entry%%:*}"; then
    echo "${entry#*:} failed:" >&2
    tail -n 30 "$LOGS/${entry#*:}.log" >&2
    failed=1
  fi
done
rm -rf "$LOGS"
((failed == 0)) || exit 1
SANITIZE_BUILD=${BYOK_SANITIZE_BUILD_DIR:-$ROOT/build-sanitize}
status=0
(cd "$BUILD" && ctest --output-on-failure --timeout 600 -j"$(nproc)" "$@") || status=1
echo "[test] the sanitizer lane ($SANITIZE_BUILD): unit and HSM tests under ASan + UBSan, fuzz targets"
(cd "$SANITIZE_BUILD" && ctest --output-on-failure --timeout 600 -j"$(nproc)" "$@") || status=1
exit "$status"
