"""moto's AWS KMS server, plus the BYOK import calls moto 5.2.1 lacks (a fake, for tests only).

moto is the real emulator the AWS tests run against (tests/harness/moto-kms.sh); it implements
CreateKey with Origin=EXTERNAL but neither GetParametersForImport nor ImportKeyMaterial. This
module adds them to moto's KMS handler before starting moto's own server, following the AWS KMS
API reference:

  GetParametersForImport  KeyId, WrappingAlgorithm (RSAES_OAEP_SHA_1, RSAES_OAEP_SHA_256,
                          RSA_AES_KEY_WRAP_SHA_1, RSA_AES_KEY_WRAP_SHA_256), WrappingKeySpec
                          (RSA_2048 | RSA_3072 | RSA_4096) -> KeyId (ARN), ImportToken,
                          PublicKey (DER SubjectPublicKeyInfo), ParametersValidTo (24 h).
                          Only for keys with Origin EXTERNAL (else UnsupportedOperationException).
  ImportKeyMaterial       KeyId, ImportToken, EncryptedKeyMaterial, ExpirationModel, ValidTo,
                          ImportType (EXISTING_KEY_MATERIAL | NEW_KEY_MATERIAL) -> KeyId,
                          KeyMaterialId. The token must be this key's and unexpired
                          (InvalidImportTokenException / ExpiredImportTokenException); the
                          material is really unwrapped with the token's private key
                          (InvalidCiphertextException when it does not decrypt) and must fit the
                          KeySpec (IncorrectKeyMaterialException); re-importing EXISTING material
                          must be the same bytes. NEW_KEY_MATERIAL (symmetric keys only) is
                          PENDING_ROTATION until RotateKeyOnDemand makes it current.
  DeleteImportedKeyMaterial  KeyId, KeyMaterialId (else the current material); the key goes
                          back to PendingImport when its current material goes, and remembers
                          it: a re-import must bring the same bytes.
  ImportKeyMaterial also refuses a key pending deletion (KMSInvalidStateException), a ValidTo
                          in the past or more than 365 days ahead, and KeyMaterialId with
                          NEW_KEY_MATERIAL (ValidationException); ImportType defaults to
                          NEW_KEY_MATERIAL before the first import and EXISTING_KEY_MATERIAL
                          after, and a KeyMaterialId must name this key's material of those bytes.
  DescribeKey             EXTERNAL keys report PendingImport until their first import, then
                          ExpirationModel, ValidTo and CurrentKeyMaterialId.

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
import secrets
import sys
import threading
import time

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap_with_padding

from moto.core.exceptions import JsonRESTError
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
_materials = {}  # key id -> {"current": id, "items": {material id: (sha256, state)}}


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
    if model == "KEY_MATERIAL_EXPIRES" and valid_to is None:
        raise _error("ValidationException", "ValidTo is required with KEY_MATERIAL_EXPIRES")
    if model == "KEY_MATERIAL_DOES_NOT_EXPIRE" and valid_to is not None:
        raise _error("ValidationException", "ValidTo is not allowed with KEY_MATERIAL_DOES_NOT_EXPIRE")
    if valid_to is not None:
        # A future time at most 365 days from the request (AWS's ValidTo rule).
        if not isinstance(valid_to, (int, float)) or valid_to <= time.time():
            raise _error("ValidationException", "ValidTo must be a future date and time")
        if valid_to > time.time() + 365 * 86400:
            raise _error("ValidationException", "ValidTo must be at most 365 days from the request date")
    import_type = self._get_param("ImportType")
    material_id = self._get_param("KeyMaterialId")
    if import_type not in (None, "NEW_KEY_MATERIAL", "EXISTING_KEY_MATERIAL"):
        raise _error("ValidationException", f"ImportType {import_type} is not NEW_KEY_MATERIAL or EXISTING_KEY_MATERIAL")
    if import_type == "NEW_KEY_MATERIAL" and material_id is not None:
        raise _error("ValidationException",
                     "You cannot specify a key material ID with ImportType set to NEW_KEY_MATERIAL")
    material = _unwrap(private, algorithm, blob)
    priv = _check_material(key, material)
    # Symmetric: the material's digest. Private keys: the digest of their public half's
    # SubjectPublicKeyInfo, which does not depend on how the HSM encoded the PKCS#8.
    digest = hashlib.sha256(material if priv is None else priv.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).hexdigest()
    with _lock:
        record = _materials.setdefault(key.id, {"current": None, "items": {}})
        # Omitted: NEW_KEY_MATERIAL until material was first imported, EXISTING_KEY_MATERIAL after.
        first = not record["items"]
        if import_type is None:
            import_type = "NEW_KEY_MATERIAL" if first else "EXISTING_KEY_MATERIAL"
        if material_id is not None and (material_id not in record["items"]
                                        or record["items"][material_id][0] != digest):
            raise _error("IncorrectKeyMaterialException",
                         f"The key material is not the key material {material_id} of this key")
        if import_type == "NEW_KEY_MATERIAL" and first:
            material_id = secrets.token_hex(32)
            record["items"][material_id] = (digest, "CURRENT")
            record["current"] = material_id
        elif import_type == "NEW_KEY_MATERIAL":
            if key.key_spec != "SYMMETRIC_DEFAULT":
                raise _error("UnsupportedOperationException",
                             "NEW_KEY_MATERIAL is supported for symmetric encryption keys only")
            if record["current"] is None:
                raise _error("KMSInvalidStateException", "The key has no key material to rotate from")
            if any(d == digest for d, _ in record["items"].values()):
                raise _error("IncorrectKeyMaterialException", "This key material was imported before")
            material_id = secrets.token_hex(32)
            record["items"][material_id] = (digest, "PENDING_ROTATION")
        elif first:
            raise _error("ValidationException",
                         "EXISTING_KEY_MATERIAL: no key material was imported into this key before")
        else:
            # Re-importing: the bytes of material this key had (the current one unless named).
            wanted = material_id or record["current"]
            if record["items"][wanted][0] != digest:
                raise _error("IncorrectKeyMaterialException",
                             "The key material is not the key material previously imported")
            material_id = wanted
        del _tokens[token]  # an import token is good for one import
    key.key_state = "Enabled"
    key.enabled = True
    key.byok_expiration_model = model
    key.byok_valid_to = valid_to
    log = os.environ.get("BYOK_AWS_IMPORT_LOG")
    if log:
        with _lock, open(log, "a") as f:
            f.write(f"{key.id} {material_id} {digest}\n")
    return json.dumps({"KeyId": key.arn, "KeyMaterialId": material_id})


def delete_imported_key_material(self):
    # The named material (KeyMaterialId), else the current one. The key remembers which material
    # it had: a re-import must bring the same bytes.
    key = _key(self, self._get_param("KeyId"))
    _external(key)
    material_id = self._get_param("KeyMaterialId")
    with _lock:
        record = _materials.get(key.id)
        if material_id is not None and (record is None or material_id not in record["items"]):
            raise _error("NotFoundException", f"Key material {material_id} is not associated with {key.arn}")
        deleted = material_id or (record or {}).get("current")
    if record is not None and deleted is not None and deleted == record["current"]:
        key.key_state = "PendingImport"
        key.enabled = False
    return json.dumps({"KeyId": key.arn, "KeyMaterialId": deleted} if deleted else {"KeyId": key.arn})


_moto_rotate = KmsResponse.rotate_key_on_demand


def rotate_key_on_demand(self):
    key = _key(self, self._get_param("KeyId"))
    if key.origin != "EXTERNAL":
        return _moto_rotate(self)
    with _lock:
        record = _materials.get(key.id)
        pending = [m for m, (_, s) in (record or {"items": {}})["items"].items()
                   if s == "PENDING_ROTATION"]
        if not pending:
            raise _error("KMSInvalidStateException",
                         "Import new key material (NEW_KEY_MATERIAL) before rotating")
        old = record["current"]
        record["items"][old] = (record["items"][old][0], "NON_CURRENT")
        record["items"][pending[0]] = (record["items"][pending[0]][0], "CURRENT")
        record["current"] = pending[0]
    return json.dumps({"KeyId": key.arn})


_moto_create_key = kms_models.KmsBackend.create_key


def create_key(self, *args, **kwargs):
    key = _moto_create_key(self, *args, **kwargs)
    if key.origin == "EXTERNAL":
        key.key_state = "PendingImport"
        key.enabled = False
    return key


_moto_to_dict = kms_models.Key.to_dict


def to_dict(self):
    d = _moto_to_dict(self)
    if self.origin == "EXTERNAL":
        meta = d["KeyMetadata"]
        with _lock:
            record = _materials.get(self.id)
        if record and record["current"]:
            meta["CurrentKeyMaterialId"] = record["current"]
        model = getattr(self, "byok_expiration_model", None)
        if model:
            meta["ExpirationModel"] = model
            if getattr(self, "byok_valid_to", None) is not None:
                meta["ValidTo"] = self.byok_valid_to
    return d


KmsResponse.get_parameters_for_import = get_parameters_for_import
KmsResponse.import_key_material = import_key_material
KmsResponse.delete_imported_key_material = delete_imported_key_material
KmsResponse.rotate_key_on_demand = rotate_key_on_demand
kms_models.KmsBackend.create_key = create_key
kms_models.Key.to_dict = to_dict

if __name__ == "__main__":
    from moto.server import main
    main(sys.argv[1:])
