#!/usr/bin/env bash
# Builds kube-apiserver, kubectl and etcd from source through the Go module proxy at pinned
# versions and caches the binaries under ~/.cache/byok-operator/bin/<version>/.
# A second run finds the binaries and costs nothing.
#
# Why a wrapper module: `go install k8s.io/kubernetes/cmd/...@v` is refused because kubernetes'
# go.mod replaces its staging modules with local paths. A wrapper that requires k8s.io/kubernetes
# and replaces every staging module with its published v0.Y.Z builds the same commands.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-v1.34.4}"
ETCD_VERSION="${ETCD_VERSION:-v3.6.4}"
CACHE="${BYOK_CACHE:-$HOME/.cache/byok-operator}"
K8S_BIN="$CACHE/bin/kubernetes-$K8S_VERSION"
ETCD_BIN="$CACHE/bin/etcd-$ETCD_VERSION"

log() { printf '[control-plane] %s\n' "$*" >&2; }

build_kubernetes() {
  if [[ -x "$K8S_BIN/kube-apiserver" && -x "$K8S_BIN/kubectl" ]]; then return; fi
  log "building kube-apiserver and kubectl $K8S_VERSION (first run only; several minutes)"
  local work; work=$(mktemp -d)
  local staging_version="v0.${K8S_VERSION#v1.}"
  (
    cd "$work"
    go mod init byok.dev/build/kubernetes >/dev/null 2>&1
    local gomod
    gomod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])')
    {
      echo "require k8s.io/kubernetes $K8S_VERSION"
      # Every local replace in kubernetes' go.mod becomes the published staging version.
      grep -E '^\s*k8s\.io/[a-z0-9-]+ => \./staging/' "$gomod" \
        | awk -v v="$staging_version" '{print "replace " $1 " => " $1 " " v}'
    } >> go.mod
    # Keep kubernetes' Go language settings so the build behaves as upstream's.
    grep -E '^godebug ' "$gomod" >> go.mod || true
    cat > tools.go <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO
    GOFLAGS=-mod=mod go mod tidy >/dev/null 2>&1 || GOFLAGS=-mod=mod go get k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kubectl
    local ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$(echo "$K8S_VERSION" | cut -d. -f2)"
    mkdir -p "$K8S_BIN.tmp"
    CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "$ldflags" -o "$K8S_BIN.tmp/" \
      k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kubectl
  )
  rm -rf "$work" "$K8S_BIN"
  mv "$K8S_BIN.tmp" "$K8S_BIN"
}

build_etcd() {
  if [[ -x "$ETCD_BIN/etcd" ]]; then return; fi
  log "building etcd $ETCD_VERSION (first run only)"
  local work; work=$(mktemp -d)
  (
    cd "$work"
    go mod init byok.dev/build/etcd >/dev/null 2>&1
    cat > main.go <<'GO'
// etcd's own main is a thin call into etcdmain; the server/v3 module carries no replace directives
// that matter to a dependent module, so this wrapper builds the real server.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
    GOFLAGS=-mod=mod go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >/dev/null 2>&1
    GOFLAGS=-mod=mod go mod tidy >/dev/null 2>&1
    mkdir -p "$ETCD_BIN.tmp"
    CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w" -o "$ETCD_BIN.tmp/etcd" .
  )
  rm -rf "$work" "$ETCD_BIN"
  mv "$ETCD_BIN.tmp" "$ETCD_BIN"
}

have_all() { [[ -x "$ETCD_BIN/etcd" && -x "$K8S_BIN/kube-apiserver" && -x "$K8S_BIN/kubectl" ]]; }
if ! have_all; then
  # One build at a time: scripts/build-node.sh waits here too (see there).
  mkdir -p "$CACHE/bin"
  (
    flock 9
    build_etcd
    build_kubernetes
  ) 9>"$CACHE/bin/.kubernetes-$K8S_VERSION.lock"
fi
# Print the folders for callers: `eval "$(scripts/build-control-plane.sh)"`.
echo "export BYOK_K8S_BIN='$K8S_BIN' BYOK_ETCD_BIN='$ETCD_BIN'"
