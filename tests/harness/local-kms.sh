#!/usr/bin/env bash
# Starts and stops local-kms (github.com/nsmithuk/local-kms, a third-party AWS KMS emulator built
# by scripts/build-local-kms.sh) for the AWS import tests that must meet a server this project did
# not write. local-kms listens on every interface and has no option to choose one, so it runs in
# a network namespace of its own (loopback only, created here and gone when it exits), and a
# forwarder on 127.0.0.1 in the caller's namespace carries each connection into it
# (tests/harness/tcp_forward.py with the namespace's file). Plain HTTP, as local-kms serves it.
#
#   tests/harness/local-kms.sh start DIR   # creates DIR, starts local-kms and the forwarder
#   source DIR/env                         # BYOK_LOCALKMS_* variables, see below
#   tests/harness/local-kms.sh stop DIR    # stops both; DIR stays, the caller removes it
#
# DIR/env sets:
#   BYOK_LOCALKMS_ENDPOINT=http://127.0.0.1:PORT  the forwarder (the KMS endpoint to use)
#   BYOK_LOCALKMS_REGION                          the region in its ARNs
#
# What local-kms serves of import (its src/handler/*.go): Origin EXTERNAL for SYMMETRIC_DEFAULT
# only, GetParametersForImport with WrappingKeySpec RSA_2048 and RSAES_OAEP_SHA_1/_SHA_256 or
# RSAES_PKCS1_V1_5, ImportKeyMaterial (ValidTo an integer, ExpirationModel required),
# DeleteImportedKeyMaterial, Encrypt/Decrypt with the imported material. It checks no SigV4
# signature and has no STS.
#
# Needs: root (unshare -n), iproute2, curl, python3; Go for the first build.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
READY_TIMEOUT=${BYOK_READY_TIMEOUT:-60}
REGION=eu-west-1
ACCOUNT=111122223333
INNER_PORT=4599

die() { printf 'local-kms: %s\n' "$*" >&2; exit 1; }
usage() { die "usage: $0 start|stop DIR"; }

SERVER_NAME=local-kms
SERVER_LOG=local-kms.log
# shellcheck source=tests/harness/lib.sh
source "$ROOT/tests/harness/lib.sh"

# True when PID is alive and is the local-kms of DIR (its data path is in its environment).
is_ours() {
  local pid=$1 dir=$2
  [[ -n "$pid" && -r /proc/$pid/environ ]] || return 1
  { tr '\0' '\n' </proc/"$pid"/environ; } 2>/dev/null | grep -qxF -- "KMS_DATA_PATH=$dir/data"
}

forwarder_is_ours() {
  local pid=$1 dir=$2
  [[ -n "$pid" && -r /proc/$pid/cmdline ]] || return 1
  { tr '\0' ' ' </proc/"$pid"/cmdline; } 2>/dev/null | grep -qF -- "tcp_forward.py $(cat "$dir/port" 2>/dev/null) "
}

stop_all() {
  local dir=$1 pid
  if [[ -f "$dir/forward-pid" ]]; then
    pid=$(cat "$dir/forward-pid")
    if forwarder_is_ours "$pid" "$dir"; then kill -TERM "$pid" 2>/dev/null || true; fi
    rm -f "$dir/forward-pid"
  fi
  stop_server "$dir"
}

start() {
  local dir=$1 binary port url
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [[ -f "$dir/pid" ]] && is_ours "$(cat "$dir/pid")" "$dir" && [[ -f "$dir/env" ]]; then
    return 0
  fi
  [[ $(id -u) -eq 0 ]] || die "needs root: local-kms runs in a network namespace of its own (unshare -n)"
  stop_all "$dir"
  rm -rf "$dir/env" "$dir/data"
  mkdir -p "$dir/data"
  binary=$(BYOK_CACHE="${BYOK_CACHE_DIR:-$HOME/.cache/byok-operator}" \
    bash -c "source '$ROOT/scripts/go-env.sh' && go_env_setup && '$ROOT/scripts/build-local-kms.sh'") \
    || die "could not build local-kms (scripts/build-local-kms.sh)"
  # unshare execs (no fork): the pid recorded is local-kms itself, whose namespace dies with it.
  PORT=$INNER_PORT KMS_REGION=$REGION KMS_ACCOUNT_ID=$ACCOUNT KMS_DATA_PATH="$dir/data" \
    KMS_SEED_PATH=/nonexistent \
    setsid unshare --net sh -c 'ip link set lo up && exec "$0"' "$binary" \
    >"$dir/$SERVER_LOG" 2>&1 </dev/null &
  echo $! >"$dir/pid"
  # The forwarder enters local-kms's namespace: wait until unshare has made it (it runs in the
  # background), else the forwarder would join this one.
  local here
  here=$(readlink /proc/self/ns/net)
  for _ in $(seq 1 100); do
    [[ "$(readlink "/proc/$(cat "$dir/pid")/ns/net" 2>/dev/null)" != "$here" ]] && break
    sleep 0.05
  done
  [[ "$(readlink "/proc/$(cat "$dir/pid")/ns/net" 2>/dev/null)" != "$here" ]] ||
    { stop_all "$dir"; fail_start "$dir" "local-kms did not get a network namespace of its own"; }
  port=$(free_port)
  echo "$port" >"$dir/port"
  setsid python3 "$ROOT/tests/harness/tcp_forward.py" "$port" "$INNER_PORT" "/proc/$(cat "$dir/pid")/ns/net" \
    >"$dir/forward.log" 2>&1 </dev/null &
  echo $! >"$dir/forward-pid"
  url="http://127.0.0.1:$port"
  local deadline=$((SECONDS + READY_TIMEOUT))
  until curl -fsS -o /dev/null -X POST -H 'X-Amz-Target: TrentService.ListKeys' \
      -H 'Content-Type: application/x-amz-json-1.1' -d '{}' "$url/" 2>/dev/null; do
    is_ours "$(cat "$dir/pid")" "$dir" || { stop_all "$dir"; fail_start "$dir" "local-kms exited during start"; }
    forwarder_is_ours "$(cat "$dir/forward-pid")" "$dir" ||
      { cat "$dir/forward.log" >&2; stop_all "$dir"; fail_start "$dir" "the forwarder exited during start"; }
    if ((SECONDS >= deadline)); then
      cat "$dir/forward.log" >&2 || true
      stop_all "$dir"
      fail_start "$dir" "local-kms did not answer on $url within ${READY_TIMEOUT}s"
    fi
    sleep 0.2
  done
  {
    echo "export BYOK_LOCALKMS_ENDPOINT=$url"
    echo "export BYOK_LOCALKMS_REGION=$REGION"
  } >"$dir/env"
}

[[ $# -eq 2 ]] || usage
case "$1" in
  start) start "$2" ;;
  stop) [[ -d "$2" ]] && stop_all "$(cd "$2" && pwd)"; exit 0 ;;
  *) usage ;;
esac
