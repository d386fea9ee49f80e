#!/usr/bin/env bash
# Starts and stops the Azure Key Vault test servers for integration tests: the strict fakes of
# Microsoft Entra ID and of Key Vault's key API, a vault and a Managed HSM (tests/fakes/azure/
# fake_azure_key_vault.py), one process with three TLS listeners on 127.0.0.1, behind a throwaway
# CA.
#
#   tests/harness/azure-kms.sh start DIR   # creates DIR, starts the fakes, writes DIR/env
#   source DIR/env                         # BYOK_AZURE_* variables, see below
#   tests/harness/azure-kms.sh stop DIR    # stops them; DIR stays, the caller removes it
#
# DIR/env sets:
#   BYOK_AZURE_VAULT_URL=https://byok-test.vault.azure.net  the vault's name (kids, token scope)
#   BYOK_AZURE_ENDPOINT=https://127.0.0.1:PORT     where the vault answers (spec.endpoint)
#   BYOK_AZURE_AUTHORITY_HOST=https://127.0.0.1:PORT  where Entra answers (authorityHost)
#   BYOK_AZURE_CA_FILE=DIR/pki/ca.crt              the CA of both listeners' certificate
#   BYOK_AZURE_TENANT_ID, BYOK_AZURE_CLIENT_ID, BYOK_AZURE_CLIENT_SECRET, BYOK_AZURE_OBJECT_ID
#                                                  an app registration with a client secret
#   BYOK_AZURE_FEDERATED_CLIENT_ID, BYOK_AZURE_FEDERATED_OBJECT_ID
#                                                  an app with a federated identity credential
#   BYOK_AZURE_FEDERATED_TOKEN_DIR=DIR/federated   the issuer: an assertion is accepted when it
#                                                  equals the current contents of a file here
#   BYOK_AZURE_FAKE_URL=https://127.0.0.1:PORT     the vault listener's /__fake/ test endpoints
#   BYOK_AZURE_HSM_URL=https://byok-test.managedhsm.azure.net  the Managed HSM's name
#   BYOK_AZURE_HSM_ENDPOINT=https://127.0.0.1:PORT where the Managed HSM answers (spec.endpoint;
#                                                  its /__fake/ test endpoints too)
#
# The listeners' certificate (DIR/pki/azure.crt, from the same CA) names 127.0.0.1, localhost,
# *.vault.azure.net, *.managedhsm.azure.net and login.microsoftonline.com: a client that connects
# to 127.0.0.1 but keeps the real names (the conformance test, tests/conformance/
# test_azure_sdk.py) gets real Host headers and certificate checks. The vault and HSM listeners
# route by Host; a loopback Host (what the operator's client sends to spec.endpoint) reaches the
# listener's own store.
#
# Why fakes and no real server: lowkey-vault (the Key Vault test double this project meant to
# run) is not published on Maven Central as an application (only lowkey-vault-client and
# lowkey-vault-testcontainers are, which need its Docker image), and no other Key Vault emulator
# can be installed from the registries this project uses. Even lowkey-vault has no Entra
# endpoint, checks no bearer token and does not implement key_hsm (BYOK) imports; the fake does
# all three (see its header for what it checks and what it leaves out).
#
# Needs python3 (with venv), openssl, curl. The fake's Python (with `cryptography`) comes from
# fakes_python in lib.sh.
set -euo pipefail

READY_TIMEOUT=${BYOK_READY_TIMEOUT:-60}
VAULT_URL=https://byok-test.vault.azure.net
HSM_URL=https://byok-test.managedhsm.azure.net
FAKE=$(cd "$(dirname "${BASH_SOURCE[0]}")/../fakes/azure" && pwd)/fake_azure_key_vault.py

die() { printf 'azure-kms: %s\n' "$*" >&2; exit 1; }
usage() { die "usage: $0 start|stop DIR"; }

SERVER_NAME=azure-kms
SERVER_LOG=fake.log
# shellcheck source=tests/harness/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# True when PID is alive and is the fake on the vault port recorded in DIR.
is_ours() {
  local pid=$1 dir=$2
  [[ -n "$pid" && -r /proc/$pid/cmdline && -f "$dir/vault-port" ]] || return 1
  tr '\0' ' ' </proc/"$pid"/cmdline |
    grep -q -- "fake_azure_key_vault.py .*--vault-port $(cat "$dir/vault-port") "
}

uuid() { python3 -c 'import uuid; print(uuid.uuid4())'; }

# DIR/pki/azure.crt and azure.key: a server certificate from make_test_pki's CA for the loopback
# addresses and the Azure names the fakes answer for.
make_azure_cert() {
  local d=$1/pki
  (
    cd "$d"
    openssl req -newkey rsa:2048 -nodes -keyout azure.key -out azure.csr \
      -subj "/CN=byok-test.vault.azure.net" 2>/dev/null
    printf '%s\n' 'basicConstraints=CA:FALSE' 'keyUsage=critical,digitalSignature,keyEncipherment' \
      'extendedKeyUsage=serverAuth' \
      'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:*.vault.azure.net,DNS:*.managedhsm.azure.net,DNS:login.microsoftonline.com' \
      >azure.ext
    openssl x509 -req -in azure.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
      -out azure.crt -days 30 -extfile azure.ext 2>/dev/null
    chmod 600 azure.key
  ) || { printf 'certificate generation with openssl failed in %s\n' "$d" >&2; return 1; }
}

start_fake() {
  local dir=$1 python entra_port vault_port hsm_port secret
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [[ -f "$dir/pid" ]] && is_ours "$(cat "$dir/pid")" "$dir" && [[ -f "$dir/env" ]]; then
    return 0
  fi
  stop_server "$dir"
  rm -f "$dir/env" "$dir/env.tmp"
  python=$(fakes_python) || die "no Python for the fakes"
  [[ -f "$dir/pki/server.crt" ]] || make_test_pki "$dir" byok-azure || die "certificates"
  [[ -f "$dir/pki/azure.crt" ]] || make_azure_cert "$dir" || die "certificates"
  mkdir -p "$dir/federated"
  entra_port=$(free_port)
  vault_port=$(free_port)
  [[ "$entra_port" != "$vault_port" ]] || vault_port=$(free_port)
  hsm_port=$(free_port)
  while [[ "$hsm_port" == "$entra_port" || "$hsm_port" == "$vault_port" ]]; do hsm_port=$(free_port); done
  echo "$vault_port" >"$dir/vault-port"
  secret=$(openssl rand -hex 24)
  {
    echo "export BYOK_AZURE_VAULT_URL=$VAULT_URL"
    echo "export BYOK_AZURE_ENDPOINT=https://127.0.0.1:$vault_port"
    echo "export BYOK_AZURE_AUTHORITY_HOST=https://127.0.0.1:$entra_port"
    echo "export BYOK_AZURE_FAKE_URL=https://127.0.0.1:$vault_port"
    echo "export BYOK_AZURE_CA_FILE=$dir/pki/ca.crt"
    echo "export BYOK_AZURE_TENANT_ID=$(uuid)"
    echo "export BYOK_AZURE_CLIENT_ID=$(uuid)"
    echo "export BYOK_AZURE_CLIENT_SECRET=$secret"
    echo "export BYOK_AZURE_OBJECT_ID=$(uuid)"
    echo "export BYOK_AZURE_FEDERATED_CLIENT_ID=$(uuid)"
    echo "export BYOK_AZURE_FEDERATED_OBJECT_ID=$(uuid)"
    echo "export BYOK_AZURE_FEDERATED_TOKEN_DIR=$dir/federated"
    echo "export BYOK_AZURE_HSM_URL=$HSM_URL"
    echo "export BYOK_AZURE_HSM_ENDPOINT=https://127.0.0.1:$hsm_port"
  } >"$dir/env.tmp"
  # shellcheck disable=SC1091
  source "$dir/env.tmp"
  setsid "$python" "$FAKE" --entra-port "$entra_port" --vault-port "$vault_port" \
    --hsm-port "$hsm_port" --cert "$dir/pki/azure.crt" --key "$dir/pki/azure.key" \
    --vault-url "$VAULT_URL" --hsm-url "$HSM_URL" \
    --tenant-id "$BYOK_AZURE_TENANT_ID" --client-id "$BYOK_AZURE_CLIENT_ID" \
    --client-secret "$BYOK_AZURE_CLIENT_SECRET" --object-id "$BYOK_AZURE_OBJECT_ID" \
    --federated-client-id "$BYOK_AZURE_FEDERATED_CLIENT_ID" \
    --federated-object-id "$BYOK_AZURE_FEDERATED_OBJECT_ID" \
    --federated-token-dir "$dir/federated" >"$dir/fake.log" 2>&1 </dev/null &
  echo $! >"$dir/pid"
  # The vault, the Managed HSM and Entra: three listeners of one process.
  ready() {
    curl -fsS --cacert "$dir/pki/ca.crt" -o /dev/null "https://127.0.0.1:$vault_port/__fake/health" &&
      curl -fsS --cacert "$dir/pki/ca.crt" -o /dev/null "https://127.0.0.1:$hsm_port/__fake/health" &&
      curl -sS --cacert "$dir/pki/ca.crt" -o /dev/null "https://127.0.0.1:$entra_port/"
  }
  wait_ready "$dir" "on ports $entra_port/$vault_port/$hsm_port" ready
  mv "$dir/env.tmp" "$dir/env"
}

[[ $# -eq 2 ]] || usage
case "$1" in
  start) start_fake "$2" ;;
  stop) [[ -d "$2" ]] && stop_server "$(cd "$2" && pwd)"; exit 0 ;;
  *) usage ;;
esac
