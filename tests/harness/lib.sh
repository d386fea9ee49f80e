# Shell helpers shared by the harness scripts that start real servers; source it.

# Prints a free TCP port on 127.0.0.1 (the kernel picks it; the tiny race is acceptable in tests).
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Writes a throwaway CA and a server certificate for 127.0.0.1/localhost into DIR/pki
# (ca.crt, server.crt, server.key). Tests trust ca.crt explicitly; nothing turns verification off.
# NAME goes into the CA's common name, to tell the servers apart when debugging.
# BYOK_TEST_PKI_EXTRA_SANS (e.g. IP:10.213.0.2) adds names to the server certificate: the e2e
# test reaches a server through a forwarder on the test node's address and verifies it there.
make_test_pki() {
  local d=$1/pki name=${2:-byok-test}
  mkdir -p "$d"
  (
    cd "$d"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 30 \
      -subj "/CN=$name-test-ca" -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr \
      -subj "/CN=127.0.0.1" 2>/dev/null
    printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost%s\n' \
      "${BYOK_TEST_PKI_EXTRA_SANS:+,$BYOK_TEST_PKI_EXTRA_SANS}" >server.ext
    openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
      -out server.crt -days 30 -extfile server.ext 2>/dev/null
    chmod 600 ./*.key
  ) || { printf 'certificate generation with openssl failed in %s\n' "$d" >&2; return 1; }
}

# Prints the Python interpreter of a venv cached under ~/.cache/byok-operator/venv/NAME, created
# once by `pip install ARGS...` and trusted while `python -c CHECK` succeeds. Several servers
# start at once (ctest -j): one builds the venv, the others wait for it.
cached_venv_python() {
  local name=$1 check=$2
  shift 2
  local cache=${BYOK_CACHE_DIR:-$HOME/.cache/byok-operator}
  local venv=$cache/venv/$name
  mkdir -p "$cache/venv"
  (
    flock 9
    if [[ -x "$venv/bin/python" ]] && "$venv/bin/python" -c "$check" 2>/dev/null; then
      exit 0
    fi
    printf 'installing %s into %s\n' "$*" "$venv" >&2
    rm -rf "$venv"
    python3 -m venv "$venv" >&2 || { echo "python3 -m venv failed (Debian: apt-get install python3-venv)" >&2; exit 1; }
    "$venv/bin/pip" install --quiet "$@" >&2 || { echo "pip install $* failed" >&2; exit 1; }
    "$venv/bin/python" -c "$check" >&2 || { echo "$venv fails its check: $check" >&2; exit 1; }
  ) 9>"$cache/venv/.$name.lock" || return 1
  echo "$venv/bin/python"
}

# Prints a Python interpreter for the strict fakes under tests/fakes/ (stdlib + cryptography).
# The fakes use their own crypto library on purpose: they check the product's signatures and
# wraps with an implementation the product does not share.
FAKES_PY_PACKAGES="cryptography==44.0.3"
fakes_python() {
  cached_venv_python fakes-cryptography-44.0.3 'import cryptography' $FAKES_PY_PACKAGES
}

# Prints a Python interpreter with the providers' official SDKs (tests/conformance/
# requirements.txt, every package pinned); the venv's name carries the file's hash, so a changed
# pin makes a new venv.
conformance_python() {
  local req
  req=$(cd "$(dirname "${BASH_SOURCE[0]}")/../conformance" && pwd)/requirements.txt
  cached_venv_python "conformance-$(sha256sum "$req" | cut -c1-12)" \
    'import boto3, google.cloud.kms_v1, azure.keyvault.keys, azure.identity, oci' -r "$req"
}

# Process handling shared by the server scripts. A script sets SERVER_NAME (message prefix) and
# SERVER_LOG (its log's file name in DIR) and defines `is_ours PID DIR`, which tells its own
# server from an unrelated process that reused the PID; these use them.

# Stops the server whose pid DIR/pid records: TERM, up to 5 s, then KILL. Never signals a
# process that is not ours.
stop_server() {
  local dir=$1 pid
  [[ -f "$dir/pid" ]] || return 0
  pid=$(cat "$dir/pid")
  if is_ours "$pid" "$dir"; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do is_ours "$pid" "$dir" || break; sleep 0.1; done
    if is_ours "$pid" "$dir"; then kill -KILL "$pid" 2>/dev/null || true; fi
  fi
  rm -f "$dir/pid"
}

# wait_ready DIR WHERE PROBE...: runs PROBE (a command) every 0.2 s until it succeeds. Fails the
# start when the server exits first or READY_TIMEOUT seconds pass. kill -0, not is_ours: the child
# may not have exec'd its program yet.
wait_ready() {
  local dir=$1 where=$2; shift 2
  local deadline=$((SECONDS + READY_TIMEOUT))
  until "$@" 2>/dev/null; do
    kill -0 "$(cat "$dir/pid")" 2>/dev/null || fail_start "$dir" "$SERVER_NAME exited during start"
    ((SECONDS < deadline)) ||
      fail_start "$dir" "$SERVER_NAME did not answer $where within ${READY_TIMEOUT}s"
    sleep 0.2
  done
}

# fail_start DIR MESSAGE...: says why the start failed with the last lines of the server's log,
# stops what was started, exits 1.
fail_start() {
  local dir=$1; shift
  printf '%s: %s\n' "$SERVER_NAME" "$*" >&2
  if [[ -s "$dir/$SERVER_LOG" ]]; then
    printf -- '--- last lines of %s ---\n' "$dir/$SERVER_LOG" >&2
    tail -n 30 "$dir/$SERVER_LOG" >&2
  fi
  stop_server "$dir" || true
  exit 1
}
