#!/usr/bin/env bash
# Starts and stops the strict fake of a Thalassa-style regional KMS for integration tests
# (tests/fakes/thalassa/fake_thalassa_kms.py: no real server can run here), on 127.0.0.1 only,
# over TLS with a throwaway CA.
#
#   tests/harness/thalassa-kms.sh start DIR   # creates DIR, starts the fake
#   source DIR/env                            # BYOK_THALASSA_* variables, see below
#   tests/harness/thalassa-kms.sh stop DIR    # stops it; DIR stays, the caller removes it
#
# DIR/env sets:
#   BYOK_THALASSA_ENDPOINT=https://127.0.0.1:PORT   the API address
#   BYOK_THALASSA_CA_FILE=DIR/pki/ca.crt            the CA that signed the server's certificate
#   BYOK_THALASSA_REGION=nl-01                      the only region the fake serves
#   BYOK_THALASSA_ORGANISATION, BYOK_THALASSA_ORGANISATION_SLUG   the organisation (identity,
#                                                   slug) the tokens belong to
#   BYOK_THALASSA_TOKEN                             an OIDC access token (sent as Bearer) that
#                                                   may manage keys
#   BYOK_THALASSA_PERSONAL_TOKEN                    a personal access token (sent as Token) of
#                                                   the same user
#   BYOK_THALASSA_READER_TOKEN                      a token that may only read (permission tests)
#   BYOK_THALASSA_SUBJECT, BYOK_THALASSA_EMAIL      the first token's user
#
# Needs python3 (with venv, for the fakes' cached interpreter), openssl, curl.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
READY_TIMEOUT=${BYOK_READY_TIMEOUT:-60}
FAKE=$ROOT/tests/fakes/thalassa/fake_thalassa_kms.py
REGION=nl-01

die() { printf 'thalassa-kms: %s\n' "$*" >&2; exit 1; }
usage() { die "usage: $0 start|stop DIR"; }

SERVER_NAME=thalassa-kms
SERVER_LOG=fake.log
# shellcheck source=tests/harness/lib.sh
source "$ROOT/tests/harness/lib.sh"

# True when PID is alive and is the fake with the config file of DIR.
is_ours() {
  local pid=$1 dir=$2
  [[ -n "$pid" && -r /proc/$pid/cmdline ]] || return 1
  tr '\0' ' ' </proc/"$pid"/cmdline | grep -qF -- "fake_thalassa_kms.py --config $dir/config.json"
}

start_fake() {
  local dir=$1 python port url
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [[ -f "$dir/pid" ]] && is_ours "$(cat "$dir/pid")" "$dir" && [[ -f "$dir/env" ]]; then
    return 0
  fi
  stop_server "$dir"
  rm -f "$dir/env"
  python=$(fakes_python) || die "no Python for the fakes (see fakes_python in tests/harness/lib.sh)"
  [[ -f "$dir/pki/server.crt" ]] || make_test_pki "$dir" byok-thalassa || die "certificates"
  # Fresh tokens and organisation per start; the fake reads them from its config.
  "$python" - "$dir" "$REGION" <<'PY' || die "could not write $dir/config.json"
import json, secrets, sys
d, region = sys.argv[1:3]
org = {"identity": "org-" + secrets.token_hex(6), "slug": "byok-test", "name": "BYOK test"}
user = "usr-" + secrets.token_hex(6)  # the operator's user, behind its two tokens
config = {
    "region": region,
    "organisation": org,
    "tokens": {
        "tk-" + secrets.token_urlsafe(24): {"subject": user, "name": "BYOK Operator",
                                            "email": "byok-operator@example.test", "role": "OWNER"},
        "pat-" + secrets.token_urlsafe(24): {"kind": "personal", "subject": user,
                                             "name": "BYOK Operator",
                                             "email": "byok-operator@example.test",
                                             "role": "OWNER"},
        "tk-" + secrets.token_urlsafe(24): {"subject": "usr-" + secrets.token_hex(6),
                                            "name": "Reader", "email": "reader@example.test",
                                            "role": "READER"},
    },
}
with open(f"{d}/config.json", "w") as f:
    json.dump(config, f, indent=1)
(owner, o), (personal, _), (reader, _) = config["tokens"].items()
with open(f"{d}/env.tmp", "w") as f:
    f.write(f"export BYOK_THALASSA_ORGANISATION={org['identity']}\n")
    f.write(f"export BYOK_THALASSA_ORGANISATION_SLUG={org['slug']}\n")
    f.write(f"export BYOK_THALASSA_TOKEN={owner}\n")
    f.write(f"export BYOK_THALASSA_PERSONAL_TOKEN={personal}\n")
    f.write(f"export BYOK_THALASSA_READER_TOKEN={reader}\n")
    f.write(f"export BYOK_THALASSA_SUBJECT={o['subject']}\n")
    f.write(f"export BYOK_THALASSA_EMAIL={o['email']}\n")
PY
  chmod 600 "$dir/config.json" "$dir/env.tmp"
  port=$(free_port)
  url="https://127.0.0.1:$port"
  setsid "$python" "$FAKE" --config "$dir/config.json" --port "$port" \
    --cert "$dir/pki/server.crt" --key "$dir/pki/server.key" >"$dir/fake.log" 2>&1 </dev/null &
  echo $! >"$dir/pid"
  wait_ready "$dir" "on $url" curl -fsS --cacert "$dir/pki/ca.crt" -o /dev/null "$url/__fake/health"
  {
    echo "export BYOK_THALASSA_ENDPOINT=$url"
    echo "export BYOK_THALASSA_CA_FILE=$dir/pki/ca.crt"
    echo "export BYOK_THALASSA_REGION=$REGION"
    cat "$dir/env.tmp"
  } >"$dir/env"
  rm -f "$dir/env.tmp"
}

[[ $# -eq 2 ]] || usage
case "$1" in
  start) start_fake "$2" ;;
  stop) [[ -d "$2" ]] && stop_server "$(cd "$2" && pwd)"; exit 0 ;;
  *) usage ;;
esac
