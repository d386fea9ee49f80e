#!/usr/bin/env bash
# Admission tests for the byok CRDs against a real kube-apiserver.
#
#   tests/harness/control-plane.sh start /tmp/cp && source /tmp/cp/env
#   tests/integration/crd_admission/run.sh
#
# Needs KUBECONFIG and BYOK_KUBECTL (from the harness's DIR/env; BYOK_KUBECTL falls back to
# kubectl on PATH). Each run works in a fresh namespace (namespaces are never deleted: without
# kube-controller-manager a deleted namespace stays Terminating).
#
# Cases live in cases/, one manifest per file, without a namespace:
#   NN-name.yaml         with a line `# expect: <text>`: creating it must be refused with an error
#                        containing <text>.
#   NN-name.yaml         without `# expect:` and with a sibling NN-name.update.yaml: the first must
#   NN-name.update.yaml  be accepted, then applying the update (server-side apply of the whole
#                        object) must be refused with the update file's `# expect: <text>`.
# Then every file in examples/ must really be created: files with cluster-scoped objects
# (Namespace, ClusterKmsProvider, HsmKeyPolicy) are applied as they are; everything else is
# created in the test namespace (metadata.namespace stripped).
# Prints PASS/FAIL per case and ends with `N passed, M failed`; exits 1 on any failure.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
KUBECTL=${BYOK_KUBECTL:-kubectl}
: "${KUBECONFIG:?KUBECONFIG is not set: source the harness DIR/env first}"
export KUBECONFIG

NS="byok-adm-$(date +%s)-$RANDOM"
passed=0
failed=0

pass() { printf 'PASS %s\n' "$1"; passed=$((passed + 1)); }
fail() {
  printf 'FAIL %s: %s\n' "$1" "$2"
  failed=$((failed + 1))
}

expect_of() { sed -n 's/^#[[:space:]]*expect:[[:space:]]*//p' "$1" | head -n 1; }

# Runs kubectl; its combined output lands in $out and its status is returned.
out=
k() { out=$("$KUBECTL" "$@" 2>&1); }

# Creation (or update) must fail with text containing $expect.
check_refused() {
  local name=$1 expect=$2 rc=$3
  if ((rc == 0)); then
    fail "$name" "accepted, expected refusal containing: $expect"
  elif [[ "$out" != *"$expect"* ]]; then
    fail "$name" "refused, but the error lacks \"$expect\": $out"
  else
    pass "$name"
  fi
}

if ! k create namespace "$NS"; then
  echo "cannot create namespace $NS: $out" >&2
  echo "0 passed, 1 failed"
  exit 1
fi

shopt -s nullglob
for f in "$HERE"/cases/*.yaml; do
  base=$(basename "$f" .yaml)
  [[ $base == *.update ]] && continue
  upd="$HERE/cases/$base.update.yaml"
  if [[ -f $upd ]]; then
    expect=$(expect_of "$upd")
    if [[ -z $expect ]]; then fail "$base" "no '# expect:' line in $(basename "$upd")"; continue; fi
    if ! k apply --server-side --field-manager=crd-admission -n "$NS" -f "$f"; then
      fail "$base" "the valid object was refused: $out"
      continue
    fi
    k apply --server-side --field-manager=crd-admission -n "$NS" -f "$upd"
    check_refused "$base (update)" "$expect" $?
  else
    expect=$(expect_of "$f")
    if [[ -z $expect ]]; then fail "$base" "no '# expect:' line and no $base.update.yaml"; continue; fi
    k create -n "$NS" -f "$f"
    check_refused "$base" "$expect" $?
  fi
done

for f in "$ROOT"/examples/*.yaml; do
  name="example $(basename "$f")"
  if grep -qE '^kind:[[:space:]]*(Namespace|ClusterKmsProvider|HsmKeyPolicy)[[:space:]]*$' "$f"; then
    # Cluster-scoped objects as they are, applied: idempotent, so that a second run on the same
    # control plane passes too.
    if k apply -f "$f"; then pass "$name"; else fail "$name" "$out"; fi
    continue
  fi
  # Only metadata.namespace sits at two spaces of indentation in these manifests.
  if out=$(sed -E '/^  namespace:/d' "$f" | "$KUBECTL" create -n "$NS" -f - 2>&1); then
    pass "$name"
  else
    fail "$name" "$out"
  fi
done

# Defaults the operator relies on (schema defaults are applied by the apiserver).
check_field() {
  local name=$1 ref=$2 path=$3 want=$4
  if ! k get -n "$NS" "$ref" -o "jsonpath={$path}"; then
    fail "$name" "$out"
  elif [[ "$out" != "$want" ]]; then
    fail "$name" "$path is '$out', want '$want'"
  else
    pass "$name"
  fi
}
check_field "default cmk.spec.default" customermanagedkey/cmk-gcp .spec.default false
check_field "default cmk.spec.deletionPolicy" customermanagedkey/cmk-gcp .spec.deletionPolicy Retain
check_field "default ik.spec.allowRotation" importedkey/ik-gcp .spec.allowRotation false
check_field "default ik.spec.source.wrappedSecretRef.key" importedkey/ik-oci .spec.source.wrappedSecretRef.key wrapped
check_field "default kmsp.spec.caSecretRef.key" kmsprovider/aws .spec.caSecretRef.key ca.crt
check_field "default kmsp.spec.transit.mountPath" kmsprovider/transit .spec.transit.mountPath transit

# The status subresource: a well-formed status is accepted, spec stays untouched.
if k patch -n "$NS" customermanagedkey/cmk-oci --subresource=status --type=merge -p \
  '{"status":{"id":"4f7c2a8e-3b1d-4c6e-9a0f-1e2d3c4b5a69","status":"current","default":false,"keyState":"ENABLED","observedGeneration":1,"conditions":[{"type":"Ready","status":"True","reason":"KeyVerified","message":"","lastTransitionTime":"2026-11-23T10:00:00Z","observedGeneration":1}]}}'; then
  pass "status patch cmk"
else
  fail "status patch cmk" "$out"
fi
k patch -n "$NS" customermanagedkey/cmk-oci --subresource=status --type=merge -p \
  '{"status":{"id":"00000000-0000-4000-8000-000000000000"}}'
check_refused "status.id is assigned once" "status.id is assigned once" $?

echo "$passed passed, $failed failed"
((failed == 0))
