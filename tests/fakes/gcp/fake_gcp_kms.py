#!/usr/bin/env python3
"""A strict fake of Google Cloud KMS (REST API v1) and of Google's OAuth2 token endpoint, for
byok-operator's tests. No Cloud KMS emulator exists, so this stands in for one; it is NOT a
product and must never listen anywhere but 127.0.0.1.

Follows:
- Cloud KMS REST reference v1 (cloudkms.googleapis.com/v1): the resources CryptoKey,
  CryptoKeyVersion, ImportJob with their JSON field names, and the methods
  cryptoKeys.create/get/updatePrimaryVersion, cryptoKeyVersions.get/list/import/destroy/restore,
  importJobs.create/get; path templates, query parameters and request bodies as published, with
  every field google-cloud-kms 3.18.0 (tests/conformance/requirements.txt) has for them (the
  MESSAGES and ENUMS tables below come from its types/resources.py and types/service.py).
- Protobuf JSON as Google's front end parses it: a field by its lowerCamel JSON name or its proto
  name (crypto_key_id and cryptoKeyId alike, in bodies and query strings; not both at once), an
  enum by name or number (a JSON number, or its digits in a string), null for a field left out,
  proto3 defaults ("", false, 0, an enum's 0) the same as absent; bytes in standard or URL-safe
  base64, RFC 3339 timestamps, durations "<seconds>[.<fraction>]s". Unknown field names, a field
  given twice, unknown enum values and values of the wrong JSON type are refused.
- Google's answers: lowerCamel names, RFC 3339 "Zulu" timestamps with nanoseconds, durations as
  "<seconds>s", empty and default fields left out, enums as names - or as numbers when the query
  has $alt=json;enum-encoding=int, which Google's REST client libraries send on every call. The
  system parameters $alt / alt (json, json;enum-encoding=int) and prettyPrint are taken on every
  method; any other query parameter must be a field of the request message.
- Google's error body {"error": {"code": <HTTP>, "message": ..., "status": <google.rpc.Code>}}
  with the standard HTTP mapping (INVALID_ARGUMENT and FAILED_PRECONDITION 400,
  UNAUTHENTICATED 401, PERMISSION_DENIED 403, NOT_FOUND 404, ALREADY_EXISTS 409,
  UNIMPLEMENTED 501). UNIMPLEMENTED means: the published API has it, this fake does not.
- "Using OAuth 2.0 for server to server applications": POST token_uri with
  grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer and assertion=<JWT>; RFC 6749 errors
  {"error": "invalid_grant", "error_description": ...}.
- AIP-4111 self-signed JWTs: a JWT the service account signed itself, used directly as the
  bearer token (what google-auth does by default for a service-account key), with either
  aud "https://cloudkms.googleapis.com/" or no aud and a scope claim.
- ImportJob.ImportMethod: RSA_OAEP_{3072,4096}_{SHA1,SHA256}_AES_256 (CKM_RSA_AES_KEY_WRAP:
  RSA-OAEP of an ephemeral AES-256 key, MGF1 with the same hash, empty label, then AES-KWP,
  RFC 5649) and RSA_OAEP_{3072,4096}_SHA256 (RSA-OAEP of the material itself; cannot carry RSA
  keys), in wrappedKey or the older rsaAesWrappedKey (exactly one of them). Symmetric material
  is raw bytes, asymmetric material PKCS#8 DER.

What it checks (and refuses with Google's own error shapes):
- the JWT grant: RS256 signature verified with the service account's public key (the fake
  generated the key and wrote its JSON key file into DIR), kid, iss, sub, aud (the key file's
  token_uri, or Google's https://oauth2.googleapis.com/token, which google-auth always sends),
  scope, iat/exp (at most one hour, not in the future, not expired);
- every /v1/ call: a bearer token the fake issued and that has not expired, or a self-signed JWT
  as above (the account's key, kid, iss = sub = the account, at most an hour and current; a grant
  assertion, aud = a token URI, is refused); the request as protobuf JSON (above); ids against
  [a-zA-Z0-9_-]{1,63}; labels against Google's rules; purpose/algorithm compatibility;
  destroyScheduledDuration between 24 hours and 120 days; a rotation schedule (nextRotationTime,
  rotationPeriod of 24 to 876,000 hours, the period only with a time) on ENCRYPT_DECRYPT keys
  only; trustedWrappingEnabled and cryptoKeyBackend, which apply only to protection levels this
  fake lacks, refused; ImportJob protection level against the key's; state rules (destroy only
  ENABLED/DISABLED, restore only DESTROY_SCHEDULED, primary only an ENABLED version of an
  ENCRYPT_DECRYPT key, imports only with an ACTIVE job);
- output-only fields in a create body (name, primary, createTime, an ImportJob's state,
  publicKey, attestation, ...) are type-checked and then ignored, as AIP-203 has it: the service
  sets them. Accepted fields the fake has no behaviour for are kept and returned: a rotation
  schedule (no automatic rotation happens), keyAccessJustificationsPolicy (not enforced), list
  view FULL; GetImportJob's publicKeyFormat PEM or DER (publicKey.data, the SPKI DER);
- imports really unwrap with the ImportJob's private key and the method's hash, and the material
  must fit the algorithm (16/32 raw bytes; a PKCS#8 RSA key of the right size; an EC key on the
  right curve; an Ed25519 key). A wrap that does not open or material that does not fit leaves
  the version IMPORT_FAILED with importFailureReason, as Cloud KMS reports it asynchronously.
  The unwrapped material is kept in memory only, as a SHA-256.

Attestations: an ImportJob with protection level HSM carries `attestation` {format
CAVIUM_V2_COMPRESSED, content, certChains {caviumCerts, googleCardCerts, googlePartitionCerts}}
in the layout Google's verification scripts read: gzip of a 16-byte response header, the object
handles and the attribute buffer (info header, then the wrapping key's object: class, key type,
modulus 0x0120, exponent 0x0122, modulus bits), followed by a 256-byte RSA PKCS#1 v1.5 SHA-256
signature by the HSM partition's key. The certificates chain to two test roots the fake makes at
start (a "manufacturer" and an "owner" root) and writes to DIR/attestation-manufacturer-roots.pem
and DIR/attestation-owner-roots.pem: the real roots (Marvell's, Google's) cannot sign for a fake.

Background work is modelled: an ImportJob is PENDING_GENERATION and an imported version
PENDING_IMPORT for --pending-seconds before they become ACTIVE / ENABLED (or IMPORT_FAILED).

Test-only endpoints, under /__fake/ (no authentication; the real service has nothing there):
  GET  /__fake/health                       readiness
  POST /__fake/version-state {name, state}  what the console's enable/disable does (ENABLED or
                                            DISABLED, from ENABLED or DISABLED)
  GET  /__fake/material-sha256?name=<version name>  {"sha256": hex} of the imported material (and
                                            "public_sha256", of a private key's SPKI)
  POST /__fake/expire-tokens                every issued access token stops working, and so do
                                            self-signed JWTs made before now

Deliberately not implemented (UNIMPLEMENTED where the request names it): key rings (one exists:
--project/--location/--key-ring), listing CryptoKeys or ImportJobs, cryptoKeys.patch and
cryptoKeyVersions.patch (use /__fake/), createCryptoKeyVersion, encrypt / decrypt / sign /
getPublicKey, reimport into an existing version (cryptoKeyVersion in the import request), HMAC,
RSA_SIGN_RAW_PKCS1_*, AES_256_KWP, EXTERNAL_SYMMETRIC_ENCRYPTION and post-quantum algorithms,
the HPKE import methods, EXTERNAL / EXTERNAL_VPC / HSM_SINGLE_TENANT protection, automatic
rotation, Key Access Justifications enforcement, IAM (the one service account may do
everything), list filter / orderBy, version attestations (view FULL returns none), $alt=proto,
partial responses (fields=), the 3-day ImportJob expiry beyond reporting expireTime, and
automatic destruction after destroyScheduledDuration (versions stay DESTROY_SCHEDULED).
"""

import argparse
import base64
import binascii
import datetime
import hashlib
import json
import os
import re
import secrets
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap_with_padding
from cryptography import x509
from cryptography.x509.oid import NameOID
import gzip
import struct

SCOPES = {"https://www.googleapis.com/auth/cloudkms", "https://www.googleapis.com/auth/cloud-platform"}
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
ID_RE = re.compile(r"^[a-zA-Z0-9_-]{1,63}$")
LABEL_KEY_RE = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
LABEL_VALUE_RE = re.compile(r"^[a-z0-9_-]{0,63}$")
DEFAULT_DESTROY_SCHEDULED = "2592000s"  # 30 days
IMPORT_JOB_LIFETIME = 3 * 24 * 3600

HTTP_CODE = {"INVALID_ARGUMENT": 400, "FAILED_PRECONDITION": 400, "OUT_OF_RANGE": 400,
             "UNAUTHENTICATED": 401, "PERMISSION_DENIED": 403, "NOT_FOUND": 404,
             "ALREADY_EXISTS": 409, "ABORTED": 409, "RESOURCE_EXHAUSTED": 429,
             "INTERNAL": 500, "UNIMPLEMENTED": 501, "UNAVAILABLE": 503}

PROTECTION_LEVELS = {"SOFTWARE", "HSM"}  # the ones implemented

# algorithm -> (purpose, material kind, parameter)
ALGORITHMS = {"GOOGLE_SYMMETRIC_ENCRYPTION": ("ENCRYPT_DECRYPT", "raw", 32)}
for bits in (128, 256):
    for mode in ("GCM", "CBC", "CTR"):
        ALGORITHMS[f"AES_{bits}_{mode}"] = ("RAW_ENCRYPT_DECRYPT", "raw", bits // 8)
for bits in (2048, 3072, 4096):
    ALGORITHMS[f"RSA_SIGN_PSS_{bits}_SHA256"] = ("ASYMMETRIC_SIGN", "rsa", bits)
    ALGORITHMS[f"RSA_SIGN_PKCS1_{bits}_SHA256"] = ("ASYMMETRIC_SIGN", "rsa", bits)
    ALGORITHMS[f"RSA_DECRYPT_OAEP_{bits}_SHA256"] = ("ASYMMETRIC_DECRYPT", "rsa", bits)
    ALGORITHMS[f"RSA_DECRYPT_OAEP_{bits}_SHA1"] = ("ASYMMETRIC_DECRYPT", "rsa", bits)
ALGORITHMS["RSA_SIGN_PSS_4096_SHA512"] = ("ASYMMETRIC_SIGN", "rsa", 4096)
ALGORITHMS["RSA_SIGN_PKCS1_4096_SHA512"] = ("ASYMMETRIC_SIGN", "rsa", 4096)
ALGORITHMS["RSA_DECRYPT_OAEP_4096_SHA512"] = ("ASYMMETRIC_DECRYPT", "rsa", 4096)
ALGORITHMS["EC_SIGN_P256_SHA256"] = ("ASYMMETRIC_SIGN", "ec", "secp256r1")
ALGORITHMS["EC_SIGN_P384_SHA384"] = ("ASYMMETRIC_SIGN", "ec", "secp384r1")
ALGORITHMS["EC_SIGN_SECP256K1_SHA256"] = ("ASYMMETRIC_SIGN", "ec", "secp256k1")
ALGORITHMS["EC_SIGN_ED25519"] = ("ASYMMETRIC_SIGN", "ed25519", None)

# importMethod -> (RSA bits, OAEP hash, with AES-KWP)
IMPORT_METHODS = {
    "RSA_OAEP_3072_SHA1_AES_256": (3072, hashes.SHA1, True),
    "RSA_OAEP_4096_SHA1_AES_256": (4096, hashes.SHA1, True),
    "RSA_OAEP_3072_SHA256_AES_256": (3072, hashes.SHA256, True),
    "RSA_OAEP_4096_SHA256_AES_256": (4096, hashes.SHA256, True),
    "RSA_OAEP_3072_SHA256": (3072, hashes.SHA256, False),
    "RSA_OAEP_4096_SHA256": (4096, hashes.SHA256, False),
}

# The API's enums (google.cloud.kms.v1, as google-cloud-kms 3.18.0 publishes them): name -> number.
# Requests may carry either; responses carry names, or numbers under $alt=json;enum-encoding=int.
ENUMS = {
    "ProtectionLevel": {"PROTECTION_LEVEL_UNSPECIFIED": 0, "SOFTWARE": 1, "HSM": 2, "EXTERNAL": 3,
                        "EXTERNAL_VPC": 4, "HSM_SINGLE_TENANT": 5},
    "CryptoKeyPurpose": {"CRYPTO_KEY_PURPOSE_UNSPECIFIED": 0, "ENCRYPT_DECRYPT": 1, "ASYMMETRIC_SIGN": 5,
                         "ASYMMETRIC_DECRYPT": 6, "RAW_ENCRYPT_DECRYPT": 7, "MAC": 9, "KEY_ENCAPSULATION": 10,
                         "AES_WRAPPING": 11},
    "CryptoKeyVersionAlgorithm": {
        "CRYPTO_KEY_VERSION_ALGORITHM_UNSPECIFIED": 0, "GOOGLE_SYMMETRIC_ENCRYPTION": 1,
        "RSA_SIGN_PSS_2048_SHA256": 2, "RSA_SIGN_PSS_3072_SHA256": 3, "RSA_SIGN_PSS_4096_SHA256": 4,
        "RSA_SIGN_PKCS1_2048_SHA256": 5, "RSA_SIGN_PKCS1_3072_SHA256": 6, "RSA_SIGN_PKCS1_4096_SHA256": 7,
        "RSA_DECRYPT_OAEP_2048_SHA256": 8, "RSA_DECRYPT_OAEP_3072_SHA256": 9, "RSA_DECRYPT_OAEP_4096_SHA256": 10,
        "EC_SIGN_P256_SHA256": 12, "EC_SIGN_P384_SHA384": 13, "RSA_SIGN_PSS_4096_SHA512": 15,
        "RSA_SIGN_PKCS1_4096_SHA512": 16, "RSA_DECRYPT_OAEP_4096_SHA512": 17, "EXTERNAL_SYMMETRIC_ENCRYPTION": 18,
        "AES_256_GCM": 19, "RSA_SIGN_RAW_PKCS1_2048": 28, "RSA_SIGN_RAW_PKCS1_3072": 29,
        "RSA_SIGN_RAW_PKCS1_4096": 30, "EC_SIGN_SECP256K1_SHA256": 31, "HMAC_SHA256": 32, "HMAC_SHA1": 33,
        "HMAC_SHA384": 34, "HMAC_SHA512": 35, "HMAC_SHA224": 36, "RSA_DECRYPT_OAEP_2048_SHA1": 37,
        "RSA_DECRYPT_OAEP_3072_SHA1": 38, "RSA_DECRYPT_OAEP_4096_SHA1": 39, "EC_SIGN_ED25519": 40,
        "AES_128_GCM": 41, "AES_128_CBC": 42, "AES_256_CBC": 43, "AES_128_CTR": 44, "AES_256_CTR": 45,
        "ML_KEM_768": 47, "ML_KEM_1024": 48, "PQ_SIGN_ML_DSA_65": 56, "PQ_SIGN_SLH_DSA_SHA2_128S": 57,
        "PQ_SIGN_HASH_SLH_DSA_SHA2_128S_SHA256": 60, "KEM_XWING": 63, "PQ_SIGN_ML_DSA_65_EXTERNAL_MU": 67,
        "PQ_SIGN_ML_DSA_44": 68, "PQ_SIGN_ML_DSA_87": 69, "PQ_SIGN_ML_DSA_44_EXTERNAL_MU": 70,
        "PQ_SIGN_ML_DSA_87_EXTERNAL_MU": 71, "AES_256_KWP": 73},
    "CryptoKeyVersionState": {"CRYPTO_KEY_VERSION_STATE_UNSPECIFIED": 0, "ENABLED": 1, "DISABLED": 2,
                              "DESTROYED": 3, "DESTROY_SCHEDULED": 4, "PENDING_GENERATION": 5,
                              "PENDING_IMPORT": 6, "IMPORT_FAILED": 7, "GENERATION_FAILED": 8,
                              "PENDING_EXTERNAL_DESTRUCTION": 9, "EXTERNAL_DESTRUCTION_FAILED": 10},
    "CryptoKeyVersionView": {"CRYPTO_KEY_VERSION_VIEW_UNSPECIFIED": 0, "FULL": 1},
    "AttestationFormat": {"ATTESTATION_FORMAT_UNSPECIFIED": 0, "CAVIUM_V1_COMPRESSED": 3, "CAVIUM_V2_COMPRESSED": 4},
    "ImportMethod": {"IMPORT_METHOD_UNSPECIFIED": 0, "RSA_OAEP_3072_SHA1_AES_256": 1,
                     "RSA_OAEP_4096_SHA1_AES_256": 2, "RSA_OAEP_3072_SHA256_AES_256": 3,
                     "RSA_OAEP_4096_SHA256_AES_256": 4, "RSA_OAEP_3072_SHA256": 5, "RSA_OAEP_4096_SHA256": 6,
                     "HPKE_KEM_ML_KEM_768_HKDF_SHA256_AES_256_GCM": 8,
                     "HPKE_KEM_ML_KEM_1024_HKDF_SHA256_AES_256_GCM": 9,
                     "HPKE_KEM_XWING_HKDF_SHA256_AES_256_GCM": 10},
    "ImportJobState": {"IMPORT_JOB_STATE_UNSPECIFIED": 0, "PENDING_GENERATION": 1, "ACTIVE": 2, "EXPIRED": 3},
    "PublicKeyFormat": {"PUBLIC_KEY_FORMAT_UNSPECIFIED": 0, "PEM": 1, "DER": 2, "NIST_PQC": 3,
                        "XWING_RAW_BYTES": 4},
    "AccessReason": {"REASON_UNSPECIFIED": 0, "CUSTOMER_INITIATED_SUPPORT": 1, "GOOGLE_INITIATED_SERVICE": 2,
                     "THIRD_PARTY_DATA_REQUEST": 3, "GOOGLE_INITIATED_REVIEW": 4, "CUSTOMER_INITIATED_ACCESS": 5,
                     "GOOGLE_INITIATED_SYSTEM_OPERATION": 6, "REASON_NOT_EXPECTED": 7,
                     "MODIFIED_CUSTOMER_INITIATED_ACCESS": 8, "MODIFIED_GOOGLE_INITIATED_SYSTEM_OPERATION": 9,
                     "GOOGLE_RESPONSE_TO_PRODUCTION_ALERT": 10, "CUSTOMER_AUTHORIZED_WORKFLOW_SERVICING": 11},
}
ENUM_NAMES = {e: {n: name for name, n in values.items()} for e, values in ENUMS.items()}
ENUM_PACKAGE = {"ProtectionLevel": "google.cloud.kms.v1.ProtectionLevel",
                "CryptoKeyPurpose": "google.cloud.kms.v1.CryptoKey.CryptoKeyPurpose",
                "CryptoKeyVersionAlgorithm": "google.cloud.kms.v1.CryptoKeyVersion.CryptoKeyVersionAlgorithm",
                "CryptoKeyVersionState": "google.cloud.kms.v1.CryptoKeyVersion.CryptoKeyVersionState",
                "CryptoKeyVersionView": "google.cloud.kms.v1.CryptoKeyVersion.CryptoKeyVersionView",
                "AttestationFormat": "google.cloud.kms.v1.KeyOperationAttestation.AttestationFormat",
                "ImportMethod": "google.cloud.kms.v1.ImportJob.ImportMethod",
                "ImportJobState": "google.cloud.kms.v1.ImportJob.ImportJobState",
                "PublicKeyFormat": "google.cloud.kms.v1.PublicKey.PublicKeyFormat",
                "AccessReason": "google.cloud.kms.v1.AccessReason"}


def _fields(*specs):
    """{lowerCamel JSON name: (proto field name, kind, repeated)} from (proto name, kind[, "repeated"])."""
    out = {}
    for spec in specs:
        proto, kind = spec[0], spec[1]
        camel = re.sub(r"_([a-z0-9])", lambda m: m.group(1).upper(), proto)
        out[camel] = (proto, kind, len(spec) > 2)
    return out


# The messages the implemented methods read or write, every field the published API has (kinds:
# string, bool, bytes, int32, timestamp, duration, map (string to string), ("enum", E), ("message", M)).
MESSAGES = {
    "CryptoKey": _fields(
        ("name", "string"), ("primary", ("message", "CryptoKeyVersion")), ("purpose", ("enum", "CryptoKeyPurpose")),
        ("create_time", "timestamp"), ("next_rotation_time", "timestamp"), ("rotation_period", "duration"),
        ("version_template", ("message", "CryptoKeyVersionTemplate")), ("labels", "map"),
        ("import_only", "bool"), ("destroy_scheduled_duration", "duration"), ("crypto_key_backend", "string"),
        ("key_access_justifications_policy", ("message", "KeyAccessJustificationsPolicy"))),
    "CryptoKeyVersionTemplate": _fields(
        ("protection_level", ("enum", "ProtectionLevel")), ("algorithm", ("enum", "CryptoKeyVersionAlgorithm"))),
    "KeyAccessJustificationsPolicy": _fields(("allowed_access_reasons", ("enum", "AccessReason"), "repeated")),
    "CryptoKeyVersion": _fields(
        ("name", "string"), ("state", ("enum", "CryptoKeyVersionState")),
        ("protection_level", ("enum", "ProtectionLevel")), ("algorithm", ("enum", "CryptoKeyVersionAlgorithm")),
        ("attestation", ("message", "KeyOperationAttestation")), ("create_time", "timestamp"),
        ("generate_time", "timestamp"), ("destroy_time", "timestamp"), ("destroy_event_time", "timestamp"),
        ("import_job", "string"), ("import_time", "timestamp"), ("import_failure_reason", "string"),
        ("generation_failure_reason", "string"), ("external_destruction_failure_reason", "string"),
        ("external_protection_level_options", ("message", "ExternalProtectionLevelOptions")),
        ("reimport_eligible", "bool"), ("trusted_wrapping_enabled", "bool"), ("hsm_trusted", "bool")),
    "ExternalProtectionLevelOptions": _fields(
        ("external_key_uri", "string"), ("ekm_connection_key_path", "string"),
        ("ekm_connection_backend_override", "string")),
    "KeyOperationAttestation": _fields(
        ("format", ("enum", "AttestationFormat")), ("content", "bytes"),
        ("cert_chains", ("message", "CertificateChains"))),
    "CertificateChains": _fields(
        ("cavium_certs", "string", "repeated"), ("google_card_certs", "string", "repeated"),
        ("google_partition_certs", "string", "repeated")),
    "ImportJob": _fields(
        ("name", "string"), ("import_method", ("enum", "ImportMethod")),
        ("protection_level", ("enum", "ProtectionLevel")), ("create_time", "timestamp"),
        ("generate_time", "timestamp"), ("expire_time", "timestamp"), ("expire_event_time", "timestamp"),
        ("state", ("enum", "ImportJobState")), ("public_key", ("message", "WrappingPublicKey")),
        ("public_key_format", ("enum", "PublicKeyFormat")), ("attestation", ("message", "KeyOperationAttestation")),
        ("crypto_key_backend", "string")),
    "WrappingPublicKey": _fields(("pem", "string"), ("data", "bytes")),
    "ListCryptoKeyVersionsResponse": _fields(
        ("crypto_key_versions", ("message", "CryptoKeyVersion"), "repeated"), ("next_page_token", "string"),
        ("total_size", "int32")),
    # Request bodies bound with body "*": the request message (its path-bound field included).
    "ImportCryptoKeyVersionRequest": _fields(
        ("parent", "string"), ("crypto_key_version", "string"),
        ("algorithm", ("enum", "CryptoKeyVersionAlgorithm")), ("import_job", "string"), ("wrapped_key", "bytes"),
        ("rsa_aes_wrapped_key", "bytes"), ("trusted_wrapping_enabled", "bool")),
    "UpdateCryptoKeyPrimaryVersionRequest": _fields(("name", "string"), ("crypto_key_version_id", "string")),
    "DestroyCryptoKeyVersionRequest": _fields(("name", "string")),
    "RestoreCryptoKeyVersionRequest": _fields(("name", "string")),
}
# A request's fields that are neither in the path nor in the body: the query parameters a method
# binds (by JSON name or proto name).
QUERY_FIELDS = {
    "create_crypto_key": _fields(("crypto_key_id", "string"), ("skip_initial_version_creation", "bool"),
                                 ("trusted_wrapping_enabled", "bool")),
    "get_crypto_key": {},
    "update_primary": {},
    "list_versions": _fields(("page_size", "int32"), ("page_token", "string"),
                             ("view", ("enum", "CryptoKeyVersionView")), ("filter", "string"),
                             ("order_by", "string")),
    "import_version": {},
    "get_crypto_key_version": {},
    "destroy": {},
    "restore": {},
    "create_import_job": _fields(("import_job_id", "string")),
    "get_import_job": _fields(("public_key_format", ("enum", "PublicKeyFormat"))),
}
# System parameters Google's front end takes on every method: the response format ($alt or alt:
# "json", or "json;enum-encoding=int" for enum numbers, which Google's REST client libraries send)
# and prettyPrint.
ALT_JSON, ALT_JSON_INT = "json", "json;enum-encoding=int"
SERVICE_AUDIENCES = {"https://cloudkms.googleapis.com/", "https://cloudkms.googleapis.com"}
TIMESTAMP_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$")
DURATION_RE = re.compile(r"^(-?)(\d{1,12})(?:\.(\d{1,9}))?s$")


class ApiError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


class OAuthError(Exception):
    def __init__(self, code, description, http=400):
        super().__init__(description)
        self.code = code
        self.description = description
        self.http = http


def rfc3339(t):
    dt = datetime.datetime.fromtimestamp(t, tz=datetime.timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond:06d}000Z"


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def bytes_field(value, field):
    """A proto bytes field in JSON: base64, standard or URL-safe alphabet."""
    if not isinstance(value, str):
        raise ApiError("INVALID_ARGUMENT", f"Invalid value at '{field}' (TYPE_BYTES), expected a base64 string")
    try:
        alt = value.replace("-", "+").replace("_", "/")
        return base64.b64decode(alt + "=" * (-len(alt) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ApiError("INVALID_ARGUMENT", f"Invalid value at '{field}' (TYPE_BYTES), Base64 decoding failed")


def invalid_value(where, kind, value):
    shown = value if isinstance(value, str) else json.dumps(value)
    return ApiError("INVALID_ARGUMENT", f"Invalid value at '{where}' ({kind}), \"{shown}\"")


def enum_kind(enum):
    return f"type.googleapis.com/{ENUM_PACKAGE[enum]}"


def parse_enum(value, enum, where):
    """An enum in protobuf JSON: its name, or its number (a JSON number, or its digits in a string,
    which protobuf's JSON parser also takes). Returns the name."""
    values = ENUMS[enum]
    if isinstance(value, str) and value in values:
        return value
    number = value
    if isinstance(value, str) and re.match(r"^-?[0-9]+$", value):
        number = int(value)
    if isinstance(number, int) and not isinstance(number, bool) and number in ENUM_NAMES[enum]:
        return ENUM_NAMES[enum][number]
    raise invalid_value(where, enum_kind(enum), value)


def parse_scalar(value, kind, where, from_query=False):
    """One protobuf JSON value of a scalar kind, checked; returns the canonical JSON value."""
    if isinstance(kind, tuple):
        return parse_enum(value, kind[1], where)
    if kind == "string":
        if not isinstance(value, str):
            raise invalid_value(where, "TYPE_STRING", value)
        return value
    if kind == "bool":
        if from_query and value in ("true", "false"):
            return value == "true"
        if not isinstance(value, bool):
            raise invalid_value(where, "TYPE_BOOL", value)
        return value
    if kind == "int32":
        if isinstance(value, str) and re.match(r"^-?[0-9]+$", value):
            number = int(value)
        elif isinstance(value, int) and not isinstance(value, bool):
            number = value
        else:
            raise invalid_value(where, "TYPE_INT32", value)
        if not -2 ** 31 <= number < 2 ** 31:
            raise invalid_value(where, "TYPE_INT32", value)
        return number
    if kind == "bytes":
        bytes_field(value, where)
        return value
    if kind == "timestamp":
        canonical = canonical_timestamp(value) if isinstance(value, str) else None
        if canonical is None:
            raise invalid_value(where, "type.googleapis.com/google.protobuf.Timestamp", value)
        return canonical
    if kind == "duration":
        if not isinstance(value, str) or duration_seconds(value) is None:
            raise invalid_value(where, "type.googleapis.com/google.protobuf.Duration", value)
        return canonical_duration(value)
    raise AssertionError(kind)


def is_default(value):
    return value in (None, "", 0, False, [], {}) and value is not True


def parse_message(body, message, where):
    """A request message in protobuf JSON, as Google's front end parses it: each field by its
    lowerCamel JSON name or its proto name (not both), enums by name or number, null for a field
    left out, unknown names refused. Returns the fake's canonical form: lowerCamel names, enum
    names, default values (proto3: "", false, 0, the enum's 0, empty lists and maps) left out."""
    fields = MESSAGES[message]
    if not isinstance(body, dict):
        raise ApiError("INVALID_ARGUMENT", f"Invalid JSON payload received. Expected an object at '{where}'.")
    by_proto = {proto: camel for camel, (proto, _, _) in fields.items()}
    out, seen = {}, set()
    for name, value in body.items():
        camel = name if name in fields else by_proto.get(name)
        if camel is None:
            at = f" at '{where}'" if where else ""
            raise ApiError("INVALID_ARGUMENT",
                           f"Invalid JSON payload received. Unknown name \"{name}\"{at}: Cannot find field.")
        proto, kind, repeated = fields[camel]
        if camel in seen:
            raise ApiError("INVALID_ARGUMENT",
                           f"Invalid JSON payload received. Message type \"google.cloud.kms.v1.{message}\" "
                           f"should not have multiple \"{proto}\" fields.")
        seen.add(camel)
        if value is None:
            continue
        path = f"{where}.{proto}" if where else proto
        if kind == "map":
            if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
                raise ApiError("INVALID_ARGUMENT", f"Invalid JSON payload received. Expected a map of strings at "
                                                   f"'{path}'.")
            parsed = dict(value)
        elif repeated:
            if not isinstance(value, list):
                raise ApiError("INVALID_ARGUMENT", f"Invalid JSON payload received. Expected a list at '{path}'.")
            parsed = [parse_message(v, kind[1], path) if isinstance(kind, tuple) and kind[0] == "message"
                      else parse_scalar(v, kind, path) for v in value]
        elif isinstance(kind, tuple) and kind[0] == "message":
            parsed = parse_message(value, kind[1], path)
            out[camel] = parsed  # a message field is set even when empty
            continue
        else:
            parsed = parse_scalar(value, kind, path)
            if isinstance(kind, tuple) and ENUMS[kind[1]][parsed] == 0:
                parsed = None
        if not is_default(parsed):
            out[camel] = parsed
    return out


def parse_query(query, method):
    """A method's query string: the system parameters ($alt / alt, prettyPrint) and the request's
    fields that are neither in the path nor in the body, by JSON or proto name, each at most once.
    Returns (canonical parameters, {"int_enums": bool, "pretty": bool})."""
    fields = QUERY_FIELDS[method]
    by_proto = {proto: camel for camel, (proto, _, _) in fields.items()}
    params, options, seen = {}, {"int_enums": False, "pretty": True}, set()
    for name, values in query.items():
        if name in ("$alt", "alt", "prettyPrint"):
            key = "alt" if name != "prettyPrint" else name
            if key in seen or len(values) != 1:
                raise ApiError("INVALID_ARGUMENT", f"Parameter {name} is given more than once.")
            seen.add(key)
            value = values[0]
            if key == "prettyPrint":
                if value not in ("true", "false"):
                    raise invalid_value("prettyPrint", "TYPE_BOOL", value)
                options["pretty"] = value == "true"
            elif re.sub(r"\s*;\s*", ";", value) == ALT_JSON_INT:
                options["int_enums"] = True
            elif value in ("proto", "media", "sse"):
                raise ApiError("UNIMPLEMENTED", f"{name}={value} is not implemented by this fake (JSON only).")
            elif value != ALT_JSON:
                raise ApiError("INVALID_ARGUMENT", f"Invalid {name} value \"{value}\".")
            continue
        if name in ("fields", "$fields"):
            raise unimplemented("Partial responses (fields)")
        camel = name if name in fields else by_proto.get(name)
        if camel is None:
            raise ApiError("INVALID_ARGUMENT",
                           f"Invalid JSON payload received. Unknown name \"{name}\": Cannot bind query parameter. "
                           f"Field '{name}' could not be found in request message.")
        proto, kind, _ = fields[camel]
        if camel in seen or len(values) != 1:
            raise ApiError("INVALID_ARGUMENT", f"Invalid JSON payload received. Field '{proto}' is given more "
                                               "than once in the query string.")
        seen.add(camel)
        value = parse_scalar(values[0], kind, proto, from_query=True)
        if not (isinstance(kind, tuple) and ENUMS[kind[1]][value] == 0):  # an enum's 0: not given
            params[camel] = value
    return params, options


def encode_enums(obj, message):
    """A response in protobuf JSON with enum numbers ($alt=json;enum-encoding=int) instead of names."""
    fields = MESSAGES[message]
    out = {}
    for name, value in obj.items():
        _, kind, repeated = fields[name]
        if isinstance(kind, tuple):
            convert = (lambda v: encode_enums(v, kind[1])) if kind[0] == "message" else \
                (lambda v: ENUMS[kind[1]][v])
            value = [convert(v) for v in value] if repeated else convert(value)
        out[name] = value
    return out


def duration_seconds(text):
    """A protobuf JSON Duration ("<seconds>[.<fraction>]s") in seconds, or None."""
    m = DURATION_RE.match(text) if isinstance(text, str) else None
    if not m:
        return None
    seconds = int(m.group(2)) + int((m.group(3) or "0").ljust(9, "0")) / 1e9
    if seconds > 315576000000:
        return None
    return -seconds if m.group(1) else seconds


def canonical_timestamp(text):
    """An RFC 3339 timestamp as the fake writes them (UTC, "Z", nanoseconds), or None."""
    m = TIMESTAMP_RE.match(text)
    if not m:
        return None
    try:
        t = datetime.datetime.strptime(text[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    except ValueError:
        return None
    if m.group(2) != "Z":
        sign = -1 if m.group(2)[0] == "+" else 1
        t += sign * datetime.timedelta(hours=int(m.group(2)[1:3]), minutes=int(m.group(2)[4:6]))
    if not 1 <= t.year <= 9999:
        return None
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + (m.group(1) or ".")[1:].ljust(9, "0") + "Z"


def canonical_duration(text):
    """The Duration as Google writes it: no fraction, or 3, 6 or 9 digits of it."""
    m = DURATION_RE.match(text)
    nanos = int((m.group(3) or "0").ljust(9, "0"))
    seconds = str(int(m.group(2)))
    sign = m.group(1) if (int(m.group(2)) or nanos) else ""
    if nanos == 0:
        return f"{sign}{seconds}s"
    frac = f"{nanos:09d}"
    for digits in (3, 6, 9):
        if frac[digits:].strip("0") == "":
            return f"{sign}{seconds}.{frac[:digits]}s"


def unimplemented(what):
    return ApiError("UNIMPLEMENTED", f"{what} is not implemented by this fake.")


def prune(d):
    """Google's JSON leaves out empty and default fields, and the fake's private '_' fields."""
    return {k: v for k, v in d.items() if not k.startswith("_") and v not in (None, "", [], {}, False)}


class Fake:
    def __init__(self, args, port):
        self.lock = threading.Lock()
        self.pending = args.pending_seconds
        self.project, self.location, self.key_ring = args.project, args.location, args.key_ring
        self.key_ring_name = f"projects/{self.project}/locations/{self.location}/keyRings/{self.key_ring}"
        self.token_uri = f"https://127.0.0.1:{port}/token"
        self.sa_email = f"byok-operator@{self.project}.iam.gserviceaccount.com"
        self.sa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.sa_key_id = secrets.token_hex(20)
        self.tokens = {}      # access token -> expiry (epoch seconds)
        self.jwt_cutoff = 0   # self-signed JWTs with an earlier iat are refused (expire-tokens)
        self.keys = {}        # CryptoKey name -> dict
        self.versions = {}    # CryptoKey name -> [version dict], in id order
        self.materials = {}   # version name -> sha256 hex of the imported material
        self.jobs = {}        # ImportJob name -> dict (with "_private" key)
        self.write_key_files(args.dir)
        self.make_attestation_pki(args.dir)

    # ---- attestations --------------------------------------------------------------------------
    def make_attestation_pki(self, directory):
        def name(cn):
            return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

        def cert(subject, key, issuer, issuer_key, ca):
            now = datetime.datetime.now(datetime.timezone.utc)
            b = (x509.CertificateBuilder().subject_name(name(subject)).issuer_name(name(issuer))
                 .public_key(key.public_key()).serial_number(x509.random_serial_number())
                 .not_valid_before(now - datetime.timedelta(days=1))
                 .not_valid_after(now + datetime.timedelta(days=30))
                 .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
            return b.sign(issuer_key, hashes.SHA256())

        def pem(c):
            return c.public_bytes(serialization.Encoding.PEM).decode()

        key = lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
        mfr_key, owner_key, card_key = key(), key(), key()
        self.partition_key = key()  # 2048 bits: a 256-byte signature, as the format has
        mfr_root = cert("Test HSM Manufacturer Root", mfr_key, "Test HSM Manufacturer Root", mfr_key, True)
        owner_root = cert("Test Cloud HSM Owner Root", owner_key, "Test Cloud HSM Owner Root", owner_key, True)
        mfr_card = cert("Test HSM Card", card_key, "Test HSM Manufacturer Root", mfr_key, True)
        mfr_partition = cert("Test HSM Partition", self.partition_key, "Test HSM Card", card_key, False)
        owner_card = cert("Test Cloud HSM Card", card_key, "Test Cloud HSM Owner Root", owner_key, False)
        owner_partition = cert("Test Cloud HSM Partition", self.partition_key, "Test Cloud HSM Owner Root",
                               owner_key, False)
        self.cert_chains = {"caviumCerts": [pem(mfr_partition), pem(mfr_card)],
                            "googleCardCerts": [pem(owner_card)],
                            "googlePartitionCerts": [pem(owner_partition)]}
        with open(os.path.join(directory, "attestation-manufacturer-roots.pem"), "w") as f:
            f.write(pem(mfr_root))
        with open(os.path.join(directory, "attestation-owner-roots.pem"), "w") as f:
            f.write(pem(owner_root))

    def attestation(self, public_key):
        numbers = public_key.public_numbers()
        n = numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")
        e = numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")
        attrs = [(0x0000, b"\x02"), (0x0100, b"\x00"), (0x0120, n), (0x0122, e),
                 (0x0121, struct.pack(">I", public_key.key_size))]
        tlvs = b"".join(struct.pack(">II", t, len(v)) + v for t, v in attrs)
        handle = 0x2f
        obj = struct.pack(">III", handle, len(attrs), len(tlvs)) + tlvs
        buffer = struct.pack(">HHHH", 1, 3, 8, 0) + obj
        handles = struct.pack(">Q", handle)
        total = 16 + len(handles) + len(buffer) + 256
        body = struct.pack(">IIII", 0, 3, total, len(buffer)) + handles + buffer
        signature = self.partition_key.sign(body, padding.PKCS1v15(), hashes.SHA256())
        return {"format": "CAVIUM_V2_COMPRESSED",
                "content": base64.b64encode(gzip.compress(body + signature)).decode(),
                "certChains": self.cert_chains}

    # ---- service account ---------------------------------------------------------------------
    def sa_json(self, key, key_id):
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
        return {"type": "service_account", "project_id": self.project, "private_key_id": key_id,
                "private_key": pem, "client_email": self.sa_email, "client_id": "104242424242424242424",
                "auth_uri": "https://127.0.0.1/unused-auth-uri", "token_uri": self.token_uri,
                "universe_domain": "googleapis.com"}

    def write_key_files(self, d):
        def write(path, obj):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                json.dump(obj, f, indent=2)
        write(os.path.join(d, "sa-key.json"), self.sa_json(self.sa_key, self.sa_key_id))
        # Same account, a key the fake never issued: its grants must be refused.
        other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        write(os.path.join(d, "sa-key-wrong.json"), self.sa_json(other, secrets.token_hex(20)))

    def grant(self, form):
        grant_type = form.get("grant_type", [""])[0]
        if grant_type != JWT_BEARER:
            raise OAuthError("unsupported_grant_type", f"Invalid grant_type: {grant_type}")
        assertion = form.get("assertion", [""])[0]
        parts = assertion.split(".")
        if len(parts) != 3:
            raise OAuthError("invalid_request", "Invalid JWT: not a JWS compact serialization")
        try:
            header = json.loads(b64url_decode(parts[0]))
            claims = json.loads(b64url_decode(parts[1]))
            signature = b64url_decode(parts[2])
        except (ValueError, binascii.Error):
            raise OAuthError("invalid_grant", "Invalid JWT: undecodable header, claims or signature")
        if header.get("alg") != "RS256":
            raise OAuthError("invalid_grant", f"Invalid JWT: algorithm {header.get('alg')} is not RS256")
        if "kid" in header and header["kid"] != self.sa_key_id:
            raise OAuthError("invalid_grant", "Invalid JWT Signature.")
        try:
            self.sa_key.public_key().verify(signature, (parts[0] + "." + parts[1]).encode(),
                                            padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            raise OAuthError("invalid_grant", "Invalid JWT Signature.")
        if claims.get("iss") != self.sa_email:
            raise OAuthError("invalid_grant", "Invalid grant: account not found")
        if "sub" in claims and claims["sub"] != self.sa_email:
            raise OAuthError("unauthorized_client",
                             "Client is unauthorized to retrieve access tokens using this method, or client not "
                             "authorized for any of the scopes requested.")
        # The token endpoint's URI: the key file's token_uri (the operator's choice), or Google's
        # canonical one, which google-auth always puts there whatever the key file says.
        if claims.get("aud") not in (self.token_uri, GOOGLE_TOKEN_URI):
            raise OAuthError("invalid_grant", f"Invalid JWT: Failed audience check. The right audience is {self.token_uri}")
        now = time.time()
        iat, exp = claims.get("iat"), claims.get("exp")
        if not isinstance(iat, int) or not isinstance(exp, int) or exp - iat > 3600 or exp <= iat \
                or iat > now + 300 or exp < now:
            raise OAuthError("invalid_grant",
                             "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable "
                             "timeframe. Check your iat and exp values in the JWT claim.")
        scopes = set(str(claims.get("scope", "")).split())
        if not scopes & SCOPES:
            raise OAuthError("invalid_scope", "Invalid OAuth scope or ID token audience provided.")
        token = "ya29.fake-" + secrets.token_urlsafe(32)
        with self.lock:
            self.tokens[token] = now + 3600
        return {"access_token": token, "expires_in": 3599, "token_type": "Bearer"}

    def authenticate(self, authorization):
        if not authorization:
            raise ApiError("UNAUTHENTICATED",
                           "Request is missing required authentication credential. Expected OAuth 2 access token, "
                           "login cookie or other valid authentication credential.")
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() == "bearer" and token.count(".") == 2 and self.self_signed_jwt_ok(token):
            return
        with self.lock:
            expiry = self.tokens.get(token) if scheme.lower() == "bearer" else None
        if expiry is None or expiry < time.time():
            raise ApiError("UNAUTHENTICATED",
                           "Request had invalid authentication credentials. Expected OAuth 2 access token, "
                           "login cookie or other valid authentication credential.")

    def self_signed_jwt_ok(self, token):
        """A service account's self-signed JWT used directly as the bearer token (AIP-4111; what
        Google's client libraries send by default for a service-account key): RS256 signed by a key
        of the account (kid), iss = sub = the account, at most an hour long and current, and either
        aud = the service (https://cloudkms.googleapis.com/) or no aud and a scope claim with a
        Cloud KMS scope. An OAuth grant assertion (aud = the token URI) is no access token."""
        parts = token.split(".")
        try:
            header = json.loads(b64url_decode(parts[0]))
            claims = json.loads(b64url_decode(parts[1]))
            signature = b64url_decode(parts[2])
        except (ValueError, binascii.Error):
            return False
        if not isinstance(header, dict) or not isinstance(claims, dict):
            return False
        if header.get("alg") != "RS256" or header.get("kid") != self.sa_key_id:
            return False
        try:
            self.sa_key.public_key().verify(signature, (parts[0] + "." + parts[1]).encode(),
                                            padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            return False
        if claims.get("iss") != self.sa_email or claims.get("sub") != self.sa_email:
            return False
        now = time.time()
        iat, exp = claims.get("iat"), claims.get("exp")
        if not isinstance(iat, int) or not isinstance(exp, int) or exp - iat > 3600 or exp <= iat \
                or iat > now + 300 or exp < now or iat < self.jwt_cutoff:
            return False
        if "aud" in claims:
            return claims["aud"] in SERVICE_AUDIENCES
        return bool(set(str(claims.get("scope", "")).split()) & SCOPES)

    # ---- resources ---------------------------------------------------------------------------
    def check_key_ring(self, project, location, key_ring, permission, resource):
        if project != self.project:
            raise ApiError("PERMISSION_DENIED",
                           f"Permission '{permission}' denied on resource '{resource}' (or it may not exist).")
        if (location, key_ring) != (self.location, self.key_ring):
            raise ApiError("NOT_FOUND", f"KeyRing projects/{project}/locations/{location}/keyRings/{key_ring} not found.")

    def settle_version(self, v):
        now = time.time()
        if v["state"] == "PENDING_IMPORT" and now >= v["_ready_at"]:
            state, detail = v.pop("_outcome")
            v["state"] = state
            if state == "ENABLED":
                v["importTime"] = rfc3339(now)
                self.materials[v["name"]] = detail
            else:
                v["importFailureReason"] = detail
        return v

    def settle_job(self, job):
        now = time.time()
        if job["state"] == "PENDING_GENERATION" and now >= job["_ready_at"]:
            job["state"] = "ACTIVE"
            job["generateTime"] = rfc3339(now)
            pem = job["_private"].public_key().public_bytes(serialization.Encoding.PEM,
                                                             serialization.PublicFormat.SubjectPublicKeyInfo)
            job["publicKey"] = {"pem": pem.decode()}
            if job["protectionLevel"] == "HSM":
                job["attestation"] = self.attestation(job["_private"].public_key())
        if job["state"] == "ACTIVE" and now >= job["_expires_at"]:
            job["state"] = "EXPIRED"
            job["expireEventTime"] = rfc3339(now)
        return job

    def key_json(self, key):
        out = dict(key)
        versions = self.versions.get(key["name"], [])
        primary = next((v for v in versions if v["name"] == key.get("_primary")), None)
        if primary is not None:
            out["primary"] = prune(self.settle_version(primary))
        pruned = prune(out)
        if "keyAccessJustificationsPolicy" in key:  # set, even empty (which allows no access)
            pruned["keyAccessJustificationsPolicy"] = key["keyAccessJustificationsPolicy"]
        return pruned

    def get_key(self, name):
        key = self.keys.get(name)
        if key is None:
            raise ApiError("NOT_FOUND", f"CryptoKey {name} not found.")
        return key

    def get_version(self, key_name, version_id):
        self.get_key(key_name)
        name = f"{key_name}/cryptoKeyVersions/{version_id}"
        for v in self.versions[key_name]:
            if v["name"] == name:
                return self.settle_version(v)
        raise ApiError("NOT_FOUND", f"CryptoKeyVersion {name} not found.")

    def new_version(self, key, algorithm, state, **fields):
        versions = self.versions[key["name"]]
        v = {"name": f"{key['name']}/cryptoKeyVersions/{len(versions) + 1}", "state": state,
             "protectionLevel": key["versionTemplate"]["protectionLevel"], "algorithm": algorithm,
             "createTime": rfc3339(time.time())}
        v.update(fields)
        versions.append(v)
        return v

    # ---- methods -----------------------------------------------------------------------------
    # Each takes the path's names, the parsed query parameters and the parsed body (parse_query,
    # parse_message: lowerCamel names, enum names, defaults left out) and returns the resource in
    # JSON with enum names.
    def create_crypto_key(self, kr, params, body):
        key_id = params.get("cryptoKeyId", "")
        if not ID_RE.match(key_id):
            raise ApiError("INVALID_ARGUMENT", f"Invalid cryptoKeyId \"{key_id}\": it must match [a-zA-Z0-9_-]{{1,63}}.")
        skip = params.get("skipInitialVersionCreation", False)
        purpose = body.get("purpose", "")
        if not purpose:
            raise ApiError("INVALID_ARGUMENT", f"Invalid value at 'crypto_key.purpose': \"{purpose}\"")
        template = body.get("versionTemplate", {})
        level = template.get("protectionLevel") or "SOFTWARE"
        if level in ("EXTERNAL", "EXTERNAL_VPC", "HSM_SINGLE_TENANT"):
            raise unimplemented(f"Protection level {level}")
        algorithm = template.get("algorithm") or ("GOOGLE_SYMMETRIC_ENCRYPTION" if purpose == "ENCRYPT_DECRYPT" else "")
        if not algorithm:
            raise ApiError("INVALID_ARGUMENT", f"Invalid value at 'crypto_key.version_template.algorithm': \"{algorithm}\"")
        if algorithm not in ALGORITHMS:
            raise unimplemented(f"Algorithm {algorithm}")
        if ALGORITHMS[algorithm][0] != purpose:
            raise ApiError("INVALID_ARGUMENT", f"Algorithm {algorithm} is not compatible with CryptoKey purpose {purpose}.")
        if params.get("trustedWrappingEnabled"):
            raise ApiError("INVALID_ARGUMENT", "trusted_wrapping_enabled is only supported for keys with protection "
                                               "level HSM_SINGLE_TENANT.")
        if body.get("cryptoKeyBackend"):
            raise ApiError("INVALID_ARGUMENT", "crypto_key_backend only applies to keys with protection level "
                                               "EXTERNAL_VPC or HSM_SINGLE_TENANT.")
        import_only = body.get("importOnly", False)
        if import_only and not skip:
            raise ApiError("INVALID_ARGUMENT", "An import-only CryptoKey must be created with skip_initial_version_creation.")
        labels = body.get("labels", {})
        if len(labels) > 64:
            raise ApiError("INVALID_ARGUMENT", "Invalid labels: at most 64.")
        for k, v in labels.items():
            if not LABEL_KEY_RE.match(k) or not LABEL_VALUE_RE.match(v):
                raise ApiError("INVALID_ARGUMENT", f"Invalid label {k}={v}: keys must match [a-z][a-z0-9_-]{{0,62}}, "
                                                   "values [a-z0-9_-]{0,63}.")
        duration = body.get("destroyScheduledDuration", DEFAULT_DESTROY_SCHEDULED)
        if not 24 * 3600 <= duration_seconds(duration) <= 120 * 24 * 3600:
            raise ApiError("INVALID_ARGUMENT", f"Invalid duration \"{duration}\" at 'crypto_key.destroy_scheduled_duration': "
                                               "it must be between 24 hours and 120 days.")
        rotation = {f: body[f] for f in ("nextRotationTime", "rotationPeriod") if f in body}
        if rotation and purpose != "ENCRYPT_DECRYPT":
            raise ApiError("INVALID_ARGUMENT", "Only CryptoKeys with purpose ENCRYPT_DECRYPT support automatic rotation: "
                                               "next_rotation_time and rotation_period must be omitted.")
        if "rotationPeriod" in rotation:
            if "nextRotationTime" not in rotation:
                raise ApiError("INVALID_ARGUMENT", "rotation_period is set, so next_rotation_time must be set too.")
            if not 24 * 3600 <= duration_seconds(rotation["rotationPeriod"]) <= 876000 * 3600:
                raise ApiError("INVALID_ARGUMENT", "rotation_period must be at least 24 hours and at most 876,000 hours.")
        name = f"{kr}/cryptoKeys/{key_id}"
        with self.lock:
            if name in self.keys:
                raise ApiError("ALREADY_EXISTS", f"CryptoKey {name} already exists.")
            # name, primary and createTime are output only: the service sets them, whatever was sent.
            key = {"name": name, "purpose": purpose, "createTime": rfc3339(time.time()),
                   "versionTemplate": {"protectionLevel": level, "algorithm": algorithm},
                   "labels": dict(labels), "importOnly": import_only, "destroyScheduledDuration": duration}
            key.update(rotation)
            if "keyAccessJustificationsPolicy" in body:
                key["keyAccessJustificationsPolicy"] = body["keyAccessJustificationsPolicy"]
            self.keys[name] = key
            self.versions[name] = []
            if not skip:
                v = self.new_version(key, algorithm, "ENABLED", generateTime=rfc3339(time.time()))
                self.materials[v["name"]] = {"sha256": hashlib.sha256(generate_material(algorithm)).hexdigest()}
                if purpose == "ENCRYPT_DECRYPT":
                    key["_primary"] = v["name"]
            return self.key_json(key)

    def get_crypto_key(self, name, params, body):
        with self.lock:
            return self.key_json(self.get_key(name))

    def list_versions(self, key_name, params, body):
        if params.get("filter") or params.get("orderBy"):
            raise unimplemented("filter and order_by")
        size = params.get("pageSize", 0)
        try:
            start = int(base64.urlsafe_b64decode(params["pageToken"]).decode()) if params.get("pageToken") else 0
        except (ValueError, binascii.Error):
            raise ApiError("INVALID_ARGUMENT", "Invalid page token.")
        if size < 0 or size > 1000:
            raise ApiError("INVALID_ARGUMENT", "page_size must be between 0 and 1000.")
        size = size or 1000
        with self.lock:
            self.get_key(key_name)
            versions = [prune(self.settle_version(v)) for v in self.versions[key_name]]
        page = versions[start:start + size]
        out = {"cryptoKeyVersions": page, "totalSize": len(versions)}
        if start + size < len(versions):
            out["nextPageToken"] = base64.urlsafe_b64encode(str(start + size).encode()).decode()
        return prune(out)

    def get_crypto_key_version(self, key_name, version_id, params, body):
        with self.lock:
            return prune(self.get_version(key_name, version_id))

    def destroy(self, key_name, version_id, params, body):
        with self.lock:
            key = self.get_key(key_name)
            v = self.get_version(key_name, version_id)
            if v["state"] not in ("ENABLED", "DISABLED"):
                raise ApiError("FAILED_PRECONDITION",
                               f"The request cannot be fulfilled. Resource {v['name']} has value {v['state']} in "
                               "field crypto_key_version.state.")
            seconds = duration_seconds(key["destroyScheduledDuration"])
            v["state"] = "DESTROY_SCHEDULED"
            v["destroyTime"] = rfc3339(time.time() + seconds)
            return prune(v)

    def restore(self, key_name, version_id, params, body):
        with self.lock:
            v = self.get_version(key_name, version_id)
            if v["state"] != "DESTROY_SCHEDULED":
                raise ApiError("FAILED_PRECONDITION",
                               f"The request cannot be fulfilled. Resource {v['name']} has value {v['state']} in "
                               "field crypto_key_version.state.")
            v["state"] = "DISABLED"
            v.pop("destroyTime", None)
            return prune(v)

    def update_primary(self, key_name, params, body):
        version_id = body.get("cryptoKeyVersionId", "")
        if not version_id:
            raise ApiError("INVALID_ARGUMENT", "crypto_key_version_id is required.")
        with self.lock:
            key = self.get_key(key_name)
            if key["purpose"] != "ENCRYPT_DECRYPT":
                raise ApiError("FAILED_PRECONDITION",
                               f"The request cannot be fulfilled. Resource {key_name} has value {key['purpose']} in "
                               "field crypto_key.purpose.")
            v = self.get_version(key_name, version_id)
            if v["state"] != "ENABLED":
                raise ApiError("FAILED_PRECONDITION",
                               f"The request cannot be fulfilled. Resource {v['name']} has value {v['state']} in "
                               "field crypto_key_version.state.")
            key["_primary"] = v["name"]
            return self.key_json(key)

    def create_import_job(self, kr, params, body):
        job_id = params.get("importJobId", "")
        if not ID_RE.match(job_id):
            raise ApiError("INVALID_ARGUMENT", f"Invalid importJobId \"{job_id}\": it must match [a-zA-Z0-9_-]{{1,63}}.")
        method = body.get("importMethod", "")
        if method.startswith("HPKE_"):
            raise unimplemented(f"Import method {method}")
        if method not in IMPORT_METHODS:
            raise ApiError("INVALID_ARGUMENT", f"Invalid value at 'import_job.import_method': \"{method}\"")
        level = body.get("protectionLevel", "")
        if level == "HSM_SINGLE_TENANT":
            raise unimplemented(f"Protection level {level}")
        if level not in PROTECTION_LEVELS:
            raise ApiError("INVALID_ARGUMENT", f"Invalid value at 'import_job.protection_level': \"{level}\"")
        if body.get("cryptoKeyBackend"):
            raise ApiError("INVALID_ARGUMENT", "crypto_key_backend only applies to ImportJobs with protection level "
                                               "HSM_SINGLE_TENANT.")
        # Everything else in an ImportJob is output only: the service sets it, whatever was sent.
        name = f"{kr}/importJobs/{job_id}"
        with self.lock:
            if name in self.jobs:
                raise ApiError("ALREADY_EXISTS", f"ImportJob {name} already exists.")
            self.jobs[name] = None  # reserved while the wrapping key is generated
        private = rsa.generate_private_key(public_exponent=65537, key_size=IMPORT_METHODS[method][0])
        now = time.time()
        job = {"name": name, "importMethod": method, "protectionLevel": level, "createTime": rfc3339(now),
               "expireTime": rfc3339(now + IMPORT_JOB_LIFETIME), "state": "PENDING_GENERATION",
               "_private": private, "_ready_at": now + self.pending, "_expires_at": now + IMPORT_JOB_LIFETIME}
        with self.lock:
            self.jobs[name] = job
            return prune(self.settle_job(job))

    def get_import_job(self, name, params, body):
        fmt = params.get("publicKeyFormat")
        if fmt in ("NIST_PQC", "XWING_RAW_BYTES"):
            raise ApiError("INVALID_ARGUMENT", f"public_key_format {fmt} does not apply to RSA import methods.")
        with self.lock:
            job = self.jobs.get(name)
            if job is None:
                raise ApiError("NOT_FOUND", f"ImportJob {name} not found.")
            out = prune(self.settle_job(job))
        if fmt:
            out["publicKeyFormat"] = fmt
            if fmt == "DER" and "publicKey" in out:
                der = job["_private"].public_key().public_bytes(serialization.Encoding.DER,
                                                                 serialization.PublicFormat.SubjectPublicKeyInfo)
                out["publicKey"] = {"data": base64.b64encode(der).decode()}
        return out

    def import_version(self, key_name, params, body):
        # parent is bound to the path, which wins over a parent in the body.
        if body.get("cryptoKeyVersion"):
            raise unimplemented("Reimport into an existing version (crypto_key_version)")
        if body.get("trustedWrappingEnabled"):
            raise ApiError("INVALID_ARGUMENT", "trusted_wrapping_enabled is only supported for keys with protection "
                                               "level HSM_SINGLE_TENANT.")
        algorithm = body.get("algorithm", "")
        if not algorithm:
            raise ApiError("INVALID_ARGUMENT", f"Invalid value at 'algorithm': \"{algorithm}\"")
        if algorithm not in ALGORITHMS:
            raise unimplemented(f"Algorithm {algorithm}")
        job_name = body.get("importJob", "")
        if not job_name:
            raise ApiError("INVALID_ARGUMENT", "import_job is required.")
        if ("wrappedKey" in body) == ("rsaAesWrappedKey" in body):
            raise ApiError("INVALID_ARGUMENT", "Exactly one of wrapped_key and rsa_aes_wrapped_key must be set.")
        field = "wrappedKey" if "wrappedKey" in body else "rsaAesWrappedKey"
        wrapped = bytes_field(body[field], "wrapped_key" if field == "wrappedKey" else "rsa_aes_wrapped_key")
        with self.lock:
            key = self.get_key(key_name)
            if ALGORITHMS[algorithm][0] != key["purpose"]:
                raise ApiError("INVALID_ARGUMENT",
                               f"Algorithm {algorithm} is not compatible with CryptoKey purpose {key['purpose']}.")
            job = self.jobs.get(job_name)
            if job is None:
                raise ApiError("NOT_FOUND", f"ImportJob {job_name} not found.")
            self.settle_job(job)
            if job["state"] != "ACTIVE":
                raise ApiError("FAILED_PRECONDITION",
                               f"The request cannot be fulfilled. Resource {job_name} has value {job['state']} in "
                               "field import_job.state.")
            if job["protectionLevel"] != key["versionTemplate"]["protectionLevel"]:
                raise ApiError("FAILED_PRECONDITION",
                               f"ImportJob {job_name} has protection level {job['protectionLevel']}, CryptoKey "
                               f"{key_name} has {key['versionTemplate']['protectionLevel']}.")
            bits, oaep_hash, with_kwp = IMPORT_METHODS[job["importMethod"]]
            if field == "rsaAesWrappedKey" and not with_kwp:
                raise ApiError("INVALID_ARGUMENT", f"rsa_aes_wrapped_key cannot be used with {job['importMethod']}.")
            if not with_kwp and ALGORITHMS[algorithm][1] == "rsa":
                raise ApiError("INVALID_ARGUMENT", f"{job['importMethod']} cannot be used to import RSA keys.")
            n = bits // 8
            if (with_kwp and (len(wrapped) < n + 16 or (len(wrapped) - n) % 8)) or (not with_kwp and len(wrapped) != n):
                raise ApiError("INVALID_ARGUMENT",
                               f"The wrapped key has {len(wrapped)} bytes, which does not fit {job['importMethod']}.")
            outcome = unwrap_and_check(job["_private"], oaep_hash, with_kwp, n, wrapped, algorithm)
            v = self.new_version(key, algorithm, "PENDING_IMPORT", importJob=job_name,
                                 reimportEligible=True, _outcome=outcome, _ready_at=time.time() + self.pending)
            return prune(v)

    # ---- test-only -----------------------------------------------------------------------------
    def admin_version_state(self, body):
        name, state = body.get("name", ""), body.get("state", "")
        m = re.match(r"^(.*/cryptoKeys/[^/]+)/cryptoKeyVersions/([^/]+)$", name)
        if not m or state not in ("ENABLED", "DISABLED"):
            raise ApiError("INVALID_ARGUMENT", "want {name: <version name>, state: ENABLED|DISABLED}")
        with self.lock:
            v = self.get_version(m.group(1), m.group(2))
            if v["state"] not in ("ENABLED", "DISABLED"):
                raise ApiError("FAILED_PRECONDITION", f"{name} is {v['state']}")
            v["state"] = state
            return prune(v)

    def admin_material(self, query):
        name = query.get("name", [""])[0]
        with self.lock:
            m = re.match(r"^(.*/cryptoKeys/[^/]+)/cryptoKeyVersions/([^/]+)$", name)
            if m:
                self.get_version(m.group(1), m.group(2))
            if name not in self.materials:
                raise ApiError("NOT_FOUND", f"no material for {name}")
            return self.materials[name]

    def admin_expire_tokens(self):
        with self.lock:
            for t in self.tokens:
                self.tokens[t] = 0
            self.jwt_cutoff = int(time.time())  # and self-signed JWTs made before now
        return {}


def generate_material(algorithm):
    kind, param = ALGORITHMS[algorithm][1:]
    if kind == "raw":
        return os.urandom(param)
    if kind == "rsa":
        key = rsa.generate_private_key(public_exponent=65537, key_size=param)
    elif kind == "ec":
        key = ec.generate_private_key(getattr(ec, param.upper())())
    else:
        key = ed25519.Ed25519PrivateKey.generate()
    return key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def unwrap_and_check(private, oaep_hash, with_kwp, n, wrapped, algorithm):
    """('ENABLED', {"sha256": hex of the material[, "public_sha256": hex of a private key's SPKI]})
    or ('IMPORT_FAILED', reason)."""
    oaep = padding.OAEP(mgf=padding.MGF1(algorithm=oaep_hash()), algorithm=oaep_hash(), label=None)
    try:
        first = private.decrypt(wrapped[:n], oaep)
    except ValueError:
        return ("IMPORT_FAILED", "The wrapped key could not be decrypted with the ImportJob's wrapping key "
                                 "(RSA-OAEP failed).")
    if with_kwp:
        if len(first) != 32:
            return ("IMPORT_FAILED", f"The ephemeral key has {len(first)} bytes, not 32 (AES-256).")
        try:
            material = aes_key_unwrap_with_padding(first, wrapped[n:])
        except InvalidUnwrap:
            return ("IMPORT_FAILED", "The key material could not be unwrapped with the ephemeral key (AES-KWP failed).")
    else:
        material = first
    kind, param = ALGORITHMS[algorithm][1:]
    if kind == "raw":
        if len(material) != param:
            return ("IMPORT_FAILED", f"{algorithm} takes {param} bytes of key material, got {len(material)}.")
    else:
        try:
            key = serialization.load_der_private_key(material, password=None)
        except (ValueError, TypeError):
            return ("IMPORT_FAILED", "The key material is not a PKCS#8 DER private key.")
        ok = (kind == "rsa" and isinstance(key, rsa.RSAPrivateKey) and key.key_size == param) or \
             (kind == "ec" and isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == param) or \
             (kind == "ed25519" and isinstance(key, ed25519.Ed25519PrivateKey))
        if not ok:
            return ("IMPORT_FAILED", f"The key material does not match algorithm {algorithm}.")
        # Strict DER: re-encoding must give the same bytes (no trailing padding or garbage).
        again = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption())
        if kind != "ec" and again != material:
            return ("IMPORT_FAILED", "The key material has bytes after its PKCS#8 structure.")
        # The key itself, whatever optional PKCS#8 fields carried it (an EC key without its
        # public point is the same key).
        spki = key.public_key().public_bytes(serialization.Encoding.DER,
                                             serialization.PublicFormat.SubjectPublicKeyInfo)
        return ("ENABLED", {"sha256": hashlib.sha256(material).hexdigest(),
                            "public_sha256": hashlib.sha256(spki).hexdigest()})
    return ("ENABLED", {"sha256": hashlib.sha256(material).hexdigest()})


KR = r"projects/([^/]+)/locations/([^/]+)/keyRings/([^/]+)"
# (HTTP method, path, handler, IAM permission, body message and where it is in the request (None:
# no body), response message)
ROUTES = [
    ("POST", re.compile(rf"^/v1/{KR}/cryptoKeys$"), "create_crypto_key", "cloudkms.cryptoKeys.create",
     ("CryptoKey", "crypto_key"), "CryptoKey"),
    ("GET", re.compile(rf"^/v1/{KR}/cryptoKeys/([^/:]+)$"), "get_crypto_key", "cloudkms.cryptoKeys.get",
     None, "CryptoKey"),
    ("POST", re.compile(rf"^/v1/{KR}/cryptoKeys/([^/:]+):updatePrimaryVersion$"), "update_primary",
     "cloudkms.cryptoKeys.update", ("UpdateCryptoKeyPrimaryVersionRequest", ""), "CryptoKey"),
    ("GET", re.compile(rf"^/v1/{KR}/cryptoKeys/([^/:]+)/cryptoKeyVersions$"), "list_versions",
     "cloudkms.cryptoKeyVersions.list", None, "ListCryptoKeyVersionsResponse"),
    ("POST", re.compile(rf"^/v1/{KR}/cryptoKeys/([^/:]+)/cryptoKeyVersions:import$"), "import_version",
     "cloudkms.cryptoKeyVersions.create", ("ImportCryptoKeyVersionRequest", ""), "CryptoKeyVersion"),
    ("GET", re.compile(rf"^/v1/{KR}/cryptoKeys/([^/:]+)/cryptoKeyVersions/([^/:]+)$"), "get_crypto_key_version",
     "cloudkms.cryptoKeyVersions.get", None, "CryptoKeyVersion"),
    ("POST", re.compile(rf"^/v1/{KR}/cryptoKeys/([^/:]+)/cryptoKeyVersions/([^/:]+):destroy$"), "destroy",
     "cloudkms.cryptoKeyVersions.destroy", ("DestroyCryptoKeyVersionRequest", ""), "CryptoKeyVersion"),
    ("POST", re.compile(rf"^/v1/{KR}/cryptoKeys/([^/:]+)/cryptoKeyVersions/([^/:]+):restore$"), "restore",
     "cloudkms.cryptoKeyVersions.restore", ("RestoreCryptoKeyVersionRequest", ""), "CryptoKeyVersion"),
    ("POST", re.compile(rf"^/v1/{KR}/importJobs$"), "create_import_job", "cloudkms.importJobs.create",
     ("ImportJob", "import_job"), "ImportJob"),
    ("GET", re.compile(rf"^/v1/{KR}/importJobs/([^/:]+)$"), "get_import_job", "cloudkms.importJobs.get",
     None, "ImportJob"),
]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-gcp-kms"
    fake = None  # set in main

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.log_date_time_string(), fmt % args))

    def send_json(self, code, obj, pretty=True):
        data = json.dumps(obj, indent=2 if pretty else None).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def json_body(self, raw):
        if not raw:
            return {}
        try:
            return json.loads(raw)
        except ValueError:
            raise ApiError("INVALID_ARGUMENT", "Invalid JSON payload received. Unexpected token.")

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_PATCH(self):
        self.dispatch("PATCH")

    def do_DELETE(self):
        self.dispatch("DELETE")

    def dispatch(self, method):
        raw = self.read_body()
        url = urlsplit(self.path)
        path = unquote(url.path)
        query = parse_qs(url.query, keep_blank_values=True)
        fake = self.fake
        try:
            if path == "/token" and method == "POST":
                ctype = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
                if ctype != "application/x-www-form-urlencoded":
                    raise OAuthError("invalid_request", f"Content-Type {ctype} is not a form")
                return self.send_json(200, fake.grant(parse_qs(raw.decode(), keep_blank_values=True)))
            if path.startswith("/__fake/"):
                return self.send_json(200, self.admin(method, path, query, raw))
            if not path.startswith("/v1/"):
                raise ApiError("NOT_FOUND", f"The requested URL {path} was not found on this server.")
            fake.authenticate(self.headers.get("Authorization", ""))
            for route_method, pattern, handler, permission, body_spec, response in ROUTES:
                m = pattern.match(path)
                if not m or route_method != method:
                    continue
                project, location, key_ring = m.group(1), m.group(2), m.group(3)
                kr = f"projects/{project}/locations/{location}/keyRings/{key_ring}"
                fake.check_key_ring(project, location, key_ring, permission, path[len("/v1/"):])
                rest = m.groups()[3:]
                params, options = parse_query(query, handler)
                body = {}
                if body_spec is not None:
                    ctype = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
                    if raw and ctype != "application/json":
                        raise ApiError("INVALID_ARGUMENT", f"Content-Type {ctype} is not application/json.")
                    body = parse_message(self.json_body(raw), *body_spec)
                if handler in ("create_crypto_key", "create_import_job"):
                    names = (kr,)
                elif handler == "get_import_job":
                    names = (f"{kr}/importJobs/{rest[0]}",)
                else:
                    names = (f"{kr}/cryptoKeys/{rest[0]}",) + tuple(rest[1:])
                result = getattr(fake, handler)(*names, params, body)
                if options["int_enums"]:
                    result = encode_enums(result, response)
                return self.send_json(200, result, options["pretty"])
            raise ApiError("NOT_FOUND", f"Method {method} {path} is not found (or not implemented by this fake).")
        except ApiError as e:
            self.send_json(HTTP_CODE[e.status], {"error": {"code": HTTP_CODE[e.status], "message": e.message,
                                                           "status": e.status}})
        except OAuthError as e:
            self.send_json(e.http, {"error": e.code, "error_description": e.description})

    def admin(self, method, path, query, raw):
        fake = self.fake
        if path == "/__fake/health" and method == "GET":
            return {"ok": True}
        if path == "/__fake/version-state" and method == "POST":
            return fake.admin_version_state(self.json_body(raw))
        if path == "/__fake/material-sha256" and method == "GET":
            return fake.admin_material(query)
        if path == "/__fake/expire-tokens" and method == "POST":
            return fake.admin_expire_tokens()
        raise ApiError("NOT_FOUND", f"no test endpoint {method} {path}")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dir", required=True, help="where to write sa-key.json and sa-key-wrong.json")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--project", default="byok-test-project")
    p.add_argument("--location", default="europe-west1")
    p.add_argument("--key-ring", default="byok-test-ring")
    p.add_argument("--pending-seconds", type=float, default=0.3,
                   help="how long ImportJobs stay PENDING_GENERATION and imports PENDING_IMPORT")
    args = p.parse_args()
    Handler.fake = Fake(args, args.port)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    sys.stderr.write(f"fake-gcp-kms: listening on https://127.0.0.1:{args.port}\n")
    sys.stderr.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()
