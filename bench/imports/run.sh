#!/usr/bin/env bash
# Builds what it needs (the operator, the bench), starts a control plane, moto (AWS KMS) and
# Vault transit of its own on 127.0.0.1, runs the ImportedKey import benchmark (a plain program
# against the operator, per server) and stops everything on exit. The operators' logs stay in
# the directory printed first. Usage:
#   bench/imports/run.sh [N=200] [concurrency=4] [--servers aws,transit] [--key-type T]
#                        [--timeout-seconds 600] [--no-baseline-again]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BYOK_BUILD_DIR:-$ROOT/build}
source "$ROOT/scripts/go-env.sh" && go_env_setup
"$ROOT/scripts/build-control-plane.sh" >/dev/null
"$ROOT/scripts/build.sh" >/dev/null
N=${1:-200}
CONCURRENCY=${2:-4}
shift $(($# < 2 ? $# : 2))
DIR=$(mktemp -d /tmp/byok-bench-imports-XXXXXX)
LOGS=$(mktemp -d /tmp/byok-bench-imports-logs-XXXXXX)
H=$ROOT/tests/harness
stop_all() {
  "$H/transit-kms.sh" stop "$DIR/transit" || true
  "$H/moto-kms.sh" stop "$DIR/aws" || true
  "$H/control-plane.sh" stop "$DIR/cp" || true
  rm -rf "$DIR"
}
trap stop_all EXIT
echo "operator logs: $LOGS"
"$H/control-plane.sh" start "$DIR/cp"
"$H/moto-kms.sh" start "$DIR/aws"
"$H/transit-kms.sh" start "$DIR/transit"
# shellcheck disable=SC1091
source "$DIR/cp/env"
export BYOK_AWS_KMS_ENV=$DIR/aws/env BYOK_TRANSIT_KMS_ENV=$DIR/transit/env
# What each server answered, from its own records: moto's access log, and a Vault file audit
# device (one response entry per request), for both sides alike.
export BYOK_BENCH_MOTO_LOG=$DIR/aws/moto.log BYOK_BENCH_VAULT_AUDIT_LOG=$DIR/transit/audit.log
export BYOK_BENCH_LOG_DIR=$LOGS
curl -fsS --cacert "$DIR/transit/pki/vault-ca.pem" -X PUT \
  -H "X-Vault-Token: $(cat "$DIR/transit/root-token")" \
  --data "{\"type\":\"file\",\"options\":{\"file_path\":\"$BYOK_BENCH_VAULT_AUDIT_LOG\"}}" \
  "$(cat "$DIR/transit/url")/v1/sys/audit/bench" >/dev/null
"$BUILD/bench/imports/bench_imports" "$N" "$CONCURRENCY" "$@"
