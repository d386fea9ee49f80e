#!/usr/bin/env bash
# Builds the transit tests' server, tests/tools/transit-server: HashiCorp Vault's own core, HTTP
# API, file audit device and transit secrets engine (the transit engine's reference
# implementation) from the Go module proxy at a pinned version, without the rest of the `vault`
# command (its CLI, storage backends, seals and bundled plugins: about 2,300 Go packages to
# compile, the largest single build of a cold CI run). Caches the binary under
# ~/.cache/byok-operator/bin/transit-server-<version>-<hash of main.go and this script>/; a
# second run finds it and costs nothing. Prints the binary's path on stdout; progress goes to
# stderr.
#
# Why Vault and not OpenBao: OpenBao's root module (github.com/openbao/openbao) is refused by the
# module proxy reachable here (403 "This module version is not available" for every version, tag
# or commit asked for), while its api/sdk sub-modules are served. Its go.mod also has no /v2
# suffix for v2.x tags, so no tagged release is fetchable as a module at all. Vault's root module
# is served, and OpenBao's transit engine is a fork of Vault's with the same HTTP API
# (/v1/<mount>/keys, /wrapping_key, /import, /import_version), so the client is tested against the
# original.
#
# Why a wrapper module: vault's go.mod replaces its own api, sdk and api/auth/* modules with local
# paths (and two third-party modules), and a dependency's replaces do not apply to the module
# that requires it. The wrapper requires github.com/hashicorp/vault, turns every local replace
# into the published module at the version vault's go.mod requires, and copies the other replaces
# verbatim, so vault's packages compile as they do in vault's own tree (CE, no UI assets).
#
# Why v1.21.0 and not the newest v1.21.x served (v1.21.4): a release branch builds against its
# own ./sdk, which must match a published sdk version for the wrapper to work. v1.21.0 requires
# sdk v0.20.0 and compiles against it; v1.21.4's ./sdk sits between sdk v0.20.0 (lacks its
# observation hooks) and v0.21.0 (a changed ActivationFunc signature), so it builds with neither.
set -euo pipefail

VAULT_VERSION="${VAULT_VERSION:-v1.21.0}"
CACHE="${BYOK_CACHE:-$HOME/.cache/byok-operator}"
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SRC="$ROOT/tests/tools/transit-server/main.go"
# The folder is named by the sources and this script (which decides how they are built).
VAULT_DIR="$CACHE/bin/transit-server-$VAULT_VERSION-$(cat "$SRC" "${BASH_SOURCE[0]}" | sha256sum | cut -c1-12)"

log() { printf '[build-vault] %s\n' "$*" >&2; }

build_vault() {
  if [[ -x "$VAULT_DIR/transit-server" ]]; then return; fi
  command -v go >/dev/null || { log "go is not installed"; exit 1; }
  log "building transit-server on vault $VAULT_VERSION (first run only; minutes on 2 cores)"
  local started=$SECONDS work
  work=$(mktemp -d)
  trap 'rm -rf "$work"' RETURN
  (
    cd "$work"
    go mod init byok.dev/build/transit-server >/dev/null 2>&1
    cp "$SRC" main.go
    local gomod
    gomod=$(go mod download -json "github.com/hashicorp/vault@$VAULT_VERSION" \
      | python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(d.get("Error")) if d.get("Error") else print(d["GoMod"])')
    # Reproduce vault's replace directives: a local path (./api, ./sdk, ...) becomes the
    # published module at the version vault requires; any other replace is copied as it is.
    go mod edit -json "$gomod" | python3 -c '
import json, sys
m = json.load(sys.stdin)
required = {r["Path"]: r["Version"] for r in m.get("Require") or []}
for r in m.get("Replace") or []:
    old, new = r["Old"], r["New"]
    lhs = old["Path"] + (" " + old["Version"] if old.get("Version") else "")
    if new["Path"].startswith("./") or new["Path"].startswith("../"):
        if old["Path"] not in required:
            continue  # a local module vault does not require: nothing to pin
        print("replace %s => %s %s" % (lhs, old["Path"], required[old["Path"]]))
    else:
        print("replace %s => %s %s" % (lhs, new["Path"], new.get("Version", "")))
' >> go.mod
    echo "require github.com/hashicorp/vault $VAULT_VERSION" >> go.mod
    # Vault's Go language version and godebug lines: GODEBUG's defaults follow the main module's
    # `go` line, so the server behaves as a release built from vault's own go.mod does.
    go mod edit -go="$(awk '$1 == "go" {print $2; exit}' "$gomod")"
    grep -E '^godebug ' "$gomod" >> go.mod || true
    mkdir -p "$VAULT_DIR.tmp"
    CGO_ENABLED=0 GOFLAGS="-mod=mod ${GOFLAGS:-}" go build -trimpath -ldflags "-s -w" \
      -o "$VAULT_DIR.tmp/transit-server" .
  )
  rm -rf "$VAULT_DIR"
  mv "$VAULT_DIR.tmp" "$VAULT_DIR"
  log "built $VAULT_DIR/transit-server in $((SECONDS - started))s"
}

build_vault
echo "$VAULT_DIR/transit-server"
