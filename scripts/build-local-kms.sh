#!/usr/bin/env bash
# Builds local-kms (github.com/nsmithuk/local-kms, a third-party AWS KMS emulator) from the Go
# module proxy at a pinned version and caches the binary under
# ~/.cache/byok-operator/bin/local-kms-<version>/local-kms. A second run finds the binary and
# costs nothing. Prints the binary's path on stdout; progress goes to stderr.
#
# The AWS tests run the symmetric import path against it beside moto: a KMS server this project
# did not write or extend (tests/harness/local-kms.sh starts it in a network namespace of its
# own, since it cannot bind to a chosen address).
set -euo pipefail

LOCAL_KMS_VERSION="${LOCAL_KMS_VERSION:-v0.0.0-20260228092603-2a5e92d09ab6}"
CACHE="${BYOK_CACHE:-$HOME/.cache/byok-operator}"
DIR="$CACHE/bin/local-kms-$LOCAL_KMS_VERSION"

log() { printf '[build-local-kms] %s\n' "$*" >&2; }

if [[ ! -x "$DIR/local-kms" ]]; then
  command -v go >/dev/null || { log "go is not installed"; exit 1; }
  log "building local-kms $LOCAL_KMS_VERSION (first run only; under a minute)"
  started=$SECONDS
  rm -rf "$DIR.tmp"
  mkdir -p "$DIR.tmp"
  CGO_ENABLED=0 GOBIN="$DIR.tmp" go install -trimpath -ldflags "-s -w" \
    "github.com/nsmithuk/local-kms@$LOCAL_KMS_VERSION"
  rm -rf "$DIR"
  mv "$DIR.tmp" "$DIR"
  log "built $DIR/local-kms in $((SECONDS - started))s"
fi
echo "$DIR/local-kms"
