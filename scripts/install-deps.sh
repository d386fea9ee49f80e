#!/usr/bin/env bash
# Installs what the build, the tests and the demo need on a Debian machine: the packages in
# scripts/deps/apt-packages.txt, and checks the Go toolchain that builds the third-party servers
# (kube-apiserver, etcd, ...). Quick when everything is already there.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
log() { printf '[install-deps] %s\n' "$*" >&2; }

mapfile -t wanted < <(grep -vE '^\s*(#|$)' "$ROOT/scripts/deps/apt-packages.txt")
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

# Go >= 1.24 builds kube-apiserver 1.34 and etcd 3.6 (scripts/build-control-plane.sh).
if ! command -v go >/dev/null 2>&1; then
  [[ -x /usr/local/go/bin/go ]] && export PATH="/usr/local/go/bin:$PATH"
fi
if ! command -v go >/dev/null 2>&1; then
  log "no Go toolchain on PATH: install Go 1.24 or newer (it builds the test control plane)"
  exit 1
fi
gov=$(go env GOVERSION | sed 's/^go//')
if [[ "$(printf '%s\n1.24\n' "$gov" | sort -V | head -1)" != "1.24" ]]; then
  log "Go $gov is too old: the control plane needs Go 1.24 or newer"
  exit 1
fi
