#!/usr/bin/env bash
# Workloads on the test node (tests/harness/node.sh up DIR): a pod from the base image, a
# Deployment whose pods pass a readiness probe, and a pod that checks the network from inside:
# the apiserver answers through the `kubernetes` Service, and nothing beyond the node is
# reachable. Also holds the harness to its network rule: nothing of the node's network (its
# address, pod range, Service range, bridge) shows in this machine's own namespace.
#
#   tests/e2e/node_workloads.sh DIR
#
# The pods' output is read from the node's pod log folder (node.sh logs): `kubectl logs` cannot
# reach a kubelet inside the node's namespace.
set -euo pipefail

DIR=$(cd "${1:?usage: $0 DIR}" && pwd)
# shellcheck disable=SC1091
source "$DIR/env"
# shellcheck disable=SC1091
source "$DIR/node/env"
NS=e2e-$(date +%s)-$$
fail() { printf 'node_workloads: %s\n' "$*" >&2; exit 1; }
k() { "$BYOK_KUBECTL" "$@"; }
kn() { "$BYOK_KUBECTL" -n "$NS" "$@"; }
elapsed() { printf '%s.%03d' $(((($(date +%s%N) - $1) / 1000000) / 1000)) $(((($(date +%s%N) - $1) / 1000000) % 1000)); }

# This machine's namespace carries none of the node's network.
host_net=$(ip -o addr show; ip route show table all 2>/dev/null || ip route show)
for pat in "$BYOK_NODE_IP" 10.244. 10.0.0. cni0 node0; do
  if grep -qF -- "$pat" <<<"$host_net"; then fail "the machine's own network namespace shows $pat"; fi
done
# The node's namespace has no way out: no default route, only its own links.
node_routes=$(nsenter --net="$BYOK_NODE_NETNS" ip route show)
grep -q '^default' <<<"$node_routes" && fail "the node's namespace has a default route: $node_routes"
node_links=$(nsenter --net="$BYOK_NODE_NETNS" ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | sort | tr '\n' ' ')
for l in $node_links; do
  case $l in lo | node0 | node0-peer | cni0 | veth*) ;; *) fail "unexpected link $l in the node's namespace ($node_links)" ;; esac
done

k create namespace "$NS" >/dev/null
t=$(date +%s%N)
for _ in $(seq 1 60); do kn get serviceaccount default >/dev/null 2>&1 && break; sleep 0.5; done
kn get serviceaccount default >/dev/null || fail "namespace $NS has no default ServiceAccount after 30 s"

img=$BYOK_BASE_IMAGE
kn apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Pod
metadata: {name: sleeper}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: $img
    imagePullPolicy: Never
    command: [sleep, infinity]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: ready}
spec:
  replicas: 2
  selector: {matchLabels: {app: ready}}
  template:
    metadata: {labels: {app: ready}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: main
        image: $img
        imagePullPolicy: Never
        # Ready only once the file is there: the probe is what makes the pod Ready.
        command: [bash, -c, 'sleep 2; touch /tmp/ready; exec sleep infinity']
        readinessProbe:
          exec: {command: [test, -f, /tmp/ready]}
          periodSeconds: 1
---
apiVersion: v1
kind: Pod
metadata: {name: netcheck}
spec:
  restartPolicy: Never
  containers:
  - name: check
    image: $img
    imagePullPolicy: Never
    command:
    - bash
    - -c
    - |
      # The apiserver through the kubernetes Service (kube-proxy's rules in the node's namespace,
      # the endpoint the node's forwarder): a plain HTTP request to its TLS port gets the Go TLS
      # server's own 400 answer.
      if exec 3<>"/dev/tcp/\$KUBERNETES_SERVICE_HOST/\$KUBERNETES_SERVICE_PORT"; then
        printf 'GET /livez HTTP/1.0\r\n\r\n' >&3
        IFS= read -r -t 5 line <&3 || true
        echo "apiserver \$KUBERNETES_SERVICE_HOST:\$KUBERNETES_SERVICE_PORT: \${line%\$'\r'}"
        exec 3>&-
      else
        echo "apiserver \$KUBERNETES_SERVICE_HOST:\$KUBERNETES_SERVICE_PORT: no connection"
      fi
      # Beyond the node: a documentation address (TEST-NET-1) that the node cannot route.
      if timeout 5 bash -c 'exec 4<>/dev/tcp/192.0.2.1/443' 2>/tmp/err; then
        echo "outside: connected"
      else
        echo "outside: failed: \$(tail -n 1 /tmp/err)"
      fi
      test -s /var/run/secrets/kubernetes.io/serviceaccount/token && echo "token: mounted"
      echo done
EOF

kn wait --for=condition=Ready pod/sleeper --timeout=60s >/dev/null || fail "pod sleeper not Ready: $(kn get pod sleeper -o wide)"
echo "pod sleeper Running and Ready after $(elapsed "$t") s"
kn rollout status deployment/ready --timeout=90s >/dev/null || fail "Deployment ready not rolled out: $(kn get pods -o wide)"
echo "Deployment ready: 2 of 2 pods Ready (readiness probe) after $(elapsed "$t") s"
kn wait --for=jsonpath='{.status.phase}'=Succeeded pod/netcheck --timeout=60s >/dev/null ||
  fail "pod netcheck did not succeed: $(kn get pod netcheck -o wide)"
log=$("$(dirname "${BASH_SOURCE[0]}")/../harness/node.sh" logs "$DIR" "$NS" netcheck) ||
  fail "no log of pod netcheck under $BYOK_NODE_POD_LOGS"
printf '%s\n' "$log" | sed 's/^/  netcheck: /'
grep -q "^apiserver 10.0.0.1:443: HTTP/1.0 400 Bad Request" <<<"$log" ||
  fail "the apiserver did not answer through the kubernetes Service"
grep -qE "^outside: failed: .*(unreachable|No route)" <<<"$log" ||
  fail "a pod reached (or was not refused by) an address beyond the node"
grep -q "^token: mounted" <<<"$log" || fail "no ServiceAccount token in the pod"
echo "checks passed after $(elapsed "$t") s"
k delete namespace "$NS" --wait=false >/dev/null
