#!/usr/bin/env bash
# Builds the node side of the test cluster (kubelet, kube-proxy) and the two control-plane parts
# a node needs (kube-scheduler, kube-controller-manager) from source through the Go module proxy,
# at the same pinned Kubernetes version as scripts/build-control-plane.sh, and caches them under
# ~/.cache/byok-operator/bin/kubernetes-node-<version>/. A second run finds them and costs nothing.
#
# One `go build` for the four commands, so the packages they share compile once (about 5 min on
# 2 cores with warm Go caches). A folder of its own beside build-control-plane.sh's: neither build
# replaces the other's binaries. Parallel-safe: concurrent runs wait on one lock, and the folder
# appears whole (built aside, then renamed).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
K8S_VERSION="${K8S_VERSION:-v1.34.4}"
CACHE="${BYOK_CACHE:-$HOME/.cache/byok-operator}"
NODE_BIN="$CACHE/bin/kubernetes-node-$K8S_VERSION"
COMMANDS=(kubelet kube-proxy kube-scheduler kube-controller-manager)

log() { printf '[node] %s\n' "$*" >&2; }

have_all() {
  local c
  for c in "${COMMANDS[@]}"; do [[ -x "$NODE_BIN/$c" ]] || return 1; done
}

build_node() {
  log "building ${COMMANDS[*]} $K8S_VERSION (first run only; several minutes)"
  local work; work=$(mktemp -d)
  local staging_version="v0.${K8S_VERSION#v1.}"
  # shellcheck source=go-env.sh
  source "$ROOT/scripts/go-env.sh"
  go_env_setup || { log "no usable Go toolchain (scripts/go-env.sh)"; return 1; }
  (
    cd "$work"
    go mod init byok.dev/build/kubernetes-node >/dev/null 2>&1
    local gomod
    gomod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])')
    {
      echo "require k8s.io/kubernetes $K8S_VERSION"
      # Every local replace in kubernetes' go.mod becomes the published staging version (the
      # reason for a wrapper module: see scripts/build-control-plane.sh).
      grep -E '^\s*k8s\.io/[a-z0-9-]+ => \./staging/' "$gomod" \
        | awk -v v="$staging_version" '{print "replace " $1 " => " $1 " " v}'
    } >>go.mod
    grep -E '^godebug ' "$gomod" >>go.mod || true
    {
      printf '//go:build tools\n\npackage tools\n\nimport (\n'
      for c in "${COMMANDS[@]}"; do printf '\t_ "k8s.io/kubernetes/cmd/%s"\n' "$c"; done
      printf ')\n'
    } >tools.go
    local pkgs=()
    for c in "${COMMANDS[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$c"); done
    GOFLAGS=-mod=mod go mod tidy >/dev/null 2>&1 || GOFLAGS=-mod=mod go get "${pkgs[@]}"
    local ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$(echo "$K8S_VERSION" | cut -d. -f2)"
    mkdir -p out
    CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "$ldflags" -o out/ "${pkgs[@]}"
  ) || { rm -rf "$work"; return 1; }
  mkdir -p "$CACHE/bin"
  rm -rf "$NODE_BIN.tmp"
  mv "$work/out" "$NODE_BIN.tmp"
  rm -rf "$work" "$NODE_BIN"
  mv "$NODE_BIN.tmp" "$NODE_BIN"
}

if ! have_all; then
  mkdir -p "$CACHE/bin"
  # The control plane first (it waits for one already being built): kube-apiserver and these
  # commands share most of their packages (client-go, apiserver, api, component-base, ...), and
  # two `go build`s started together each compile them, since Go's build cache only serves what
  # has finished. After it, this build takes those packages from the cache (~/.cache/go-build).
  # shellcheck source=go-env.sh
  source "$ROOT/scripts/go-env.sh"
  go_env_setup || { log "no usable Go toolchain (scripts/go-env.sh)"; exit 1; }
  "$ROOT/scripts/build-control-plane.sh" >/dev/null
  (
    flock 9
    have_all || build_node
  ) 9>"$CACHE/bin/.kubernetes-node-$K8S_VERSION.lock"
  have_all || { log "build failed: $NODE_BIN is incomplete"; exit 1; }
fi
# Print the folder for callers: `eval "$(scripts/build-node.sh)"`.
echo "export BYOK_K8S_NODE_BIN='$NODE_BIN'"
