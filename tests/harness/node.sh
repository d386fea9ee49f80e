#!/usr/bin/env bash
# Adds a real node to a control plane started by tests/harness/control-plane.sh: containerd, the
# kubelet and kube-proxy, plus the kube-controller-manager and kube-scheduler a node needs (the
# default ServiceAccount, pods scheduled, Deployments, endpoints). Pods run from locally built
# images only (scripts/build-node-images.sh; imagePullPolicy: Never): no registry is asked.
#
#   tests/harness/control-plane.sh start DIR
#   tests/harness/node.sh up DIR      # DIR/node holds the node's state and logs
#   source DIR/node/env               # BYOK_NODE_NAME, BYOK_NODE_IP, BYOK_NODE_NETNS, ...
#   tests/harness/node.sh down DIR    # stops it and sweeps up; DIR/node's logs stay
#   tests/harness/node.sh leftovers DIR   # prints what a node of DIR left behind; 1 if anything
#   tests/harness/node.sh logs DIR NAMESPACE POD [CONTAINER]   # a container's log (kubectl logs
#                                     # cannot reach the kubelet: see below)
#   tests/harness/node.sh import DIR ARCHIVE...   # more images for the running node (docker-archive
#                                     # or OCI archives, as `buildah push ... docker-archive:` writes)
#
# The network stays off this machine's own namespace: the node's address (10.213.0.2), its pod
# bridge (cni0, pods in 10.244.0.0/24) and the Service range (10.0.0.0/24, kube-proxy's iptables)
# all live in a network namespace created here (bind-mounted at DIR/node/ns/net) and deleted by
# down, which takes every interface and iptables rule with it. The namespace has no route out:
# pods reach the node and nothing beyond. containerd, the kubelet and kube-proxy run in it, and in
# a mount namespace of the node's own (both bind-mounted under DIR/node/ns): the kubelet's volume
# mounts are the ones runc bind-mounts into containers, and none of the node's mounts (images'
# overlays, volumes, pods' namespaces) shows on this machine. Inside it a tmpfs covers /run,
# /var/lib and /var/log, where the kubelet, containerd and the CNI plugins keep fixed paths
# (/var/lib/kubelet/device-plugins, /var/lib/cni, /var/log/containers, /run/containerd), and
# DIR/node/run holds containerd's store and the kubelet's root: unmounting the namespace is the
# whole clean-up. The apiserver stays on this machine's 127.0.0.1; a forwarder (tcp_forward.py
# --listen-netns) listens on the apiserver's port on every address of the node's network
# namespace, so the node's processes use (a copy of) DIR/kubeconfig as it is; the apiserver
# advertises the node's address, so the `kubernetes` Service (10.0.0.1:443) leads pods to it.
#
# What up changes on the control plane: the apiserver is restarted once with
# --advertise-address=<node IP> and --kubelet-preferred-address-types=InternalIP
# (DIR/apiserver.args). `kubectl logs/exec` do not work (the apiserver cannot reach the kubelet
# inside the namespace); read DIR/node/pod-logs instead.
#
# Machine facts this works around (cgroup v1, root without CAP_SYS_RESOURCE): the kubelet runs
# with failCgroupV1: false, the cgroupfs driver, failSwapOn: false and oomScoreAdj: 0;
# containerd with restrict_oom_score_adj (runc cannot lower a sandbox's OOM score here). The
# node's cgroups sit under /byok-node-<id> (id from DIR), so two nodes never share one.
#
# Needs root, containerd, runc, the CNI plugins in /usr/lib/cni, iptables, util-linux (nsenter,
# unshare), python3; scripts/install-deps.sh installs them. Timings on 2 cores (binaries and
# images cached): up 6-12 s (12 with the apiserver's restart), down 7-10 s.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
READY_TIMEOUT=${BYOK_NODE_READY_TIMEOUT:-120}
NODE_NAME=byok-node
NODE_IP=10.213.0.2
POD_CIDR=10.244.0.0/24
CNI_BIN=${BYOK_CNI_BIN:-/usr/lib/cni}

die() { printf 'node: %s\n' "$*" >&2; exit 1; }
log() { printf '[node] %s\n' "$*" >&2; }
usage() { die "usage: $0 up|down|leftovers DIR | logs DIR NAMESPACE POD [CONTAINER] | import DIR ARCHIVE..."; }

# Per-DIR name of the node's cgroup root.
node_id() { printf '%s' "$1" | sha256sum | cut -c1-10; }

# True when PID is alive and its command line mentions DIR/node (guards against a reused PID).
is_ours() {
  local pid=$1 n=$2
  [[ -n "$pid" && -r /proc/$pid/cmdline ]] || return 1
  { tr '\0' ' ' </proc/"$pid"/cmdline; } 2>/dev/null | grep -qF -- "$n/"
}

stop_pid() {
  local pid=$1 n=$2 grace=${3:-100}
  is_ours "$pid" "$n" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 "$grace"); do is_ours "$pid" "$n" || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  for _ in $(seq 1 30); do is_ours "$pid" "$n" || return 0; sleep 0.1; done
  log "process $pid did not exit"
}

pid_of() { [[ -f "$1/pids" ]] && awk -v n="$2" '$1 == n {print $2}' "$1/pids" || true; }

# Every process whose command line names DIR/node: the ones started here, containerd's shims.
# Matched in bash (no grep whose own command line would name DIR/node).
our_pids() {
  local n=$1 p args
  for p in /proc/[0-9]*; do
    [[ "${p#/proc/}" == "$$" ]] && continue
    args=$(tr '\0' ' ' 2>/dev/null <"$p/cmdline") || continue
    [[ $args == *"$n/"* ]] && echo "${p#/proc/}"
  done
  return 0
}

cgroup_dirs() {  # the node's cgroup root in each v1 hierarchy (or the one v2 tree)
  local id=$1 d
  for d in /sys/fs/cgroup/*/byok-node-"$id" /sys/fs/cgroup/byok-node-"$id"; do
    [[ -d "$d" ]] && echo "$d"
  done
  return 0
}

mounts_under() {  # mount points at or under $1, deepest first
  awk -v p="$1" '{m = $5; gsub(/\\040/, " ", m); if (m == p || index(m, p "/") == 1) print m}' \
    /proc/self/mountinfo | sort -r | uniq
}

kube() { KUBECONFIG="$DIR/kubeconfig" "$KUBECTL" "$@"; }

fail_up() {
  printf 'node: %s\n' "$*" >&2
  local f
  for f in containerd.log kubelet.log kube-proxy.log kube-controller-manager.log kube-scheduler.log forward.log; do
    if [[ -s "$N/$f" ]]; then
      printf -- '--- last lines of %s ---\n' "$N/$f" >&2
      tail -n 25 "$N/$f" >&2
    fi
  done
  down || true
  exit 1
}

check_tools() {
  [[ $(id -u) -eq 0 ]] || die "needs root (network namespace, containerd, kubelet)"
  local t
  for t in containerd runc ctr nsenter unshare iptables ip; do
    command -v "$t" >/dev/null || die "$t missing (scripts/install-deps.sh installs the node's packages)"
  done
  [[ -x "$CNI_BIN/bridge" && -x "$CNI_BIN/host-local" && -x "$CNI_BIN/loopback" ]] ||
    die "CNI plugins missing in $CNI_BIN (Debian: containernetworking-plugins)"
}

write_configs() {
  local id=$1 ca=$DIR/pki/ca.crt
  mkdir -p "$N/containerd" "$N/cni/net.d" "$N/cni/ipam" "$N/kubelet" "$N/pod-logs"
  cat >"$N/containerd/config.toml" <<EOF
version = 2
root = "$N/run/containerd/root"
state = "$N/run/containerd/state"
disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "$N/run/containerd.sock"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$BYOK_PAUSE_IMAGE"
  # runc cannot set the negative OOM score the kubelet asks for on sandboxes without
  # CAP_SYS_RESOURCE ("can't get final child's PID from pipe: EOF"): keep scores >= ours.
  restrict_oom_score_adj = true
  # Pods' network namespaces under the state folder, not /run/netns: down finds them all.
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$CNI_BIN"
    conf_dir = "$N/cni/net.d"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        # runc's state beside containerd's, not in /run/containerd/runc.
        Root = "$N/run/runc"
EOF
  cat >"$N/cni/net.d/10-byok.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "byok-pods",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "cni0",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$N/cni/ipam",
        "ranges": [[{"subnet": "$POD_CIDR"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    }
  ]
}
EOF
  # No cluster DNS: pods get an empty resolver list rather than this machine's.
  printf '# no resolver: the test node has no DNS\n' >"$N/resolv.conf"
  cat >"$N/kubelet/config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: false}
  x509: {clientCAFile: $ca}
authorization: {mode: AlwaysAllow}
containerRuntimeEndpoint: unix://$N/run/containerd.sock
cgroupDriver: cgroupfs
cgroupRoot: /byok-node-$id
cgroupsPerQOS: true
failCgroupV1: false
failSwapOn: false
oomScoreAdj: 0
podLogsDir: $N/pod-logs
resolvConf: $N/resolv.conf
volumePluginDir: $N/run/kubelet/volume-plugins
staticPodPath: ""
# Imported images are all there is: never collect them, whatever the disk's use.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%, nodefs.inodesFree: 1%}
registerNode: true
serializeImagePulls: false
EOF
  cat >"$N/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $N/kubeconfig}
hostnameOverride: $NODE_NAME
mode: iptables
clusterCIDR: $POD_CIDR
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
# Leave the kernel's conntrack settings alone (some are global, not per namespace).
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
iptables: {syncPeriod: 10s, minSyncPeriod: 0s}
nodePortAddresses: [primary]
EOF
}

# The node's network and mount namespaces, kept by bind mounts on N/ns/net and N/ns/mnt (on a
# private bind mount of N/ns: a mount namespace's file cannot sit on a shared mount).
make_namespaces() {
  mkdir -p "$N/ns"
  mount --bind "$N/ns" "$N/ns" && mount --make-private "$N/ns" ||
    die "making $N/ns a private mount failed"
  touch "$N/ns/net" "$N/ns/mnt"
  unshare --net="$N/ns/net" true || die "creating the node's network namespace failed"
  # slave: this machine's mounts (DIR, the binaries) reach the node; the node's never come back.
  unshare --mount="$N/ns/mnt" --propagation slave true || die "creating the node's mount namespace failed"
  # Their inodes: leftovers looks for any process still in them after down.
  stat -L -c %i "$N/ns/net" "$N/ns/mnt" >"$N/ns.inodes"
  in_node sh -ec "
    mount -t tmpfs -o size=2g,mode=0755 byok-node-run '$N/run'
    for d in /run /var/lib /var/log; do mount -t tmpfs -o mode=0755 byok-node \$d; done
  " || die "mounting the node's tmpfs folders failed"
  nsenter --net="$N/ns/net" sh -ec "
    ip link set lo up
    ip link add node0 type veth peer name node0-peer
    ip addr add $NODE_IP/24 dev node0
    ip link set node0 up
    ip link set node0-peer up
    sysctl -qw net.ipv4.ip_forward=1
  " || die "setting up the node's network namespace failed"
}

in_node() { nsenter --net="$N/ns/net" --mount="$N/ns/mnt" "$@"; }

# The node's cgroup root in each v1 hierarchy, as the kubelet's cgroupRoot (it must exist);
# cpuset needs its cpus and mems before a task can join.
make_cgroups() {
  local id=$1 h
  for h in /sys/fs/cgroup/*/; do
    [[ -f "$h/cgroup.procs" ]] || continue
    mkdir -p "$h/byok-node-$id"
    if [[ -f "$h/cpuset.cpus" ]]; then
      cat "$h/cpuset.cpus" >"$h/byok-node-$id/cpuset.cpus"
      cat "$h/cpuset.mems" >"$h/byok-node-$id/cpuset.mems"
    fi
  done
}

start_proc() {  # NAME LOG COMMAND...: in the background, its own session; pid into N/pids
  local name=$1 logf=$2; shift 2
  setsid "$@" </dev/null >>"$N/$logf" 2>&1 &
  echo "$name $!" >>"$N/pids"
}

wait_for() {  # WHAT SECONDS COMMAND...
  local what=$1 secs=$2; shift 2
  local deadline=$((SECONDS + secs)) name pid
  until "$@" >/dev/null 2>&1; do
    while read -r name pid; do
      is_ours "$pid" "$N" || fail_up "$name exited while waiting for $what"
    done <"$N/pids"
    ((SECONDS < deadline)) || fail_up "$what not there after ${secs}s"
    sleep 0.5
  done
}

apiserver_has_node_args() {
  local pid
  pid=$(awk '$1 == "apiserver" {print $2}' "$DIR/pids")
  [[ -r /proc/$pid/cmdline ]] && tr '\0' '\n' </proc/"$pid"/cmdline | grep -qxF -- "--advertise-address=$NODE_IP"
}

# Imports an image archive into the node's containerd (its CRI namespace, k8s.io); says why not.
import_image() {
  local archive=$1 out
  [[ -r "$archive" ]] || { printf 'node: no image archive %s\n' "$archive" >&2; return 1; }
  out=$(in_node ctr --address "$N/run/containerd.sock" -n k8s.io images import "$archive" 2>&1) ||
    { printf 'node: importing %s failed: %s\n' "$archive" "$out" >&2; return 1; }
}

up() {
  check_tools
  [[ -f "$DIR/env" && -f "$DIR/pids" ]] || die "no control plane in $DIR (tests/harness/control-plane.sh start DIR first)"
  local id; id=$(node_id "$DIR")
  if [[ -f "$N/pids" ]]; then
    local all=1 name pid
    while read -r name pid; do is_ours "$pid" "$N" || all=0; done <"$N/pids"
    if ((all)) && kube get node "$NODE_NAME" >/dev/null 2>&1; then return 0; fi
  fi
  # Leftovers of an earlier (stopped or half-dead) node: swept up first.
  down
  local t0=$SECONDS
  # shellcheck disable=SC1091
  source "$DIR/env"
  local api_port=${BYOK_APISERVER_URL##*:} bins
  bins=$("$ROOT/scripts/build-node.sh") || die "scripts/build-node.sh failed"
  eval "$bins"
  bins=$("$ROOT/scripts/build-node-images.sh") || die "scripts/build-node-images.sh failed"
  eval "$bins"

  rm -rf "$N"
  mkdir -p "$N/run"
  : >"$N/pids"
  case $N/ in /run/* | /var/lib/* | /var/log/*) die "DIR must not be under /run, /var/lib or /var/log (the node covers them)" ;; esac
  write_configs "$id"
  # The node's own copy: every process of the node names DIR/node on its command line, which is
  # how down and leftovers tell them from anything else.
  cp "$DIR/kubeconfig" "$N/kubeconfig"

  # The apiserver advertises the node's address: the `kubernetes` Service's endpoint, which the
  # forwarder in the namespace carries back to 127.0.0.1.
  printf -- '--advertise-address=%s\n--kubelet-preferred-address-types=InternalIP\n' "$NODE_IP" >"$DIR/apiserver.args"
  if ! apiserver_has_node_args; then
    "$ROOT/tests/harness/control-plane.sh" restart-apiserver "$DIR" || fail_up "restarting the apiserver failed"
  fi

  # containerd's store and state, runc's and the kubelet's folders go on a tmpfs (N/run) in
  # the node's mount namespace: writing the unpacked images and deleting them later on this
  # machine's busy disk cost 15 s a run. Logs and configuration stay on disk in N, readable
  # after down.
  make_namespaces
  make_cgroups "$id"
  start_proc forward forward.log python3 "$ROOT/tests/harness/tcp_forward.py" "$api_port" "$api_port" \
    --listen-netns "$N/ns/net" --listen-host 0.0.0.0
  local B=$BYOK_K8S_NODE_BIN
  start_proc kube-controller-manager kube-controller-manager.log "$B/kube-controller-manager" \
    --kubeconfig="$N/kubeconfig" --secure-port=0 --leader-elect=false \
    --service-account-private-key-file="$DIR/pki/sa.key" --root-ca-file="$DIR/pki/ca.crt" \
    --cluster-signing-cert-file="$DIR/pki/ca.crt" --cluster-signing-key-file="$DIR/pki/ca.key" \
    --use-service-account-credentials=false --allocate-node-cidrs=false \
    --service-cluster-ip-range=10.0.0.0/24 --profiling=false \
    --flex-volume-plugin-dir="$N/flex-volume-plugins"
  start_proc kube-scheduler kube-scheduler.log "$B/kube-scheduler" \
    --kubeconfig="$N/kubeconfig" --secure-port=0 --leader-elect=false --profiling=false
  start_proc containerd containerd.log nsenter --net="$N/ns/net" --mount="$N/ns/mnt" \
    containerd --config "$N/containerd/config.toml"
  wait_for "containerd's socket" 30 in_node ctr --address "$N/run/containerd.sock" version
  import_image "$BYOK_PAUSE_ARCHIVE" || fail_up "the pause image could not be imported"
  import_image "$BYOK_BASE_ARCHIVE" || fail_up "the base image could not be imported"
  start_proc kubelet kubelet.log nsenter --net="$N/ns/net" --mount="$N/ns/mnt" "$B/kubelet" \
    --config="$N/kubelet/config.yaml" --kubeconfig="$N/kubeconfig" \
    --root-dir="$N/run/kubelet" --cert-dir="$N/run/kubelet/pki" \
    --node-ip="$NODE_IP" --hostname-override="$NODE_NAME" --v=1
  start_proc kube-proxy kube-proxy.log nsenter --net="$N/ns/net" --mount="$N/ns/mnt" "$B/kube-proxy" \
    --config="$N/kube-proxy.yaml" --v=1
  cat >"$N/env" <<EOF
export BYOK_NODE_NAME='$NODE_NAME' BYOK_NODE_IP='$NODE_IP' BYOK_NODE_NETNS='$N/ns/net' BYOK_NODE_MNTNS='$N/ns/mnt'
export BYOK_NODE_DIR='$N' BYOK_NODE_POD_LOGS='$N/pod-logs' BYOK_NODE_CGROUP='/byok-node-$id'
export BYOK_BASE_IMAGE='$BYOK_BASE_IMAGE' BYOK_PAUSE_IMAGE='$BYOK_PAUSE_IMAGE'
export BYOK_NODE_CONTAINERD='$N/run/containerd.sock'
EOF
  wait_for "node $NODE_NAME" "$READY_TIMEOUT" kube get node "$NODE_NAME"
  wait_for "node $NODE_NAME Ready" "$READY_TIMEOUT" \
    kube wait --for=condition=Ready --timeout=2s node/"$NODE_NAME"
  # Pods need the namespace's default ServiceAccount (kube-controller-manager makes it).
  wait_for "the default ServiceAccount" 60 kube get serviceaccount default -n default
  # kube-proxy's rules for the kubernetes Service, so a pod's first call does not race them.
  wait_for "kube-proxy's Service rules" 60 \
    in_node sh -c 'iptables-save -t nat | grep -q "default/kubernetes:https"'
  log "node $NODE_NAME Ready in $((SECONDS - t0)) s"
}

down() {
  local t0=$SECONDS id; id=$(node_id "$DIR")
  [[ -d "$N" ]] || return 0
  local pid name was_up=0
  if [[ -f "$N/pids" ]]; then
    was_up=1
    # No more scheduling or pod replacement, then let the kubelet stop its pods (sandboxes torn
    # down through CNI, their namespaces unmounted) while it still can.
    stop_pid "$(pid_of "$N" kube-scheduler)" "$N"
    stop_pid "$(pid_of "$N" kube-controller-manager)" "$N"
    if is_ours "$(pid_of "$N" kubelet)" "$N" && [[ -n "${KUBECTL:-}" ]]; then
      kube delete pods -A --field-selector "spec.nodeName=$NODE_NAME" --grace-period=2 \
        --wait=false >/dev/null 2>&1 || true
      local deadline=$((SECONDS + 30))
      while ((SECONDS < deadline)); do
        [[ -z "$(kube get pods -A --field-selector "spec.nodeName=$NODE_NAME" -o name 2>/dev/null)" ]] && break
        sleep 0.5
      done
      kube delete node "$NODE_NAME" --wait=false >/dev/null 2>&1 || true
    fi
    stop_pid "$(pid_of "$N" kubelet)" "$N"
    stop_pid "$(pid_of "$N" kube-proxy)" "$N"
    stop_pid "$(pid_of "$N" containerd)" "$N"
    stop_pid "$(pid_of "$N" forward)" "$N"
  fi
  # What is left: containers still running (their processes are in the node's cgroups), their
  # shims (their command lines name DIR/node), anything else in the node's namespaces.
  local d
  for _ in 1 2 3; do
    for d in $(cgroup_dirs "$id"); do
      find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
    done
    for pid in $(our_pids "$N") $(pids_in_node_namespaces); do kill -KILL "$pid" 2>/dev/null || true; done
    sleep 0.3
  done
  for d in $(cgroup_dirs "$id"); do
    find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true
  done
  # Mounts on this machine: the namespaces' files and N/ns's own bind mount. With the last
  # process gone and these unmounted, the namespaces end, and every mount inside the node's
  # (images' overlays, volumes, pods' network namespaces, the tmpfs folders) with them.
  local m
  for _ in 1 2 3; do
    while read -r m; do
      [[ -n "$m" ]] && { umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; }
    done < <(mounts_under "$N")
    [[ -z "$(mounts_under "$N")" ]] && break
    sleep 0.3
  done
  rm -f "$N/pids"
  if [[ -z "$(mounts_under "$N")" ]]; then rm -f "$N/ns/net" "$N/ns/mnt"; rmdir "$N/run" 2>/dev/null || true; fi
  ((was_up == 0)) || log "node down in $((SECONDS - t0)) s"
}

# Processes in the node's network or mount namespace (by the inodes up recorded).
pids_in_node_namespaces() {
  [[ -s "$N/ns.inodes" ]] || return 0
  local net mnt p
  { read -r net; read -r mnt; } <"$N/ns.inodes"
  for p in /proc/[0-9]*; do
    [[ "$(readlink "$p/ns/net" 2>/dev/null)" == "net:[$net]" ||
      "$(readlink "$p/ns/mnt" 2>/dev/null)" == "mnt:[$mnt]" ]] && echo "${p#/proc/}"
  done
  return 0
}

# A container's log as `kubectl logs` would print it, from the kubelet's pod log folder: every
# run of the container in order, the CRI line prefix (time, stream, tag) removed. The first
# container of the pod when none is named.
pod_logs() {
  local ns=$1 pod=$2 container=${3:-} dirs=() d
  shopt -s nullglob
  dirs=("$N/pod-logs/${ns}_${pod}_"*)
  ((${#dirs[@]})) || die "no logs of pod $ns/$pod under $N/pod-logs"
  d=${dirs[-1]}
  if [[ -z "$container" ]]; then
    local c=("$d"/*/)
    ((${#c[@]})) || die "no container logs in $d"
    container=$(basename "${c[0]}")
  fi
  local files=("$d/$container"/*.log)
  ((${#files[@]})) || die "no logs of container $container in $d"
  # A partial line (tag P) goes on in the next record.
  printf '%s\n' "${files[@]}" | sort -V | xargs cat |
    awk '{rest = substr($0, length($1) + length($2) + length($3) + 4)
          if ($3 == "P") printf "%s", rest; else print rest}'
}

# What a node of DIR can leave behind; prints each and fails when there is any.
leftovers() {
  local id; id=$(node_id "$DIR")
  local found=0 pid d m
  for pid in $(our_pids "$N"); do
    printf 'process %s: %s\n' "$pid" "$(tr '\0' ' ' 2>/dev/null </proc/"$pid"/cmdline)"; found=1
  done
  for pid in $(pids_in_node_namespaces); do
    printf 'process %s in the node'"'"'s namespaces: %s\n' "$pid" "$(tr '\0' ' ' 2>/dev/null </proc/"$pid"/cmdline)"
    found=1
  done
  for d in $(cgroup_dirs "$id"); do printf 'cgroup %s\n' "$d"; found=1; done
  while read -r m; do [[ -n "$m" ]] && { printf 'mount %s\n' "$m"; found=1; }; done < <(mounts_under "$N")
  ((found == 0))
}

[[ $# -ge 2 ]] || usage
mkdir -p "$2" 2>/dev/null || true
DIR=$(cd "$2" 2>/dev/null && pwd) || die "no such folder: $2"
N=$DIR/node
KUBECTL=""
if [[ -f "$DIR/env" ]]; then
  # shellcheck disable=SC1091
  KUBECTL=$(. "$DIR/env" && echo "$BYOK_KUBECTL")
fi
case $1 in
  up) up ;;
  down) down ;;
  leftovers) leftovers ;;
  logs) [[ $# -ge 4 ]] || usage; pod_logs "$3" "$4" "${5:-}" ;;
  import)
    [[ $# -ge 3 ]] || usage
    [[ -f "$N/pids" ]] || die "no node up in $DIR"
    for a in "${@:3}"; do import_image "$(realpath -- "$a")" || exit 1; done
    ;;
  *) usage ;;
esac
