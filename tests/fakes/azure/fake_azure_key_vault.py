#!/usr/bin/env python3
"""Strict fakes of Microsoft Entra ID and of Azure Key Vault's key API (a vault and a Managed HSM).

One process, TLS listeners on 127.0.0.1 (tests/harness/azure-kms.sh starts it): one for Entra, one
for the vault and, when --hsm-port is given, one for the Managed HSM. The listeners present the
certificate they are given; the harness's names 127.0.0.1, localhost, *.vault.azure.net,
*.managedhsm.azure.net and login.microsoftonline.com, so a client that maps those names to
127.0.0.1 (the conformance test, tests/conformance/test_azure_sdk.py) keeps real host names, Host
headers and certificate checks.

  Entra ID (Microsoft identity platform v2.0 endpoints):
    POST /{tenant}/oauth2/v2.0/token   OAuth 2.0 client credentials: grant_type=client_credentials,
                                       client_id, scope={resource}/.default, client_secret |
                                       client_assertion_type (jwt-bearer) + client_assertion;
                                       other members (claims, client_info, ...) are ignored
    GET  /{tenant}/v2.0/.well-known/openid-configuration
                                       OpenID Connect discovery (what MSAL reads before it asks
                                       for a token): endpoints on the host the request named
    GET  /{tenant}/discovery/v2.0/keys the token signing key (JWKS, without x5c)
    GET  /common/discovery/instance?authorization_endpoint=...
                                       MSAL's instance discovery: known for Microsoft's public
                                       cloud hosts (login.microsoftonline.com and its aliases);
                                       any other authority, 127.0.0.1 included, gets Entra's
                                       invalid_instance (AADSTS50049), as the real service answers,
                                       so a client pointed at the fake by IP must disable instance
                                       discovery (azure-identity: disable_instance_discovery=True)
  It answers for Host login.microsoftonline.com (and its aliases login.windows.net,
  login.microsoft.com, sts.windows.net) and for a loopback Host (any port). It knows one
  tenant and two applications: one with a client secret, one with a federated identity
  credential. An assertion is accepted when it equals the current contents of a file in the
  federated-token directory (the issuer whose tokens the app trusts), so a client that kept a
  stale assertion instead of re-reading its file is refused. Two resources exist: the vault's
  (--resource, https://vault.azure.net) and the Managed HSM's (--hsm-resource,
  https://managedhsm.azure.net); another scope is AADSTS500011, a scope without /.default
  AADSTS1002012. Errors are Entra's shape: {"error", "error_description": "AADSTSnnnn: ...",
  "error_codes", "timestamp", "trace_id", "correlation_id"}. Tokens are RS256 JWTs signed by this
  fake, with aud (the scope's resource), iss, iat, nbf, exp, appid, appidacr, oid, sub, tid,
  ver 1.0 (what Entra issues for Key Vault's v1 resources).

  Azure Key Vault keys (azure-rest-api-specs, specification/keyvault/data-plane/
  Microsoft.KeyVault/stable/<version>/keys.json and common.json). api-version must be one of the
  published stable versions (2016-10-01, 7.0 to 7.6, 2025-07-01; the Managed HSM and oct-HSM from
  7.2 on); another, a missing or a repeated one is refused (400 BadParameter). Two stores:
    --vault-url (https://byok-test.vault.azure.net): a Premium vault with soft delete: RSA,
      RSA-HSM, EC, EC-HSM keys (oct and oct-HSM are refused, as a vault refuses them);
    --hsm-url (https://byok-test.managedhsm.azure.net): a Managed HSM with soft delete: RSA-HSM,
      EC-HSM and oct-HSM (AES, key_size 128, 192 or 256) keys only; public_exponent (3 or 65537)
      only here.
  Calls:
    POST   /keys/{name}/create            CreateKey (kty, key_size, crv, public_exponent,
                                          key_ops, attributes, tags)
    PUT    /keys/{name}                   ImportKey: key.key_hsm, the base64url of a .byok file
                                          (Microsoft's "Bring your own key specification"), for
                                          RSA-HSM, EC-HSM and, in the Managed HSM, oct-HSM; in the
                                          Managed HSM also a plain oct/oct-HSM JWK (key.k)
    GET    /keys/{name}[/{version}]       GetKey (an empty version is the latest)
    GET    /keys                          GetKeys           (maxresults 1-25, default 25;
    GET    /keys/{name}/versions          GetKeyVersions     $skiptoken; nextLink on the store's
    GET    /deletedkeys                   GetDeletedKeys     name, ":443", as Key Vault writes it)
    PATCH  /keys/{name}/{version}         UpdateKey (attributes enabled/nbf/exp, key_ops, tags;
                                          an empty version means the latest)
    DELETE /keys/{name}                   DeleteKey (soft delete)
    GET    /deletedkeys/{name}            GetDeletedKey
    POST   /deletedkeys/{name}/recover    RecoverDeletedKey
    DELETE /deletedkeys/{name}            PurgeDeletedKey
  Routing by Host, as Key Vault does ("the Host header must specify the vault hostname"): the
  store's DNS name (with or without :443) reaches that store on any of the store listeners.
  Deviation for this project's C++ client: it sends the requests to spec.endpoint
  (https://127.0.0.1:PORT) and its transport writes Host: 127.0.0.1:PORT, which the real service would
  not route; here a loopback Host (127.0.0.1, localhost, [::1], any port, so a forwarder may sit
  in between) reaches the listener's own store (the vault's listener the vault, the HSM's the
  HSM). Any other Host is refused with 400 BadParameter (Key Vault documents no answer for a
  Host it does not serve; this one cannot be mistaken for a missing key). Every call needs "Authorization: Bearer <token this fake issued>" for the store's
  resource: the signature, audience (https://vault.azure.net for the vault,
  https://managedhsm.azure.net for the HSM: AKV10022 otherwise), issuer, expiry and revocation are
  checked; a call without a token gets 401 with the WWW-Authenticate challenge (authorization=
  "https://login.microsoftonline.com/{tenant}", resource=the store's resource) that the SDKs'
  challenge authentication reads. Errors are KeyVaultError: {"error": {"code", "message",
  "innererror"?}}.

  The key_hsm import is real: the .byok header.kid must be the full kid (with version) of an
  enabled RSA-HSM key of the same store whose only key_op is "import"; the ciphertext is
  unwrapped with that KEK's private half (CKM_RSA_AES_KEY_WRAP: RSA-OAEP SHA-1 of an AES key, then
  AES key wrap with padding, RFC 5649); for RSA-HSM and EC-HSM the result must parse as a PKCS#8
  private key of the kty/crv asked for (its public half becomes the key's JWK), for oct-HSM it must
  be 16, 24 or 32 raw AES key bytes. The unwrapped bytes stay in memory only.

  Where the service's answer is not documented, the fake chooses: an unknown Host is 400
  BadParameter (above); an oct-HSM CreateKey without key_size is refused rather than given a
  default; GetKeyVersions of a name without keys is an empty list.

  Test-only endpoints (no auth, on each store listener, for the listener's store):
    GET  /__fake/health                             readiness
    GET  /__fake/keys/{name}/material-sha256[?version=V]
                                                    {"sha256": hex of the imported PKCS#8 bytes
                                                     (oct-HSM: of the raw AES key),
                                                     "public_sha256": hex of its public key's SPKI}
    POST /__fake/revoke-tokens[?client_id=C]        every token issued so far (to C) is refused
    GET  /__fake/stats                              {"token_requests": {client_id: n}, ...}

Deliberately not implemented: plain JWK imports of RSA and EC keys (private members instead of
key_hsm), cryptographic operations (encrypt, sign, wrapKey, ...), backup/restore, rotation
policies, release policies, attestation, get_random_bytes, certificates and secrets, purge
protection, the Managed HSM's role-based access control and security domain, CAE claims
challenges, Entra's other grants and endpoints (authorize, device code, logout, v1 endpoints), and
x5c in the JWKS.
"""

import argparse
import base64
import hashlib
import json
import os
import re
import ssl
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap_with_padding

# Key Vault's published stable data-plane versions (azure-rest-api-specs stable/ folders, and the
# ApiVersion enum of azure-keyvault-keys 4.11), oldest first.
API_VERSIONS = ("2016-10-01", "7.0", "7.1", "7.2", "7.3", "7.4", "7.5", "7.6", "2025-07-01")
LATEST_API_VERSION = API_VERSIONS[-1]
MANAGED_HSM_SINCE = "7.2"  # the first version with Managed HSM and oct-HSM keys
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# Microsoft's public cloud authority hosts (MSAL's well-known list, public cloud only).
MS_AUTHORITY_HOSTS = ("login.microsoftonline.com", "login.windows.net", "login.microsoft.com",
                      "sts.windows.net")
CHALLENGE_AUTHORITY = "https://login.microsoftonline.com"
NAME_RE = re.compile(r"^[0-9a-zA-Z-]{1,127}$")
B64URL_RE = re.compile(r"^[A-Za-z0-9_-]*$")
KEY_OPS = {"encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey", "import", "export"}
RSA_OPS = ["encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey"]
EC_OPS = ["sign", "verify"]
OCT_OPS = ["encrypt", "decrypt", "wrapKey", "unwrapKey"]
OCT_SIZES = (128, 192, 256)
CURVES = {"P-256": ec.SECP256R1, "P-384": ec.SECP384R1, "P-521": ec.SECP521R1,
          "P-256K": ec.SECP256K1}
CURVE_BY_NAME = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521",
                 "secp256k1": "P-256K"}
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "k"}


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text):
    if not isinstance(text, str) or not B64URL_RE.match(text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def int_bytes(n):
    return n.to_bytes((n.bit_length() + 7) // 8, "big")


def host_of(header):
    """A Host header as a lower-case authority without the https default port; '' if unusable."""
    host = (header or "").strip().lower()
    if host.endswith(":443"):
        host = host[:-4]
    if not host or any(c in host for c in "/\\@ \t?#"):
        return ""
    return host


def is_loopback(host):
    """True for 127.0.0.1, localhost and [::1], with any port: a client that reached this process
    by address (a forwarder in between may have changed the port)."""
    name = host[1:].split("]")[0] if host.startswith("[") else host.split(":")[0]
    return name in ("127.0.0.1", "localhost", "::1")


def is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


class KvError(Exception):
    def __init__(self, status, code, message, inner=None, headers=None):
        super().__init__(message)
        self.status, self.code, self.message, self.inner = status, code, message, inner
        self.headers = headers or {}


class Entra:
    """The tenant, its two applications, the resources and the tokens issued."""

    def __init__(self, args):
        self.tenant = args.tenant_id
        self.apps = {
            args.client_id: {"secret": args.client_secret, "oid": args.object_id},
            args.federated_client_id: {"federated": True, "oid": args.federated_object_id},
        }
        self.federated_dir = args.federated_token_dir
        self.resources = (args.resource, args.hsm_resource)
        self.lifetime = args.token_lifetime
        self.signing_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.issued = {}      # jti -> client id, for every token handed out
        self.revoked = set()
        self.requests = {}
        self.lock = threading.Lock()

    def issuer(self):
        return "https://sts.windows.net/%s/" % self.tenant

    def error(self, status, error, code, description):
        now = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime())
        trace = str(uuid.uuid4())
        body = {
            "error": error,
            "error_description": "AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\n"
                                 "Timestamp: %s" % (code, description, trace, uuid.uuid4(), now),
            "error_codes": [code], "timestamp": now, "trace_id": trace,
            "correlation_id": str(uuid.uuid4()),
            "error_uri": "https://login.microsoftonline.com/error?code=%d" % code,
        }
        return status, body

    def unknown_tenant(self, status, error, tenant):
        return self.error(status, error, 90002,
                          "Tenant '%s' not found. Check to make sure you have the correct tenant "
                          "ID and are signing into the correct cloud." % tenant)

    def federated_assertions(self):
        found = set()
        for name in os.listdir(self.federated_dir):
            try:
                with open(os.path.join(self.federated_dir, name)) as f:
                    found.add(f.read().strip())
            except OSError:
                pass
        return found

    # --- discovery --------------------------------------------------------------------------
    def openid_configuration(self, tenant, base):
        """OpenID Connect discovery, endpoints on `base` (https://<the Host the client named>)."""
        if tenant != self.tenant:
            return self.unknown_tenant(400, "invalid_tenant", tenant)
        root = "%s/%s" % (base, tenant)
        return 200, {
            "token_endpoint": root + "/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt",
                                                      "client_secret_basic"],
            "jwks_uri": root + "/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": "%s/%s/v2.0" % (CHALLENGE_AUTHORITY, tenant),
            "request_uri_parameter_supported": False,
            "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
            "authorization_endpoint": root + "/oauth2/v2.0/authorize",
            "device_authorization_endpoint": root + "/oauth2/v2.0/devicecode",
            "http_logout_supported": True,
            "frontchannel_logout_supported": True,
            "end_session_endpoint": root + "/oauth2/v2.0/logout",
            "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name",
                                 "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat",
                                 "auth_time", "acr", "nonce", "preferred_username", "name", "tid",
                                 "ver", "at_hash", "c_hash", "email"],
            "kerberos_endpoint": root + "/kerberos",
            "tenant_region_scope": "EU",
            "cloud_instance_name": "microsoftonline.com",
            "cloud_graph_host_name": "graph.windows.net",
            "msgraph_host": "graph.microsoft.com",
            "rbac_url": "https://pas.windows.net",
        }

    def jwks(self, tenant):
        if tenant != self.tenant:
            return self.unknown_tenant(400, "invalid_tenant", tenant)
        pub = self.signing_key.public_key().public_numbers()
        return 200, {"keys": [{"kty": "RSA", "use": "sig", "kid": "byok-fake-entra",
                               "n": b64url(int_bytes(pub.n)), "e": b64url(int_bytes(pub.e)),
                               "issuer": "%s/%s/v2.0" % (CHALLENGE_AUTHORITY, tenant)}]}

    def instance_discovery(self, query):
        endpoint = query.get("authorization_endpoint", [""])
        if len(endpoint) != 1 or not endpoint[0]:
            return self.error(400, "invalid_request", 900144,
                              "The request body must contain the following parameter: "
                              "'authorization_endpoint'.")
        parts = urllib.parse.urlsplit(endpoint[0])
        if parts.scheme != "https" or parts.netloc.lower() not in MS_AUTHORITY_HOSTS:
            return self.error(400, "invalid_instance", 50049, "Unknown or invalid instance.")
        tenant = parts.path.strip("/").split("/")[0] or "common"
        return 200, {
            "tenant_discovery_endpoint": "https://%s/%s/v2.0/.well-known/openid-configuration"
                                         % (parts.netloc.lower(), tenant),
            "api-version": "1.1",
            "metadata": [{"preferred_network": "login.microsoftonline.com",
                          "preferred_cache": "login.windows.net",
                          "aliases": list(MS_AUTHORITY_HOSTS)}],
        }

    # --- tokens -----------------------------------------------------------------------------
    def token_request(self, tenant, content_type, body):
        if tenant != self.tenant:
            return self.unknown_tenant(400, "invalid_request", tenant)
        if not content_type.startswith("application/x-www-form-urlencoded"):
            return self.error(400, "invalid_request", 900144,
                              "The request body must contain the following parameter: "
                              "'grant_type'.")
        try:
            form = urllib.parse.parse_qs(body.decode(), keep_blank_values=True, strict_parsing=True)
        except (ValueError, UnicodeDecodeError):
            return self.error(400, "invalid_request", 900144, "Malformed request body.")
        if any(len(v) != 1 for v in form.values()):
            return self.error(400, "invalid_request", 90014, "A parameter is repeated.")
        form = {k: v[0] for k, v in form.items()}
        if form.get("grant_type") != "client_credentials":
            return self.error(400, "unsupported_grant_type", 70003,
                              "The app requested an unsupported grant type '%s'."
                              % form.get("grant_type", ""))
        client_id = form.get("client_id", "")
        with self.lock:
            self.requests[client_id] = self.requests.get(client_id, 0) + 1
        app = self.apps.get(client_id)
        if app is None:
            return self.error(400, "unauthorized_client", 700016,
                              "Application with identifier '%s' was not found in the directory "
                              "'%s'." % (client_id, self.tenant))
        scope = form.get("scope", "")
        if not scope.endswith("/.default") or " " in scope.strip():
            return self.error(400, "invalid_scope", 1002012,
                              "The provided value for scope %s is not valid. Client credential "
                              "flows must have a scope value with /.default suffixed to the "
                              "resource identifier (application ID URI)." % scope)
        resource = scope.strip()[:-len("/.default")]
        if resource not in self.resources:
            return self.error(400, "invalid_resource", 500011,
                              "The resource principal named %s was not found in the tenant named "
                              "%s. This can happen if the application has not been installed by "
                              "the administrator of the tenant or consented to by any user in the "
                              "tenant. You might have sent your authentication request to the "
                              "wrong tenant." % (resource, self.tenant))
        has_secret = "client_secret" in form
        has_assertion = "client_assertion" in form or "client_assertion_type" in form
        if has_secret and has_assertion:
            return self.error(400, "invalid_request", 50027,
                              "Only one of client_secret and client_assertion may be sent.")
        if app.get("federated"):
            if not has_assertion:
                return self.error(401, "invalid_client", 7000218,
                                  "The request body must contain the following parameter: "
                                  "'client_assertion' or 'client_secret'.")
            if form.get("client_assertion_type") != JWT_BEARER:
                return self.error(400, "invalid_request", 50027,
                                  "Invalid client_assertion_type '%s'."
                                  % form.get("client_assertion_type", ""))
            if form.get("client_assertion", "") not in self.federated_assertions():
                return self.error(401, "invalid_client", 700213,
                                  "No matching federated identity record found for presented "
                                  "assertion subject.")
        else:
            if not has_secret:
                return self.error(401, "invalid_client", 7000218,
                                  "The request body must contain the following parameter: "
                                  "'client_assertion' or 'client_secret'.")
            if form["client_secret"] != app["secret"]:
                return self.error(401, "invalid_client", 7000215,
                                  "Invalid client secret provided. Ensure the secret being sent "
                                  "in the request is the client secret value, not the client "
                                  "secret ID, for a secret added to app '%s'." % client_id)
        now = int(time.time())
        claims = {
            "aud": resource, "iss": self.issuer(), "iat": now, "nbf": now,
            "exp": now + self.lifetime, "appid": client_id,
            "appidacr": "2" if app.get("federated") else "1", "idtyp": "app",
            "oid": app["oid"], "sub": app["oid"], "tid": self.tenant, "ver": "1.0",
            "jti": b64url(os.urandom(12)),
        }
        with self.lock:
            self.issued[claims["jti"]] = client_id
        return 200, {"token_type": "Bearer", "expires_in": self.lifetime,
                     "ext_expires_in": self.lifetime, "access_token": self.sign(claims)}

    def sign(self, claims):
        header = {"typ": "JWT", "alg": "RS256", "kid": "byok-fake-entra"}
        signing_input = (b64url(json.dumps(header).encode()) + "." +
                         b64url(json.dumps(claims).encode())).encode()
        sig = self.signing_key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        return signing_input.decode() + "." + b64url(sig)

    def verify(self, authorization, resource):
        """The claims of a valid bearer token for `resource`, else KvError 401 the way Key Vault
        words it, with the challenge that names the authority and the resource."""
        challenge = {"WWW-Authenticate": 'Bearer authorization="%s/%s", resource="%s"'
                     % (CHALLENGE_AUTHORITY, self.tenant, resource)}

        def refuse(message):
            return KvError(401, "Unauthorized", message, headers=challenge)

        if not authorization:
            raise refuse("AKV10000: Request is missing a Bearer or PoP token.")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise refuse("AKV10000: Request is missing a Bearer or PoP token.")
        parts = token.split(".")
        if len(parts) != 3:
            raise refuse("AKV10001: Token is malformed.")
        try:
            header = json.loads(b64url_decode(parts[0]))
            claims = json.loads(b64url_decode(parts[1]))
            sig = b64url_decode(parts[2])
        except (ValueError, UnicodeDecodeError):
            raise refuse("AKV10001: Token is malformed.")
        if not isinstance(header, dict) or not isinstance(claims, dict) or \
                header.get("alg") != "RS256":
            raise refuse("AKV10001: Token is malformed.")
        try:
            self.signing_key.public_key().verify(sig, (parts[0] + "." + parts[1]).encode(),
                                                 padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            raise refuse("[InvalidSignature] Error validating token: 'S2S12005'.")
        now = time.time()
        if claims.get("aud") != resource:
            raise refuse("AKV10022: Invalid audience. Expected %s, found: %s."
                         % (resource, claims.get("aud")))
        if claims.get("iss") != self.issuer():
            raise refuse("AKV10032: Invalid issuer. Expected one of %s, found %s."
                         % (self.issuer(), claims.get("iss")))
        exp = claims.get("exp", 0)
        if not isinstance(exp, (int, float)) or exp <= now:
            raise refuse("[TokenExpired] Error validating token: 'S2S12086'.")
        with self.lock:
            revoked = claims.get("jti") in self.revoked
        if revoked:
            raise refuse("[TokenRevoked] Error validating token: the token was revoked.")
        return claims


class KeyStore:
    """A vault or a Managed HSM: keys by name (a list of versions, oldest first), deleted keys
    aside."""

    def __init__(self, url, resource, managed_hsm, retention_days):
        self.url = url.rstrip("/").lower()
        self.host = host_of(urllib.parse.urlsplit(self.url).netloc)
        self.resource = resource
        self.managed_hsm = managed_hsm
        self.retention_days = retention_days
        self.recovery_level = ("Recoverable+Purgeable" if self.retention_days == 90
                               else "CustomizedRecoverable+Purgeable")
        self.keys = {}
        self.deleted = {}
        self.lock = threading.Lock()

    def key_types(self):
        return (("RSA-HSM", "EC-HSM", "oct-HSM") if self.managed_hsm
                else ("RSA", "RSA-HSM", "EC", "EC-HSM"))

    def refuse_kty(self, kty, what="Key type"):
        if self.managed_hsm:
            return KvError(400, "BadParameter",
                           "%s %s is not supported by a managed HSM, which holds only "
                           "HSM-protected keys (RSA-HSM, EC-HSM, oct-HSM)" % (what, kty))
        return KvError(400, "BadParameter",
                       "%s %s is not supported by this vault (RSA, RSA-HSM, EC, EC-HSM; oct-HSM "
                       "keys need a managed HSM)" % (what, kty))

    # --- helpers ------------------------------------------------------------------------------
    def not_found(self, name, version=""):
        ident = name + ("/" + version if version else "")
        return KvError(404, "KeyNotFound",
                       "A key with (name/id) %s was not found in this key vault. If you recently "
                       "deleted this key you may be able to recover it using the correct "
                       "recovery command. For help resolving this issue, please see "
                       "https://go.microsoft.com/fwlink/?linkid=2125182" % ident)

    def check_name(self, name):
        if not NAME_RE.match(name):
            raise KvError(400, "BadParameter",
                          "The request URI contains an invalid name: %s" % name)

    def check_not_deleted(self, name):
        if name in self.deleted:
            raise KvError(409, "Conflict",
                          "Key %s is currently in a deleted but recoverable state, and its name "
                          "cannot be reused; in this state, the key can only be recovered or "
                          "purged." % name, inner="ObjectIsDeletedButRecoverable")

    @staticmethod
    def check_attributes(attrs):
        if attrs is None:
            return {}
        if not isinstance(attrs, dict):
            raise KvError(400, "BadParameter", "attributes must be an object")
        out = {}
        for field in ("enabled", "exportable"):
            if field in attrs and attrs[field] is not None:
                if not isinstance(attrs[field], bool):
                    raise KvError(400, "BadParameter", "attributes.%s must be a boolean" % field)
                out[field] = attrs[field]
        for field in ("nbf", "exp"):
            if field in attrs and attrs[field] is not None:
                if not is_int(attrs[field]):
                    raise KvError(400, "BadParameter",
                                  "attributes.%s must be a unix time in seconds" % field)
                out[field] = attrs[field]
        for field in ("created", "updated", "recoveryLevel", "recoverableDays"):
            if field in attrs:
                raise KvError(400, "BadParameter", "attributes.%s is read-only" % field)
        return out

    @staticmethod
    def check_tags(tags):
        if tags is None:
            return {}
        if not isinstance(tags, dict) or len(tags) > 15:
            raise KvError(400, "BadParameter", "tags must be an object of at most 15 members")
        for k, v in tags.items():
            if not isinstance(v, str) or len(k) > 512 or len(v) > 256:
                raise KvError(400, "BadParameter",
                              "tag names are at most 512 and values at most 256 characters")
        return dict(tags)

    @staticmethod
    def check_ops(ops, allowed, default=None):
        if ops is None:
            return list(default) if default is not None else sorted(allowed)
        if not isinstance(ops, list) or not all(isinstance(o, str) for o in ops):
            raise KvError(400, "BadParameter", "key_ops must be an array of strings")
        for op in ops:
            if op not in KEY_OPS:
                raise KvError(400, "BadParameter", "Invalid key operation: %s" % op)
            if op not in allowed:
                raise KvError(400, "BadParameter",
                              "Key operation %s is not allowed for this key type" % op)
        return list(ops)

    @staticmethod
    def allowed_ops(kty):
        if kty.startswith("RSA"):
            return set(RSA_OPS) | ({"import"} if kty == "RSA-HSM" else set())
        if kty.startswith("EC"):
            return set(EC_OPS)
        return set(OCT_OPS)

    @staticmethod
    def check_import_op(kty, ops):
        if "import" in ops and (ops != ["import"] or kty != "RSA-HSM"):
            raise KvError(400, "BadParameter",
                          "The import operation is allowed only alone, on RSA-HSM keys "
                          "(a key exchange key)")

    def version_record(self, kty, private, ops, attrs, tags, material=None, secret=None):
        now = int(time.time())
        rec = {
            "version": uuid.uuid4().hex, "kty": kty, "private": private, "secret": secret,
            "key_ops": ops,
            "attributes": {"enabled": attrs.get("enabled", True), "created": now,
                           "updated": now, "recoveryLevel": self.recovery_level,
                           "recoverableDays": self.retention_days,
                           "exportable": attrs.get("exportable", False)},
            "tags": tags,
        }
        for field in ("nbf", "exp"):
            if field in attrs:
                rec["attributes"][field] = attrs[field]
        if material is not None:
            rec["material_sha256"] = hashlib.sha256(material).hexdigest()
            if private is not None:
                # The key itself, whatever PKCS#8 encoding carried it (HSMs differ).
                spki = private.public_key().public_bytes(
                    serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
                rec["public_sha256"] = hashlib.sha256(spki).hexdigest()
        return rec

    def bundle(self, name, rec):
        jwk = {"kid": "%s/keys/%s/%s" % (self.url, name, rec["version"]), "kty": rec["kty"],
               "key_ops": rec["key_ops"]}
        if rec["kty"].startswith("RSA"):
            pub = rec["private"].public_key().public_numbers()
            jwk["n"], jwk["e"] = b64url(int_bytes(pub.n)), b64url(int_bytes(pub.e))
        elif rec["kty"].startswith("EC"):
            pub = rec["private"].public_key().public_numbers()
            size = (rec["private"].curve.key_size + 7) // 8
            jwk["crv"] = CURVE_BY_NAME[rec["private"].curve.name]
            jwk["x"] = b64url(pub.x.to_bytes(size, "big"))
            jwk["y"] = b64url(pub.y.to_bytes(size, "big"))
        # oct-HSM: no public material.
        out = {"key": jwk, "attributes": dict(rec["attributes"])}
        if rec["tags"]:
            out["tags"] = dict(rec["tags"])
        return out

    def deleted_bundle(self, name, entry):
        out = self.bundle(name, entry["versions"][-1])
        out.update(self.deletion_info(name, entry))
        return out

    def deletion_info(self, name, entry):
        return {"recoveryId": "%s/deletedkeys/%s" % (self.url, name),
                "deletedDate": entry["deletedDate"],
                "scheduledPurgeDate": entry["scheduledPurgeDate"]}

    def item(self, name, rec, with_version):
        """A KeyItem: the kid (with the version when listing versions), attributes, tags."""
        out = {"kid": "%s/keys/%s" % (self.url, name) + ("/" + rec["version"] if with_version
                                                          else ""),
               "attributes": dict(rec["attributes"])}
        if rec["tags"]:
            out["tags"] = dict(rec["tags"])
        return out

    def find_version(self, name, version):
        versions = self.keys.get(name)
        if not versions:
            raise self.not_found(name)
        if not version:
            return versions[-1]
        for rec in versions:
            if rec["version"] == version:
                return rec
        raise self.not_found(name, version)

    # --- operations ---------------------------------------------------------------------------
    def create(self, name, body):
        self.check_name(name)
        kty = body.get("kty")
        attrs = self.check_attributes(body.get("attributes"))
        tags = self.check_tags(body.get("tags"))
        if kty not in self.key_types():
            raise self.refuse_kty(kty)
        private = secret = None
        if kty in ("RSA", "RSA-HSM"):
            size = body.get("key_size", 2048)
            if size is None:
                size = 2048
            if not is_int(size) or size not in (2048, 3072, 4096):
                raise KvError(400, "BadParameter", "Invalid key size: %s" % size)
            exponent = body.get("public_exponent")
            if exponent is not None:
                if not self.managed_hsm:
                    raise KvError(400, "BadParameter",
                                  "public_exponent is supported only by a managed HSM")
                if not is_int(exponent) or exponent not in (3, 65537):
                    raise KvError(400, "BadParameter", "Invalid public exponent: %s" % exponent)
            private = rsa.generate_private_key(public_exponent=exponent or 65537, key_size=size)
            ops = self.check_ops(body.get("key_ops"), self.allowed_ops(kty), RSA_OPS)
            self.check_import_op(kty, ops)
        elif kty in ("EC", "EC-HSM"):
            crv = body.get("crv") or "P-256"
            if crv not in CURVES:
                raise KvError(400, "BadParameter", "Invalid curve name: %s" % crv)
            private = ec.generate_private_key(CURVES[crv]())
            ops = self.check_ops(body.get("key_ops"), self.allowed_ops(kty), EC_OPS)
        else:  # oct-HSM, managed HSM only
            size = body.get("key_size")
            if not is_int(size) or size not in OCT_SIZES:
                raise KvError(400, "BadParameter",
                              "Invalid key size: %s (oct-HSM keys are 128, 192 or 256 bits)"
                              % size)
            secret = os.urandom(size // 8)
            ops = self.check_ops(body.get("key_ops"), self.allowed_ops(kty), OCT_OPS)
        with self.lock:
            self.check_not_deleted(name)
            rec = self.version_record(kty, private, ops, attrs, tags, secret=secret)
            self.keys.setdefault(name, []).append(rec)
            return 200, self.bundle(name, rec)

    def import_key(self, name, body):
        self.check_name(name)
        key = body.get("key")
        if not isinstance(key, dict):
            raise KvError(400, "BadParameter", "Property 'key' is required")
        if "Hsm" in body and body["Hsm"] is not None and not isinstance(body["Hsm"], bool):
            raise KvError(400, "BadParameter", "Hsm must be a boolean")
        kty = key.get("kty")
        attrs = self.check_attributes(body.get("attributes"))
        tags = self.check_tags(body.get("tags"))
        if "key_hsm" in key:
            return self.import_byok(name, key, kty, attrs, tags)
        if kty in ("oct", "oct-HSM") and "k" in key:
            return self.import_oct(name, key, kty, attrs, tags)
        if kty in ("oct", "oct-HSM"):
            raise self.refuse_kty(kty) if not self.managed_hsm else KvError(
                400, "BadParameter", "An oct key import needs key.k (or key.key_hsm)")
        raise KvError(400, "BadParameter",
                      "This fake implements BYOK imports (key.key_hsm) and, in a managed HSM, "
                      "plain oct-HSM imports (key.k) only")

    def import_oct(self, name, key, kty, attrs, tags):
        if not self.managed_hsm:
            raise self.refuse_kty(kty)
        extra = ({"n", "e", "x", "y", "crv"} | PRIVATE_MEMBERS - {"k"}) & set(key)
        if extra:
            raise KvError(400, "BadParameter", "An oct key cannot carry %s"
                          % ", ".join(sorted(extra)))
        try:
            secret = b64url_decode(key["k"])
        except ValueError:
            raise KvError(400, "BadParameter", "key.k is not base64url")
        if len(secret) * 8 not in OCT_SIZES:
            raise KvError(400, "BadParameter",
                          "Invalid key size: %d (oct-HSM keys are 128, 192 or 256 bits)"
                          % (len(secret) * 8))
        ops = self.check_ops(key.get("key_ops"), self.allowed_ops("oct-HSM"), OCT_OPS)
        with self.lock:
            self.check_not_deleted(name)
            rec = self.version_record("oct-HSM", None, ops, attrs, tags, material=secret,
                                      secret=secret)
            self.keys.setdefault(name, []).append(rec)
            return 200, self.bundle(name, rec)

    def import_byok(self, name, key, kty, attrs, tags):
        byok_types = ("RSA-HSM", "EC-HSM", "oct-HSM") if self.managed_hsm else ("RSA-HSM", "EC-HSM")
        if kty not in byok_types:
            raise KvError(400, "BadParameter",
                          "A key_hsm import needs kty %s in a %s, not %s"
                          % (", ".join(byok_types), "managed HSM" if self.managed_hsm else "vault",
                             kty))
        private_members = PRIVATE_MEMBERS & set(key)
        if private_members:
            raise KvError(400, "BadParameter", "key_hsm cannot be combined with %s"
                          % ", ".join(sorted(private_members)))
        allowed = self.allowed_ops(kty) - {"import"}
        ops = self.check_ops(key.get("key_ops"), allowed)
        try:
            blob = json.loads(b64url_decode(key["key_hsm"]))
        except (ValueError, UnicodeDecodeError):
            raise KvError(400, "BadParameter",
                          "key_hsm is not the base64url encoding of a BYOK JSON blob")
        header = blob.get("header") if isinstance(blob, dict) else None
        if (not isinstance(header, dict) or blob.get("schema_version") != "1.0.0" or
                header.get("alg") != "dir" or header.get("enc") != "CKM_RSA_AES_KEY_WRAP" or
                not isinstance(blob.get("ciphertext"), str) or
                not isinstance(blob.get("generator"), str)):
            raise KvError(400, "BadParameter",
                          "key_hsm: the BYOK blob needs schema_version 1.0.0, header {kid, "
                          "alg: dir, enc: CKM_RSA_AES_KEY_WRAP}, ciphertext and generator")
        with self.lock:
            self.check_not_deleted(name)
            kek = self.kek_for(header.get("kid"))
            try:
                wrapped = b64url_decode(blob["ciphertext"])
            except ValueError:
                raise KvError(400, "BadParameter", "key_hsm: ciphertext is not base64url")
            material = self.unwrap(kek, wrapped)
            private, secret = self.check_material(material, kty, key.get("crv"))
            rec = self.version_record(kty, private, ops, attrs, tags, material, secret)
            self.keys.setdefault(name, []).append(rec)
            return 200, self.bundle(name, rec)

    def kek_for(self, kid):
        prefix = self.url + "/keys/"
        if not isinstance(kid, str) or not kid.lower().startswith(prefix.lower()):
            raise KvError(400, "BadParameter",
                          "key_hsm: header.kid %r is not a key identifier of this %s"
                          % (kid, "managed HSM" if self.managed_hsm else "vault"))
        parts = kid[len(prefix):].split("/")
        if len(parts) != 2 or not parts[1]:
            raise KvError(400, "BadParameter",
                          "key_hsm: header.kid must name the KEK's version: %s" % kid)
        versions = self.keys.get(parts[0], [])
        rec = next((r for r in versions if r["version"] == parts[1]), None)
        if rec is None:
            raise KvError(400, "BadParameter", "key_hsm: the KEK %s does not exist" % kid)
        a = rec["attributes"]
        now = int(time.time())
        if (rec["kty"] != "RSA-HSM" or rec["key_ops"] != ["import"] or not a["enabled"] or
                a.get("exp", now + 1) <= now or a.get("nbf", now) > now):
            raise KvError(400, "BadParameter",
                          "key_hsm: %s is not an enabled RSA-HSM key exchange key with key_ops "
                          "[import]" % kid)
        return rec["private"]

    @staticmethod
    def unwrap(kek, wrapped):
        size = kek.key_size // 8
        if len(wrapped) <= size:
            raise KvError(400, "BadParameter",
                          "key_hsm: the ciphertext is shorter than the KEK's RSA block")
        try:
            aes_key = kek.decrypt(wrapped[:size], padding.OAEP(
                mgf=padding.MGF1(algorithm=hashes.SHA1()), algorithm=hashes.SHA1(), label=None))
        except ValueError:
            raise KvError(400, "BadParameter",
                          "key_hsm: RSA-OAEP (SHA-1) decryption of the wrapping key failed")
        if len(aes_key) not in (16, 24, 32):
            raise KvError(400, "BadParameter",
                          "key_hsm: the wrapping key is %d bytes, not an AES key" % len(aes_key))
        try:
            return aes_key_unwrap_with_padding(aes_key, wrapped[size:])
        except InvalidUnwrap:
            raise KvError(400, "BadParameter",
                          "key_hsm: AES key unwrap with padding (RFC 5649) failed")

    @staticmethod
    def check_material(material, kty, crv):
        """(private key, None) for RSA-HSM/EC-HSM, (None, AES key) for oct-HSM."""
        if kty == "oct-HSM":
            if len(material) * 8 not in OCT_SIZES:
                raise KvError(400, "BadParameter",
                              "key_hsm: the unwrapped AES key is %d bytes, not 16, 24 or 32"
                              % len(material))
            return None, material
        try:
            private = serialization.load_der_private_key(material, password=None)
        except (ValueError, TypeError):
            raise KvError(400, "BadParameter",
                          "key_hsm: the unwrapped key is not a PKCS#8 private key")
        if kty == "RSA-HSM":
            if not isinstance(private, rsa.RSAPrivateKey):
                raise KvError(400, "BadParameter", "key_hsm: kty RSA-HSM, but the key is not RSA")
            if private.key_size not in (2048, 3072, 4096):
                raise KvError(400, "BadParameter",
                              "key_hsm: RSA keys must be 2048, 3072 or 4096 bits")
        else:
            if not isinstance(private, ec.EllipticCurvePrivateKey):
                raise KvError(400, "BadParameter", "key_hsm: kty EC-HSM, but the key is not EC")
            actual = CURVE_BY_NAME.get(private.curve.name)
            if crv is None or crv != actual:
                raise KvError(400, "BadParameter",
                              "key_hsm: crv is %s, but the key's curve is %s" % (crv, actual))
        return private, None

    def get(self, name, version):
        with self.lock:
            return 200, self.bundle(name, self.find_version(name, version))

    def update(self, name, version, body):
        attrs = self.check_attributes(body.get("attributes"))
        with self.lock:
            rec = self.find_version(name, version)
            if body.get("key_ops") is not None:
                ops = self.check_ops(body["key_ops"], self.allowed_ops(rec["kty"]))
                self.check_import_op(rec["kty"], ops)
                rec["key_ops"] = ops
            if body.get("tags") is not None:
                rec["tags"] = self.check_tags(body["tags"])
            rec["attributes"].update(attrs)
            rec["attributes"]["updated"] = int(time.time())
            return 200, self.bundle(name, rec)

    def delete(self, name):
        with self.lock:
            if name not in self.keys:
                raise self.not_found(name)
            now = int(time.time())
            entry = {"versions": self.keys.pop(name), "deletedDate": now,
                     "scheduledPurgeDate": now + self.retention_days * 86400}
            self.deleted[name] = entry
            return 200, self.deleted_bundle(name, entry)

    def get_deleted(self, name):
        with self.lock:
            if name not in self.deleted:
                raise KvError(404, "KeyNotFound", "Deleted Key not found: %s" % name)
            return 200, self.deleted_bundle(name, self.deleted[name])

    def recover(self, name):
        with self.lock:
            if name not in self.deleted:
                raise KvError(404, "KeyNotFound", "Deleted Key not found: %s" % name)
            self.keys[name] = self.deleted.pop(name)["versions"]
            return 200, self.bundle(name, self.keys[name][-1])

    def purge(self, name):
        with self.lock:
            if name not in self.deleted:
                raise KvError(404, "KeyNotFound", "Deleted Key not found: %s" % name)
            del self.deleted[name]
            return 204, None

    def list_keys(self):
        with self.lock:
            return [self.item(n, v[-1], False) for n, v in sorted(self.keys.items())]

    def list_versions(self, name):
        with self.lock:
            return [self.item(name, r, True) for r in self.keys.get(name, [])]

    def list_deleted(self):
        with self.lock:
            out = []
            for n, entry in sorted(self.deleted.items()):
                item = self.item(n, entry["versions"][-1], False)
                item.update(self.deletion_info(n, entry))
                out.append(item)
            return out

    def material_sha256(self, name, version):
        with self.lock:
            versions = self.keys.get(name) or self.deleted.get(name, {}).get("versions", [])
            rec = next((r for r in reversed(versions)
                        if not version or r["version"] == version), None)
            if rec is None or "material_sha256" not in rec:
                return 404, {"error": "no imported material for %s" % name}
            out = {"sha256": rec["material_sha256"], "version": rec["version"]}
            if "public_sha256" in rec:
                out["public_sha256"] = rec["public_sha256"]
            return 200, out


def page(store, items, path, query, api_version):
    """One page of a list answer: maxresults (1-25, default 25) items from $skiptoken on."""
    n = 25
    if "maxresults" in query:
        raw = query["maxresults"]
        if len(raw) != 1 or not re.fullmatch(r"[0-9]{1,3}", raw[0]) or not 1 <= int(raw[0]) <= 25:
            raise KvError(400, "BadParameter",
                          "Invalid maxresults: %s (1 to 25)" % ",".join(raw))
        n = int(raw[0])
    offset = 0
    if "$skiptoken" in query:
        try:
            token = json.loads(b64url_decode(query["$skiptoken"][0]))
            offset = token["offset"]
            if not is_int(offset) or offset < 0 or token.get("path") != path:
                raise ValueError
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            raise KvError(400, "BadParameter", "Invalid $skiptoken")
    chunk = items[offset:offset + n]
    next_link = None
    if offset + n < len(items):
        token = b64url(json.dumps({"offset": offset + n, "path": path}).encode())
        next_link = "%s:443%s?api-version=%s&$skiptoken=%s&maxresults=%d" % (
            store.url, path, api_version, token, n)
    return 200, {"value": chunk, "nextLink": next_link}


def route(store, method, path, body, query, api_version):
    seg = path.strip("/").split("/") if path.strip("/") else []
    if seg == ["keys"] and method == "GET":
        return page(store, store.list_keys(), path, query, api_version)
    if seg == ["deletedkeys"] and method == "GET":
        return page(store, store.list_deleted(), path, query, api_version)
    if len(seg) >= 2 and seg[0] == "keys":
        name = seg[1]
        if len(seg) == 3 and seg[2] == "create" and method == "POST":
            return store.create(name, body)
        if len(seg) == 3 and seg[2] == "versions" and method == "GET":
            return page(store, store.list_versions(name), path, query, api_version)
        if len(seg) == 2 and method == "PUT":
            return store.import_key(name, body)
        if len(seg) == 2 and method == "DELETE":
            return store.delete(name)
        if len(seg) in (2, 3) and method == "GET":
            return store.get(name, seg[2] if len(seg) == 3 else "")
        if (len(seg) == 3 or (len(seg) == 2 and path.endswith("/"))) and method == "PATCH":
            return store.update(name, seg[2] if len(seg) == 3 else "", body)
    if len(seg) >= 2 and seg[0] == "deletedkeys":
        name = seg[1]
        if len(seg) == 2 and method == "GET":
            return store.get_deleted(name)
        if len(seg) == 2 and method == "DELETE":
            return store.purge(name)
        if len(seg) == 3 and seg[2] == "recover" and method == "POST":
            return store.recover(name)
    raise KvError(404 if method == "GET" else 405, "NotSupported",
                  "The operation %s %s is not supported by this fake" % (method, path))


class Listener:
    """What one store listener serves: its own store for a loopback Host (127.0.0.1, localhost,
    [::1], any port), and every store by its DNS name."""

    def __init__(self, port, default_store, stores):
        self.port = port
        self.default_store = default_store
        self.by_host = {s.host: s for s in stores}

    def store_for(self, host_header):
        host = host_of(host_header)
        if host and is_loopback(host):
            return self.default_store
        return self.by_host.get(host)


def make_handler(entra, role, listener=None):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            sys.stderr.write("%s %s %s\n" % (role, self.headers.get("Host", "-")
                                              if getattr(self, "headers", None) else "-",
                                              fmt % args))

        def send(self, status, body, headers=None):
            data = b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            if body is not None:
                self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def body(self):
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        # --- Entra ------------------------------------------------------------------------
        def handle_entra(self, method):
            url = urllib.parse.urlsplit(self.path)
            query = urllib.parse.parse_qs(url.query)
            raw = self.body()
            host = host_of(self.headers.get("Host"))
            if host not in MS_AUTHORITY_HOSTS and not (host and is_loopback(host)):
                return self.send(400, {"error": "invalid_request",
                                       "error_description": "Unknown host %r" % host})
            base = "https://" + (self.headers.get("Host") or "").strip()
            seg = url.path.strip("/").split("/")
            if method == "POST" and len(seg) == 4 and seg[1:] == ["oauth2", "v2.0", "token"]:
                return self.send(*entra.token_request(
                    seg[0], self.headers.get("Content-Type", ""), raw))
            if method == "GET" and len(seg) == 4 and seg[1:] == ["v2.0", ".well-known",
                                                                 "openid-configuration"]:
                return self.send(*entra.openid_configuration(seg[0], base))
            if method == "GET" and len(seg) == 4 and seg[1:] == ["discovery", "v2.0", "keys"]:
                return self.send(*entra.jwks(seg[0]))
            if method == "GET" and seg == ["common", "discovery", "instance"]:
                return self.send(*entra.instance_discovery(query))
            if len(seg) == 4 and seg[1:] == ["oauth2", "v2.0", "token"]:
                return self.send(405, {"error": "invalid_request"})
            return self.send(404, {"error": "not_found"})

        # --- Key Vault --------------------------------------------------------------------
        def handle_fake(self, method, path, query):
            store = listener.store_for(self.headers.get("Host")) or listener.default_store
            m = re.match(r"^/__fake/keys/([^/]+)/material-sha256$", path)
            if path == "/__fake/health" and method == "GET":
                return self.send(200, {"ok": True})
            if m and method == "GET":
                return self.send(*store.material_sha256(m.group(1),
                                                        query.get("version", [""])[0]))
            if path == "/__fake/revoke-tokens" and method == "POST":
                client = query.get("client_id", [""])[0]
                with entra.lock:
                    entra.revoked |= {jti for jti, c in entra.issued.items()
                                      if not client or c == client}
                return self.send(200, {"revoked": True})
            if path == "/__fake/stats" and method == "GET":
                with entra.lock:
                    return self.send(200, {"token_requests": dict(entra.requests)})
            return self.send(404, {"error": "no such test endpoint"})

        def handle_store(self, method):
            url = urllib.parse.urlsplit(self.path)
            query = urllib.parse.parse_qs(url.query)
            raw = self.body()
            if url.path.startswith("/__fake/"):
                return self.handle_fake(method, url.path, query)
            try:
                store = listener.store_for(self.headers.get("Host"))
                if store is None:
                    raise KvError(400, "BadParameter",
                                  "The request's Host header (%s) names no key vault or managed "
                                  "HSM served here (%s)"
                                  % (self.headers.get("Host") or "none",
                                     ", ".join(sorted(listener.by_host))))
                versions = query.get("api-version", [])
                if (len(versions) != 1 or versions[0] not in API_VERSIONS or
                        (store.managed_hsm and API_VERSIONS.index(versions[0]) <
                         API_VERSIONS.index(MANAGED_HSM_SINCE))):
                    raise KvError(400, "BadParameter",
                                  "The specified version (%s) is not recognized. Consider using "
                                  "the latest supported version (%s)."
                                  % (",".join(versions) or "none", LATEST_API_VERSION))
                entra.verify(self.headers.get("Authorization"), store.resource)
                body = {}
                if method in ("POST", "PUT", "PATCH") and raw:
                    if not self.headers.get("Content-Type", "").startswith("application/json"):
                        raise KvError(400, "BadParameter", "Content-Type must be application/json")
                    try:
                        body = json.loads(raw)
                    except (ValueError, UnicodeDecodeError):
                        raise KvError(400, "BadParameter", "The request body is not valid JSON")
                    if not isinstance(body, dict):
                        raise KvError(400, "BadParameter", "The request body must be an object")
                self.send(*route(store, method, url.path, body, query, versions[0]))
            except KvError as e:
                err = {"code": e.code, "message": e.message}
                if e.inner:
                    err["innererror"] = {"code": e.inner}
                self.send(e.status, {"error": err}, e.headers)

        def dispatch(self, method):
            if role == "entra":
                self.handle_entra(method)
            else:
                self.handle_store(method)

        def do_GET(self):
            self.dispatch("GET")

        def do_POST(self):
            self.dispatch("POST")

        def do_PUT(self):
            self.dispatch("PUT")

        def do_PATCH(self):
            self.dispatch("PATCH")

        def do_DELETE(self):
            self.dispatch("DELETE")

    return Handler


class TlsServer(ThreadingHTTPServer):
    """TLS per connection, with the handshake in the connection's own thread, so a client that
    stalls or aborts its handshake (an untrusted-CA test) holds up nobody else."""

    daemon_threads = True

    def __init__(self, address, handler, context):
        super().__init__(address, handler)
        self.context = context

    def get_request(self):
        sock, addr = self.socket.accept()
        return self.context.wrap_socket(sock, server_side=True,
                                        do_handshake_on_connect=False), addr

    def finish_request(self, request, client_address):
        try:
            request.do_handshake()
        except (ssl.SSLError, OSError):
            return
        super().finish_request(request, client_address)


def serve(port, handler, context):
    server = TlsServer(("127.0.0.1", port), handler, context)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--entra-port", type=int, required=True)
    p.add_argument("--vault-port", type=int, required=True)
    p.add_argument("--hsm-port", type=int, help="a listener whose 127.0.0.1 Host is the HSM")
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--vault-url", required=True, help="the vault's DNS URL, used in kids")
    p.add_argument("--hsm-url", help="the Managed HSM's DNS URL (none without it)")
    p.add_argument("--resource", default="https://vault.azure.net")
    p.add_argument("--hsm-resource", default="https://managedhsm.azure.net")
    p.add_argument("--tenant-id", required=True)
    p.add_argument("--client-id", required=True)
    p.add_argument("--client-secret", required=True)
    p.add_argument("--object-id", required=True)
    p.add_argument("--federated-client-id", required=True)
    p.add_argument("--federated-object-id", required=True)
    p.add_argument("--federated-token-dir", required=True)
    p.add_argument("--token-lifetime", type=int, default=3599)
    p.add_argument("--retention-days", type=int, default=90, choices=range(7, 91))
    args = p.parse_args()
    if args.hsm_port and not args.hsm_url:
        p.error("--hsm-port needs --hsm-url")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(args.cert, args.key)
    entra = Entra(args)
    vault = KeyStore(args.vault_url, args.resource, False, args.retention_days)
    stores = [vault]
    hsm = None
    if args.hsm_url:
        hsm = KeyStore(args.hsm_url, args.hsm_resource, True, args.retention_days)
        stores.append(hsm)
    servers = [serve(args.entra_port, make_handler(entra, "entra"), context),
               serve(args.vault_port,
                     make_handler(entra, "vault", Listener(args.vault_port, vault, stores)),
                     context)]
    if args.hsm_port:
        servers.append(serve(args.hsm_port,
                             make_handler(entra, "hsm", Listener(args.hsm_port, hsm, stores)),
                             context))
    sys.stderr.write("fake Entra on %d, fake Key Vault on %d%s\n" % (
        args.entra_port, args.vault_port,
        ", fake Managed HSM on %d" % args.hsm_port if args.hsm_port else ""))
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    for s in servers:
        s.shutdown()


if __name__ == "__main__":
    main()
