#!/usr/bin/env bash
# The demo: installs what is missing, starts a local self-contained control plane (etcd +
# kube-apiserver on 127.0.0.1, the CRDs from crds/), runs the operator against it, applies
# examples/, and shows what the operator made of them with kubectl.
#   scripts/demo.sh          # runs, shows, and tears everything down
#   scripts/demo.sh --keep   # leaves the control plane, the KMS servers and the operator running
#   scripts/demo.sh --stop   # stops what --keep left running
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BYOK_BUILD_DIR:-$ROOT/build}
DEMO=${BYOK_DEMO_DIR:-$HOME/.cache/byok-operator/demo}
KEEP=0
[[ "${1:-}" == "--keep" ]] && KEEP=1
say() { printf '\n== %s\n' "$*"; }
PROVIDERS=(aws gcp azure oci transit thalassa)
declare -A SERVER_SCRIPT=([aws]=moto-kms.sh [gcp]=gcp-kms.sh [azure]=azure-kms.sh [oci]=oci-kms.sh
                          [transit]=transit-kms.sh [thalassa]=thalassa-kms.sh)
stop_all() {
  [[ -f "$DEMO/operator.pid" ]] && kill "$(cat "$DEMO/operator.pid")" 2>/dev/null || true
  for p in "${PROVIDERS[@]}"; do
    [[ -d "$DEMO/$p" ]] && "$ROOT/tests/harness/${SERVER_SCRIPT[$p]}" stop "$DEMO/$p" >/dev/null 2>&1 || true
  done
  "$ROOT/tests/harness/control-plane.sh" stop "$DEMO" >/dev/null 2>&1 || true
}
if [[ "${1:-}" == "--stop" ]]; then
  stop_all
  exit 0
fi

"$ROOT/scripts/install-deps.sh"
# shellcheck source=go-env.sh
source "$ROOT/scripts/go-env.sh" && go_env_setup  # the Go that install-deps.sh checked
say "building the control plane binaries (cached after the first run) and the operator"
"$ROOT/scripts/build-control-plane.sh" >/dev/null
"$ROOT/scripts/build.sh" >/dev/null

stop_all  # what an earlier --keep left running
rm -rf "$DEMO"
say "starting etcd + kube-apiserver on 127.0.0.1 with the byok CRDs"
"$ROOT/tests/harness/control-plane.sh" start "$DEMO"
# shellcheck disable=SC1091
source "$DEMO/env"
kubectl() { "$BYOK_KUBECTL" "$@"; }

# The HSM: a fresh SoftHSM2 token, its keys made by byokctl (the key-ceremony CLI), sensitive
# and extractable only by wrapping.
say "creating a SoftHSM2 token with the demo's keys (byokctl generate)"
mkdir -p "$DEMO/softhsm/tokens"
export SOFTHSM2_CONF="$DEMO/softhsm/softhsm2.conf"
printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' \
  "$DEMO/softhsm/tokens" >"$SOFTHSM2_CONF"
HSM_PIN=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '%s\n' "$HSM_PIN" >"$DEMO/softhsm/pin"
chmod 600 "$DEMO/softhsm/pin"
softhsm2-util --init-token --free --label byok-demo --so-pin "$HSM_PIN-so" --pin "$HSM_PIN" >/dev/null
export BYOK_PKCS11_MODULE=/usr/lib/softhsm/libsofthsm2.so BYOK_HSM_TOKEN=byok-demo
export BYOK_HSM_PIN_FILE="$DEMO/softhsm/pin"
BYOKCTL="$BUILD/cli/byokctl"
for key in byok-demo-aes byok-demo-aws-aes byok-demo-gcp-aes; do
  "$BYOKCTL" generate --type aes256-gcm96 --label "$key" >/dev/null
done
"$BYOKCTL" generate --type aes256-gcm96 --label byok-demo-thalassa-aes --id 0a1b2c3d >/dev/null
"$BYOKCTL" keys

# /metrics and the probes on free loopback ports: the defaults (:8080, :8081, every interface)
# may be taken on a developer's machine.
# shellcheck source=../tests/harness/lib.sh
source "$ROOT/tests/harness/lib.sh"
METRICS_PORT=$(free_port)
PROBE_PORT=$(free_port)
say "starting byok-operator with the token (log: $DEMO/operator.log)"
# ClusterKmsProviders keep their Secrets in byok-system; namespaced KmsProviders may name the
# local servers (127.0.0.1 over TLS) besides the providers' public endpoints.
"$BUILD/controller/byok-operator" --kubeconfig "$KUBECONFIG" \
  --cluster-resource-namespace byok-system --kms-endpoint-allow 'public,https://127.0.0.1:*' \
  --metrics-bind-address "127.0.0.1:$METRICS_PORT" --health-probe-bind-address "127.0.0.1:$PROBE_PORT" \
  >"$DEMO/operator.log" 2>&1 &
echo $! >"$DEMO/operator.pid"
echo "metrics: http://127.0.0.1:$METRICS_PORT/metrics   probes: http://127.0.0.1:$PROBE_PORT/healthz, /readyz"
cleanup() { ((KEEP)) || stop_all; }
trap cleanup EXIT

# One KMS per provider on 127.0.0.1: moto (AWS, with its key-import extension), Vault's transit
# engine (built from source, cached) and strict fakes of the Google Cloud, Azure, OCI and
# Thalassa APIs that really unwrap what they are sent (tests/fakes).
say "starting the KMS servers on 127.0.0.1: ${PROVIDERS[*]}"
"$ROOT/scripts/build-vault.sh" >/dev/null
for p in "${PROVIDERS[@]}"; do
  "$ROOT/tests/harness/${SERVER_SCRIPT[$p]}" start "$DEMO/$p" >"$DEMO/$p.log" 2>&1 ||
    { cat "$DEMO/$p.log"; exit 1; }
  export "BYOK_${p^^}_KMS_ENV=$DEMO/$p/env"
done
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
echo "created AWS keys $key1 and $key2 for the CustomerManagedKey examples"

# The examples, pointed at the local servers: the AWS KmsProvider example with the emulator's
# endpoint, region and user; the other providers' KmsProviders made by the demo's console
# stand-in (tests/tools/demo_kms.cpp) from the servers' own credentials (their examples stay
# templates for real accounts).
mkdir -p "$DEMO/examples"
cp "$ROOT"/examples/*.yaml "$DEMO/examples/"
sed -i -e "s#https://127.0.0.1:4566#$BYOK_AWS_ENDPOINT#g" -e "s#region: us-east-1#region: $BYOK_AWS_REGION#" \
  -e "s#AKIAIOSFODNN7EXAMPLE#$BYOK_AWS_ACCESS_KEY_ID#" \
  -e "s#wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY#$BYOK_AWS_SECRET_ACCESS_KEY#" \
  "$DEMO/examples/kmsprovider-aws.yaml" "$DEMO/examples/clusterkmsprovider-aws.yaml"
sed -i "s#arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab#$key1#" "$DEMO/examples/cmk-aws.yaml"
sed -i "s#arn:aws:kms:us-east-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab#$key2#" "$DEMO/examples/cmk-aws-rotated.yaml"

say "kubectl apply: the namespace and the KmsProviders (the tenant's own)"
kubectl apply -f "$DEMO/examples/00-namespace.yaml"
kubectl create secret generic test-endpoint-ca -n byok-demo --from-file=ca.crt="$BYOK_AWS_CA_FILE"
kubectl apply -f "$DEMO/examples/kmsprovider-aws.yaml"
"$BUILD/tests/tools/byok-demo-kms" providers byok-demo gcp azure oci transit thalassa
# What a cluster admin sets up: ClusterKmsProviders (credentials in byok-system) and the
# HsmKeyPolicy that lets byok-demo export its HSM keys to them.
say "kubectl apply (as cluster admin): ClusterKmsProviders and the HsmKeyPolicy"
kubectl create namespace byok-system
kubectl create secret generic test-endpoint-ca -n byok-system --from-file=ca.crt="$BYOK_AWS_CA_FILE"
kubectl apply -f "$DEMO/examples/clusterkmsprovider-aws.yaml"
"$BUILD/tests/tools/byok-demo-kms" cluster-providers byok-system byok-demo gcp transit thalassa
kubectl apply -f "$DEMO/examples/hsmkeypolicy-byok-demo.yaml"

# The key ceremonies for the two ImportedKeys whose material arrives wrapped: fetch the KMS's
# wrapping key, wrap with byokctl, hand the result over in a Secret, and name the wrapping
# key's fingerprint in the ImportedKey.
say "offline ceremonies: Azure .byok (byokctl azure-byok-export) and OCI (byokctl wrap --format oci)"
mkdir -p "$DEMO/ceremony"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$DEMO/ceremony/azure-rsa.pem" 2>/dev/null
kek=$("$BUILD/tests/tools/byok-demo-kms" wrapping-key azure ik-azure rsa-2048 "$DEMO/ceremony/azure-kek.der")
kid=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["kid"])' "$kek")
"$BYOKCTL" azure-byok-export --kek-identifier "$kid" --kek-file "$DEMO/ceremony/azure-kek.der" \
  --software-key "$DEMO/ceremony/azure-rsa.pem" --out "$DEMO/ceremony/ik-azure.byok"
fingerprint=$("$BYOKCTL" kek-info --kek-file "$DEMO/ceremony/azure-kek.der" --json |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["fingerprintSha256"])')
kubectl create secret generic byok-demo-azure-byok -n byok-demo --from-file=key.byok="$DEMO/ceremony/ik-azure.byok"
sed -i "s#wrappingKeyFingerprint: .*#wrappingKeyFingerprint: $fingerprint#" "$DEMO/examples/importedkey-azure.yaml"

head -c 32 /dev/urandom >"$DEMO/ceremony/oci-aes.key"
"$BUILD/tests/tools/byok-demo-kms" wrapping-key oci ik-oci aes256-gcm96 "$DEMO/ceremony/oci-kek.der" >/dev/null
"$BYOKCTL" wrap --format oci --kek-file "$DEMO/ceremony/oci-kek.der" --software-key "$DEMO/ceremony/oci-aes.key" \
  --software-key-type aes256-gcm96 --out "$DEMO/ceremony/ik-oci.wrapped"
fingerprint=$("$BYOKCTL" kek-info --kek-file "$DEMO/ceremony/oci-kek.der" --json |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["fingerprintSha256"])')
kubectl create secret generic byok-demo-oci-wrapped -n byok-demo --from-file=wrapped="$DEMO/ceremony/ik-oci.wrapped"
sed -i "s#wrappingKeyFingerprint: .*#wrappingKeyFingerprint: $fingerprint#" "$DEMO/examples/importedkey-oci.yaml"
# The ceremony's plaintext material is gone once wrapped (the HSM keys never left the token).
rm -f "$DEMO/ceremony/azure-rsa.pem" "$DEMO/ceremony/oci-aes.key"

say "kubectl apply -f examples/importedkey-*.yaml"
for f in "$DEMO"/examples/importedkey-*.yaml; do kubectl apply -f "$f"; done

say "waiting for every ImportedKey to be imported"
imported_all=0
for _ in $(seq 1 120); do
  imported=$(kubectl get ik -n byok-demo -o jsonpath='{range .items[?(@.status.imported==true)]}{.metadata.name}{"\n"}{end}' | grep -c . || true)
  total=$(kubectl get ik -n byok-demo --no-headers | wc -l)
  if [[ "$total" -gt 0 && "$imported" -eq "$total" ]]; then imported_all=1; break; fi
  sleep 1
done

# The Google Cloud, Azure and OCI CustomerManagedKey examples name keys in real accounts; here
# they register the keys the ImportedKeys just made (a CMK references any key in its KMS).
for p in gcp azure oci; do
  key=$(kubectl get ik "ik-$p" -n byok-demo -o jsonpath='{.status.keyId}')
  [[ -n "$key" ]] && sed -i "s#^  resource: .*#  resource: $key#" "$DEMO/examples/cmk-$p.yaml"
done
say "kubectl apply -f examples/cmk-*.yaml"
for f in "$DEMO"/examples/cmk-*.yaml; do kubectl apply -f "$f"; done

say "waiting for every CustomerManagedKey to be verified in its KMS"
for _ in $(seq 1 60); do
  verified=$(kubectl get cmk -n byok-demo \
    -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="KeyVerified")].status}{"\n"}{end}' | grep -c True || true)
  total=$(kubectl get cmk -n byok-demo --no-headers | wc -l)
  [[ "$total" -gt 0 && "$verified" -eq "$total" ]] && break
  sleep 1
done

say "kubectl get ckmsp,hkp; kubectl get kmsp,cmk,ik -n byok-demo"
kubectl get ckmsp,hkp
kubectl get kmsp,cmk,ik -n byok-demo
say "kubectl get cmk cmk-aws -n byok-demo -o yaml (status)"
kubectl get cmk cmk-aws -n byok-demo -o jsonpath='{.status}' | python3 -m json.tool
say "kubectl get ik ik-aws -n byok-demo (status)"
kubectl get ik ik-aws -n byok-demo -o jsonpath='{.status}' | python3 -m json.tool
say "Events"
kubectl get events -n byok-demo --sort-by=.metadata.creationTimestamp | tail -n 12
say "curl http://127.0.0.1:$METRICS_PORT/metrics (reconciles, queue, KMS calls)"
curl -fsS "http://127.0.0.1:$METRICS_PORT/metrics" |
  grep -E '^(controller_runtime_reconcile_total|workqueue_depth|byok_kms_requests_total|byok_hsm_operations_total)' || true
curl -fsS "http://127.0.0.1:$PROBE_PORT/readyz" || true
if ((!imported_all)); then
  echo "not every ImportedKey was imported: see kubectl describe ik -n byok-demo and $DEMO/operator.log" >&2
  exit 1
fi

if ((KEEP)); then
  say "still running. Explore with:  source $DEMO/env && \$BYOK_KUBECTL get cmk -A"
  echo "metrics: curl http://127.0.0.1:$METRICS_PORT/metrics   readiness: curl http://127.0.0.1:$PROBE_PORT/readyz"
  echo "stop with: scripts/demo.sh --stop"
fi
