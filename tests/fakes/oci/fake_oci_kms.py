#!/usr/bin/env python3
"""Strict fake of one OCI Vault's management endpoint (Key Management API, version 20180608).

No OCI emulator exists, so the integration tests of kms/oci/ run against this. It follows:
- "Request Signatures" (OCI documentation, signature version 1, draft-cavage-http-signatures-08):
  every API request must carry `Authorization: Signature version="1",keyId="<tenancy>/<user>/
  <fingerprint>",algorithm="rsa-sha256",headers="...",signature="..."`; the signed headers must
  include date (or x-date), (request-target) and host, and for POST/PUT/PATCH also
  content-length, content-type and x-content-sha256. The fake rebuilds the signing string from
  what it received and verifies the RSA-SHA256 signature with the public half of the API key it
  generated for the test user; it checks x-content-sha256 against the body, content-length, the
  keyId, and that the date is within 5 minutes of its clock. Anything else is answered as OCI
  does: 401 {"code":"NotAuthenticated","message":"The required information to complete
  authentication was not provided or was incorrect."}. (The reason is written to the log.)
- The Key Management API reference (KmsManagement): GetKey, GetKeyVersion, ListKeys and
  ListKeyVersions (limit/page and the opc-next-page header, sortBy TIMECREATED (descending by
  default) | DISPLAYNAME (ascending), sortOrder; ListKeys also filters by protectionMode,
  algorithm, length, curveId), GetWrappingKey, ImportKey, ImportKeyVersion,
  ScheduleKeyDeletion, CancelKeyDeletion, with the API's field names (Key, KeySummary,
  KeyVersion, KeyVersionSummary, WrappingKey, ImportKeyDetails, ImportKeyVersionDetails,
  KeyShape, WrappedImportKey, AutoKeyRotationDetails, ScheduleKeyDeletionDetails) as the
  official SDK (oci 2.189) has them; request bodies with fields the API does not publish are
  refused, enums and types are checked. ImportKeyDetails takes isAutoRotationEnabled and
  autoKeyRotationDetails (rotationIntervalInDays 60..365, required to enable; the schedule
  starts at 00:00 of timeOfScheduleStart, today by default; the key shows them, nothing
  rotates). definedTags are checked against the tenancy's tag namespaces, of which the fake has
  none: any namespace is refused (400 RelatedResourceNotAuthorizedOrNotFound), {} is accepted.
  Errors use OCI's body {"code", "message"} with its codes (NotAuthorizedOrNotFound 404,
  InvalidParameter / MissingParameter / CannotParseRequest /
  RelatedResourceNotAuthorizedOrNotFound 400, IncorrectState 409, MethodNotAllowed 405), and
  every answer carries an opc-request-id (the client's, when it sent one, plus the fake's own).
- "Importing Vault Keys and Key Versions": the vault's wrapping key is RSA-4096; ImportKey
  material is really unwrapped with its private half: RSA_OAEP_SHA256 (RSA-OAEP, SHA-256 and
  MGF1-SHA-256, no label; AES material only) or RSA_OAEP_AES_SHA256 (the same RSA-OAEP of a
  temporary AES key, followed by AES key wrap with padding, RFC 5649, of the material). AES
  material must be exactly keyShape.length bytes (16, 24, 32); RSA material must be a PKCS #8
  DER RSA private key whose modulus is keyShape.length bytes (256, 384, 512); ECDSA material
  cannot be imported. The unwrapped bytes stay in memory only.

Transitions as the console shows them: ScheduleKeyDeletion answers SCHEDULING_DELETION and the
key reads PENDING_DELETION afterwards; CancelKeyDeletion answers CANCELLING_DELETION and the key
then reads the state it had before the deletion was scheduled.

Test-only endpoints, without authentication, all under /__fake/:
  GET  /__fake/health                      readiness
  POST /__fake/keys {displayName, algorithm?, length?, freeformTags?}
                                           a key as the console creates it (INTERNAL material)
  POST /__fake/keys/{keyId}/lifecycleState {"lifecycleState": "DISABLED" | ...}
                                           what the console's Disable/Enable etc. would leave
  GET  /__fake/keys/{keyId}/material       {"currentKeyVersion", "sha256" (hex SHA-256 of the
                                           current version's material), "versions": [...]}

Deliberately not implemented: CreateKey, UpdateKey, Enable/DisableKey (use /__fake/), key
backups and restores, replication, external (EKMS) keys, vault operations, the crypto endpoint
(encrypt/decrypt/sign), key version deletion, tag namespaces, opc-retry-token, If-Match ETags,
IAM policies (the one user may do everything), timeOfDeletion actually deleting keys, auto
rotation actually rotating, and keys of other compartments or vaults.

Usage: fake_oci_kms.py --dir DIR --port PORT --cert server.crt --key server.key
Writes into DIR: api_key.pem (the user's private key, PKCS #8), api_key_encrypted.pem (the same
key encrypted with the passphrase in api_key.passphrase), and fake.env (export lines naming the
tenancy, user, fingerprint, compartment, vault and key files), then serves over TLS on 127.0.0.1.
"""

import argparse
import base64
import datetime
import email.utils
import hashlib
import json
import os
import re
import secrets
import ssl
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap_with_padding

API = "/20180608"
MAX_SKEW_SECONDS = 300
REGION_KEY = "iad"
STATES = ["CREATING", "ENABLING", "ENABLED", "DISABLING", "DISABLED", "DELETING", "DELETED",
          "PENDING_DELETION", "SCHEDULING_DELETION", "CANCELLING_DELETION", "UPDATING",
          "BACKUP_IN_PROGRESS", "RESTORING"]
AES_LENGTHS = {16, 24, 32}
CURVES = ("NIST_P256", "NIST_P384", "NIST_P521")
ROTATION_FIELDS = {"rotationIntervalInDays", "timeOfScheduleStart", "timeOfNextRotation",
                   "timeOfLastRotation", "lastRotationStatus", "lastRotationMessage"}
ROTATION_STATUSES = ("SUCCESS", "FAILED", "IN_PROGRESS")
RSA_LENGTHS = {256, 384, 512}
NOT_AUTHENTICATED = ("The required information to complete authentication was not provided or "
                     "was incorrect.")
NOT_FOUND = "Authorization failed or requested resource not found."
OAEP = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(),
                    label=None)


class ApiError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def now():
    return datetime.datetime.now(datetime.timezone.utc)


def rfc3339(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def parse_rfc3339(text):
    if not isinstance(text, str):
        raise ValueError("not a string")
    t = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if t.tzinfo is None:
        raise ValueError("no time zone")
    return t


def ocid(kind, regional=True, vault_prefix=""):
    unique = secrets.token_hex(30)
    if not regional:
        return f"ocid1.{kind}.oc1..aaaaaaaa{unique}"
    return f"ocid1.{kind}.oc1.{REGION_KEY}.{vault_prefix}.{unique}"


def strict_fields(obj, allowed, where):
    if not isinstance(obj, dict):
        raise ApiError(400, "InvalidParameter", f"{where} must be a JSON object")
    for name in obj:
        if name not in allowed:
            raise ApiError(400, "InvalidParameter", f"Unrecognized field '{name}' in {where}")


def string_map(value, where):
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise ApiError(400, "InvalidParameter", f"{where} must map strings to strings")
    return dict(value)


class Vault:
    """The state of one vault: its keys, their versions and the imported material (in memory)."""

    def __init__(self, api_public_key):
        self.lock = threading.Lock()
        self.vault_prefix = "b" + secrets.token_hex(6)
        self.tenancy = ocid("tenancy", regional=False)
        self.user = ocid("user", regional=False)
        self.compartment = ocid("compartment", regional=False)
        self.vault_id = ocid("vault", vault_prefix=self.vault_prefix)
        der = api_public_key.public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)
        digest = hashlib.md5(der).hexdigest()
        self.fingerprint = ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))
        self.api_public_key = api_public_key
        self.wrapping_private = rsa.generate_private_key(public_exponent=65537, key_size=4096)
        self.wrapping = {
            "compartmentId": self.compartment,
            "id": ocid("key", vault_prefix=self.vault_prefix),
            "lifecycleState": "ENABLED",
            "publicKey": self.wrapping_private.public_key().public_bytes(
                serialization.Encoding.PEM,
                serialization.PublicFormat.SubjectPublicKeyInfo).decode(),
            "timeCreated": rfc3339(now()),
            "vaultId": self.vault_id,
        }
        self.keys = {}  # id -> {"key": Key JSON, "versions": [...], "next": state, "before": state}
        self.sequence = 0  # creation order of keys and versions (timeCreated has ms resolution)

    def key_id(self):
        return f"{self.tenancy}/{self.user}/{self.fingerprint}"

    # --- keys ---------------------------------------------------------------------------------
    def new_key(self, display_name, algorithm, length, tags, material, origin, protection="HSM",
                rotation=None):
        key_id = ocid("key", vault_prefix=self.vault_prefix)
        key = {
            "compartmentId": self.compartment,
            "currentKeyVersion": None,
            "definedTags": {},
            "displayName": display_name,
            "freeformTags": tags,
            "id": key_id,
            "keyShape": {"algorithm": algorithm, "length": length},
            "protectionMode": protection,
            "lifecycleState": "ENABLED",
            "timeCreated": rfc3339(now()),
            "timeOfDeletion": None,
            "vaultId": self.vault_id,
            "restoredFromKeyId": None,
            "replicaDetails": None,
            "isPrimary": True,
            "isAutoRotationEnabled": False,
        }
        if rotation is not None:
            key["isAutoRotationEnabled"] = rotation[0]
            if rotation[1] is not None:
                key["autoKeyRotationDetails"] = rotation[1]
        self.sequence += 1
        self.keys[key_id] = {"key": key, "versions": [], "next": None, "before": None,
                             "seq": self.sequence}
        self.add_version(key_id, material, origin, {})
        return key_id

    def add_version(self, key_id, material, origin, tags):
        entry = self.keys[key_id]
        version = {
            "compartmentId": self.compartment,
            "id": ocid("keyversion", vault_prefix=self.vault_prefix),
            "keyId": key_id,
            "publicKey": public_pem(entry["key"]["keyShape"]["algorithm"], material),
            "lifecycleState": "ENABLED",
            "origin": origin,
            "timeCreated": rfc3339(now()),
            "timeOfDeletion": None,
            "vaultId": self.vault_id,
            "restoredFromKeyVersionId": None,
            "replicaDetails": None,
            "isPrimary": True,
            "isAutoRotated": False,
        }
        self.sequence += 1
        entry["versions"].append({"json": version, "material": material, "tags": tags,
                                  "seq": self.sequence})
        entry["key"]["currentKeyVersion"] = version["id"]
        return version

    def settled(self, key_id):
        """The key entry, after any pending transition (SCHEDULING_ -> PENDING_DELETION, ...)."""
        entry = self.keys.get(key_id)
        if entry is None:
            raise ApiError(404, "NotAuthorizedOrNotFound", NOT_FOUND)
        if entry["next"]:
            entry["key"]["lifecycleState"] = entry["next"]
            entry["next"] = None
        return entry


def public_pem(algorithm, material):
    if algorithm != "RSA":
        return None
    key = serialization.load_der_private_key(material, password=None)
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def summary(key):
    return {name: key[name] for name in ("compartmentId", "definedTags", "displayName",
                                         "freeformTags", "id", "lifecycleState", "timeCreated",
                                         "vaultId", "protectionMode", "isAutoRotationEnabled")} | {
        "algorithm": key["keyShape"]["algorithm"]}


def version_summary(version):
    return {name: version[name] for name in ("compartmentId", "id", "keyId", "lifecycleState",
                                             "origin", "timeCreated", "timeOfDeletion", "vaultId",
                                             "isAutoRotated")}


def defined_tags(value, where):
    """definedTags: {namespace: {key: value}}. The fake's tenancy has no tag namespaces, so any
    namespace is refused as OCI refuses one that does not exist."""
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
            isinstance(ns, str) and isinstance(tags, dict) and all(isinstance(k, str) for k in tags)
            for ns, tags in value.items()):
        raise ApiError(400, "InvalidParameter", f"{where} must map namespaces to maps of tags")
    for namespace in value:
        raise ApiError(400, "RelatedResourceNotAuthorizedOrNotFound",
                       "The following tag namespaces / keys are not authorized or not found: "
                       f"TagNamespace {namespace} does not exists.")
    return {}


def start_of_day(t):
    return t.replace(hour=0, minute=0, second=0, microsecond=0)


def auto_rotation(req):
    """ImportKeyDetails' isAutoRotationEnabled and autoKeyRotationDetails (AutoKeyRotationDetails)
    -> (enabled, details as the Key shows them) or None when neither was sent."""
    enabled = req.get("isAutoRotationEnabled")
    details = req.get("autoKeyRotationDetails")
    if enabled is None and details is None:
        return None
    if enabled is not None and not isinstance(enabled, bool):
        raise ApiError(400, "InvalidParameter", "isAutoRotationEnabled must be a boolean")
    shown = None
    if details is not None:
        strict_fields(details, ROTATION_FIELDS, "autoKeyRotationDetails")
        interval = details.get("rotationIntervalInDays")
        if interval is not None and (not isinstance(interval, int) or isinstance(interval, bool)
                                     or not 60 <= interval <= 365):
            raise ApiError(400, "InvalidParameter",
                           "autoKeyRotationDetails.rotationIntervalInDays must be 60 to 365 days")
        times = {}
        for name in ("timeOfScheduleStart", "timeOfNextRotation", "timeOfLastRotation"):
            if details.get(name) is not None:
                try:
                    times[name] = parse_rfc3339(details[name])
                except ValueError:
                    raise ApiError(400, "InvalidParameter",
                                   f"autoKeyRotationDetails.{name} is not an RFC 3339 time")
        status = details.get("lastRotationStatus")
        if status is not None and status not in ROTATION_STATUSES:
            raise ApiError(400, "InvalidParameter",
                           f"Invalid autoKeyRotationDetails.lastRotationStatus '{status}'")
        message = details.get("lastRotationMessage")
        if message is not None and not isinstance(message, str):
            raise ApiError(400, "InvalidParameter",
                           "autoKeyRotationDetails.lastRotationMessage must be a string")
        if interval is not None:
            # OCI keeps the day only: the schedule starts at 00:00 of timeOfScheduleStart (today
            # when absent); the last-rotation fields are the service's, not the caller's.
            start = start_of_day(times.get("timeOfScheduleStart", now()))
            shown = {"rotationIntervalInDays": interval,
                     "timeOfScheduleStart": rfc3339(start),
                     "timeOfNextRotation": rfc3339(start + datetime.timedelta(days=interval))}
    if enabled and shown is None:
        raise ApiError(400, "MissingParameter",
                       "autoKeyRotationDetails.rotationIntervalInDays is required to enable auto "
                       "key rotation")
    return bool(enabled), shown


def paginate(items, query):
    """One page of items by OCI's limit/page (opc-next-page) convention."""
    try:
        limit = int(query.get("limit", ["1000"])[0])
        offset = int(base64.urlsafe_b64decode(query["page"][0]).decode()) if "page" in query else 0
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "InvalidParameter", "invalid limit or page")
    if not 1 <= limit <= 1000:
        raise ApiError(400, "InvalidParameter", "limit must be 1..1000")
    if offset < 0:
        raise ApiError(400, "InvalidParameter", "invalid page")
    headers = {}
    if offset + limit < len(items):
        headers["opc-next-page"] = base64.urlsafe_b64encode(str(offset + limit).encode()).decode()
    return items[offset:offset + limit], headers


def check_query(query, allowed):
    for name, values in query.items():
        if name not in allowed:
            raise ApiError(400, "InvalidParameter", f"Unknown query parameter '{name}'")
        if len(values) != 1:
            raise ApiError(400, "InvalidParameter", f"'{name}' given more than once")
    enums = {"sortBy": ("TIMECREATED", "DISPLAYNAME"), "sortOrder": ("ASC", "DESC"),
             "protectionMode": ("HSM", "SOFTWARE", "EXTERNAL"),
             "algorithm": ("AES", "RSA", "ECDSA"), "curveId": CURVES}
    for name, values in enums.items():
        if name in query and query[name][0] not in values:
            raise ApiError(400, "InvalidParameter",
                           f"Invalid {name} '{query[name][0]}': one of {', '.join(values)}")


def sort_order(query, by_name):
    """(sort key, reverse) for sortBy/sortOrder: TIMECREATED is descending by default,
    DISPLAYNAME ascending."""
    sort_by = query.get("sortBy", ["TIMECREATED"])[0]
    default = "ASC" if sort_by == "DISPLAYNAME" else "DESC"
    reverse = query.get("sortOrder", [default])[0] == "DESC"
    return (by_name if sort_by == "DISPLAYNAME" else None), reverse


def check_shape(shape):
    strict_fields(shape, {"algorithm", "length", "curveId"}, "keyShape")
    algorithm, length = shape.get("algorithm"), shape.get("length")
    if algorithm is None or length is None:
        raise ApiError(400, "MissingParameter", "keyShape.algorithm and keyShape.length are required")
    if algorithm == "ECDSA":
        raise ApiError(400, "InvalidParameter", "ECDSA keys cannot be imported")
    if algorithm not in ("AES", "RSA"):
        raise ApiError(400, "InvalidParameter", f"Invalid keyShape.algorithm '{algorithm}'")
    if not isinstance(length, int) or isinstance(length, bool):
        raise ApiError(400, "InvalidParameter", "keyShape.length must be an integer")
    if length not in (AES_LENGTHS if algorithm == "AES" else RSA_LENGTHS):
        raise ApiError(400, "InvalidParameter",
                       f"keyShape.length {length} is not supported for {algorithm}")
    if "curveId" in shape and shape["curveId"] is not None:
        raise ApiError(400, "InvalidParameter", "keyShape.curveId applies to ECDSA keys only")
    return algorithm, length


def unwrap(vault, wrapped, algorithm, length):
    """Unwraps WrappedImportKey with the vault's wrapping key and checks it against the shape."""
    strict_fields(wrapped, {"keyMaterial", "wrappingAlgorithm"}, "wrappedImportKey")
    method, text = wrapped.get("wrappingAlgorithm"), wrapped.get("keyMaterial")
    if method is None or text is None:
        raise ApiError(400, "MissingParameter",
                       "wrappedImportKey.keyMaterial and wrappedImportKey.wrappingAlgorithm are required")
    if method not in ("RSA_OAEP_SHA256", "RSA_OAEP_AES_SHA256"):
        raise ApiError(400, "InvalidParameter", f"Invalid wrappingAlgorithm '{method}'")
    try:
        blob = base64.b64decode(text, validate=True)
    except (ValueError, TypeError):
        raise ApiError(400, "InvalidParameter", "wrappedImportKey.keyMaterial is not base64")
    modulus = vault.wrapping_private.key_size // 8
    try:
        if method == "RSA_OAEP_SHA256":
            if algorithm != "AES":
                raise ApiError(400, "InvalidParameter",
                               "RSA_OAEP_SHA256 can wrap AES key material only")
            if len(blob) != modulus:
                raise ApiError(400, "InvalidParameter",
                               f"wrapped key material is {len(blob)} bytes, expected {modulus}")
            material = vault.wrapping_private.decrypt(blob, OAEP)
        else:
            if len(blob) <= modulus:
                raise ApiError(400, "InvalidParameter",
                               f"wrapped key material is {len(blob)} bytes: too short for "
                               f"RSA_OAEP_AES_SHA256 under a {modulus * 8}-bit wrapping key")
            temporary = vault.wrapping_private.decrypt(blob[:modulus], OAEP)
            if len(temporary) not in AES_LENGTHS:
                raise ApiError(400, "InvalidParameter",
                               f"the temporary AES key is {len(temporary)} bytes")
            material = aes_key_unwrap_with_padding(temporary, blob[modulus:])
    except ValueError:
        raise ApiError(400, "InvalidParameter",
                       "Failed to unwrap the key material with the vault's wrapping key")
    except InvalidUnwrap:
        raise ApiError(400, "InvalidParameter",
                       "Failed to unwrap the key material with the temporary AES key")
    if algorithm == "AES":
        if len(material) != length:
            raise ApiError(400, "InvalidParameter",
                           f"key material is {len(material)} bytes, keyShape.length is {length}")
        return material
    try:
        key = serialization.load_der_private_key(material, password=None)
    except (ValueError, TypeError):
        raise ApiError(400, "InvalidParameter", "RSA key material is not a DER private key")
    pkcs8 = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()) if isinstance(key, rsa.RSAPrivateKey) else b""
    if pkcs8 != material:
        raise ApiError(400, "InvalidParameter", "RSA key material must be a PKCS#8 RSA private key")
    if key.key_size // 8 != length:
        raise ApiError(400, "InvalidParameter",
                       f"RSA key is {key.key_size} bits, keyShape.length is {length} bytes")
    return material


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-oci-kms"
    vault = None  # set in main()

    def setup(self):
        self.request.do_handshake()  # in this thread, so a failed handshake stalls nobody
        super().setup()

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (rfc3339(now()), fmt % args))

    def do_GET(self):
        self.dispatch()

    def do_POST(self):
        self.dispatch()

    def do_PUT(self):
        self.dispatch()

    def do_PATCH(self):
        self.dispatch()

    def do_DELETE(self):
        self.dispatch()

    # --- plumbing -----------------------------------------------------------------------------
    def reply(self, status, payload, headers=None):
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        client_id = self.headers.get("opc-request-id", "")
        server_id = secrets.token_hex(16).upper()
        self.send_header("opc-request-id", f"{client_id}/{server_id}" if client_id else server_id)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def read_body(self):
        length = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding"):
            raise ApiError(400, "CannotParseRequest", "chunked bodies are not accepted")
        return self.rfile.read(int(length)) if length else b""

    def dispatch(self):
        try:
            body = self.read_body()
            url = urllib.parse.urlsplit(self.path)
            if url.path.startswith("/__fake/"):
                status, payload, headers = self.admin(url, body)
            else:
                self.authenticate(body)
                status, payload, headers = self.api(url, body)
            self.reply(status, payload, headers)
        except ApiError as e:
            self.reply(e.status, {"code": e.code, "message": e.message})
        except Exception as e:  # a bug in the fake: say so loudly, as a 500
            self.log_message("internal error: %r", e)
            self.reply(500, {"code": "InternalServerError", "message": f"fake: {e!r}"})

    # --- authentication -----------------------------------------------------------------------
    def refuse(self, reason):
        self.log_message("401 NotAuthenticated: %s", reason)
        raise ApiError(401, "NotAuthenticated", NOT_AUTHENTICATED)

    def authenticate(self, body):
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Signature "):
            self.refuse("no Signature authorization")
        params = dict(re.findall(r'(\w+)="([^"]*)"', auth[len("Signature "):]))
        if params.get("version") != "1":
            self.refuse(f"version {params.get('version')!r}, expected \"1\"")
        if params.get("algorithm") != "rsa-sha256":
            self.refuse(f"algorithm {params.get('algorithm')!r}")
        if params.get("keyId") != self.vault.key_id():
            self.refuse(f"unknown keyId {params.get('keyId')!r}")
        signed = params.get("headers", "").split()
        required = {"(request-target)", "host"}
        if self.command in ("POST", "PUT", "PATCH"):
            required |= {"content-length", "content-type", "x-content-sha256"}
        missing = required - set(signed)
        if missing or not ({"date", "x-date"} & set(signed)):
            self.refuse(f"signed headers {signed} lack {sorted(missing) or 'date'}")
        lines = []
        for name in signed:
            if name == "(request-target)":
                lines.append(f"(request-target): {self.command.lower()} {self.path}")
                continue
            value = self.headers.get(name)
            if value is None:
                self.refuse(f"signed header {name} is not in the request")
            lines.append(f"{name}: {value}")
        date_name = "x-date" if "x-date" in signed else "date"
        try:
            sent = email.utils.parsedate_to_datetime(self.headers.get(date_name))
        except (TypeError, ValueError):
            self.refuse(f"unparseable {date_name}")
        if sent.tzinfo is None or abs((now() - sent).total_seconds()) > MAX_SKEW_SECONDS:
            self.refuse(f"{date_name} {self.headers.get(date_name)} is more than 5 minutes off")
        if "x-content-sha256" in signed:
            digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
            if self.headers.get("x-content-sha256") != digest:
                self.refuse("x-content-sha256 does not match the body")
        if "content-length" in signed and self.headers.get("content-length") != str(len(body)):
            self.refuse("content-length does not match the body")
        try:
            signature = base64.b64decode(params.get("signature", ""), validate=True)
            self.vault.api_public_key.verify(signature, "\n".join(lines).encode(),
                                             padding.PKCS1v15(), hashes.SHA256())
        except (ValueError, InvalidSignature):
            self.refuse("signature does not verify over:\n" + "\n".join(lines))

    # --- the API --------------------------------------------------------------------------------
    def json_body(self, body, allowed, where):
        if not body:
            return {}
        try:
            obj = json.loads(body)
        except ValueError:
            raise ApiError(400, "CannotParseRequest", "Unable to parse the request body as JSON")
        strict_fields(obj, allowed, where)
        return obj

    def api(self, url, body):
        parts = url.path.split("/")[1:]  # "", "20180608", ...
        if not url.path.startswith(API + "/"):
            raise ApiError(404, "NotAuthorizedOrNotFound", NOT_FOUND)
        parts = parts[1:]
        query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        v = self.vault
        method = self.command
        with v.lock:
            if parts == ["wrappingKeys"]:
                self.allow(method, "GET")
                return 200, v.wrapping, None
            if parts == ["keys"]:
                self.allow(method, "GET")
                return self.list_keys(query)
            if parts == ["keys", "import"]:
                self.allow(method, "POST")
                return self.import_key(body)
            if len(parts) == 2 and parts[0] == "keys":
                self.allow(method, "GET")
                return 200, v.settled(parts[1])["key"], None
            if len(parts) == 3 and parts[0] == "keys" and parts[2] == "keyVersions":
                self.allow(method, "GET")
                return self.list_key_versions(v.settled(parts[1]), query)
            if len(parts) == 4 and parts[0] == "keys" and parts[2] == "keyVersions":
                entry = v.settled(parts[1])
                if parts[3] == "import":
                    self.allow(method, "POST")
                    return self.import_key_version(entry, body)
                self.allow(method, "GET")
                for version in entry["versions"]:
                    if version["json"]["id"] == parts[3]:
                        return 200, version["json"], None
                raise ApiError(404, "NotAuthorizedOrNotFound", NOT_FOUND)
            if len(parts) == 4 and parts[0] == "keys" and parts[2] == "actions":
                self.allow(method, "POST")
                entry = v.settled(parts[1])
                if parts[3] == "scheduleDeletion":
                    return self.schedule_deletion(entry, body)
                if parts[3] == "cancelDeletion":
                    return self.cancel_deletion(entry, body)
        raise ApiError(404, "NotAuthorizedOrNotFound", NOT_FOUND)

    def allow(self, method, expected):
        if method != expected:
            raise ApiError(405, "MethodNotAllowed", f"{method} is not allowed on {self.path}")

    def list_keys(self, query):
        check_query(query, {"compartmentId", "limit", "page", "sortBy", "sortOrder",
                            "protectionMode", "algorithm", "length", "curveId"})
        compartment = query.get("compartmentId", [""])[0]
        if not compartment:
            raise ApiError(400, "MissingParameter", "compartmentId is required")
        if compartment != self.vault.compartment:
            raise ApiError(404, "NotAuthorizedOrNotFound", NOT_FOUND)
        if "length" in query:
            try:
                int(query["length"][0])
            except ValueError:
                raise ApiError(400, "InvalidParameter", "length must be an integer")
        entries = [self.vault.settled(k) for k in list(self.vault.keys)]

        def wanted(key):
            shape = key["keyShape"]
            return (query.get("protectionMode", [key["protectionMode"]])[0] == key["protectionMode"]
                    and query.get("algorithm", [shape["algorithm"]])[0] == shape["algorithm"]
                    and int(query.get("length", [shape["length"]])[0]) == shape["length"]
                    and query.get("curveId", [shape.get("curveId")])[0] == shape.get("curveId"))

        entries = [e for e in entries if wanted(e["key"])]
        by_name, reverse = sort_order(query, lambda e: (e["key"]["displayName"], e["seq"]))
        entries.sort(key=by_name or (lambda e: e["seq"]), reverse=reverse)
        page, headers = paginate([summary(e["key"]) for e in entries], query)
        return 200, page, headers

    def list_key_versions(self, entry, query):
        check_query(query, {"limit", "page", "sortBy", "sortOrder"})
        versions = list(entry["versions"])
        # Key versions have no display name: DISPLAYNAME orders them by id.
        by_name, reverse = sort_order(query, lambda x: x["json"]["id"])
        versions.sort(key=by_name or (lambda x: x["seq"]), reverse=reverse)
        page, headers = paginate([version_summary(x["json"]) for x in versions], query)
        return 200, page, headers

    def import_key(self, body):
        req = self.json_body(body, {"compartmentId", "definedTags", "displayName", "freeformTags",
                                    "keyShape", "wrappedImportKey", "protectionMode",
                                    "isAutoRotationEnabled", "autoKeyRotationDetails"},
                             "ImportKeyDetails")
        for name in ("compartmentId", "displayName", "keyShape", "wrappedImportKey"):
            if req.get(name) in (None, ""):
                raise ApiError(400, "MissingParameter", f"{name} is required")
        if req["compartmentId"] != self.vault.compartment:
            raise ApiError(400, "RelatedResourceNotAuthorizedOrNotFound",
                           f"Compartment {req['compartmentId']} not found or not authorized")
        if not isinstance(req["displayName"], str):
            raise ApiError(400, "InvalidParameter", "displayName must be a string")
        protection = req.get("protectionMode")
        protection = "HSM" if protection is None else protection
        if protection not in ("HSM", "SOFTWARE"):
            raise ApiError(400, "InvalidParameter", f"Invalid protectionMode '{protection}'")
        tags = string_map(req.get("freeformTags"), "freeformTags")
        defined_tags(req.get("definedTags"), "definedTags")
        algorithm, length = check_shape(req["keyShape"])
        rotation = auto_rotation(req)
        material = unwrap(self.vault, req["wrappedImportKey"], algorithm, length)
        key_id = self.vault.new_key(req["displayName"], algorithm, length, tags, material,
                                    "EXTERNAL", protection, rotation)
        return 200, self.vault.keys[key_id]["key"], None

    def import_key_version(self, entry, body):
        req = self.json_body(body, {"definedTags", "freeformTags", "wrappedImportKey"},
                             "ImportKeyVersionDetails")
        if req.get("wrappedImportKey") is None:
            raise ApiError(400, "MissingParameter", "wrappedImportKey is required")
        key = entry["key"]
        if key["lifecycleState"] != "ENABLED":
            raise ApiError(409, "IncorrectState",
                           f"Key {key['id']} is {key['lifecycleState']}; it must be ENABLED")
        tags = string_map(req.get("freeformTags"), "freeformTags")
        defined_tags(req.get("definedTags"), "definedTags")
        shape = key["keyShape"]
        material = unwrap(self.vault, req["wrappedImportKey"], shape["algorithm"], shape["length"])
        return 200, self.vault.add_version(key["id"], material, "EXTERNAL", tags), None

    def schedule_deletion(self, entry, body):
        req = self.json_body(body, {"timeOfDeletion"}, "ScheduleKeyDeletionDetails")
        key = entry["key"]
        if key["lifecycleState"] not in ("ENABLED", "DISABLED"):
            raise ApiError(409, "IncorrectState",
                           f"Key {key['id']} is {key['lifecycleState']}: deletion cannot be scheduled")
        received = now()
        when = received + datetime.timedelta(days=30)
        if req.get("timeOfDeletion") is not None:
            try:
                when = parse_rfc3339(req["timeOfDeletion"])
            except ValueError:
                raise ApiError(400, "InvalidParameter", "timeOfDeletion is not an RFC 3339 time")
            days = (when - received).total_seconds() / 86400
            if not 7 <= days <= 30:
                raise ApiError(400, "InvalidParameter",
                               f"timeOfDeletion must be 7 to 30 days from now; it is {days:.4f} days")
        entry["before"] = key["lifecycleState"]
        key["lifecycleState"] = "SCHEDULING_DELETION"
        key["timeOfDeletion"] = rfc3339(when)
        entry["next"] = "PENDING_DELETION"
        return 200, dict(key), None

    def cancel_deletion(self, entry, body):
        self.json_body(body, set(), "CancelKeyDeletion")
        key = entry["key"]
        if key["lifecycleState"] not in ("PENDING_DELETION", "SCHEDULING_DELETION"):
            raise ApiError(409, "IncorrectState",
                           f"Key {key['id']} is {key['lifecycleState']}: no deletion to cancel")
        key["lifecycleState"] = "CANCELLING_DELETION"
        key["timeOfDeletion"] = None
        entry["next"] = entry["before"] or "ENABLED"
        return 200, dict(key), None

    # --- test-only administration -----------------------------------------------------------------
    def admin(self, url, body):
        parts = url.path.split("/")[2:]  # after "/__fake/"
        v = self.vault
        try:
            req = json.loads(body) if body else {}
        except ValueError:
            raise ApiError(400, "CannotParseRequest", "admin: body is not JSON")
        with v.lock:
            if parts == ["health"]:
                return 200, {"ok": True}, None
            if parts == ["keys"] and self.command == "POST":
                algorithm, length = req.get("algorithm", "AES"), req.get("length", 32)
                if algorithm == "AES":
                    material = secrets.token_bytes(length)
                else:
                    material = rsa.generate_private_key(65537, length * 8).private_bytes(
                        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                        serialization.NoEncryption())
                key_id = v.new_key(req.get("displayName", "console-key"), algorithm, length,
                                   string_map(req.get("freeformTags"), "freeformTags"), material,
                                   "INTERNAL")
                return 200, v.keys[key_id]["key"], None
            if len(parts) == 3 and parts[0] == "keys" and parts[2] == "lifecycleState":
                state = req.get("lifecycleState")
                if state not in STATES:
                    raise ApiError(400, "InvalidParameter", f"admin: unknown state {state!r}")
                entry = v.settled(parts[1])
                entry["key"]["lifecycleState"] = state
                return 200, entry["key"], None
            if len(parts) == 3 and parts[0] == "keys" and parts[2] == "material":
                entry = v.settled(parts[1])
                versions = [{"id": x["json"]["id"], "origin": x["json"]["origin"],
                             "sha256": hashlib.sha256(x["material"]).hexdigest(),
                             "freeformTags": x["tags"]} for x in entry["versions"]]
                return 200, {"keyId": parts[1],
                             "currentKeyVersion": entry["key"]["currentKeyVersion"],
                             "sha256": versions[-1]["sha256"], "versions": versions}, None
        raise ApiError(404, "NotAuthorizedOrNotFound", "admin: no such endpoint")


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A client that gave up during the TLS handshake (one that does not trust the CA): one
        # line, not a traceback.
        sys.stderr.write(f"{rfc3339(now())} connection from {client_address[0]}:"
                         f"{client_address[1]} failed: {sys.exc_info()[1]!r}\n")


def write_private(path, data):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    args = ap.parse_args()
    d = os.path.abspath(args.dir)

    api_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    passphrase = secrets.token_urlsafe(18)
    write_private(f"{d}/api_key.pem", api_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    write_private(f"{d}/api_key_encrypted.pem", api_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase.encode())))
    write_private(f"{d}/api_key.passphrase", passphrase.encode())
    vault = Vault(api_key.public_key())
    Handler.vault = vault

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(args.cert, args.key)
    httpd = Server(("127.0.0.1", args.port), Handler)
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True, do_handshake_on_connect=False)

    with open(f"{d}/fake.env.tmp", "w") as f:
        f.write(f"export BYOK_OCI_TENANCY={vault.tenancy}\n")
        f.write(f"export BYOK_OCI_USER={vault.user}\n")
        f.write(f"export BYOK_OCI_FINGERPRINT={vault.fingerprint}\n")
        f.write(f"export BYOK_OCI_PRIVATE_KEY_FILE={d}/api_key.pem\n")
        f.write(f"export BYOK_OCI_ENCRYPTED_PRIVATE_KEY_FILE={d}/api_key_encrypted.pem\n")
        f.write(f"export BYOK_OCI_PASSPHRASE_FILE={d}/api_key.passphrase\n")
        f.write(f"export BYOK_OCI_COMPARTMENT_ID={vault.compartment}\n")
        f.write(f"export BYOK_OCI_VAULT_ID={vault.vault_id}\n")
        f.write(f"export BYOK_OCI_WRAPPING_KEY_ID={vault.wrapping['id']}\n")
    os.replace(f"{d}/fake.env.tmp", f"{d}/fake.env")
    sys.stderr.write(f"fake OCI KMS serving https://127.0.0.1:{args.port}\n")
    sys.stderr.flush()
    httpd.serve_forever()


if __name__ == "__main__":
    main()
