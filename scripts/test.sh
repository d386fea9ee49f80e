#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds the third-party tools a lane needs
# (cached) and the C++ tree, then runs the lanes' tests. With no --lane, every lane runs: that is
# what CI runs (.ci/run) and what the README's test command does.
#
#   scripts/test.sh [--lane NAME]... [ctest arguments...]
#
# Lanes (a ctest label each, except sanitize) and what each builds beside the C++ tree:
#   unit         unit tests, seconds                       nothing more
#   hsm          PKCS#11 tests on SoftHSM2 and kryoptic    kryoptic (the second token; Rust)
#   integration  a real kube-apiserver + etcd, the KMS     control plane, Vault, local-kms,
#                servers and fakes, the SDK conformance    kryoptic, helm, the SDK venv
#                tests, the chart installed in the cluster
#   chart        helm lint/template, the Dockerfile        helm
#   e2e          pods on a real node: containerd,          control plane, the node's binaries
#                kubelet, kube-proxy in a network          (kubelet, ...) and images, the
#                namespace of their own (needs root);      operator's images, helm
#                the chart installed with the image
#   sanitize     unit + HSM tests under ASan + UBSan       build-sanitize/ (clang), beside build/
#                and every fuzz target for a bounded time
# So a change to kms/ can be checked with `--lane unit` (or scripts/check.sh) without waiting for
# Vault's first build (10-20 min on 2 cores). Extra arguments go to every ctest run (e.g. -R aws).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BYOK_BUILD_DIR:-$ROOT/build}
SANITIZE_BUILD=${BYOK_SANITIZE_BUILD_DIR:-$ROOT/build-sanitize}
all_lanes=(unit hsm integration chart e2e sanitize)
lanes=()
ctest_args=()
while (($#)); do
  case "$1" in
    --lane)
      [[ " ${all_lanes[*]} " == *" ${2:-} "* ]] || { echo "test.sh: --lane takes one of: ${all_lanes[*]}" >&2; exit 2; }
      lanes+=("$2"); shift 2 ;;
    *) ctest_args+=("$1"); shift ;;
  esac
done
((${#lanes[@]})) || lanes=("${all_lanes[@]}")
has_lane() { [[ " ${lanes[*]} " == *" $1 "* ]]; }

# The tools each lane needs (scripts/<tool>.sh; each built once, then cached under
# ~/.cache/byok-operator). They build beside the C++ tree, so downloads overlap compiling.
#   build-control-plane: kube-apiserver, kubectl, etcd
#   build-vault: the transit tests' real server, built here so no ctest fixture runs into its
#                timeout building it
#   build-helm: the chart tests
#   build-local-kms: the third-party AWS KMS emulator (tests/harness/local-kms.sh)
#   build-node, build-node-images: the test node's kubelet, kube-proxy, kube-scheduler and
#                kube-controller-manager, and its pause and Debian base images (tests/harness/node.sh)
#   build-image: the operator's images from the Dockerfile (production and the SoftHSM2 test
#                image; buildah, no registry), cached by the hash of the tree's tracked files
#   build-kryoptic: the second PKCS#11 token (Rust, with a static OpenSSL 3.5; 2-4 min first time)
#   build-sanitize: the sanitizer lane's C++ build (clang, ASan + UBSan, libFuzzer)
tools=()
labels=()
if has_lane unit; then labels+=(unit); fi
if has_lane hsm; then tools+=(build-kryoptic); labels+=(hsm); fi
if has_lane integration; then
  tools+=(build-control-plane build-vault build-helm build-local-kms build-kryoptic)
  labels+=(integration)
fi
if has_lane chart; then tools+=(build-helm); labels+=(chart); fi
if has_lane e2e; then
  tools+=(build-control-plane build-node build-node-images build-image build-helm)
  labels+=(e2e)
fi
if has_lane sanitize; then tools+=(build-sanitize); fi
mapfile -t tools < <(printf '%s\n' "${tools[@]}" | awk 'NF && !seen[$0]++')

"$ROOT/scripts/install-deps.sh"
if ((${#tools[@]})); then
  # shellcheck source=go-env.sh
  source "$ROOT/scripts/go-env.sh" && go_env_setup  # the Go that install-deps.sh checked
fi
LOGS=$(mktemp -d)
pids=()
for tool in "${tools[@]}"; do
  "$ROOT/scripts/$tool.sh" >"$LOGS/$tool.log" 2>&1 &
  pids+=("$!:$tool")
done
if has_lane integration; then
  # The official SDKs' venv for the conformance tests (tests/conformance), installed here so no
  # ctest test spends its timeout on pip.
  (source "$ROOT/tests/harness/lib.sh" && conformance_python >/dev/null) >"$LOGS/conformance-venv.log" 2>&1 &
  pids+=("$!:conformance-venv")
fi
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
status=0
if ((${#labels[@]})); then
  label_regex="^($(IFS='|'; echo "${labels[*]}"))\$"
  echo "[test] lanes ${labels[*]} ($BUILD)"
  (cd "$BUILD" && ctest --output-on-failure --timeout 600 -j"$(nproc)" -L "$label_regex" "${ctest_args[@]}") || status=1
fi
if has_lane sanitize; then
  echo "[test] the sanitizer lane ($SANITIZE_BUILD): unit and HSM tests under ASan + UBSan, fuzz targets"
  (cd "$SANITIZE_BUILD" && ctest --output-on-failure --timeout 600 -j"$(nproc)" "${ctest_args[@]}") || status=1
fi
exit "$status"
