#!/usr/bin/env python3
"""Strict fakes of Microsoft Entra ID's token endpoint and of Azure Key Vault's key API.

One process, two TLS listeners on 127.0.0.1 (tests/harness/azure-kms.sh starts it):

  Entra ID token endpoint (OAuth 2.0 client credentials, v2.0), following Microsoft identity
  platform "OAuth 2.0 client credentials flow" and "Microsoft identity platform application
  authentication certificate credentials / workload identity federation":
    POST /{tenant}/oauth2/v2.0/token   grant_type=client_credentials, client_id, scope,
                                       client_secret | client_assertion_type (jwt-bearer) +
                                       client_assertion
  It knows one tenant and two applications: one with a client secret, one with a federated
  identity credential. An assertion is accepted when it equals the current contents of a file
  in the federated-token directory (the issuer whose tokens the app trusts), so a client that
  kept a stale assertion instead of re-reading its file is refused. Errors are Entra's shape:
  {"error", "error_description": "AADSTSnnnn: ...", "error_codes", "timestamp", "trace_id",
  "correlation_id"}. Tokens are RS256 JWTs signed by this fake, with aud, iss, iat, nbf, exp,
  appid, appidacr, oid, sub, tid, ver 1.0 (what Entra issues for Key Vault's v1 resource).

  Azure Key Vault keys, REST api-version 7.4 (azure-rest-api-specs, specification/keyvault/
  data-plane/Microsoft.KeyVault/stable/7.4/keys.json and common.json), as a Premium vault with
  soft delete:
    POST   /keys/{name}/create            CreateKey (RSA, RSA-HSM, EC, EC-HSM; key_size, crv,
                                          key_ops, attributes, tags)
    PUT    /keys/{name}                   ImportKey, key.key_hsm only: the base64url of a .byok
                                          file (Microsoft's "Bring your own key specification")
    GET    /keys/{name}[/{version}]       GetKey
    PATCH  /keys/{name}/{version}         UpdateKey (attributes enabled/nbf/exp, key_ops, tags;
                                          an empty version means the latest)
    DELETE /keys/{name}                   DeleteKey (soft delete)
    GET    /deletedkeys/{name}            GetDeletedKey
    POST   /deletedkeys/{name}/recover    RecoverDeletedKey
    DELETE /deletedkeys/{name}            PurgeDeletedKey
  Every call needs ?api-version=7.4 and "Authorization: Bearer <token this fake issued>": the
  signature, audience, issuer, expiry and revocation are checked; a missing token gets 401 with
  the WWW-Authenticate challenge naming the authority and resource. Errors are KeyVaultError:
  {"error": {"code", "message", "innererror"?}}.

  The key_hsm import is real: the .byok header.kid must be the full kid (with version) of an
  enabled RSA-HSM key of this vault whose only key_op is "import"; the ciphertext is unwrapped
  with that KEK's private half (RSA-OAEP SHA-1 of an AES key, then AES key wrap with padding,
  RFC 5649), the result must parse as a PKCS#8 private key of the kty/crv asked for, and its
  public half becomes the key's JWK. The unwrapped bytes stay in memory only.

  Test-only endpoints (no auth, on the vault listener):
    GET  /__fake/health                             readiness
    GET  /__fake/keys/{name}/material-sha256[?version=V]
                                                    {"sha256": hex of the imported PKCS#8 bytes,
                                                     "public_sha256": hex of its public key's SPKI}
    POST /__fake/revoke-tokens[?client_id=C]        every token issued so far (to C) is refused
    GET  /__fake/stats                              {"token_requests": {client_id: n}, ...}

Deliberately not implemented: plain JWK imports (private members instead of key_hsm), oct /
oct-HSM keys (a Managed HSM's), cryptographic operations (encrypt, sign, wrapKey, ...), list
calls (/keys, /keys/{name}/versions, /deletedkeys), backup/restore, rotation policies,
release policies, certificates and secrets, purge protection, the Host-header vault routing of
the real service (any Host reaches the one vault), and Entra's other grants and endpoints.
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

API_VERSION = "7.4"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
NAME_RE = re.compile(r"^[0-9a-zA-Z-]{1,127}$")
B64URL_RE = re.compile(r"^[A-Za-z0-9_-]*$")
KEY_OPS = {"encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey", "import", "export"}
CURVES = {"P-256": ec.SECP256R1, "P-384": ec.SECP384R1, "P-521": ec.SECP521R1,
          "P-256K": ec.SECP256K1}
CURVE_BY_NAME = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521",
                 "secp256k1": "P-256K"}


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text):
    if not isinstance(text, str) or not B64URL_RE.match(text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def int_bytes(n):
    return n.to_bytes((n.bit_length() + 7) // 8, "big")


class KvError(Exception):
    def __init__(self, status, code, message, inner=None, headers=None):
        super().__init__(message)
        self.status, self.code, self.message, self.inner = status, code, message, inner
        self.headers = headers or {}


class Entra:
    """The tenant, its two applications and the tokens issued."""

    def __init__(self, args):
        self.tenant = args.tenant_id
        self.apps = {
            args.client_id: {"secret": args.client_secret, "oid": args.object_id},
            args.federated_client_id: {"federated": True, "oid": args.federated_object_id},
        }
        self.federated_dir = args.federated_token_dir
        self.resource = args.resource
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
        }
        return status, body

    def federated_assertions(self):
        found = set()
        for name in os.listdir(self.federated_dir):
            try:
                with open(os.path.join(self.federated_dir, name)) as f:
                    found.add(f.read().strip())
            except OSError:
                pass
        return found

    def token_request(self, path, content_type, body):
        m = re.match(r"^/([^/]+)/oauth2/v2\.0/token$", path)
        if not m:
            return 404, {"error": "not_found"}
        if m.group(1) != self.tenant:
            return self.error(400, "invalid_request", 90002,
                              "Tenant '%s' not found. Check to make sure you have the correct "
                              "tenant ID and are signing into the correct cloud." % m.group(1))
        if not content_type.startswith("application/x-www-form-urlencoded"):
            return self.error(400, "invalid_request", 900144,
                              "The request body must contain the following parameter: "
                              "'grant_type'.")
        try:
            form = urllib.parse.parse_qs(body.decode(), keep_blank_values=True, strict_parsing=True)
        except ValueError:
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
        if form.get("scope") != self.resource + "/.default":
            return self.error(400, "invalid_scope", 1002012,
                              "The provided value for scope %s is not valid. Client credential "
                              "flows must have a scope value with /.default suffixed to the "
                              "resource identifier (application ID URI)." % form.get("scope", ""))
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
            "aud": self.resource, "iss": self.issuer(), "iat": now, "nbf": now,
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

    def verify(self, authorization):
        """The claims of a valid bearer token, else KvError 401 the way Key Vault words it."""
        challenge = {"WWW-Authenticate": 'Bearer authorization="%s/%s", resource="%s"'
                     % ("https://login.microsoftonline.com", self.tenant, self.resource)}

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
        except (ValueError, json.JSONDecodeError):
            raise refuse("AKV10001: Token is malformed.")
        if header.get("alg") != "RS256":
            raise refuse("AKV10001: Token is malformed.")
        try:
            self.signing_key.public_key().verify(sig, (parts[0] + "." + parts[1]).encode(),
                                                 padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            raise refuse("[InvalidSignature] Error validating token: 'S2S12005'.")
        now = time.time()
        if claims.get("aud") != self.resource:
            raise refuse("AKV10022: Invalid audience. Expected %s, found: %s."
                         % (self.resource, claims.get("aud")))
        if claims.get("iss") != self.issuer():
            raise refuse("AKV10032: Invalid issuer. Expected one of %s, found %s."
                         % (self.issuer(), claims.get("iss")))
        if claims.get("exp", 0) <= now:
            raise refuse("[TokenExpired] Error validating token: 'S2S12086'.")
        with self.lock:
            revoked = claims.get("jti") in self.revoked
        if revoked:
            raise refuse("[TokenRevoked] Error validating token: the token was revoked.")
        return claims


class Vault:
    """Keys by name: a list of versions, oldest first; deleted keys aside."""

    def __init__(self, args):
        self.url = args.vault_url.rstrip("/")
        self.retention_days = args.retention_days
        self.recovery_level = ("Recoverable+Purgeable" if self.retention_days == 90
                               else "CustomizedRecoverable+Purgeable")
        self.keys = {}
        self.deleted = {}
        self.lock = threading.Lock()

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
            if field in attrs:
                if not isinstance(attrs[field], bool):
                    raise KvError(400, "BadParameter", "attributes.%s must be a boolean" % field)
                out[field] = attrs[field]
        for field in ("nbf", "exp"):
            if field in attrs and attrs[field] is not None:
                if not isinstance(attrs[field], int) or isinstance(attrs[field], bool):
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
    def check_ops(ops, allowed):
        if ops is None:
            return sorted(allowed)
        if not isinstance(ops, list) or not all(isinstance(o, str) for o in ops):
            raise KvError(400, "BadParameter", "key_ops must be an array of strings")
        for op in ops:
            if op not in KEY_OPS:
                raise KvError(400, "BadParameter", "Invalid key operation: %s" % op)
            if op not in allowed:
                raise KvError(400, "BadParameter",
                              "Key operation %s is not allowed for this key type" % op)
        return list(ops)

    def version_record(self, kty, private, ops, attrs, tags, material=None):
        now = int(time.time())
        rec = {
            "version": uuid.uuid4().hex, "kty": kty, "private": private, "key_ops": ops,
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
        pub = rec["private"].public_key().public_numbers()
        if rec["kty"].startswith("RSA"):
            jwk["n"], jwk["e"] = b64url(int_bytes(pub.n)), b64url(int_bytes(pub.e))
        else:
            size = (rec["private"].curve.key_size + 7) // 8
            jwk["crv"] = CURVE_BY_NAME[rec["private"].curve.name]
            jwk["x"] = b64url(pub.x.to_bytes(size, "big"))
            jwk["y"] = b64url(pub.y.to_bytes(size, "big"))
        out = {"key": jwk, "attributes": dict(rec["attributes"])}
        if rec["tags"]:
            out["tags"] = dict(rec["tags"])
        return out

    def deleted_bundle(self, name, entry):
        out = self.bundle(name, entry["versions"][-1])
        out["recoveryId"] = "%s/deletedkeys/%s" % (self.url, name)
        out["deletedDate"] = entry["deletedDate"]
        out["scheduledPurgeDate"] = entry["scheduledPurgeDate"]
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
        if kty in ("RSA", "RSA-HSM"):
            size = body.get("key_size", 2048)
            if size not in (2048, 3072, 4096):
                raise KvError(400, "BadParameter", "Invalid key size: %s" % size)
            exponent = body.get("public_exponent", 65537)
            if exponent not in (3, 65537):
                raise KvError(400, "BadParameter", "Invalid public exponent: %s" % exponent)
            private = rsa.generate_private_key(public_exponent=exponent, key_size=size)
            ops = (self.check_ops(body["key_ops"], {"encrypt", "decrypt", "sign", "verify",
                                                    "wrapKey", "unwrapKey", "import"})
                   if "key_ops" in body else
                   ["encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey"])
            if "import" in ops and (ops != ["import"] or kty != "RSA-HSM"):
                raise KvError(400, "BadParameter",
                              "The import operation is allowed only alone, on RSA-HSM keys "
                              "(a key exchange key)")
        elif kty in ("EC", "EC-HSM"):
            crv = body.get("crv", "P-256")
            if crv not in CURVES:
                raise KvError(400, "BadParameter", "Invalid curve name: %s" % crv)
            private = ec.generate_private_key(CURVES[crv]())
            ops = self.check_ops(body.get("key_ops"), {"sign", "verify"})
        else:
            raise KvError(400, "BadParameter",
                          "Key type %s is not supported by this vault (RSA, RSA-HSM, EC, EC-HSM)"
                          % kty)
        with self.lock:
            self.check_not_deleted(name)
            rec = self.version_record(kty, private, ops, attrs, tags)
            self.keys.setdefault(name, []).append(rec)
            return 200, self.bundle(name, rec)

    def import_byok(self, name, body):
        self.check_name(name)
        key = body.get("key")
        if not isinstance(key, dict):
            raise KvError(400, "BadParameter", "Property 'key' is required")
        if "Hsm" in body and not isinstance(body["Hsm"], bool):
            raise KvError(400, "BadParameter", "Hsm must be a boolean")
        if "key_hsm" not in key:
            raise KvError(400, "BadParameter",
                          "This fake implements BYOK imports (key.key_hsm) only")
        kty = key.get("kty")
        if kty not in ("RSA-HSM", "EC-HSM"):
            raise KvError(400, "BadParameter",
                          "A key_hsm import needs kty RSA-HSM or EC-HSM in a vault, not %s" % kty)
        private_members = {"d", "p", "q", "dp", "dq", "qi", "k"} & set(key)
        if private_members:
            raise KvError(400, "BadParameter", "key_hsm cannot be combined with %s"
                          % ", ".join(sorted(private_members)))
        attrs = self.check_attributes(body.get("attributes"))
        tags = self.check_tags(body.get("tags"))
        allowed = ({"encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey"}
                   if kty == "RSA-HSM" else {"sign", "verify"})
        ops = self.check_ops(key.get("key_ops"), allowed)
        try:
            blob = json.loads(b64url_decode(key["key_hsm"]))
        except (ValueError, json.JSONDecodeError, UnicodeDecodeError):
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
            private = self.check_material(material, kty, key.get("crv"))
            rec = self.version_record(kty, private, ops, attrs, tags, material)
            self.keys.setdefault(name, []).append(rec)
            return 200, self.bundle(name, rec)

    def kek_for(self, kid):
        prefix = self.url + "/keys/"
        if not isinstance(kid, str) or not kid.lower().startswith(prefix.lower()):
            raise KvError(400, "BadParameter",
                          "key_hsm: header.kid %r is not a key identifier of this vault" % kid)
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
        return private

    def get(self, name, version):
        with self.lock:
            return 200, self.bundle(name, self.find_version(name, version))

    def update(self, name, version, body):
        attrs = self.check_attributes(body.get("attributes"))
        with self.lock:
            rec = self.find_version(name, version)
            if "key_ops" in body:
                rec["key_ops"] = self.check_ops(body["key_ops"], KEY_OPS)
            if "tags" in body:
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


def make_handler(entra, vault, role):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            sys.stderr.write("%s %s\n" % (role, fmt % args))

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

        def handle_entra(self, method):
            if method != "POST":
                return self.send(405, {"error": "invalid_request"})
            status, answer = entra.token_request(urllib.parse.urlsplit(self.path).path,
                                                 self.headers.get("Content-Type", ""), self.body())
            self.send(status, answer)

        def handle_fake(self, method, path, query):
            m = re.match(r"^/__fake/keys/([^/]+)/material-sha256$", path)
            if path == "/__fake/health" and method == "GET":
                return self.send(200, {"ok": True})
            if m and method == "GET":
                return self.send(*vault.material_sha256(m.group(1), query.get("version", [""])[0]))
            if path == "/__fake/revoke-tokens" and method == "POST":
                self.body()
                client = query.get("client_id", [""])[0]
                with entra.lock:
                    entra.revoked |= {jti for jti, c in entra.issued.items()
                                      if not client or c == client}
                return self.send(200, {"revoked": True})
            if path == "/__fake/stats" and method == "GET":
                with entra.lock:
                    return self.send(200, {"token_requests": dict(entra.requests)})
            return self.send(404, {"error": "no such test endpoint"})

        def handle_vault(self, method):
            url = urllib.parse.urlsplit(self.path)
            query = urllib.parse.parse_qs(url.query)
            if url.path.startswith("/__fake/"):
                return self.handle_fake(method, url.path, query)
            raw = self.body()
            try:
                if query.get("api-version") != [API_VERSION]:
                    raise KvError(400, "BadParameter",
                                  "The specified version (%s) is not recognized. Consider using "
                                  "the latest supported version (%s)."
                                  % (",".join(query.get("api-version", [])) or "none",
                                     API_VERSION))
                entra.verify(self.headers.get("Authorization"))
                body = {}
                if method in ("POST", "PUT", "PATCH") and raw:
                    if not self.headers.get("Content-Type", "").startswith("application/json"):
                        raise KvError(400, "BadParameter", "Content-Type must be application/json")
                    try:
                        body = json.loads(raw)
                    except json.JSONDecodeError:
                        raise KvError(400, "BadParameter", "The request body is not valid JSON")
                    if not isinstance(body, dict):
                        raise KvError(400, "BadParameter", "The request body must be an object")
                self.send(*self.route(method, url.path, body))
            except KvError as e:
                err = {"code": e.code, "message": e.message}
                if e.inner:
                    err["innererror"] = {"code": e.inner}
                self.send(e.status, {"error": err}, e.headers)

        def route(self, method, path, body):
            seg = path.strip("/").split("/") if path.strip("/") else []
            if len(seg) >= 2 and seg[0] == "keys":
                name = seg[1]
                if len(seg) == 3 and seg[2] == "create" and method == "POST":
                    return vault.create(name, body)
                if len(seg) == 2 and method == "PUT":
                    return vault.import_byok(name, body)
                if len(seg) == 2 and method == "DELETE":
                    return vault.delete(name)
                if len(seg) in (2, 3) and method == "GET":
                    return vault.get(name, seg[2] if len(seg) == 3 else "")
                if (len(seg) == 3 or (len(seg) == 2 and path.endswith("/"))) and method == "PATCH":
                    return vault.update(name, seg[2] if len(seg) == 3 else "", body)
            if len(seg) >= 2 and seg[0] == "deletedkeys":
                name = seg[1]
                if len(seg) == 2 and method == "GET":
                    return vault.get_deleted(name)
                if len(seg) == 2 and method == "DELETE":
                    return vault.purge(name)
                if len(seg) == 3 and seg[2] == "recover" and method == "POST":
                    return vault.recover(name)
            raise KvError(404 if method == "GET" else 405, "NotSupported",
                          "The operation %s %s is not supported by this fake" % (method, path))

        def dispatch(self, method):
            if role == "entra":
                self.handle_entra(method)
            else:
                self.handle_vault(method)

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
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--vault-url", required=True, help="the vault's DNS URL, used in kids")
    p.add_argument("--resource", default="https://vault.azure.net")
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
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(args.cert, args.key)
    entra, vault = Entra(args), Vault(args)
    servers = [serve(args.entra_port, make_handler(entra, vault, "entra"), context),
               serve(args.vault_port, make_handler(entra, vault, "vault"), context)]
    sys.stderr.write("fake Entra on %d, fake Key Vault on %d\n" % (args.entra_port, args.vault_port))
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    for s in servers:
        s.shutdown()


if __name__ == "__main__":
    main()
