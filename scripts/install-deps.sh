#!/usr/bin/env bash
# Installs what the build, the tests and the demo need on a Debian machine: the packages in
# scripts/deps/apt-packages.txt (also the image's build stack) and apt-packages-host.txt (this
# machine's only), and checks the Go toolchain that builds the third-party servers
# (kube-apiserver, etcd, ...). Quick when everything is already there.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
log() { printf '[install-deps] %s\n' "$*" >&2; }

mapfile -t wanted < <(grep -hvE '^\s*(#|$)' "$ROOT/scripts/deps/apt-packages.txt" "$ROOT/scripts/deps/apt-packages-host.txt")
missing=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""
  [[ $(id -u) -eq 0 ]] || SUDO=sudo
  log "installing: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Go >= 1.24 builds kube-apiserver 1.34, etcd 3.6, Vault and helm: the machine's, or one fetched
# from the Go module proxy (scripts/go-env.sh).
# shellcheck source=go-env.sh
source "$ROOT/scripts/go-env.sh"
if ! go_env_setup; then
  log "no usable Go toolchain: install Go $GO_MIN or newer (it builds the test control plane)"
  exit 1
fi

# Rust (cargo) builds kryoptic, the second PKCS#11 token of the HSM tests
# (scripts/build-kryoptic.sh; built and tested with cargo 1.95). Debian bookworm's own cargo
# (1.65) is older than kryoptic's dependencies allow, so 1.80 is asked as a floor.
if ! command -v cargo >/dev/null || ! cargo --version | awk '{split($2, v, "."); exit !(v[1] > 1 || v[2] >= 80)}'; then
  log "no cargo 1.80 or newer: install a current Rust toolchain (it builds kryoptic, the second PKCS#11 token)"
  exit 1
fi
