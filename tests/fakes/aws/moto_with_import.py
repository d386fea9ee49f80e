"""moto's AWS KMS server, plus the BYOK import calls moto 5.2.1 lacks (a fake, for tests only).

moto is the real emulator the AWS tests run against (tests/harness/moto-kms.sh); it implements
CreateKey with Origin=EXTERNAL but neither GetParametersForImport nor ImportKeyMaterial. This
module adds them to moto's KMS handler before starting moto's own server, following the AWS KMS
API reference (botocore's service model, kms 2014-11-01, is the reference for names and enums):

  GetParametersForImport  KeyId, WrappingAlgorithm (RSAES_OAEP_SHA_1, RSAES_OAEP_SHA_256,
                          RSA_AES_KEY_WRAP_SHA_1, RSA_AES_KEY_WRAP_SHA_256; not RSAES_PKCS1_V1_5,
                          which KMS dropped in 2023, nor the China-only SM2PKE), WrappingKeySpec
                          (RSA_2048 | RSA_3072 | RSA_4096; not SM2) -> KeyId (ARN), ImportToken,
                          PublicKey (DER SubjectPublicKeyInfo), ParametersValidTo (24 h).
                          Only for keys with Origin EXTERNAL (else UnsupportedOperationException),
                          not pending deletion (KMSInvalidStateException).
  ImportKeyMaterial       KeyId, ImportToken, EncryptedKeyMaterial, ExpirationModel, ValidTo,
                          ImportType (EXISTING_KEY_MATERIAL | NEW_KEY_MATERIAL), KeyMaterialId,
                          KeyMaterialDescription -> KeyId (ARN), KeyMaterialId. The token must be
                          this key's and unexpired (InvalidImportTokenException /
                          ExpiredImportTokenException), and serves one import; the material is
                          really unwrapped with the token's private key (InvalidCiphertextException
                          when it does not decrypt) and must fit the KeySpec
                          (IncorrectKeyMaterialException). ExpirationModel defaults to
                          KEY_MATERIAL_EXPIRES, which needs ValidTo (a future time at most 365 days
                          ahead); KEY_MATERIAL_DOES_NOT_EXPIRE refuses one (ValidationException).
                          A key material's id is derived from the key and the material, as KMS
                          does: re-importing (EXISTING_KEY_MATERIAL, the default after the first
                          import) must bring material already associated with the key, and a
                          KeyMaterialId must be that material's (IncorrectKeyMaterialException).
                          NEW_KEY_MATERIAL (symmetric keys only; without KeyMaterialId) brings
                          material the key never had, which waits PENDING_ROTATION until
                          RotateKeyOnDemand makes it CURRENT. ImportType, KeyMaterialId and
                          KeyMaterialDescription are for symmetric keys only (ValidationException).
                          A key pending deletion is refused (KMSInvalidStateException). The key is
                          Enabled once every material permanently associated with it (CURRENT and
                          NON_CURRENT) is imported.
  DeleteImportedKeyMaterial  KeyId, KeyMaterialId (else the current material): CURRENT or
                          NON_CURRENT material goes PENDING_IMPORT and the key PendingImport (a key
                          pending deletion keeps its state); PENDING_ROTATION material is not
                          permanently associated and is simply dropped.
  RotateKeyOnDemand       (EXTERNAL keys; others are moto's) symmetric keys only
                          (UnsupportedOperationException), Enabled (DisabledException /
                          KMSInvalidStateException), with imported PENDING_ROTATION material
                          (KMSInvalidStateException): that material becomes CURRENT, the old one
                          NON_CURRENT.
  ListKeyRotations        (EXTERNAL keys) IncludeKeyMaterial ROTATIONS_ONLY (default: materials
                          made current by a rotation) | ALL_KEY_MATERIAL (also the first material
                          and the pending ones), Limit (1..1000, default 100), Marker; entries with
                          KeyMaterialId, ImportState, KeyMaterialState, ExpirationModel, ValidTo,
                          KeyMaterialDescription, RotationDate and RotationType as the model says.
  CreateKey               a symmetric key created without KeyUsage has AWS's default,
                          ENCRYPT_DECRYPT (moto leaves it out).
  DescribeKey             EXTERNAL keys report PendingImport until their first import, then
                          ExpirationModel, ValidTo and CurrentKeyMaterialId. Imported material whose
                          ValidTo passed is deleted as KMS deletes it.
  ScheduleKeyDeletion     (all keys) PendingWindowInDays 7..30 (ValidationException; moto ignores
                          it) and not twice (KMSInvalidStateException); answers KeyId (ARN),
                          DeletionDate, KeyState and PendingWindowInDays as AWS does.
  CancelKeyDeletion       (all keys) only for a key pending deletion (KMSInvalidStateException;
                          moto disables any key); the key is Disabled after, or PendingImport when
                          it has imported-material origin and no material; answers the ARN.

Tests check what was imported through a log: every import appends "<key id> <key material id>
<sha256 hex>" to $BYOK_AWS_IMPORT_LOG, the SHA-256 of the symmetric material or, for a private
key, of its public half's SubjectPublicKeyInfo (independent of the HSM's PKCS#8 encoding), so a
test compares it with the key it put into the HSM. The material itself stays in memory.

Usage: python moto_with_import.py <moto.server arguments>
"""

import base64
import hashlib
import json
import os
import re
import secrets
import sys
import threading
import time

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap_with_padding

from moto.core.exceptions import (AccessDeniedError, InvalidClientTokenIdError, JsonRESTError,
                                  SignatureDoesNotMatchError)
from moto.kms import models as kms_models
from moto.kms.responses import KmsResponse

TOKEN_LIFETIME = 24 * 3600
ALGORITHMS = {
    "RSAES_OAEP_SHA_1": (False, hashes.SHA1),
    "RSAES_OAEP_SHA_256": (False, hashes.SHA256),
    "RSA_AES_KEY_WRAP_SHA_1": (True, hashes.SHA1),
    "RSA_AES_KEY_WRAP_SHA_256": (True, hashes.SHA256),
}
KEY_SPEC_BITS = {"RSA_2048": 2048, "RSA_3072": 3072, "RSA_4096": 4096}

_lock = threading.Lock()
_tokens = {}     # token bytes -> (key id, private key, algorithm, expires)
# key id -> {"current": material id, "items": {material id: Material}} (items in import order)
_materials = {}
MATERIAL_ID = re.compile(r"^[a-f0-9]{64}$")
DESCRIPTION = re.compile(r"^[a-zA-Z0-9:/_\s.-]+$")
EXPIRATION_MODELS = ("KEY_MATERIAL_EXPIRES", "KEY_MATERIAL_DOES_NOT_EXPIRE")
IMPORT_TYPES = ("NEW_KEY_MATERIAL", "EXISTING_KEY_MATERIAL")


class Material:
    """One key material of an EXTERNAL key, as ListKeyRotations shows it."""

    def __init__(self, digest, state):
        self.digest = digest
        self.state = state          # CURRENT | NON_CURRENT | PENDING_ROTATION
        self.imported = True        # ImportState IMPORTED, else PENDING_IMPORT
        self.model = None           # ExpirationModel of its last import
        self.valid_to = None        # ValidTo of its last import (epoch seconds)
        self.description = None
        self.rotation_date = None   # when RotateKeyOnDemand made it current


def _material_id(key, digest):
    # KMS derives the id from the KMS key and the key material: the same bytes, the same id.
    return hashlib.sha256(f"{key.id}/{digest}".encode()).hexdigest()


def _expire(key, record):
    """Deletes imported material whose ValidTo has passed, as KMS does. Call with _lock held."""
    for item in record["items"].values():
        if item.imported and item.valid_to is not None and item.valid_to <= time.time():
            item.imported = False
            if item.state != "PENDING_ROTATION" and key.key_state != "PendingDeletion":
                key.key_state = "PendingImport"
                key.enabled = False


def _error(kind, message):
    return JsonRESTError(kind, message)


def _key(response, key_id):
    try:
        return response.kms_backend.describe_key(key_id)
    except Exception:
        raise _error("NotFoundException", f"Key '{key_id}' does not exist")


def _external(key):
    if key.origin != "EXTERNAL":
        raise _error("UnsupportedOperationException",
                     f"{key.arn} origin is {key.origin} which is not valid for this operation.")


def _check_material(key, material):
    spec = key.key_spec
    if spec == "SYMMETRIC_DEFAULT":
        if len(material) != 32:
            raise _error("IncorrectKeyMaterialException",
                         "SYMMETRIC_DEFAULT key material must be 256 bits")
        return None
    # Asymmetric: PKCS#8 DER, read by its own length (HSMs may pad the wrapped blob to 8 bytes).
    if len(material) < 4 or material[0] != 0x30:
        raise _error("IncorrectKeyMaterialException", "key material is not PKCS#8 DER")
    if material[1] & 0x80:
        n = material[1] & 0x7F
        length = 2 + n + int.from_bytes(material[2:2 + n], "big")
    else:
        length = 2 + material[1]
    if length > len(material) or any(material[length:]):
        raise _error("IncorrectKeyMaterialException", "key material is not PKCS#8 DER")
    try:
        priv = serialization.load_der_private_key(material[:length], password=None)
    except Exception:
        raise _error("IncorrectKeyMaterialException", "key material is not a PKCS#8 private key")
    if spec.startswith("RSA_"):
        if not isinstance(priv, rsa.RSAPrivateKey) or priv.key_size != int(spec[4:]):
            raise _error("IncorrectKeyMaterialException", f"key material does not match {spec}")
    elif spec.startswith("ECC_NIST_P"):
        curve = getattr(priv, "curve", None)
        want = {"ECC_NIST_P256": "secp256r1", "ECC_NIST_P384": "secp384r1",
                "ECC_NIST_P521": "secp521r1"}[spec]
        if curve is None or curve.name != want:
            raise _error("IncorrectKeyMaterialException", f"key material does not match {spec}")
    return priv


def get_parameters_for_import(self):
    key = _key(self, self._get_param("KeyId"))
    _external(key)
    algorithm = self._get_param("WrappingAlgorithm")
    spec = self._get_param("WrappingKeySpec")
    if algorithm not in ALGORITHMS:
        raise _error("ValidationException", f"WrappingAlgorithm {algorithm} is not valid")
    if spec not in KEY_SPEC_BITS:
        raise _error("ValidationException", f"WrappingKeySpec {spec} is not valid")
    if key.key_state == "PendingDeletion":
        raise _error("KMSInvalidStateException", f"{key.arn} is pending deletion.")
    private = rsa.generate_private_key(public_exponent=65537, key_size=KEY_SPEC_BITS[spec])
    token = secrets.token_bytes(64)
    expires = time.time() + TOKEN_LIFETIME
    with _lock:
        _tokens[token] = (key.id, private, algorithm, expires)
    public = private.public_key().public_bytes(serialization.Encoding.DER,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    return json.dumps({"KeyId": key.arn, "ImportToken": base64.b64encode(token).decode(),
                       "PublicKey": base64.b64encode(public).decode(),
                       "ParametersValidTo": expires})


def _unwrap(private, algorithm, blob):
    two_step, hash_cls = ALGORITHMS[algorithm]
    oaep = padding.OAEP(mgf=padding.MGF1(algorithm=hash_cls()), algorithm=hash_cls(), label=None)
    block = private.key_size // 8
    try:
        if not two_step:
            return private.decrypt(blob, oaep)
        if len(blob) <= block:
            raise ValueError("no AES-KWP part")
        ephemeral = private.decrypt(blob[:block], oaep)
        return aes_key_unwrap_with_padding(ephemeral, blob[block:])
    except (ValueError, InvalidUnwrap):
        raise _error("InvalidCiphertextException",
                     "The EncryptedKeyMaterial does not decrypt with the import token's wrapping key")


def import_key_material(self):
    key = _key(self, self._get_param("KeyId"))
    _external(key)
    if key.key_state == "PendingDeletion":
        raise _error("KMSInvalidStateException", f"{key.arn} is pending deletion.")
    try:
        token = base64.b64decode(self._get_param("ImportToken") or "")
        blob = base64.b64decode(self._get_param("EncryptedKeyMaterial") or "")
    except Exception:
        raise _error("ValidationException", "ImportToken and EncryptedKeyMaterial must be base64")
    with _lock:
        entry = _tokens.get(token)
    if entry is None or entry[0] != key.id:
        raise _error("InvalidImportTokenException", "The import token is invalid for this key")
    _, private, algorithm, expires = entry
    if time.time() > expires:
        raise _error("ExpiredImportTokenException", "The import token has expired")
    model = self._get_param("ExpirationModel") or "KEY_MATERIAL_EXPIRES"
    valid_to = self._get_param("ValidTo")
    if model not in EXPIRATION_MODELS:
        raise _error("ValidationException", f"ExpirationModel {model} is not one of "
                     f"{', '.join(EXPIRATION_MODELS)}")
    if model == "KEY_MATERIAL_EXPIRES" and valid_to is None:
        raise _error("ValidationException", "ValidTo is required with KEY_MATERIAL_EXPIRES")
    if model == "KEY_MATERIAL_DOES_NOT_EXPIRE" and valid_to is not None:
        raise _error("ValidationException", "ValidTo is not allowed with KEY_MATERIAL_DOES_NOT_EXPIRE")
    if valid_to is not None:
        # A future time at most 365 days from the request (AWS's ValidTo rule).
        if not isinstance(valid_to, (int, float)) or isinstance(valid_to, bool) or valid_to <= time.time():
            raise _error("ValidationException", "ValidTo must be a future date and time")
        if valid_to > time.time() + 365 * 86400:
            raise _error("ValidationException", "ValidTo must be at most 365 days from the request date")
    import_type = self._get_param("ImportType")
    material_id = self._get_param("KeyMaterialId")
    description = self._get_param("KeyMaterialDescription")
    if import_type is not None and import_type not in IMPORT_TYPES:
        raise _error("ValidationException", f"ImportType {import_type} is not NEW_KEY_MATERIAL or EXISTING_KEY_MATERIAL")
    if material_id is not None and not (isinstance(material_id, str) and MATERIAL_ID.match(material_id)):
        raise _error("ValidationException", "KeyMaterialId must be 64 lowercase hexadecimal digits")
    if description is not None and not (isinstance(description, str) and len(description) <= 256
                                        and DESCRIPTION.match(description)):
        raise _error("ValidationException",
                     "KeyMaterialDescription must be at most 256 of [a-zA-Z0-9:/_ .-]")
    symmetric = key.key_spec == "SYMMETRIC_DEFAULT"
    if not symmetric:
        for name, value in (("ImportType", import_type), ("KeyMaterialId", material_id),
                            ("KeyMaterialDescription", description)):
            if value is not None:
                raise _error("ValidationException",
                             f"{name} is only usable with symmetric encryption keys")
    if import_type == "NEW_KEY_MATERIAL" and material_id is not None:
        raise _error("ValidationException",
                     "You cannot specify a key material ID with ImportType set to NEW_KEY_MATERIAL")
    material = _unwrap(private, algorithm, blob)
    priv = _check_material(key, material)
    # Symmetric: the material's digest. Private keys: the digest of their public half's
    # SubjectPublicKeyInfo, which does not depend on how the HSM encoded the PKCS#8.
    digest = hashlib.sha256(material if priv is None else priv.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).hexdigest()
    computed = _material_id(key, digest)
    with _lock:
        record = _materials.setdefault(key.id, {"current": None, "items": {}})
        _expire(key, record)
        # Omitted: NEW_KEY_MATERIAL until material was first imported, EXISTING_KEY_MATERIAL after.
        first = not record["items"]
        if import_type is None:
            import_type = "NEW_KEY_MATERIAL" if first else "EXISTING_KEY_MATERIAL"
        if material_id is not None and (material_id != computed or material_id not in record["items"]):
            raise _error("IncorrectKeyMaterialException",
                         f"The key material is not the key material {material_id} of this key")
        if import_type == "NEW_KEY_MATERIAL" and first:
            item = record["items"][computed] = Material(digest, "CURRENT")
            record["current"] = computed
        elif import_type == "NEW_KEY_MATERIAL":
            if not symmetric:
                raise _error("UnsupportedOperationException",
                             "NEW_KEY_MATERIAL is supported for symmetric encryption keys only")
            if computed in record["items"]:
                raise _error("IncorrectKeyMaterialException",
                             "KMS expected new key material but this key material is already "
                             "associated with the KMS key")
            item = record["items"][computed] = Material(digest, "PENDING_ROTATION")
        elif first:
            raise _error("ValidationException",
                         "EXISTING_KEY_MATERIAL: no key material was imported into this key before")
        else:
            # Re-importing: the bytes of material this key has (KMS computes the id and checks it
            # is associated with the key).
            if computed not in record["items"]:
                raise _error("IncorrectKeyMaterialException",
                             "The key material is not the key material previously imported")
            item = record["items"][computed]
            item.imported = True
        item.model = model
        item.valid_to = valid_to
        if description is not None:
            item.description = description
        del _tokens[token]  # an import token is good for one import
        complete = all(m.imported for m in record["items"].values()
                       if m.state in ("CURRENT", "NON_CURRENT"))
    if complete:
        key.key_state = "Enabled"
        key.enabled = True
    log = os.environ.get("BYOK_AWS_IMPORT_LOG")
    if log:
        with _lock, open(log, "a") as f:
            f.write(f"{key.id} {computed} {digest}\n")
    return json.dumps({"KeyId": key.arn, "KeyMaterialId": computed})


def delete_imported_key_material(self):
    # The named material (KeyMaterialId), else the current one. The key remembers which material
    # it had: a re-import must bring the same bytes.
    key = _key(self, self._get_param("KeyId"))
    _external(key)
    material_id = self._get_param("KeyMaterialId")
    if material_id is not None and not (isinstance(material_id, str) and MATERIAL_ID.match(material_id)):
        raise _error("ValidationException", "KeyMaterialId must be 64 lowercase hexadecimal digits")
    with _lock:
        record = _materials.get(key.id)
        if material_id is not None and (record is None or material_id not in record["items"]):
            raise _error("NotFoundException", f"Key material {material_id} is not associated with {key.arn}")
        deleted = material_id or (record or {}).get("current")
        if deleted is None:
            return json.dumps({"KeyId": key.arn})
        item = record["items"][deleted]
        if item.state == "PENDING_ROTATION":
            # Not permanently associated with the key: gone, other material may take its place.
            del record["items"][deleted]
        else:
            item.imported = False
            if key.key_state != "PendingDeletion":
                key.key_state = "PendingImport"
                key.enabled = False
    return json.dumps({"KeyId": key.arn, "KeyMaterialId": deleted})


_moto_rotate = KmsResponse.rotate_key_on_demand


def rotate_key_on_demand(self):
    key = _key(self, self._get_param("KeyId"))
    if key.origin != "EXTERNAL":
        return _moto_rotate(self)
    if key.key_spec != "SYMMETRIC_DEFAULT":
        raise _error("UnsupportedOperationException",
                     f"{key.arn} is not a symmetric encryption key: it cannot rotate on demand")
    with _lock:
        record = _materials.get(key.id) or {"current": None, "items": {}}
        _expire(key, record)
        if key.key_state == "Disabled":
            raise _error("DisabledException", f"{key.arn} is disabled.")
        if key.key_state != "Enabled":
            raise _error("KMSInvalidStateException", f"{key.arn} is {key.key_state}.")
        pending = [m for m, item in record["items"].items()
                   if item.state == "PENDING_ROTATION" and item.imported]
        if not pending:
            raise _error("KMSInvalidStateException",
                         "Import new key material (NEW_KEY_MATERIAL) before rotating")
        record["items"][record["current"]].state = "NON_CURRENT"
        new = record["items"][pending[0]]
        new.state = "CURRENT"
        new.rotation_date = time.time()
        record["current"] = pending[0]
    return json.dumps({"KeyId": key.id})


_moto_list_rotations = KmsResponse.list_key_rotations


def list_key_rotations(self):
    key = _key(self, self._get_param("KeyId"))
    if key.origin != "EXTERNAL":
        return _moto_list_rotations(self)
    include = self._get_param("IncludeKeyMaterial") or "ROTATIONS_ONLY"
    if include not in ("ALL_KEY_MATERIAL", "ROTATIONS_ONLY"):
        raise _error("ValidationException", f"IncludeKeyMaterial {include} is not valid")
    limit = self._get_param("Limit", 100)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 1000:
        raise _error("ValidationException", "Limit must be between 1 and 1000")
    marker = self._get_param("Marker")
    with _lock:
        record = _materials.get(key.id) or {"current": None, "items": {}}
        _expire(key, record)
        entries = []
        for material_id, item in record["items"].items():
            if include == "ROTATIONS_ONLY" and item.rotation_date is None:
                continue
            entry = {"KeyId": key.id, "KeyMaterialId": material_id,
                     "ImportState": "IMPORTED" if item.imported else "PENDING_IMPORT",
                     "KeyMaterialState": item.state}
            if item.description is not None:
                entry["KeyMaterialDescription"] = item.description
            if item.model:
                entry["ExpirationModel"] = item.model
                if item.model == "KEY_MATERIAL_EXPIRES" and item.valid_to is not None:
                    entry["ValidTo"] = item.valid_to
            if item.rotation_date is not None:
                entry["RotationDate"] = item.rotation_date
                entry["RotationType"] = "ON_DEMAND"
            entries.append(entry)
    try:
        offset = int(base64.b64decode(marker).decode()) if marker is not None else 0
    except Exception:
        raise _error("InvalidMarkerException", "The marker is not valid")
    if not 0 <= offset <= len(entries):
        raise _error("InvalidMarkerException", "The marker is not valid")
    page = entries[offset:offset + limit]
    answer = {"Rotations": page, "Truncated": offset + limit < len(entries)}
    if answer["Truncated"]:
        answer["NextMarker"] = base64.b64encode(str(offset + limit).encode()).decode()
    return json.dumps(answer)


def schedule_key_deletion(self):
    key_id = self._get_param("KeyId")
    self._validate_cmk_id(key_id)
    window = self._get_param("PendingWindowInDays")
    window = 30 if window is None else window
    if not isinstance(window, int) or isinstance(window, bool) or not 7 <= window <= 30:
        raise _error("ValidationException",
                     f"PendingWindowInDays must be between 7 and 30, inclusive; got {window}")
    key = self.kms_backend.describe_key(self.kms_backend.get_key_id(key_id))
    if key.key_state == "PendingDeletion":
        raise _error("KMSInvalidStateException", f"{key.arn} is pending deletion.")
    date = self.kms_backend.schedule_key_deletion(key.id, window)
    return json.dumps({"KeyId": key.arn, "DeletionDate": date, "KeyState": key.key_state,
                       "PendingWindowInDays": window})


def cancel_key_deletion(self):
    key_id = self._get_param("KeyId")
    self._validate_cmk_id(key_id)
    key = self.kms_backend.describe_key(self.kms_backend.get_key_id(key_id))
    if key.key_state != "PendingDeletion":
        raise _error("KMSInvalidStateException",
                     f"{key.arn} is {key.key_state}: it is not pending deletion.")
    self.kms_backend.cancel_key_deletion(key.id)  # Disabled, no deletion date
    if key.origin == "EXTERNAL":
        with _lock:
            record = _materials.get(key.id)
            current = record["items"].get(record["current"]) if record and record["current"] else None
            if current is None or not current.imported:
                key.key_state = "PendingImport"
    return json.dumps({"KeyId": key.arn})


_moto_create_key = kms_models.KmsBackend.create_key


def create_key(self, *args, **kwargs):
    key = _moto_create_key(self, *args, **kwargs)
    if not key.key_usage and key.key_spec == "SYMMETRIC_DEFAULT":
        key.key_usage = "ENCRYPT_DECRYPT"  # AWS's default, which moto leaves out of KeyMetadata
    if key.origin == "EXTERNAL":
        key.key_state = "PendingImport"
        key.enabled = False
    return key


_moto_to_dict = kms_models.Key.to_dict


def to_dict(self):
    if self.origin == "EXTERNAL":
        with _lock:
            record = _materials.get(self.id)
            if record:
                _expire(self, record)
    d = _moto_to_dict(self)
    if self.origin == "EXTERNAL":
        meta = d["KeyMetadata"]
        with _lock:
            record = _materials.get(self.id)
            if record and record["current"]:
                meta["CurrentKeyMaterialId"] = record["current"]
                current = record["items"][record["current"]]
                if current.model:
                    meta["ExpirationModel"] = current.model
                # The earliest expiry of imported material permanently associated with the key.
                ends = [m.valid_to for m in record["items"].values()
                        if m.imported and m.state != "PENDING_ROTATION" and m.valid_to is not None
                        and m.model == "KEY_MATERIAL_EXPIRES"]
                if ends:
                    meta["ValidTo"] = min(ends)
    return d


# moto answers a failed authentication the way the query (XML) services do, with 403 and
# SignatureDoesNotMatch / InvalidClientTokenId / AccessDenied. KMS speaks JSON 1.1 and answers
# with the JSON protocol's common errors, HTTP 400: InvalidSignatureException,
# UnrecognizedClientException, AccessDeniedException. (STS, an XML service, keeps moto's.)
_moto_authorize = KmsResponse._authenticate_and_authorize_normal_action


def _authorize_as_kms(self, *args, **kwargs):
    try:
        return _moto_authorize(self, *args, **kwargs)
    except SignatureDoesNotMatchError as e:
        raise JsonRESTError("InvalidSignatureException", e.message)
    except InvalidClientTokenIdError as e:
        raise JsonRESTError("UnrecognizedClientException", e.message)
    except AccessDeniedError as e:
        raise JsonRESTError("AccessDeniedException", e.message)


KmsResponse._authenticate_and_authorize_normal_action = _authorize_as_kms
KmsResponse.get_parameters_for_import = get_parameters_for_import
KmsResponse.import_key_material = import_key_material
KmsResponse.delete_imported_key_material = delete_imported_key_material
KmsResponse.rotate_key_on_demand = rotate_key_on_demand
KmsResponse.list_key_rotations = list_key_rotations
KmsResponse.schedule_key_deletion = schedule_key_deletion
KmsResponse.cancel_key_deletion = cancel_key_deletion
kms_models.KmsBackend.create_key = create_key
kms_models.Key.to_dict = to_dict

if __name__ == "__main__":
    from moto.server import main
    main(sys.argv[1:])
