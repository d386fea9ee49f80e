#!/usr/bin/env bash
# The operator as a cluster runs it, on the test node (tests/harness/node.sh up DIR): the chart
# installed with `helm install` and the image built from the Dockerfile (the SoftHSM2 test image,
# scripts/build-image.sh softhsm, imported into the node's containerd), then
#   0. the production image (scripts/build-image.sh production) in a pod: user 65532, no
#      SoftHSM2, both binaries start;
#   1. the Deployment's two pods Ready through their real probes (/readyz, /healthz);
#   2. a KmsProvider, two CustomerManagedKeys and an ImportedKey (an HSM key wrapped in the pod
#      and imported into AWS KMS) reconciled by the pods against a KMS server;
#   3. the leader pod killed (deleted with no grace, --force): the other replica takes the Lease
#      over (the dying leader releases it on SIGTERM); then the new leader's process SIGKILLed
#      (nothing releases the Lease): another identity takes it after it expires; a new
#      CustomerManagedKey is reconciled;
#   4. `helm upgrade` to a changed value (logging.level=debug): the pods roll, are Ready, and
#      reconcile again; the objects are deleted while the operator runs (finalizers honoured);
#   5. `helm uninstall` leaves none of the release's objects (helm get manifest), no pod and no
#      Lease (the chart makes it; the operator only renews it).
#
#   tests/e2e/operator_chart.sh DIR BYOKCTL
#
# The KMS: moto (tests/harness/moto-kms.sh, with the key-import extension) on this machine's
# 127.0.0.1, its certificate also naming the node's address; a forwarder (tcp_forward.py
# --listen-netns) listens on the node's address inside the node's network namespace and carries
# each connection to it. The pods use https://<node IP>:PORT and verify the server's certificate
# against the test CA; the namespaced KmsProvider's endpoint is allowed by the chart's
# kmsEndpointAllow. Nothing else reaches the pods: the node's namespace has no route out.
#
# The HSM reaches the pod as a vendor's module would, through chart values: hsm.moduleVolume is
# a hostPath with SoftHSM2's configuration (SOFTHSM2_CONF, through extraEnv), the token folder a
# second hostPath (extraVolumes; SoftHSM2 writes its lock and object files there), the module the
# test image's /usr/lib/softhsm/libsofthsm2.so, the PIN the chart's Secret (hsm.pinSecret). The
# token and its keys are made here with byokctl, as a key ceremony would, and handed to the
# image's user (65532).
set -euo pipefail

DIR=$(cd "${1:?usage: $0 DIR BYOKCTL}" && pwd)
BYOKCTL=${2:?usage: $0 DIR BYOKCTL}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck disable=SC1091
source "$DIR/env"
# shellcheck disable=SC1091
source "$DIR/node/env"
# shellcheck source=tests/harness/lib.sh
source "$ROOT/tests/harness/lib.sh"
W=$DIR/operator-e2e
REL=e2e
LEASE=byok-operator-leader  # the chart's Lease (leaderElection.leaseName)
RNS=byok-system   # the release's namespace (the operator's, where ClusterKmsProviders' Secrets are)
TNS=byok-e2e      # a tenant's namespace
T0=$(date +%s%N)
fail() { printf 'operator_chart: %s\n' "$*" >&2; exit 1; }
k() { "$BYOK_KUBECTL" "$@"; }
elapsed() { local ms=$((($(date +%s%N) - T0) / 1000000)); printf '%d.%03d' $((ms / 1000)) $((ms % 1000)); }
say() { printf '[%7s s] %s\n' "$(elapsed)" "$*"; }
# until_true SECONDS WHAT COMMAND...: polls every 0.5 s.
until_true() {
  local secs=$1 what=$2; shift 2
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.5
  done
}

HELM=$("$ROOT/scripts/build-helm.sh" 2>/dev/null) || fail "scripts/build-helm.sh failed"
h() { "$HELM" "$@"; }   # KUBECONFIG from DIR/env
DEP=$REL-byok-operator

FORWARD_PID=""
cleanup() {
  local rc=$?
  if ((rc != 0)); then
    printf -- '--- pods ---\n' >&2
    k get pods -n "$RNS" -o wide >&2 2>/dev/null || true
    local p ip
    for p in $(k get pods -n "$RNS" -o name 2>/dev/null | sed 's#pod/##'); do
      printf -- '--- log of %s (last lines) ---\n' "$p" >&2
      "$ROOT/tests/harness/node.sh" logs "$DIR" "$RNS" "$p" 2>/dev/null | tail -n 15 >&2 || true
      # The probes' answers, asked from the node as the kubelet asks them.
      ip=$(k get pod "$p" -n "$RNS" -o jsonpath='{.status.podIP}' 2>/dev/null)
      if [[ -n "$ip" ]]; then
        printf -- '--- %s /readyz ---\n' "$p" >&2
        nsenter --net="$BYOK_NODE_NETNS" curl -sS -m 3 "http://$ip:8081/readyz" >&2 2>&1 || true
        echo >&2
      fi
    done
    k get events -n "$RNS" --sort-by=.lastTimestamp 2>/dev/null | tail -n 15 >&2 || true
    k get kmsp,cmk,ik -n "$TNS" -o wide >&2 2>/dev/null || true
  fi
  # Whatever is left: the release, then the objects (finalizers dropped: the operator may be gone).
  h uninstall "$REL" -n "$RNS" >/dev/null 2>&1 || true
  local kind
  for kind in importedkeys customermanagedkeys kmsproviders; do
    for o in $(k get "$kind" -n "$TNS" -o name 2>/dev/null); do
      k patch "$o" -n "$TNS" --type merge -p '{"metadata":{"finalizers":null}}' >/dev/null 2>&1 || true
    done
  done
  k delete hsmkeypolicy e2e --ignore-not-found --wait=false >/dev/null 2>&1 || true
  k delete clusterkmsprovider aws-e2e --ignore-not-found --wait=false >/dev/null 2>&1 || true
  k delete namespace "$TNS" "$RNS" --ignore-not-found --wait=false >/dev/null 2>&1 || true
  if [[ -n "$FORWARD_PID" ]]; then kill "$FORWARD_PID" 2>/dev/null || true; fi
  "$ROOT/tests/harness/moto-kms.sh" stop "$W/moto" >/dev/null 2>&1 || true
  exit "$rc"
}
trap cleanup EXIT

rm -rf "$W"
mkdir -p "$W"

# --- the image -----------------------------------------------------------------------------
img=$("$ROOT/scripts/build-image.sh" production softhsm) || fail "scripts/build-image.sh failed"
eval "$img"
"$ROOT/tests/harness/node.sh" import "$DIR" "$BYOK_OPERATOR_TEST_ARCHIVE" "$BYOK_OPERATOR_ARCHIVE" ||
  fail "importing the operator's images failed"
say "images $BYOK_OPERATOR_TEST_IMAGE and $BYOK_OPERATOR_IMAGE in the node's containerd"
k create namespace "$RNS" >/dev/null
# The production image as shipped: its user, no software HSM, both binaries start (every library
# they link against is in the image).
k apply -n "$RNS" -f - >/dev/null <<EOF
apiVersion: v1
kind: Pod
metadata: {name: production-image}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  containers:
  - name: check
    image: $BYOK_OPERATOR_IMAGE
    imagePullPolicy: Never
    command:
    - /bin/sh
    - -c
    - |
      echo "uid \$(id -u)"
      if [ -e /usr/lib/softhsm/libsofthsm2.so ]; then echo "softhsm: present"; else echo "softhsm: absent"; fi
      /usr/local/bin/byok-operator --help | head -n 1
      /usr/local/bin/byokctl --help | head -n 1
EOF

# --- the KMS: moto on 127.0.0.1, reachable from the pods at the node's address ---------------
BYOK_TEST_PKI_EXTRA_SANS="IP:$BYOK_NODE_IP" BYOK_MOTO_OWNER_PID=$$ \
  "$ROOT/tests/harness/moto-kms.sh" start "$W/moto" >"$W/moto-start.log" 2>&1 ||
  { cat "$W/moto-start.log" >&2; fail "moto did not start"; }
# shellcheck disable=SC1091
source "$W/moto/env"
port=${BYOK_AWS_ENDPOINT##*:}
NODE_KMS=https://$BYOK_NODE_IP:$port
setsid python3 "$ROOT/tests/harness/tcp_forward.py" "$port" "$port" \
  --listen-netns "$BYOK_NODE_NETNS" --listen-host "$BYOK_NODE_IP" >"$W/forward.log" 2>&1 </dev/null &
FORWARD_PID=$!
until_true 10 "the forwarder" nsenter --net="$BYOK_NODE_NETNS" \
  curl -fsS --cacert "$BYOK_AWS_CA_FILE" -o /dev/null "$NODE_KMS/moto-api/data.json" ||
  fail "moto does not answer at $NODE_KMS inside the node's namespace: $(cat "$W/forward.log")"
keys=$("$BYOK_MOTO_PYTHON" - <<PY
import boto3
kms = boto3.client("kms", endpoint_url="$BYOK_AWS_ENDPOINT", region_name="$BYOK_AWS_REGION",
                   verify="$BYOK_AWS_CA_FILE", aws_access_key_id="$BYOK_AWS_ACCESS_KEY_ID",
                   aws_secret_access_key="$BYOK_AWS_SECRET_ACCESS_KEY")
print(" ".join(kms.create_key(Description=d)["KeyMetadata"]["Arn"] for d in ("e2e-1", "e2e-2", "e2e-3")))
PY
)
read -r key1 key2 key3 <<<"$keys"
say "moto at $BYOK_AWS_ENDPOINT, for the pods at $NODE_KMS (certificate names $BYOK_NODE_IP)"

# --- the HSM token (a key ceremony with byokctl), for the image's user ------------------------
mkdir -p "$W/hsm/conf" "$W/hsm/tokens"
export SOFTHSM2_CONF=$W/hsm/host-softhsm2.conf
printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' "$W/hsm/tokens" >"$SOFTHSM2_CONF"
# Not the image's /var/lib/softhsm/tokens: Debian keeps /var/lib/softhsm for its softhsm group
# (0750), which the image's user is not in.
printf 'directories.tokendir = /opt/softhsm-tokens\nobjectstore.backend = file\nlog.level = ERROR\n' \
  >"$W/hsm/conf/softhsm2.conf"
PIN=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '%s\n' "$PIN" >"$W/hsm/pin"
chmod 600 "$W/hsm/pin"
softhsm2-util --init-token --free --label byok-e2e --so-pin "$PIN-so" --pin "$PIN" >/dev/null
BYOK_PKCS11_MODULE=/usr/lib/softhsm/libsofthsm2.so BYOK_HSM_TOKEN=byok-e2e BYOK_HSM_PIN_FILE=$W/hsm/pin \
  "$BYOKCTL" generate --type aes256-gcm96 --label byok-e2e-aws-aes >/dev/null || fail "byokctl generate failed"
chown -R 65532:65532 "$W/hsm/tokens"
chmod 0755 "$W/hsm/conf"
chmod 0644 "$W/hsm/conf/softhsm2.conf"
say "SoftHSM2 token byok-e2e with key byok-e2e-aws-aes"

# --- helm install --------------------------------------------------------------------------
k create secret generic e2e-hsm-pin -n "$RNS" --from-file=pin="$W/hsm/pin" >/dev/null
cat >"$W/values.yaml" <<EOF
image:
  repository: ${BYOK_OPERATOR_TEST_IMAGE%:*}
  tag: ${BYOK_OPERATOR_TEST_IMAGE##*:}
  pullPolicy: Never
kmsEndpointAllow: ["https://$BYOK_NODE_IP:*"]
hsm:
  enabled: true
  tokenLabel: byok-e2e
  pinSecret: {name: e2e-hsm-pin, key: pin}
  moduleVolume:
    enabled: true
    mountPath: /opt/hsm
    source: {hostPath: {path: $W/hsm/conf, type: Directory}}
extraEnv:
  - {name: SOFTHSM2_CONF, value: /opt/hsm/softhsm2.conf}
extraVolumes:
  - {name: softhsm-tokens, hostPath: {path: $W/hsm/tokens, type: Directory}}
extraVolumeMounts:
  - {name: softhsm-tokens, mountPath: /opt/softhsm-tokens}
EOF
t=$(date +%s%N)
h install "$REL" "$ROOT/charts/byok-operator" -n "$RNS" -f "$W/values.yaml" --wait --timeout 3m >"$W/helm-install.log" 2>&1 ||
  { cat "$W/helm-install.log" >&2; fail "helm install did not finish with the pods Ready"; }
ready=$(k get deployment "$DEP" -n "$RNS" -o jsonpath='{.status.readyReplicas}')
[[ "$ready" == 2 ]] || fail "helm install --wait returned with $ready Ready pods"
say "helm install: 2 of 2 pods Ready (readiness /readyz) in $((($(date +%s%N) - t) / 1000000)) ms"

k wait -n "$RNS" --for=jsonpath='{.status.phase}'=Succeeded pod/production-image --timeout=60s >/dev/null ||
  fail "the production image's check pod did not succeed: $(k get pod production-image -n "$RNS" -o wide)"
plog=$("$ROOT/tests/harness/node.sh" logs "$DIR" "$RNS" production-image) || fail "no log of pod production-image"
printf '%s\n' "$plog" | sed 's/^/  production-image: /'
grep -qx "uid 65532" <<<"$plog" || fail "the production image does not run as 65532"
grep -qx "softhsm: absent" <<<"$plog" || fail "the production image carries SoftHSM2"
grep -q "^usage: byok-operator" <<<"$plog" || fail "byok-operator does not start in the production image"
grep -q "byokctl" <<<"$plog" || fail "byokctl does not start in the production image"
k delete pod production-image -n "$RNS" --wait=false >/dev/null
say "production image: user 65532, no SoftHSM2, byok-operator and byokctl start"

lease_holder() { k get lease "$LEASE" -n "$RNS" -o jsonpath='{.spec.holderIdentity}' 2>/dev/null; }
until_true 60 "a leader" bash -c "[[ -n \"\$('$BYOK_KUBECTL' get lease $LEASE -n $RNS -o jsonpath='{.spec.holderIdentity}')\" ]]" ||
  fail "no replica took the Lease $LEASE"
holder=$(lease_holder)
say "leader: ${holder%%_*}"

# --- the objects -----------------------------------------------------------------------------
ca=$(base64 -w0 <"$BYOK_AWS_CA_FILE")
k apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Namespace
metadata: {name: $TNS}
---
apiVersion: v1
kind: Secret
metadata: {name: aws-credentials, namespace: $TNS}
stringData: {accessKeyId: $BYOK_AWS_ACCESS_KEY_ID, secretAccessKey: $BYOK_AWS_SECRET_ACCESS_KEY}
---
apiVersion: v1
kind: Secret
metadata: {name: test-endpoint-ca, namespace: $TNS}
data: {ca.crt: $ca}
---
apiVersion: v1
kind: Secret
metadata: {name: aws-credentials, namespace: $RNS}
stringData: {accessKeyId: $BYOK_AWS_ACCESS_KEY_ID, secretAccessKey: $BYOK_AWS_SECRET_ACCESS_KEY}
---
apiVersion: v1
kind: Secret
metadata: {name: test-endpoint-ca, namespace: $RNS}
data: {ca.crt: $ca}
---
apiVersion: byok.dev/v1alpha1
kind: KmsProvider
metadata: {name: aws, namespace: $TNS}
spec:
  type: aws
  region: $BYOK_AWS_REGION
  endpoint: $NODE_KMS
  aws: {stsEndpoint: $NODE_KMS}
  credentialsSecretRef: {name: aws-credentials}
  caSecretRef: {name: test-endpoint-ca}
---
apiVersion: byok.dev/v1alpha1
kind: CustomerManagedKey
metadata: {name: cmk-1, namespace: $TNS}
spec: {provider: aws, resource: "$key1", providerRef: {name: aws}}
---
apiVersion: byok.dev/v1alpha1
kind: ClusterKmsProvider
metadata: {name: aws-e2e}
spec:
  type: aws
  region: $BYOK_AWS_REGION
  endpoint: $NODE_KMS
  aws: {stsEndpoint: $NODE_KMS}
  credentialsSecretRef: {name: aws-credentials}
  caSecretRef: {name: test-endpoint-ca}
  namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: $TNS}}
---
apiVersion: byok.dev/v1alpha1
kind: HsmKeyPolicy
metadata: {name: e2e}
spec:
  namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: $TNS}}
  keys: [{label: byok-e2e-*}]
  destinations: [{clusterKmsProvider: aws-e2e}]
---
apiVersion: byok.dev/v1alpha1
kind: ImportedKey
metadata: {name: ik-aws, namespace: $TNS}
spec:
  providerRef: {kind: ClusterKmsProvider, name: aws-e2e}
  keyType: aes256-gcm96
  deletionPolicy: Delete
  deletionWindowDays: 7
  source: {hsm: {label: byok-e2e-aws-aes}}
EOF
t=$(date +%s%N)
cond() {  # KIND NAME TYPE: the condition's status
  k get "$1" "$2" -n "$TNS" -o jsonpath="{.status.conditions[?(@.type==\"$3\")].status}" 2>/dev/null
}
wait_cond() {  # KIND NAME TYPE SECONDS
  local deadline=$((SECONDS + $4))
  until [[ "$(cond "$1" "$2" "$3")" == True ]]; do
    ((SECONDS < deadline)) || fail "$1/$2: $3 not True after $4 s: $(k get "$1" "$2" -n "$TNS" -o jsonpath='{.status.conditions}')"
    sleep 0.5
  done
}
wait_cond kmsprovider aws Ready 90
say "KmsProvider aws Ready (the pod reached $NODE_KMS)"
wait_cond customermanagedkey cmk-1 KeyVerified 90
say "CustomerManagedKey cmk-1 KeyVerified"
deadline=$((SECONDS + 120))
until [[ "$(k get importedkey ik-aws -n "$TNS" -o jsonpath='{.status.imported}')" == true ]]; do
  ((SECONDS < deadline)) || fail "ImportedKey ik-aws not imported after 120 s: $(k get importedkey ik-aws -n "$TNS" -o jsonpath='{.status}')"
  sleep 0.5
done
ik_key=$(k get importedkey ik-aws -n "$TNS" -o jsonpath='{.status.keyId}')
grep -q . "$BYOK_AWS_IMPORT_LOG" || fail "moto logged no import"
say "ImportedKey ik-aws imported into $ik_key (the HSM key wrapped in the pod; moto's import log: $(wc -l <"$BYOK_AWS_IMPORT_LOG") import)"
say "reconciled in $((($(date +%s%N) - t) / 1000000)) ms"

# --- the leader killed -----------------------------------------------------------------------
leader=${holder%%_*}
t=$(date +%s%N)
k delete pod "$leader" -n "$RNS" --grace-period=0 --force >/dev/null 2>&1
new_leader() {
  local hld; hld=$(lease_holder)
  [[ -n "$hld" && "${hld%%_*}" != "$leader" ]]
}
until_true 60 "a new leader" new_leader || fail "no other replica took the Lease after 60 s (holder: $(lease_holder))"
holder=$(lease_holder)
say "leader $leader killed; ${holder%%_*} holds the Lease after $((($(date +%s%N) - t) / 1000000)) ms"
k rollout status deployment "$DEP" -n "$RNS" --timeout=120s >/dev/null ||
  fail "the Deployment did not get back to 2 Ready pods: $(k get pods -n "$RNS" -o wide)"
say "the Deployment is back to 2 Ready pods"

# The new leader crashes: SIGKILL to its process (found by its pod's UID in its cgroup path), so
# nothing releases the Lease; another identity takes it once it expires (15 s). Its own restarted
# container competes for it too, so the test asks for a new identity, not a given pod.
uid=$(k get pod "${holder%%_*}" -n "$RNS" -o jsonpath='{.metadata.uid}')
pid=""
for p in /proc/[0-9]*; do
  grep -q "pod$uid" "$p/cgroup" 2>/dev/null || continue
  [[ "$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null)" == "/usr/local/bin/byok-operator "* ]] && pid=${p#/proc/}
done
[[ -n "$pid" ]] || fail "no byok-operator process of pod ${holder%%_*} (uid $uid) found"
crashed=$holder
t=$(date +%s%N)
kill -KILL "$pid"
other_identity() {
  local hld; hld=$(lease_holder)
  [[ -n "$hld" && "$hld" != "$crashed" ]]
}
until_true 60 "a new identity" other_identity || fail "nobody took the Lease over after the leader's crash (holder: $(lease_holder))"
holder=$(lease_holder)
say "leader ${crashed%%_*} SIGKILLed (Lease not released); ${holder%%_*} holds it after $((($(date +%s%N) - t) / 1000000)) ms"
k rollout status deployment "$DEP" -n "$RNS" --timeout=120s >/dev/null ||
  fail "the Deployment did not get back to 2 Ready pods: $(k get pods -n "$RNS" -o wide)"
k apply -f - >/dev/null <<EOF
apiVersion: byok.dev/v1alpha1
kind: CustomerManagedKey
metadata: {name: cmk-2, namespace: $TNS}
spec: {provider: aws, resource: "$key2", providerRef: {name: aws}}
EOF
wait_cond customermanagedkey cmk-2 KeyVerified 90
say "CustomerManagedKey cmk-2 KeyVerified after both takeovers"

# --- helm upgrade to a changed value ---------------------------------------------------------
t=$(date +%s%N)
h upgrade "$REL" "$ROOT/charts/byok-operator" -n "$RNS" -f "$W/values.yaml" --set logging.level=debug \
  --wait --timeout 3m >"$W/helm-upgrade.log" 2>&1 || { cat "$W/helm-upgrade.log" >&2; fail "helm upgrade failed"; }
args=$(k get deployment "$DEP" -n "$RNS" -o jsonpath='{.spec.template.spec.containers[0].args}')
grep -q '"--log-level","debug"' <<<"$args" || fail "the upgraded Deployment does not pass --log-level debug: $args"
until_true 120 "the old pods gone" bash -c "! '$BYOK_KUBECTL' get pods -n $RNS -l app.kubernetes.io/instance=$REL -o jsonpath='{.items[*].spec.containers[0].args}' | grep -q '\"info\"'" ||
  fail "pods with the old arguments are still there"
say "helm upgrade (logging.level=debug): rolled out, 2 pods Ready in $((($(date +%s%N) - t) / 1000000)) ms"
k apply -f - >/dev/null <<EOF
apiVersion: byok.dev/v1alpha1
kind: CustomerManagedKey
metadata: {name: cmk-3, namespace: $TNS}
spec: {provider: aws, resource: "$key3", providerRef: {name: aws}}
EOF
wait_cond customermanagedkey cmk-3 KeyVerified 90
say "CustomerManagedKey cmk-3 KeyVerified after the upgrade (leader ${holder%%_*} -> $(lease_holder | cut -d_ -f1))"

# The objects go while the operator runs: their finalizers are its to remove.
t=$(date +%s%N)
k delete importedkey ik-aws -n "$TNS" --timeout=90s >/dev/null || fail "ImportedKey ik-aws not deleted"
k delete customermanagedkeys --all -n "$TNS" --timeout=90s >/dev/null || fail "CustomerManagedKeys not deleted"
k delete kmsprovider aws -n "$TNS" --timeout=90s >/dev/null || fail "KmsProvider aws not deleted"
k delete hsmkeypolicy e2e --timeout=60s >/dev/null
k delete clusterkmsprovider aws-e2e --timeout=60s >/dev/null || fail "ClusterKmsProvider aws-e2e not deleted"
say "objects deleted through the operator's finalizers in $((($(date +%s%N) - t) / 1000000)) ms"

# --- helm uninstall --------------------------------------------------------------------------
h get manifest "$REL" -n "$RNS" >"$W/manifest.yaml"
installed=$(k get -f "$W/manifest.yaml" -o name | wc -l)
t=$(date +%s%N)
h uninstall "$REL" -n "$RNS" --wait --timeout 2m >"$W/helm-uninstall.log" 2>&1 ||
  { cat "$W/helm-uninstall.log" >&2; fail "helm uninstall failed"; }
until_true 60 "the pods gone" bash -c "[[ -z \$('$BYOK_KUBECTL' get pods -n $RNS -o name) ]]" ||
  fail "operator pods left after helm uninstall: $(k get pods -n "$RNS" -o name)"
sel=app.kubernetes.io/instance=$REL
left=$(k get deployments,replicasets,pods,services,serviceaccounts,roles,rolebindings,poddisruptionbudgets,configmaps,secrets \
  -n "$RNS" -l "$sel" -o name; k get clusterroles,clusterrolebindings -l "$sel" -o name)
[[ -z "$left" ]] || fail "left after helm uninstall: $left"
left=$(k get -f "$W/manifest.yaml" --ignore-not-found -o name)
[[ -z "$left" ]] || fail "of the release's manifest, left after helm uninstall: $left"
# The Lease is the chart's (the operator only writes its spec): it goes with the release.
left=$(k get lease -n "$RNS" -o name)
[[ -z "$left" ]] || fail "Leases left after helm uninstall: $left"
say "helm uninstall: none of the release's $installed objects, no pod and no Lease left in $((($(date +%s%N) - t) / 1000000)) ms"
say "passed"
