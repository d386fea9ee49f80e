#!/usr/bin/env bash
# Starts and stops a real AWS KMS + STS emulator for integration tests: moto's server mode
# (PyPI "moto", pinned below), on 127.0.0.1 only, over TLS with a throwaway CA, with moto's IAM
# authentication switched on so that every request's SigV4 signature is recomputed and checked
# by the server (botocore's signer) and unknown access keys are refused.
#
#   tests/harness/moto-kms.sh start DIR   # creates DIR, starts moto, provisions a user
#   source DIR/env                                # BYOK_AWS_* variables, see below
#   tests/harness/moto-kms.sh stop DIR    # stops it; DIR stays, the caller removes it
#
# DIR/env sets:
#   BYOK_AWS_ENDPOINT=https://127.0.0.1:PORT   KMS and STS both answer there
#   BYOK_AWS_CA_FILE=DIR/pki/ca.crt            the CA that signed the server's certificate
#   BYOK_AWS_REGION, BYOK_AWS_ACCESS_KEY_ID, BYOK_AWS_SECRET_ACCESS_KEY (an IAM user allowed
#   kms:* and sts:GetCallerIdentity), BYOK_AWS_ACCOUNT_ID, BYOK_AWS_USER_ARN
#
# Why moto: it implements the KMS calls the operator reads and manages (CreateKey, DescribeKey,
# Enable/DisableKey, Schedule/CancelKeyDeletion, ...) and STS GetCallerIdentity, every key spec,
# and checks SigV4 signatures (IAM auth on). It lacks key import, which
# tests/fakes/aws/moto_with_import.py adds (moto otherwise starts an EXTERNAL key Enabled). The
# import path also runs against local-kms (tests/harness/local-kms.sh), a third-party emulator
# with its own import code but symmetric keys only, no STS and no signature check.
#
# BYOK_MOTO_OWNER_PID=PID (optional, at start): stop moto by itself once process PID has ended.
#
# Needs python3 (with venv), openssl, curl. moto comes from the machine's Python when it has
# exactly the pinned version, else it is installed once into ~/.cache/byok-operator/venv/.
set -euo pipefail

MOTO_VERSION=${BYOK_MOTO_VERSION:-5.2.1}
READY_TIMEOUT=${BYOK_READY_TIMEOUT:-60}
CACHE=${BYOK_CACHE_DIR:-$HOME/.cache/byok-operator}
REGION=eu-west-1
FAKES_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../fakes" && pwd)

die() { printf 'moto-kms: %s\n' "$*" >&2; exit 1; }
usage() { die "usage: $0 start|stop DIR"; }

SERVER_NAME=moto-kms
SERVER_LOG=moto.log
# shellcheck source=tests/harness/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# True when PID is alive and is a moto server on the port recorded in DIR.
is_ours() {
  local pid=$1 dir=$2
  [[ -n "$pid" && -r /proc/$pid/cmdline && -f "$dir/port" ]] || return 1
  tr '\0' ' ' </proc/"$pid"/cmdline | grep -q -- "moto_with_import.py .*-p $(cat "$dir/port")"
}

# Prints a python interpreter that imports the pinned moto with its server extras.
moto_python() {
  local venv=$CACHE/venv/moto-$MOTO_VERSION check
  check="import importlib.metadata as m, flask, flask_cors, boto3; assert m.version('moto') == '$MOTO_VERSION'"
  if [[ -x "$venv/bin/python" ]] && "$venv/bin/python" -c "$check" 2>/dev/null; then
    echo "$venv/bin/python"; return
  fi
  if python3 -c "$check" 2>/dev/null; then command -v python3; return; fi
  printf 'moto-kms: installing moto[server]==%s into %s\n' "$MOTO_VERSION" "$venv" >&2
  rm -rf "$venv"
  python3 -m venv "$venv" >&2 || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
  "$venv/bin/pip" install --quiet "moto[server]==$MOTO_VERSION" >&2 || die "pip install moto failed"
  "$venv/bin/python" -c "$check" || die "moto $MOTO_VERSION does not import after install"
  echo "$venv/bin/python"
}

# Creates the IAM user the tests sign as. moto checks no signature for its first
# INITIAL_NO_AUTH_ACTION_COUNT actions: exactly the three calls below.
provision() {
  local dir=$1 python=$2 url=$3
  "$python" - "$dir" "$url" "$REGION" <<'PY'
import json, sys
import boto3
d, url, region = sys.argv[1:4]
iam = boto3.client("iam", endpoint_url=url, region_name=region, verify=f"{d}/pki/ca.crt",
                   aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
user = iam.create_user(UserName="byok-operator-test")["User"]
iam.put_user_policy(UserName="byok-operator-test", PolicyName="kms", PolicyDocument=json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["kms:*", "sts:GetCallerIdentity"],
                   "Resource": "*"}]}))
key = iam.create_access_key(UserName="byok-operator-test")["AccessKey"]
with open(f"{d}/env.tmp", "w") as f:
    f.write(f"export BYOK_AWS_ACCESS_KEY_ID={key['AccessKeyId']}\n")
    f.write(f"export BYOK_AWS_SECRET_ACCESS_KEY={key['SecretAccessKey']}\n")
    f.write(f"export BYOK_AWS_ACCOUNT_ID={user['Arn'].split(':')[4]}\n")
    f.write(f"export BYOK_AWS_USER_ARN={user['Arn']}\n")
PY
}

start_moto() {
  local dir=$1 python port url
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [[ -f "$dir/pid" ]] && is_ours "$(cat "$dir/pid")" "$dir" && [[ -f "$dir/env" ]]; then
    return 0
  fi
  stop_server "$dir"
  rm -f "$dir/env" "$dir/env.tmp"
  python=$(moto_python)
  [[ -f "$dir/pki/server.crt" ]] || make_test_pki "$dir" byok-moto || die "certificates"
  port=$(free_port)
  echo "$port" >"$dir/port"
  url="https://127.0.0.1:$port"
  # moto plus the import calls it lacks (tests/fakes/aws/moto_with_import.py).
  : >"$dir/imports.log"
  INITIAL_NO_AUTH_ACTION_COUNT=3 BYOK_AWS_IMPORT_LOG="$dir/imports.log" \
    setsid "$python" "$FAKES_DIR/aws/moto_with_import.py" -H 127.0.0.1 -p "$port" \
      -c "$dir/pki/server.crt" -k "$dir/pki/server.key" >"$dir/moto.log" 2>&1 </dev/null &
  echo $! >"$dir/pid"
  wait_ready "$dir" "on $url" curl -fsS --cacert "$dir/pki/ca.crt" -o /dev/null "$url/moto-api/data.json"
  provision "$dir" "$python" "$url" >>"$dir/moto.log" 2>&1 || fail_start "$dir" "IAM provisioning failed"
  {
    echo "export BYOK_AWS_ENDPOINT=$url"
    echo "export BYOK_AWS_CA_FILE=$dir/pki/ca.crt"
    echo "export BYOK_AWS_REGION=$REGION"
    echo "export BYOK_MOTO_PYTHON=$python"  # has boto3, for scripts that need a key or two
    echo "export BYOK_AWS_IMPORT_LOG=$dir/imports.log"  # "<key id> <material id> <sha256>" per import
    cat "$dir/env.tmp"
  } >"$dir/env"
  rm -f "$dir/env.tmp"
  # With BYOK_MOTO_OWNER_PID set, moto is stopped when that process ends, even if it never got
  # to call stop (a crashed test binary).
  if [[ -n "${BYOK_MOTO_OWNER_PID:-}" ]]; then
    # In a session of its own, like moto, so it outlives the caller's process group.
    setsid bash "${BASH_SOURCE[0]}" watch "$dir" "$BYOK_MOTO_OWNER_PID" >/dev/null 2>&1 </dev/null &
  fi
}

# Internal: `watch DIR OWNER_PID` stops the moto of DIR once OWNER_PID has ended.
watch_owner() {
  local dir=$1 owner=$2 pid
  pid=$(cat "$dir/pid" 2>/dev/null) || return 0
  while kill -0 "$owner" 2>/dev/null && is_ours "$pid" "$dir"; do sleep 1; done
  stop_server "$dir"
}

if [[ "${1:-}" == watch && $# -eq 3 ]]; then watch_owner "$2" "$3"; exit 0; fi
[[ $# -eq 2 ]] || usage
case "$1" in
  start) start_moto "$2" ;;
  stop) [[ -d "$2" ]] && stop_server "$(cd "$2" && pwd)"; exit 0 ;;
  *) usage ;;
esac
