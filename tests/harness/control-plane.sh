#!/usr/bin/env bash
# Starts and stops a throwaway Kubernetes control plane for integration tests: etcd and
# kube-apiserver on 127.0.0.1 only, with the byok CRDs installed.
#
#   tests/harness/control-plane.sh start DIR   # creates DIR, starts etcd + kube-apiserver
#   source DIR/env                             # KUBECONFIG, BYOK_KUBECTL, BYOK_APISERVER_URL, ...
#   tests/harness/control-plane.sh stop DIR    # stops them; DIR stays, the caller removes it
#
# What you get: an apiserver with RBAC, a CA, an admin client certificate (CN=admin,
# O=system:masters), service-account signing keys, every CRD from crds/ Established, and an audit
# log of service accounts' requests in DIR/audit.log (Metadata level).
#
# What you do not get: there is no kube-controller-manager and no scheduler or kubelet
# (tests/harness/node.sh up DIR adds them, with a node, for the e2e tests). So:
#   - create namespaces explicitly (only default, kube-system, kube-public, kube-node-lease exist);
#   - deleting a namespace never finishes (it stays Terminating: the namespace controller that
#     empties it is in kube-controller-manager). Use a fresh namespace per test instead of
#     deleting, or delete the objects themselves;
#   - no garbage collection (ownerReferences are not followed), no ServiceAccount tokens
#     controller, pods are never scheduled.
# Finalizers still block deletion as usual (the operator under test must remove its own).
#
# Needs bash, openssl, python3 (to pick free ports) and curl (health checks). Ports are free
# loopback ports picked at start, so several control planes (one DIR each) can run side by side.
# A start takes about 7 s on 2 cores once the binaries are cached; a stop about 1 s.
#
# Binaries come from scripts/build-control-plane.sh (built once, then cached). Start is idempotent:
# on a DIR whose processes are alive it only checks readiness. Stop is idempotent too. Both are
# quiet on success and print the reason (and log tails) on failure.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
READY_TIMEOUT=${BYOK_READY_TIMEOUT:-90}

die() { printf 'control-plane: %s\n' "$*" >&2; exit 1; }
usage() { die "usage: $0 start|stop|restart-apiserver|compact DIR"; }

# shellcheck source=tests/harness/lib.sh
source "$ROOT/tests/harness/lib.sh"

# True when PID is alive and its command line mentions DIR (guards against a reused PID).
is_ours() {
  local pid=$1 dir=$2
  [[ -n "$pid" && -r /proc/$pid/cmdline ]] || return 1
  tr '\0' ' ' </proc/"$pid"/cmdline | grep -qF -- "$dir/"
}

# True while PID is alive (not a zombie), whether or not it has exec'd its program yet: right
# after `setsid prog &` the child is still a copy of this script for a moment, and is_ours would
# call it gone (seen once under load: "etcd exited during start-up" with an empty log).
is_alive() {
  local pid=$1
  [[ -n "$pid" && -r /proc/$pid/stat ]] && [[ "$(awk '{print $3}' /proc/"$pid"/stat 2>/dev/null)" != Z ]]
}

read_pids() { [[ -f "$1/pids" ]] && awk '{print $2}' "$1/pids" || true; }

# Stops one process: SIGTERM, then SIGKILL if it is still there after a few seconds.
stop_pid() {
  local pid=$1 dir=$2
  is_ours "$pid" "$dir" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do is_ours "$pid" "$dir" || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  for _ in $(seq 1 20); do is_ours "$pid" "$dir" || return 0; sleep 0.1; done
  die "process $pid did not exit"
}

stop_cp() {
  local dir=$1 pids=()
  mapfile -t pids < <(read_pids "$dir")
  # In reverse start order: the apiserver first (its shutdown writes to etcd: stopping etcd
  # first makes it hang until its timeout), then etcd.
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do stop_pid "${pids[i]}" "$dir"; done
  rm -f "$dir/pids"
}

running() {
  local dir=$1 pid n=0
  for pid in $(read_pids "$dir"); do is_ours "$pid" "$dir" || return 1; n=$((n + 1)); done
  ((n == 2))
}

fail_start() {
  local dir=$1; shift
  printf 'control-plane: %s\n' "$*" >&2
  for f in etcd.log apiserver.log; do
    if [[ -s "$dir/$f" ]]; then
      printf -- '--- last lines of %s ---\n' "$dir/$f" >&2
      tail -n 30 "$dir/$f" >&2
    fi
  done
  stop_cp "$dir" || true
  exit 1
}

gen_certs() {
  local d=$1/pki
  mkdir -p "$d"
  (
    cd "$d"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 30 \
      -subj "/CN=byok-test-ca" -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    # The apiserver's serving certificate.
    openssl req -newkey rsa:2048 -nodes -keyout apiserver.key -out apiserver.csr \
      -subj "/CN=kube-apiserver" 2>/dev/null
    cat >apiserver.ext <<'EXT'
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost,IP:10.0.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc
EXT
    openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
      -out apiserver.crt -days 30 -extfile apiserver.ext 2>/dev/null
    # The admin client: system:masters bypasses RBAC.
    openssl req -newkey rsa:2048 -nodes -keyout admin.key -out admin.csr \
      -subj "/O=system:masters/CN=admin" 2>/dev/null
    printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n' >admin.ext
    openssl x509 -req -in admin.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
      -out admin.crt -days 30 -extfile admin.ext 2>/dev/null
    # Service-account token signing pair.
    openssl genrsa -out sa.key 2048 2>/dev/null
    openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
    chmod 600 ./*.key
  ) || die "certificate generation with openssl failed in $d"
}

# An audit log of what service accounts do (Metadata level: who, verb, resource, response code;
# never a body), so a test can compare the RBAC a chart grants with what the operator running as
# that ServiceAccount really used. Requests of other users (the admin the tests use) are not
# logged.
write_audit_policy() {
  cat >"$1/audit-policy.yaml" <<'EOF'
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
  - level: Metadata
    userGroups: ["system:serviceaccounts"]
  - level: None
EOF
}

write_kubeconfig() {
  local dir=$1 url=$2 b64='base64 -w0'
  cat >"$dir/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: byok-test
  cluster:
    server: $url
    certificate-authority-data: $($b64 <"$dir/pki/ca.crt")
users:
- name: admin
  user:
    client-certificate-data: $($b64 <"$dir/pki/admin.crt")
    client-key-data: $($b64 <"$dir/pki/admin.key")
contexts:
- name: byok-test
  context:
    cluster: byok-test
    user: admin
current-context: byok-test
EOF
  chmod 600 "$dir/kubeconfig"
}

wait_etcd() {
  local dir=$1 url=$2 deadline=$((SECONDS + 30)) pid
  pid=$(read_pids "$dir" | head -n 1)
  while ((SECONDS < deadline)); do
    is_alive "$pid" || fail_start "$dir" "etcd exited during start-up"
    curl -sf -o /dev/null --max-time 2 "$url/health" && return 0
    sleep 0.2
  done
  fail_start "$dir" "etcd not healthy at $url after 30s"
}

wait_ready() {
  local dir=$1 url=$2 deadline=$((SECONDS + READY_TIMEOUT)) pid
  while ((SECONDS < deadline)); do
    for pid in $(read_pids "$dir"); do
      is_alive "$pid" || fail_start "$dir" "a process (pid $pid) exited during start-up"
    done
    if curl -sf -o /dev/null --max-time 5 --cacert "$dir/pki/ca.crt" \
      --cert "$dir/pki/admin.crt" --key "$dir/pki/admin.key" "$url/readyz"; then
      return 0
    fi
    sleep 0.5
  done
  local why
  why=$(curl -s --max-time 5 --cacert "$dir/pki/ca.crt" --cert "$dir/pki/admin.crt" \
    --key "$dir/pki/admin.key" "$url/readyz?verbose" 2>&1 | grep -v '\[+\]' || true)
  fail_start "$dir" "kube-apiserver not ready at $url after ${READY_TIMEOUT}s: $why"
}

install_crds() {
  local dir=$1 kubectl=$2 out names
  shopt -s nullglob
  local files=("$ROOT"/crds/*.yaml)
  shopt -u nullglob
  ((${#files[@]} > 0)) || return 0
  local args=()
  for f in "${files[@]}"; do args+=(-f "$f"); done
  out=$(KUBECONFIG="$dir/kubeconfig" "$kubectl" apply --server-side --force-conflicts \
    "${args[@]}" -o name 2>&1) || fail_start "$dir" "installing CRDs failed: $out"
  mapfile -t names <<<"$out"
  out=$(KUBECONFIG="$dir/kubeconfig" "$kubectl" wait --for=condition=Established \
    --timeout=60s "${names[@]}" 2>&1) || fail_start "$dir" "CRDs not Established: $out"
}

# launch_apiserver DIR BINARY PORT ETCD_URL: starts kube-apiserver in the background and records
# its pid in DIR/pids (start, and the fault tests' restart). Flags in DIR/apiserver.args (one a
# line) come last and win: tests/harness/node.sh writes the node's address there (the `kubernetes`
# Service's endpoint) and restarts the apiserver with restart-apiserver.
launch_apiserver() {
  local dir=$1 apiserver=$2 api_port=$3 etcd_url=$4 extra=()
  [[ -f "$dir/apiserver.args" ]] && mapfile -t extra < <(grep -v '^\s*$' "$dir/apiserver.args")
  setsid "$apiserver" \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$api_port" \
    --etcd-servers="$etcd_url" \
    --client-ca-file="$dir/pki/ca.crt" \
    --tls-cert-file="$dir/pki/apiserver.crt" --tls-private-key-file="$dir/pki/apiserver.key" \
    --cert-dir="$dir/pki" \
    --service-account-issuer=https://kubernetes.default.svc \
    --service-account-key-file="$dir/pki/sa.pub" \
    --service-account-signing-key-file="$dir/pki/sa.key" \
    --authorization-mode=RBAC \
    --audit-policy-file="$dir/audit-policy.yaml" --audit-log-path="$dir/audit.log" \
    --service-cluster-ip-range=10.0.0.0/24 \
    --enable-priority-and-fairness=false \
    --profiling=false \
    "${extra[@]}" \
    </dev/null >>"$dir/apiserver.log" 2>&1 &
  echo "apiserver $!" >>"$dir/pids"
}

start_cp() {
  local dir=$1
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)

  local bins
  bins=$("$ROOT/scripts/build-control-plane.sh") || die "scripts/build-control-plane.sh failed"
  eval "$bins"
  local etcd="$BYOK_ETCD_BIN/etcd" apiserver="$BYOK_K8S_BIN/kube-apiserver" kubectl="$BYOK_K8S_BIN/kubectl"
  for b in "$etcd" "$apiserver" "$kubectl"; do [[ -x "$b" ]] || die "missing binary $b"; done

  if running "$dir"; then
    # shellcheck disable=SC1091
    local url; url=$(. "$dir/env" && echo "$BYOK_APISERVER_URL")
    wait_ready "$dir" "$url"
    install_crds "$dir" "$kubectl"
    return 0
  fi
  # Leftovers of an earlier (stopped or half-dead) run: start afresh, with new certificates,
  # ports and an empty etcd.
  stop_cp "$dir"
  rm -rf "$dir/etcd-data" "$dir/pki" "$dir/etcd.log" "$dir/apiserver.log" "$dir/audit.log" \
    "$dir/apiserver.args"

  local etcd_port peer_port api_port
  etcd_port=$(free_port); peer_port=$(free_port); api_port=$(free_port)
  while [[ $peer_port == "$etcd_port" ]]; do peer_port=$(free_port); done
  while [[ $api_port == "$etcd_port" || $api_port == "$peer_port" ]]; do api_port=$(free_port); done
  local etcd_url="http://127.0.0.1:$etcd_port" url="https://127.0.0.1:$api_port"

  gen_certs "$dir"
  write_audit_policy "$dir"

  # setsid: the servers outlive this script and do not get the caller's terminal signals.
  setsid "$etcd" --name byok-test --data-dir "$dir/etcd-data" \
    --listen-client-urls "$etcd_url" --advertise-client-urls "$etcd_url" \
    --listen-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-cluster "byok-test=http://127.0.0.1:$peer_port" \
    --log-level warn --unsafe-no-fsync \
    </dev/null >"$dir/etcd.log" 2>&1 &
  echo "etcd $!" >"$dir/pids"
  wait_etcd "$dir" "$etcd_url"

  launch_apiserver "$dir" "$apiserver" "$api_port" "$etcd_url"

  write_kubeconfig "$dir" "$url"
  cat >"$dir/env" <<EOF
export KUBECONFIG='$dir/kubeconfig' BYOK_KUBECTL='$kubectl' BYOK_APISERVER_URL='$url'
export BYOK_CONTROL_PLANE_DIR='$dir' BYOK_ETCD_URL='$etcd_url'
export BYOK_CA_FILE='$dir/pki/ca.crt' BYOK_ADMIN_CERT_FILE='$dir/pki/admin.crt' BYOK_ADMIN_KEY_FILE='$dir/pki/admin.key'
export KUBECACHEDIR='$dir/kube-cache' BYOK_AUDIT_LOG='$dir/audit.log'
EOF

  wait_ready "$dir" "$url"
  install_crds "$dir" "$kubectl"
}

# The fault tests' disruptions of a running control plane (tests/faults):
#   restart-apiserver DIR  stops kube-apiserver (TERM) and starts it again on the same port; etcd
#                          keeps every object; watches end and must reconnect
#   compact DIR            compacts etcd at its current revision (etcd's JSON gateway), so a
#                          watch that resumes from an older resourceVersion gets 410 Gone
restart_apiserver() {
  local dir=$1 bins pid
  bins=$("$ROOT/scripts/build-control-plane.sh") || die "scripts/build-control-plane.sh failed"
  eval "$bins"
  # shellcheck disable=SC1091
  local url etcd_url; url=$(. "$dir/env" && echo "$BYOK_APISERVER_URL"); etcd_url=$(. "$dir/env" && echo "$BYOK_ETCD_URL")
  pid=$(awk '$1 == "apiserver" {print $2}' "$dir/pids")
  stop_pid "$pid" "$dir"
  grep -v '^apiserver ' "$dir/pids" >"$dir/pids.tmp" && mv "$dir/pids.tmp" "$dir/pids"
  launch_apiserver "$dir" "$BYOK_K8S_BIN/kube-apiserver" "${url##*:}" "$etcd_url"
  wait_ready "$dir" "$url"
}

compact_etcd() {
  local dir=$1 etcd_url revision
  # shellcheck disable=SC1091
  etcd_url=$(. "$dir/env" && echo "$BYOK_ETCD_URL")
  revision=$(curl -sf -X POST -d '{"key":"AA=="}' "$etcd_url/v3/kv/range" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["header"]["revision"])') ||
    die "reading etcd's revision failed"
  curl -sf -X POST -d "{\"revision\":\"$revision\",\"physical\":true}" \
    "$etcd_url/v3/kv/compaction" >/dev/null || die "compacting etcd at revision $revision failed"
  echo "$revision"
}

[[ $# -eq 2 ]] || usage
case $1 in
  start) start_cp "$2" ;;
  restart-apiserver) restart_apiserver "$(cd "$2" && pwd)" ;;
  compact) compact_etcd "$(cd "$2" && pwd)" ;;
  stop)
    [[ -d "$2" ]] || exit 0
    stop_cp "$(cd "$2" && pwd)"
    ;;
  *) usage ;;
esac
