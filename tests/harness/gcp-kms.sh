#!/usr/bin/env bash
# Starts and stops the Google Cloud KMS stand-in for integration tests: the strict fake
# tests/fakes/gcp/fake_gcp_kms.py (no Cloud KMS emulator exists), on 127.0.0.1 only, over TLS with
# a throwaway CA. It serves both the Cloud KMS REST API v1 and the OAuth2 token endpoint, checks
# the RS256 signature of every JWT grant with the service account's public key and the bearer
# token of every call, and really unwraps imported key material (see the fake's header comment).
#
#   tests/harness/gcp-kms.sh start DIR   # creates DIR, starts the fake
#   source DIR/env                       # BYOK_GCP_* variables, see below
#   tests/harness/gcp-kms.sh stop DIR    # stops it; DIR stays, the caller removes it
#
# DIR/env sets:
#   BYOK_GCP_ENDPOINT=https://127.0.0.1:PORT  the Cloud KMS endpoint (ProviderConfig.endpoint);
#                                             the token endpoint is PORT/token, named in the key
#   BYOK_GCP_CA_FILE=DIR/pki/ca.crt           the CA that signed the server's certificate
#   BYOK_GCP_SA_KEY_FILE=DIR/sa-key.json      the service account's JSON key (token_uri points at
#                                             the fake)
#   BYOK_GCP_WRONG_SA_KEY_FILE                the same account with a private key the fake never
#                                             issued: its grants are refused
#   BYOK_GCP_SA_EMAIL, BYOK_GCP_PROJECT, BYOK_GCP_LOCATION, BYOK_GCP_KEY_RING (the one key ring)
#   BYOK_GCP_ATTESTATION_MANUFACTURER_ROOTS, BYOK_GCP_ATTESTATION_OWNER_ROOTS: the test roots the
#                                             fake's ImportJob attestations chain to
#
# Needs python3 (with venv), openssl, curl; the fake's Python comes from fakes_python (lib.sh).
set -euo pipefail

READY_TIMEOUT=${BYOK_READY_TIMEOUT:-60}
PROJECT=byok-test-project
LOCATION=europe-west1
KEY_RING=byok-test-ring
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FAKE=$(cd "$HERE/../fakes/gcp" && pwd)/fake_gcp_kms.py

die() { printf 'gcp-kms: %s\n' "$*" >&2; exit 1; }
usage() { die "usage: $0 start|stop DIR"; }

SERVER_NAME=gcp-kms
SERVER_LOG=fake.log
# shellcheck source=tests/harness/lib.sh
source "$HERE/lib.sh"

# True when PID is alive and is the fake serving the port recorded in DIR.
is_ours() {
  local pid=$1 dir=$2
  [[ -n "$pid" && -r /proc/$pid/cmdline && -f "$dir/port" ]] || return 1
  tr '\0' ' ' </proc/"$pid"/cmdline | grep -q -- "fake_gcp_kms.py .*--port $(cat "$dir/port") "
}

start_fake() {
  local dir=$1 python port url
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [[ -f "$dir/pid" ]] && is_ours "$(cat "$dir/pid")" "$dir" && [[ -f "$dir/env" ]]; then
    return 0
  fi
  stop_server "$dir"
  rm -f "$dir/env" "$dir/sa-key.json" "$dir/sa-key-wrong.json"
  python=$(fakes_python) || die "no Python for the fakes (see fakes_python in lib.sh)"
  [[ -f "$dir/pki/server.crt" ]] || make_test_pki "$dir" byok-gcp || die "certificates"
  port=$(free_port)
  echo "$port" >"$dir/port"
  url="https://127.0.0.1:$port"
  setsid "$python" "$FAKE" --dir "$dir" --port "$port" --cert "$dir/pki/server.crt" \
    --key "$dir/pki/server.key" --project "$PROJECT" --location "$LOCATION" \
    --key-ring "$KEY_RING" >"$dir/fake.log" 2>&1 </dev/null &
  echo $! >"$dir/pid"
  wait_ready "$dir" "on $url" curl -fsS --cacert "$dir/pki/ca.crt" -o /dev/null "$url/__fake/health"
  [[ -s "$dir/sa-key.json" ]] || fail_start "$dir" "the fake wrote no service-account key"
  local email
  email=$("$python" -c 'import json,sys; print(json.load(open(sys.argv[1]))["client_email"])' "$dir/sa-key.json")
  {
    echo "export BYOK_GCP_ENDPOINT=$url"
    echo "export BYOK_GCP_CA_FILE=$dir/pki/ca.crt"
    echo "export BYOK_GCP_SA_KEY_FILE=$dir/sa-key.json"
    echo "export BYOK_GCP_WRONG_SA_KEY_FILE=$dir/sa-key-wrong.json"
    echo "export BYOK_GCP_SA_EMAIL=$email"
    echo "export BYOK_GCP_PROJECT=$PROJECT"
    echo "export BYOK_GCP_LOCATION=$LOCATION"
    echo "export BYOK_GCP_KEY_RING=$KEY_RING"
    echo "export BYOK_GCP_ATTESTATION_MANUFACTURER_ROOTS=$dir/attestation-manufacturer-roots.pem"
    echo "export BYOK_GCP_ATTESTATION_OWNER_ROOTS=$dir/attestation-owner-roots.pem"
  } >"$dir/env.tmp"
  mv "$dir/env.tmp" "$dir/env"
}

[[ $# -eq 2 ]] || usage
case "$1" in
  start) start_fake "$2" ;;
  stop) [[ -d "$2" ]] && stop_server "$(cd "$2" && pwd)"; exit 0 ;;
  *) usage ;;
esac
