#!/usr/bin/env bash
# The demo: installs what is missing, starts a local self-contained control plane (etcd +
# kube-apiserver on 127.0.0.1, the CRDs from crds/), runs the operator against it, applies
# examples/, and shows what the operator made of them with kubectl.
#   scripts/demo.sh          # runs, shows, and tears everything down
#   scripts/demo.sh --keep   # leaves the control plane and the operator running to explore
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BYOK_BUILD_DIR:-$ROOT/build}
DEMO=${BYOK_DEMO_DIR:-$HOME/.cache/byok-operator/demo}
KEEP=0
[[ "${1:-}" == "--keep" ]] && KEEP=1
say() { printf '\n== %s\n' "$*"; }

"$ROOT/scripts/install-deps.sh"
[[ -x /usr/local/go/bin/go ]] && export PATH="/usr/local/go/bin:$PATH"
say "building the control plane binaries (cached after the first run) and the operator"
"$ROOT/scripts/build-control-plane.sh" >/dev/null
"$ROOT/scripts/build.sh" >/dev/null

"$ROOT/tests/harness/control-plane.sh" stop "$DEMO" 2>/dev/null || true
rm -rf "$DEMO"
say "starting etcd + kube-apiserver on 127.0.0.1 with the byok CRDs"
"$ROOT/tests/harness/control-plane.sh" start "$DEMO"
# shellcheck disable=SC1091
source "$DEMO/env"
kubectl() { "$BYOK_KUBECTL" "$@"; }

say "starting byok-operator (log: $DEMO/operator.log)"
"$BUILD/controller/byok-operator" --kubeconfig "$KUBECONFIG" >"$DEMO/operator.log" 2>&1 &
echo $! >"$DEMO/operator.pid"
cleanup() {
  if ((KEEP)); then return; fi
  kill "$(cat "$DEMO/operator.pid")" 2>/dev/null || true
  "$ROOT/tests/harness/control-plane.sh" stop "$DEMO" || true
}
trap cleanup EXIT

say "kubectl apply -f examples/"
kubectl apply -f "$ROOT/examples/"

say "waiting for every CustomerManagedKey to get a status"
for _ in $(seq 1 60); do
  pending=$(kubectl get cmk -n byok-demo -o jsonpath='{range .items[?(!@.status.status)]}{.metadata.name}{" "}{end}' 2>/dev/null || true)
  total=$(kubectl get cmk -n byok-demo --no-headers 2>/dev/null | wc -l)
  done_count=$(kubectl get cmk -n byok-demo -o jsonpath='{range .items[*]}{.status.status}{"\n"}{end}' | grep -c . || true)
  [[ "$total" -gt 0 && "$done_count" -eq "$total" ]] && break
  sleep 1
done

say "kubectl get kmsp,cmk,ik -n byok-demo"
kubectl get kmsp,cmk,ik -n byok-demo
say "kubectl get cmk cmk-aws -n byok-demo -o yaml (status)"
kubectl get cmk cmk-aws -n byok-demo -o jsonpath='{.status}' | python3 -m json.tool
say "Events"
kubectl get events -n byok-demo --sort-by=.metadata.creationTimestamp | tail -n 12

if ((KEEP)); then
  say "still running. Explore with:  source $DEMO/env && \$BYOK_KUBECTL get cmk -A"
  echo "stop with: kill \$(cat $DEMO/operator.pid); $ROOT/tests/harness/control-plane.sh stop $DEMO"
fi
