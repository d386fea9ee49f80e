#!/usr/bin/env python3
"""A strict fake of a Thalassa-style regional KMS, for the operator's integration tests.

API it follows:
  - the seed's calls (BYOK-PROTOCOLS.md, "Thalassa-style regional KMS"):
      GET  /v1/kms/{region}/wrapping-key
      POST /v1/kms/{region}/keys {name, description, keyType, importKeyMaterial, allowRotation}
    with Authorization (Bearer, or Token for personal access tokens) and X-Organisation-Identity;
  - Thalassa's published Go client (github.com/thalassa-cloud/client-go: kms/types.go, kms/keys.go,
    pkg/client/requests.go, me/) for everything the seed leaves open: the wrapping-key answer
    {publicKey, algorithm}; hashFunction and labels on create; the key object (identity, name,
    slug, labels, keyType, status active|disabled|pending_deletion, imported, latestVersion,
    versions, createdAt, ...); GET /keys/{identity}; GET /keys?name=; DELETE /keys/{identity}
    (schedules deletion); DELETE /keys/{identity}/cancel-deletion; POST /keys/{identity}/enable and
    /disable; GET /v1/me/organisation-memberships; errors as {"message": "..."} with 400, 401,
    403, 404, 409;
  - assumed, in neither: POST /v1/kms/{region}/keys/{identity}/versions {importKeyMaterial,
    hashFunction}, importing new material as a new version (only for keys imported with
    allowRotation true).

What it checks:
  - every /v1/ call carries a token from the config under its own scheme (else 401), as the
    published client sends them: "Authorization: Token <pat>" for a personal access token (config
    kind "personal"), "Authorization: Bearer <token>" for an OIDC access token (any other kind); and, except /v1/me/..., X-Organisation-Identity naming the configured organisation by
    identity or slug (else 403); a token with role READER may only GET (else 403);
  - the region in the path is the configured one (else 404);
  - imports are really unwrapped with the wrapping key's private half: RSA-OAEP (MGF1 with the same
    hash, empty label; hashFunction sha256 by default, or sha1) of a 256-bit AES key in the first
    512 bytes, then AES-KWP (RFC 5649) of the material; the material must fit keyType (16/32 raw
    bytes for AES/ChaCha20, PKCS#8 DER of a private key of the right algorithm and size
    otherwise). A wrong byte fails with 400. HMAC key types cannot be imported (400).
  - names are unique per organisation and region (409).

Test-only endpoints, without authentication, under /__fake/:
  GET  /__fake/health                     readiness
  GET  /__fake/keys/{identity}/sha256     {"versions": {"1": "<sha256 hex of the material>"}}
  POST /__fake/keys/{identity}/state      {"status": "active"|"disabled"|"pending_deletion"}
The unwrapped material stays in this process's memory only.

Deliberately not implemented: encrypt/decrypt/sign/verify/hmac/export/public-key, rotation
settings (PATCH /rotation, POST /rotate), pagination, the /v1/kms/summary call, projects, rate
limiting, actual deletion after a waiting period (a key stays pending_deletion), label or
description updates. Cancelling a deletion restores the status the key had before it.
"""

import argparse
import base64
import binascii
import hashlib
import json
import secrets
import ssl
import sys
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap_with_padding

KEY_TYPES = {
    "aes128-gcm96", "aes256-gcm96", "chacha20-poly1305", "ed25519", "ecdsa-p256", "ecdsa-p384",
    "ecdsa-p521", "rsa-2048", "rsa-3072", "rsa-4096", "hmac", "hmac-sha256", "hmac-sha512",
}
HASHES = {"sha256": hashes.SHA256, "sha1": hashes.SHA1}
OAEP_BLOCK = 512  # the wrapping key is RSA-4096


class ApiError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


def now_rfc3339():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def is_pkcs8(der):
    """True when DER is a PrivateKeyInfo: SEQUENCE { INTEGER, SEQUENCE (algorithm), ... }."""
    def tlv(buf, at):
        if at + 2 > len(buf):
            raise ValueError("truncated")
        tag, length, at = buf[at], buf[at + 1], at + 2
        if length & 0x80:
            n = length & 0x7F
            if n == 0 or n > 4 or at + n > len(buf):
                raise ValueError("bad length")
            length, at = int.from_bytes(buf[at:at + n], "big"), at + n
        return tag, at, at + length
    try:
        tag, start, end = tlv(der, 0)
        if tag != 0x30 or end != len(der):
            return False
        tag, _, after_version = tlv(der, start)
        if tag != 0x02:
            return False
        tag, _, _ = tlv(der, after_version)
        return tag == 0x30
    except ValueError:
        return False


def check_material(key_type, material):
    if key_type == "aes128-gcm96":
        ok = len(material) == 16
    elif key_type in ("aes256-gcm96", "chacha20-poly1305"):
        ok = len(material) == 32
    else:
        if not is_pkcs8(material):
            raise ApiError(400, f"key material for {key_type} must be a PKCS#8 private key")
        try:
            key = serialization.load_der_private_key(material, password=None)
        except (ValueError, TypeError) as e:
            raise ApiError(400, f"key material is not a private key: {e}")
        if key_type.startswith("rsa-"):
            ok = isinstance(key, rsa.RSAPrivateKey) and key.key_size == int(key_type[4:])
        elif key_type.startswith("ecdsa-p"):
            curve = {"256": "secp256r1", "384": "secp384r1", "521": "secp521r1"}[key_type[7:]]
            ok = isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == curve
        else:
            ok = isinstance(key, ed25519.Ed25519PrivateKey)
    if not ok:
        raise ApiError(400, f"key material does not fit keyType {key_type}")


class Kms:
    def __init__(self, config):
        self.region = config["region"]
        self.org = config["organisation"]
        self.tokens = config["tokens"]
        self.lock = threading.Lock()
        self.keys = {}        # identity -> public key object
        self.private = {}     # identity -> {"allowRotation", "material": {version: bytes}, "before"}
        self.wrapping = rsa.generate_private_key(public_exponent=65537, key_size=4096)
        self.wrapping_pem = self.wrapping.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()

    # --- authentication -------------------------------------------------------------------
    def authenticate(self, headers, path, method):
        # The published client (pkg/client/auth.go) sends a personal access token as
        # "Authorization: Token <pat>" and every OAuth/OIDC access token as "Bearer <token>"; a
        # token presented under the other scheme is not accepted.
        auth = headers.get("Authorization", "")
        scheme, _, credential = auth.partition(" ")
        if scheme not in ("Bearer", "Token") or not credential:
            raise ApiError(401, "unauthorized: missing token (Authorization: Bearer <access token> "
                                "or Token <personal access token>)")
        caller = self.tokens.get(credential)
        if caller is None:
            raise ApiError(401, "unauthorized: invalid or expired token")
        expected = "Token" if caller.get("kind") == "personal" else "Bearer"
        if scheme != expected:
            raise ApiError(401, f"unauthorized: invalid or expired token (this token is sent as "
                                f"{expected}, not {scheme})")
        if not path.startswith("/v1/me/"):
            org = headers.get("X-Organisation-Identity", "")
            if not org:
                raise ApiError(403, "forbidden: X-Organisation-Identity header is required")
            if org not in (self.org["identity"], self.org["slug"]):
                raise ApiError(403, f"forbidden: no access to organisation {org}")
        if method != "GET" and caller.get("role") == "READER":
            raise ApiError(403, "forbidden: the token's role may not modify KMS keys")
        return caller

    # --- helpers ------------------------------------------------------------------------
    def key_or_404(self, identity):
        key = self.keys.get(identity)
        if key is None:
            raise ApiError(404, f"kms key {identity} not found")
        return key

    def unwrap(self, wrapped_b64, hash_name):
        if hash_name not in HASHES:
            raise ApiError(400, f"unsupported hashFunction {hash_name!r}: use sha256 or sha1")
        try:
            wrapped = base64.b64decode(wrapped_b64, validate=True)
        except (binascii.Error, ValueError, TypeError):
            raise ApiError(400, "importKeyMaterial must be valid base64")
        if len(wrapped) <= OAEP_BLOCK:
            raise ApiError(400, "importKeyMaterial is too short for the wrapping key")
        algo = HASHES[hash_name]()
        try:
            ephemeral = self.wrapping.decrypt(
                wrapped[:OAEP_BLOCK],
                padding.OAEP(mgf=padding.MGF1(algorithm=algo), algorithm=algo, label=None))
        except ValueError:
            raise ApiError(400, "failed to decrypt the ephemeral key with the wrapping key")
        if len(ephemeral) != 32:
            raise ApiError(400, "the ephemeral key must be a 256-bit AES key")
        try:
            return aes_key_unwrap_with_padding(ephemeral, wrapped[OAEP_BLOCK:])
        except InvalidUnwrap:
            raise ApiError(400, "failed to unwrap the key material (AES-KWP integrity check)")

    # --- calls --------------------------------------------------------------------------
    def create_key(self, body):
        name = body.get("name")
        key_type = body.get("keyType")
        if not isinstance(name, str) or not 1 <= len(name) <= 255:
            raise ApiError(400, "name is required (1 to 255 characters)")
        if key_type not in KEY_TYPES:
            raise ApiError(400, f"unsupported keyType {key_type!r}")
        labels = body.get("labels") or {}
        if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
            raise ApiError(400, "labels must map strings to strings")
        material_b64 = body.get("importKeyMaterial")
        imported = bool(material_b64)
        if imported and key_type.startswith("hmac"):
            raise ApiError(400, "HMAC keys cannot be imported")
        if any(k["name"] == name for k in self.keys.values()):
            raise ApiError(409, f"a kms key named {name} already exists")
        if imported:
            material = self.unwrap(material_b64, body.get("hashFunction") or "sha256")
            check_material(key_type, material)
        else:
            material = secrets.token_bytes(32)
        identity = "kms-" + secrets.token_hex(8)
        stamp = now_rfc3339()
        key = {
            "identity": identity, "name": name, "slug": name.lower(),
            "description": body.get("description", ""), "labels": labels,
            "annotations": body.get("annotations") or {}, "keyType": key_type,
            "status": "active", "exportAllowed": False, "imported": imported,
            "keyRotationEnabled": False, "latestVersion": 1,
            "versions": [{"version": 1, "status": "active", "createdAt": stamp}],
            "createdAt": stamp, "updatedAt": stamp, "objectVersion": 1,
            "organisation": {k: self.org[k] for k in ("identity", "name", "slug")},
        }
        self.keys[identity] = key
        self.private[identity] = {"allowRotation": bool(body.get("allowRotation")),
                                  "material": {1: material}, "before": None}
        return 201, key

    def import_version(self, identity, body):
        key = self.key_or_404(identity)
        private = self.private[identity]
        if not key["imported"]:
            raise ApiError(400, f"kms key {identity} was not imported: it takes no key material")
        if not private["allowRotation"]:
            raise ApiError(400, f"kms key {identity} was imported with allowRotation false: "
                                "it takes no new key material")
        if key["status"] != "active":
            raise ApiError(409, f"kms key {identity} is {key['status']}")
        material = self.unwrap(body.get("importKeyMaterial") or "", body.get("hashFunction") or "sha256")
        check_material(key["keyType"], material)
        version = key["latestVersion"] + 1
        stamp = now_rfc3339()
        key["versions"].append({"version": version, "status": "active", "createdAt": stamp})
        key["latestVersion"] = version
        key["updatedAt"] = stamp
        key["objectVersion"] += 1
        private["material"][version] = material
        return 200, key

    def set_status(self, identity, status):
        key = self.key_or_404(identity)
        private = self.private[identity]
        if status == "pending_deletion" and key["status"] != "pending_deletion":
            private["before"] = key["status"]
        key["status"] = status
        key["updatedAt"] = now_rfc3339()
        key["objectVersion"] += 1
        return key

    def memberships(self, caller):
        return 200, [{
            "identity": caller.get("membership", "mem-" + self.org["identity"]),
            "createdAt": "2026-01-05T09:00:00Z",
            "organisation": {k: self.org[k] for k in ("identity", "name", "slug")},
            "user": {"subject": caller["subject"], "name": caller.get("name", ""),
                     "email": caller.get("email", ""), "createdAt": "2026-01-05T09:00:00Z"},
            "role": "OWNER" if caller.get("role") != "READER" else "MEMBER",
        }]

    def route(self, method, path, query, headers, body):
        if path.startswith("/__fake/"):
            return self.route_fake(method, path, body)
        caller = self.authenticate(headers, path, method)
        parts = [unquote(p) for p in path.split("/")[1:]]
        if parts == ["v1", "me", "organisation-memberships"] and method == "GET":
            return self.memberships(caller)
        if len(parts) < 4 or parts[:2] != ["v1", "kms"]:
            raise ApiError(404, "route not found")
        if parts[2] != self.region:
            raise ApiError(404, f"region {parts[2]} not found")
        rest = parts[3:]
        if rest == ["wrapping-key"] and method == "GET":
            return 200, {"publicKey": self.wrapping_pem, "algorithm": "RSA_OAEP_AES_KWP"}
        if rest == ["keys"] and method == "GET":
            name = query.get("name", [None])[0]
            return 200, [k for k in self.keys.values() if name is None or k["name"] == name]
        if rest == ["keys"] and method == "POST":
            return self.create_key(body)
        if len(rest) == 2 and rest[0] == "keys":
            if method == "GET":
                return 200, self.key_or_404(rest[1])
            if method == "DELETE":
                self.set_status(rest[1], "pending_deletion")
                return 204, None
        if len(rest) == 3 and rest[0] == "keys":
            identity, action = rest[1], rest[2]
            key = self.key_or_404(identity)
            if action == "cancel-deletion" and method == "DELETE":
                if key["status"] != "pending_deletion":
                    raise ApiError(409, f"kms key {identity} is not pending deletion")
                self.set_status(identity, self.private[identity]["before"] or "active")
                return 204, None
            if action in ("enable", "disable") and method == "POST":
                if key["status"] == "pending_deletion":
                    raise ApiError(409, f"kms key {identity} is pending deletion")
                return 200, self.set_status(identity, "active" if action == "enable" else "disabled")
            if action == "versions" and method == "POST":
                return self.import_version(identity, body)
        raise ApiError(404 if method in ("GET", "DELETE", "POST") else 405, "route not found")

    def route_fake(self, method, path, body):
        parts = path.split("/")[2:]
        if parts == ["health"] and method == "GET":
            return 200, {"ok": True}
        if len(parts) == 3 and parts[0] == "keys":
            identity = unquote(parts[1])
            self.key_or_404(identity)
            if parts[2] == "sha256" and method == "GET":
                return 200, {"identity": identity, "versions": {
                    str(v): hashlib.sha256(m).hexdigest()
                    for v, m in self.private[identity]["material"].items()}}
            if parts[2] == "state" and method == "POST":
                status = body.get("status")
                if status not in ("active", "disabled", "pending_deletion"):
                    raise ApiError(400, "status must be active, disabled or pending_deletion")
                return 200, self.set_status(identity, status)
        raise ApiError(404, "no such fake endpoint")


def make_handler(kms):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))

        def handle_any(self):
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = {}
                if raw:
                    try:
                        body = json.loads(raw)
                    except ValueError:
                        raise ApiError(400, "request body is not valid JSON")
                    if not isinstance(body, dict):
                        raise ApiError(400, "request body must be a JSON object")
                with kms.lock:
                    status, payload = kms.route(self.command, url.path, parse_qs(url.query),
                                                self.headers, body)
            except ApiError as e:
                status, payload = e.status, {"message": e.message}
            data = b"" if payload is None else json.dumps(payload).encode()
            self.send_response(status)
            if payload is not None:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = handle_any

    return Handler


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", required=True, help="JSON: region, organisation, tokens")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    args = ap.parse_args()
    with open(args.config) as f:
        kms = Kms(json.load(f))
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(kms))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert, args.key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    print(f"fake thalassa kms on https://127.0.0.1:{args.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
