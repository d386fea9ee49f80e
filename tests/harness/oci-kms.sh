#!/usr/bin/env bash
# Starts and stops the strict OCI Vault fake (tests/fakes/oci/fake_oci_kms.py) for integration
# tests: one vault's management endpoint on 127.0.0.1 only, over TLS with a throwaway CA. No OCI
# emulator exists; the fake verifies every request signature with the API key it generates for
# the test user and really unwraps imported key material (see its header comment).
#
#   tests/harness/oci-kms.sh start DIR   # creates DIR, starts the fake, writes DIR/env
#   source DIR/env                       # BYOK_OCI_* variables, see below
#   tests/harness/oci-kms.sh stop DIR    # stops it; DIR stays, the caller removes it
#
# DIR/env sets:
#   BYOK_OCI_ENDPOINT=https://127.0.0.1:PORT     the vault's management endpoint
#   BYOK_OCI_CA_FILE=DIR/pki/ca.crt              the CA that signed the server's certificate
#   BYOK_OCI_TENANCY, BYOK_OCI_USER, BYOK_OCI_FINGERPRINT   the API key's identity
#   BYOK_OCI_PRIVATE_KEY_FILE                    the API key (PEM, PKCS #8)
#   BYOK_OCI_ENCRYPTED_PRIVATE_KEY_FILE, BYOK_OCI_PASSPHRASE_FILE   the same key, encrypted
#   BYOK_OCI_COMPARTMENT_ID, BYOK_OCI_VAULT_ID, BYOK_OCI_WRAPPING_KEY_ID
#
# Needs python3 (with venv), openssl, curl; the fake's Python comes from fakes_python (lib.sh).
set -euo pipefail

READY_TIMEOUT=${BYOK_READY_TIMEOUT:-60}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FAKE=$HERE/../fakes/oci/fake_oci_kms.py

die() { printf 'oci-kms: %s\n' "$*" >&2; exit 1; }
usage() { die "usage: $0 start|stop DIR"; }

SERVER_NAME=oci-kms
SERVER_LOG=fake.log
# shellcheck source=tests/harness/lib.sh
source "$HERE/lib.sh"

# True when PID is alive and is our fake on the port recorded in DIR.
is_ours() {
  local pid=$1 dir=$2
  [[ -n "$pid" && -r /proc/$pid/cmdline && -f "$dir/port" ]] || return 1
  tr '\0' ' ' </proc/"$pid"/cmdline | grep -q -- "fake_oci_kms.py --dir $dir --port $(cat "$dir/port")"
}

start_fake() {
  local dir=$1 python port url
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [[ -f "$dir/pid" ]] && is_ours "$(cat "$dir/pid")" "$dir" && [[ -f "$dir/env" ]]; then
    return 0
  fi
  stop_server "$dir"
  rm -f "$dir/env" "$dir/fake.env"
  python=$(fakes_python) || die "no Python for the fakes"
  [[ -f "$dir/pki/server.crt" ]] || make_test_pki "$dir" byok-oci || die "certificates"
  port=$(free_port)
  echo "$port" >"$dir/port"
  url="https://127.0.0.1:$port"
  setsid "$python" "$FAKE" --dir "$dir" --port "$port" \
    --cert "$dir/pki/server.crt" --key "$dir/pki/server.key" >"$dir/fake.log" 2>&1 </dev/null &
  echo $! >"$dir/pid"
  # The fake writes fake.env (its tenancy and user) before it serves.
  ready() { [[ -f "$dir/fake.env" ]] && curl -fsS --cacert "$dir/pki/ca.crt" -o /dev/null "$url/__fake/health"; }
  wait_ready "$dir" "on $url" ready
  {
    echo "export BYOK_OCI_ENDPOINT=$url"
    echo "export BYOK_OCI_CA_FILE=$dir/pki/ca.crt"
    cat "$dir/fake.env"
  } >"$dir/env.tmp"
  mv "$dir/env.tmp" "$dir/env"
}

[[ $# -eq 2 ]] || usage
case "$1" in
  start) start_fake "$2" ;;
  stop) [[ -d "$2" ]] && stop_server "$(cd "$2" && pwd)"; exit 0 ;;
  *) usage ;;
esac
