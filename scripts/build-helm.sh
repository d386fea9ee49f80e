#!/usr/bin/env bash
# Builds the helm CLI from the Go module proxy at a pinned version and caches the binary under
# ~/.cache/byok-operator/bin/helm-<version>/helm. A second run finds the binary and costs nothing.
# Prints the binary's path on stdout; progress goes to stderr.
#
# helm's go.mod has no replace directives, so a plain `go install` of its command builds it (no
# wrapper module as for kube-apiserver or Vault). The chart tests (tests/chart/) need it.
#
# Why v3.19.5 and not the newest served (v3.22.0): v3.19 is the newest line whose go.mod asks for
# Go 1.24 (v3.20 wants 1.25, v3.21 and v3.22 want 1.26), the floor scripts/install-deps.sh
# checks; and its client-go v0.34 matches the test apiserver (v1.34), so what `helm template`
# assumes of the cluster is what the tests run against.
set -euo pipefail

HELM_VERSION="${HELM_VERSION:-v3.19.5}"
CACHE="${BYOK_CACHE:-$HOME/.cache/byok-operator}"
HELM_DIR="$CACHE/bin/helm-$HELM_VERSION"

log() { printf '[build-helm] %s\n' "$*" >&2; }

build_helm() {
  if [[ -x "$HELM_DIR/helm" ]]; then return; fi
  command -v go >/dev/null || { log "go is not installed"; exit 1; }
  log "building helm $HELM_VERSION (first run only; several minutes on 2 cores)"
  local started=$SECONDS
  rm -rf "$HELM_DIR.tmp"
  mkdir -p "$HELM_DIR.tmp"
  # The same -X stamps as helm's Makefile: the version `helm version` prints, and the Kubernetes
  # version derived from the client-go helm requires (v0.Y.Z -> 1.Y), which `helm template` and
  # `helm lint` assume when no cluster is asked (.Capabilities.KubeVersion); unstamped it is 1.20.
  local gomod client_go major minor
  gomod=$(go mod download -json "helm.sh/helm/v3@$HELM_VERSION" \
    | python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(d.get("Error")) if d.get("Error") else print(d["GoMod"])')
  client_go=$(awk '$1 == "k8s.io/client-go" {print $2; exit}' "$gomod")
  IFS=. read -r major minor _ <<<"${client_go#v}"
  local ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
  local pkg
  for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
    ldflags+=" -X $pkg.k8sVersionMajor=$((major + 1)) -X $pkg.k8sVersionMinor=$minor"
  done
  CGO_ENABLED=0 GOBIN="$HELM_DIR.tmp" go install -trimpath -ldflags "$ldflags" \
    "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  rm -rf "$HELM_DIR"
  mv "$HELM_DIR.tmp" "$HELM_DIR"
  log "built $HELM_DIR/helm in $((SECONDS - started))s"
}

build_helm
echo "$HELM_DIR/helm"
