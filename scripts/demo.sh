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
  "$ROOT/tests/harness/moto-kms.sh" stop "$DEMO/aws" || true
  "$ROOT/tests/harness/control-plane.sh" stop "$DEMO" || true
}
trap cleanup EXIT

say "starting an AWS KMS emulator (moto, TLS, SigV4 checked) on 127.0.0.1 with two keys"
"$ROOT/tests/harness/moto-kms.sh" start "$DEMO/aws"
source "$DEMO/aws/env"
keys=$("$BYOK_MOTO_PYTHON" - <<PY
import boto3
kms = boto3.client("kms", endpoint_url="$BYOK_AWS_ENDPOINT", region_name="$BYOK_AWS_REGION",
                   verify="$BYOK_AWS_CA_FILE", aws_access_key_id="$BYOK_AWS_ACCESS_KEY_ID",
                   aws_secret_access_key="$BYOK_AWS_SECRET_ACCESS_KEY")
print(" ".join(kms.create_key(Description=d)["KeyMetadata"]["Arn"] for d in ("demo", "demo-rotated")))
PY
)
read -r key1 key2 <<<"$keys"
echo "created $key1 and $key2"

# The AWS examples, pointed at the emulator: its endpoint, region, user and keys. The other
# providers' examples are applied as written (their endpoints are not running in the demo).
mkdir -p "$DEMO/examples"
cp "$ROOT"/examples/*.yaml "$DEMO/examples/"
sed -i -e "s#https://127.0.0.1:4566#$BYOK_AWS_ENDPOINT#" -e "s#region: us-east-1#region: $BYOK_AWS_REGION#" \
  -e "s#AKIAIOSFODNN7EXAMPLE#$BYOK_AWS_ACCESS_KEY_ID#" \
  -e "s#wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY#$BYOK_AWS_SECRET_ACCESS_KEY#" \
  "$DEMO/examples/kmsprovider-aws.yaml"
sed -i "s#arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab#$key1#" "$DEMO/examples/cmk-aws.yaml"
sed -i "s#arn:aws:kms:us-east-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab#$key2#" "$DEMO/examples/cmk-aws-rotated.yaml"

say "kubectl apply -f examples/ (AWS ones pointed at the emulator)"
kubectl apply -f "$DEMO/examples/00-namespace.yaml"
kubectl create secret generic test-endpoint-ca -n byok-demo --from-file=ca.crt="$BYOK_AWS_CA_FILE"
kubectl apply -f "$DEMO/examples/"

say "waiting for every CustomerManagedKey to get a status"
for _ in $(seq 1 60); do
  pending=$(kubectl get cmk -n byok-demo -o jsonpath='{range .items[?(!@.status.status)]}{.metadata.name}{" "}{end}' 2>/dev/null || true)
  total=$(kubectl get cmk -n byok-demo --no-headers 2>/dev/null | wc -l)
  done_count=$(kubectl get cmk -n byok-demo -o jsonpath='{range .items[*]}{.status.status}{"\n"}{end}' | grep -c . || true)
  [[ "$total" -gt 0 && "$done_count" -eq "$total" ]] && break
  sleep 1
done

say "waiting for the AWS CMKs to be verified in the KMS"
for _ in $(seq 1 60); do
  verified=$(kubectl get cmk cmk-aws cmk-aws-2 -n byok-demo \
    -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="KeyVerified")].status}{" "}{end}' 2>/dev/null || true)
  [[ "$verified" == "True True " ]] && break
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
