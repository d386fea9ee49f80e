#!/usr/bin/env bash
# Starts and stops a real transit secrets engine for integration tests: HashiCorp Vault's core and
# transit engine (tests/tools/transit-server, built from source by scripts/build-vault.sh, cached)
# started as `vault server -dev` starts, on 127.0.0.1 only, over TLS, with the transit engine
# enabled at transit/ and two tokens made for the tests.
#
#   tests/harness/transit-kms.sh start DIR   # creates DIR, starts vault, provisions it
#   source DIR/env                           # BYOK_TRANSIT_* variables, see below
#   tests/harness/transit-kms.sh stop DIR    # stops it; DIR stays, the caller removes it
#
# DIR/env sets:
#   BYOK_TRANSIT_ENDPOINT=https://127.0.0.1:PORT  the Vault address
#   BYOK_TRANSIT_CA_FILE=DIR/pki/vault-ca.pem     the CA that signed the server's certificate
#   BYOK_TRANSIT_MOUNT=transit                    where the transit engine is mounted
#   BYOK_TRANSIT_ROOT_TOKEN                       the dev server's root token (setup, checks)
#   BYOK_TRANSIT_TOKEN, BYOK_TRANSIT_TOKEN_ACCESSOR   a token with the policy byok-operator
#                                  (policy file DIR/byok-operator.hcl): what the operator needs
#   BYOK_TRANSIT_NARROW_TOKEN, BYOK_TRANSIT_NARROW_ACCESSOR   a token that may only read keys
#                                  (policy byok-read-only): for the permission tests
#   BYOK_TRANSIT_SERVER                           e.g. "vault v1.21.0"
#
# Why Vault and not OpenBao: see scripts/build-vault.sh (the module proxy refuses OpenBao's root
# module). The transit HTTP API is the same in both.
#
# The server keeps everything in memory and starts unsealed, as dev mode does; it makes a CA and
# a certificate for 127.0.0.1/localhost in DIR/pki, and the tests trust that CA explicitly. The
# root token is read from DIR/root-token (not the command line).
#
# Needs bash, curl, python3 (JSON and free ports), and go the first time (the build takes
# a few minutes on 2 cores; later starts take about a second).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
READY_TIMEOUT=${BYOK_READY_TIMEOUT:-60}
MOUNT=transit

die() { printf 'transit-kms: %s\n' "$*" >&2; exit 1; }
usage() { die "usage: $0 start|stop DIR"; }

SERVER_NAME=transit-kms
SERVER_LOG=vault.log
# shellcheck source=tests/harness/lib.sh
source "$ROOT/tests/harness/lib.sh"

# True when PID is alive and is a transit-server whose certificates live in DIR.
is_ours() {
  local pid=$1 dir=$2
  [[ -n "$pid" && -r /proc/$pid/cmdline ]] || return 1
  tr '\0' ' ' </proc/"$pid"/cmdline | grep -qF -- "-tls-dir=$dir/pki"
}

# vault_api DIR METHOD PATH [JSON]: one call with the root token; prints the answer body and
# fails with the server's words on an error status.
vault_api() {
  local dir=$1 method=$2 path=$3 body=${4:-} out status
  out=$(mktemp)
  status=$(curl -sS --cacert "$dir/pki/vault-ca.pem" -o "$out" -w '%{http_code}' \
    -X "$method" -H "X-Vault-Token: $(cat "$dir/root-token")" \
    ${body:+-H 'Content-Type: application/json' --data "$body"} \
    "$(cat "$dir/url")/v1/$path") || { rm -f "$out"; return 1; }
  if [[ "$status" != 2* ]]; then
    printf '%s %s: HTTP %s %s\n' "$method" "$path" "$status" "$(cat "$out")" >&2
    rm -f "$out"
    return 1
  fi
  cat "$out"
  rm -f "$out"
}

json_field() { python3 -c 'import json,sys; d=json.load(sys.stdin)
for k in sys.argv[1].split("."): d=d[k]
print(d)' "$1"; }

# The operator's least privilege on the mount: read and import keys, read the wrapping key,
# allow deletion and delete. lookup-self comes with the default policy every token has.
write_policies() {
  local dir=$1
  cat >"$dir/byok-operator.hcl" <<HCL
path "$MOUNT/wrapping_key" { capabilities = ["read"] }
path "$MOUNT/keys/*" { capabilities = ["read", "delete"] }
path "$MOUNT/keys/+/import" { capabilities = ["update"] }
path "$MOUNT/keys/+/import_version" { capabilities = ["update"] }
path "$MOUNT/keys/+/config" { capabilities = ["update"] }
HCL
  cat >"$dir/byok-read-only.hcl" <<HCL
path "$MOUNT/keys/*" { capabilities = ["read"] }
HCL
}

provision() {
  local dir=$1 policy token
  vault_api "$dir" POST "sys/mounts/$MOUNT" '{"type":"transit"}' >/dev/null
  write_policies "$dir"
  for policy in byok-operator byok-read-only; do
    vault_api "$dir" PUT "sys/policies/acl/$policy" \
      "$(python3 -c 'import json,sys; print(json.dumps({"policy": open(sys.argv[1]).read()}))' "$dir/$policy.hcl")" >/dev/null
  done
  token=$(vault_api "$dir" POST auth/token/create \
    '{"policies":["byok-operator"],"display_name":"byok-operator","ttl":"24h"}')
  {
    echo "export BYOK_TRANSIT_TOKEN=$(json_field auth.client_token <<<"$token")"
    echo "export BYOK_TRANSIT_TOKEN_ACCESSOR=$(json_field auth.accessor <<<"$token")"
  } >"$dir/env.tmp"
  token=$(vault_api "$dir" POST auth/token/create \
    '{"policies":["byok-read-only"],"display_name":"byok-read-only","ttl":"24h"}')
  {
    echo "export BYOK_TRANSIT_NARROW_TOKEN=$(json_field auth.client_token <<<"$token")"
    echo "export BYOK_TRANSIT_NARROW_ACCESSOR=$(json_field auth.accessor <<<"$token")"
  } >>"$dir/env.tmp"
}

start_vault() {
  local dir=$1 vault port url version
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [[ -f "$dir/pid" ]] && is_ours "$(cat "$dir/pid")" "$dir" && [[ -f "$dir/env" ]]; then
    return 0
  fi
  stop_server "$dir"
  rm -f "$dir/env" "$dir/env.tmp"
  vault=$("$ROOT/scripts/build-vault.sh") || die "could not build vault (scripts/build-vault.sh)"
  version=$("$vault" -version | awk '{print $2}' | tr -d ,)
  rm -rf "$dir/pki"
  mkdir -p "$dir/pki"
  python3 -c 'import secrets; print("root-" + secrets.token_hex(16))' >"$dir/root-token"
  chmod 600 "$dir/root-token"
  port=$(free_port)
  url="https://127.0.0.1:$port"
  echo "$url" >"$dir/url"
  HOME="$dir" setsid "$vault" -listen="127.0.0.1:$port" -tls-dir="$dir/pki" \
    -root-token-file="$dir/root-token" >"$dir/vault.log" 2>&1 </dev/null &
  echo $! >"$dir/pid"
  # The server writes its CA before it serves.
  ready() { [[ -s "$dir/pki/vault-ca.pem" ]] && curl -fsS --cacert "$dir/pki/vault-ca.pem" -o /dev/null "$url/v1/sys/health"; }
  wait_ready "$dir" "on $url" ready
  provision "$dir" 2>>"$dir/vault.log" || fail_start "$dir" "provisioning (mount, policies, tokens) failed"
  {
    echo "export BYOK_TRANSIT_ENDPOINT=$url"
    echo "export BYOK_TRANSIT_CA_FILE=$dir/pki/vault-ca.pem"
    echo "export BYOK_TRANSIT_MOUNT=$MOUNT"
    echo "export BYOK_TRANSIT_ROOT_TOKEN=$(cat "$dir/root-token")"
    echo "export BYOK_TRANSIT_SERVER='vault $version'"
    cat "$dir/env.tmp"
  } >"$dir/env"
  rm -f "$dir/env.tmp"
}

[[ $# -eq 2 ]] || usage
case "$1" in
  start) start_vault "$2" ;;
  stop) [[ -d "$2" ]] && stop_server "$(cd "$2" && pwd)"; exit 0 ;;
  *) usage ;;
esac
