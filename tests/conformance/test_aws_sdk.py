"""Conformance of the AWS KMS test server (moto plus tests/fakes/aws/moto_with_import.py) with boto3.

The pinned boto3/botocore (requirements.txt) drive the server that tests/harness/moto-kms.sh
started (its settings in the BYOK_AWS_* environment, see run.sh), signed as the IAM user it
provisioned, through what kms/aws/aws_kms_client.cpp does with keys of imported material:
CreateKey Origin=EXTERNAL, GetParametersForImport with every WrappingAlgorithm and
WrappingKeySpec botocore's model offers for a SYMMETRIC_DEFAULT key, the material wrapped here
with `cryptography`, ImportKeyMaterial (ValidTo or not, as boto3 sends it), DescribeKey,
DeleteImportedKeyMaterial and reimport, NEW_KEY_MATERIAL with RotateKeyOnDemand and
ListKeyRotations, ScheduleKeyDeletion and CancelKeyDeletion, and through what AWS refuses (each
refusal checked against the model's documentation). A server boto3 cannot use, or one that
accepts what AWS refuses, fails here.

    cd tests/conformance && set -a && . DIR/env && set +a && $PY -m unittest -v test_aws_sdk
"""

import datetime
import hashlib
import os
import secrets
import unittest

import boto3
import botocore.config
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.keywrap import aes_key_wrap_with_padding

ENV = os.environ
# AlgorithmSpec / WrappingKeySpec values KMS no longer or not here accepts (the model's docs):
# RSAES_PKCS1_V1_5 is unsupported since 2023-10-10, SM2PKE and SM2 are China Regions only.
RETIRED_ALGORITHMS = {"RSAES_PKCS1_V1_5", "SM2PKE"}
CHINA_ONLY_SPECS = {"SM2"}
HASHES = {"SHA_1": hashes.SHA1, "SHA_256": hashes.SHA256}
DAY = datetime.timedelta(days=1)


def kms_client(access_key=None, secret_key=None):
    session = boto3.session.Session(
        aws_access_key_id=access_key or ENV["BYOK_AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=secret_key or ENV["BYOK_AWS_SECRET_ACCESS_KEY"],
        region_name=ENV["BYOK_AWS_REGION"])
    # verify= the test CA (wins over AWS_CA_BUNDLE); one attempt: a refusal surfaces at once.
    return session.client("kms", endpoint_url=ENV["BYOK_AWS_ENDPOINT"],
                          verify=ENV["BYOK_AWS_CA_FILE"],
                          config=botocore.config.Config(retries={"total_max_attempts": 1},
                                                        connect_timeout=10, read_timeout=60))


def wrap(public_der, material, algorithm):
    """KMS's wrapping algorithms ("Encrypt the key material"): RSAES_OAEP_SHA_x is RSA-OAEP with
    SHA-x and MGF1-SHA-x of the material; RSA_AES_KEY_WRAP_SHA_x is that RSA-OAEP of a fresh
    AES-256 key followed by the AES key wrap with padding (RFC 5649) of the material."""
    public = serialization.load_der_public_key(public_der)
    digest = HASHES["SHA_256" if algorithm.endswith("SHA_256") else "SHA_1"]
    oaep = padding.OAEP(mgf=padding.MGF1(algorithm=digest()), algorithm=digest(), label=None)
    if algorithm.startswith("RSAES_OAEP"):
        return public.encrypt(material, oaep)
    aes = secrets.token_bytes(32)
    return public.encrypt(aes, oaep) + aes_key_wrap_with_padding(aes, material)


def in_days(days):
    # Whole seconds, as the operator sends ValidTo (boto3 then sends an integer epoch).
    return (datetime.datetime.now(datetime.timezone.utc) + days * DAY).replace(microsecond=0)


class AwsConformance(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.kms = kms_client()
        model = cls.kms.meta.service_model
        cls.algorithms = model.shape_for("AlgorithmSpec").enum
        cls.specs = model.shape_for("WrappingKeySpec").enum

    # --- helpers ------------------------------------------------------------------------------
    def new_key(self, **extra):
        meta = self.kms.create_key(Origin="EXTERNAL", KeySpec="SYMMETRIC_DEFAULT",
                                   Description="byok conformance", **extra)["KeyMetadata"]
        return meta["KeyId"]

    def describe(self, key_id):
        return self.kms.describe_key(KeyId=key_id)["KeyMetadata"]

    def params(self, key_id, algorithm="RSA_AES_KEY_WRAP_SHA_256", spec="RSA_2048"):
        p = self.kms.get_parameters_for_import(KeyId=key_id, WrappingAlgorithm=algorithm,
                                               WrappingKeySpec=spec)
        p["Algorithm"] = algorithm
        return p

    def import_material(self, key_id, material, params=None, **extra):
        p = params or self.params(key_id)
        if "ValidTo" not in extra and "ExpirationModel" not in extra:
            extra["ExpirationModel"] = "KEY_MATERIAL_DOES_NOT_EXPIRE"
        return self.kms.import_key_material(
            KeyId=key_id, ImportToken=p["ImportToken"],
            EncryptedKeyMaterial=wrap(p["PublicKey"], material, p["Algorithm"]), **extra)

    def assert_refused(self, code, call, *args, **kwargs):
        with self.assertRaises(ClientError) as caught:
            call(*args, **kwargs)
        error = caught.exception.response["Error"]
        self.assertEqual(error["Code"], code, error.get("Message"))
        self.assertEqual(caught.exception.response["ResponseMetadata"]["HTTPStatusCode"], 400)
        return error

    def rotations(self, key_id, include="ALL_KEY_MATERIAL"):
        pages = self.kms.get_paginator("list_key_rotations").paginate(
            KeyId=key_id, IncludeKeyMaterial=include, PaginationConfig={"PageSize": 1})
        return [r for page in pages for r in page["Rotations"]]

    # --- CreateKey, GetParametersForImport, ImportKeyMaterial ---------------------------------
    def test_external_key_starts_pending_import(self):
        meta = self.describe(self.new_key())
        self.assertEqual((meta["Origin"], meta["KeyState"], meta["Enabled"]),
                         ("EXTERNAL", "PendingImport", False))
        self.assertEqual((meta["KeySpec"], meta["KeyUsage"]), ("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT"))
        self.assertNotIn("CurrentKeyMaterialId", meta)
        self.assertNotIn("ValidTo", meta)

    def test_every_wrapping_algorithm_and_key_spec(self):
        """GetParametersForImport with each AlgorithmSpec x WrappingKeySpec the model has for a
        symmetric key, and an import (then reimports) of the same material wrapped each way."""
        self.assertEqual(set(self.algorithms) - RETIRED_ALGORITHMS,
                         {"RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256", "RSA_AES_KEY_WRAP_SHA_1",
                          "RSA_AES_KEY_WRAP_SHA_256"})
        self.assertEqual(set(self.specs) - CHINA_ONLY_SPECS, {"RSA_2048", "RSA_3072", "RSA_4096"})
        key_id = self.new_key()
        arn = self.describe(key_id)["Arn"]
        material = secrets.token_bytes(32)
        material_ids = set()
        for algorithm in sorted(set(self.algorithms) - RETIRED_ALGORITHMS):
            for spec in sorted(set(self.specs) - CHINA_ONLY_SPECS):
                with self.subTest(algorithm=algorithm, spec=spec):
                    p = self.params(key_id, algorithm, spec)
                    self.assertEqual(p["KeyId"], arn)
                    public = serialization.load_der_public_key(p["PublicKey"])
                    self.assertIsInstance(public, rsa.RSAPublicKey)
                    self.assertEqual(public.key_size, int(spec[4:]))
                    left = p["ParametersValidTo"] - datetime.datetime.now(datetime.timezone.utc)
                    self.assertAlmostEqual(left.total_seconds(), 86400, delta=120)
                    answer = self.import_material(p["KeyId"], material, p)  # by ARN, as the operator
                    self.assertEqual(answer["KeyId"], arn)
                    material_ids.add(answer["KeyMaterialId"])
                    meta = self.describe(key_id)
                    self.assertEqual((meta["KeyState"], meta["Enabled"]), ("Enabled", True))
        # One material, one id (KMS derives it from the key and the material).
        self.assertEqual(len(material_ids), 1)
        self.assertRegex(material_ids.pop(), r"^[a-f0-9]{64}$")

    def test_retired_and_china_only_wrapping_is_refused(self):
        key_id = self.new_key()
        # Still in botocore's model, so the loops below cannot pass by running zero times.
        self.assertLessEqual(RETIRED_ALGORITHMS, set(self.algorithms))
        self.assertLessEqual(CHINA_ONLY_SPECS, set(self.specs))
        for algorithm in sorted(RETIRED_ALGORITHMS & set(self.algorithms)):
            with self.subTest(algorithm=algorithm):
                self.assert_refused("ValidationException", self.params, key_id, algorithm, "RSA_2048")
        for spec in sorted(CHINA_ONLY_SPECS & set(self.specs)):
            with self.subTest(spec=spec):
                self.assert_refused("ValidationException", self.params, key_id,
                                    "RSAES_OAEP_SHA_256", spec)

    def test_import_does_not_expire_then_expires(self):
        key_id = self.new_key()
        material = secrets.token_bytes(32)
        first = self.import_material(key_id, material, ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")
        meta = self.describe(key_id)
        self.assertEqual((meta["KeyState"], meta["Origin"]), ("Enabled", "EXTERNAL"))
        self.assertEqual(meta["ExpirationModel"], "KEY_MATERIAL_DOES_NOT_EXPIRE")
        self.assertNotIn("ValidTo", meta)
        self.assertEqual(meta["CurrentKeyMaterialId"], first["KeyMaterialId"])
        # Reimporting the same material changes its expiration; ExpirationModel defaults to
        # KEY_MATERIAL_EXPIRES, which takes ValidTo (boto3 sends it as epoch seconds).
        until = in_days(30)
        again = self.import_material(key_id, material, ValidTo=until)
        self.assertEqual(again["KeyMaterialId"], first["KeyMaterialId"])
        meta = self.describe(key_id)
        self.assertEqual(meta["ExpirationModel"], "KEY_MATERIAL_EXPIRES")
        self.assertEqual(meta["ValidTo"], until)
        # Sub-second ValidTo (a float) and the explicit model.
        precise = datetime.datetime.now(datetime.timezone.utc) + 200 * DAY
        self.import_material(key_id, material, ExpirationModel="KEY_MATERIAL_EXPIRES", ValidTo=precise)
        self.assertLess(abs((self.describe(key_id)["ValidTo"] - precise).total_seconds()), 0.01)
        self.import_material(key_id, material, ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")
        self.assertNotIn("ValidTo", self.describe(key_id))

    def test_valid_to_rules(self):
        """ValidTo: required with KEY_MATERIAL_EXPIRES (the default), not valid otherwise, a future
        time at most 365 days from the request."""
        key_id = self.new_key()
        material = secrets.token_bytes(32)
        p = self.params(key_id)
        blob = wrap(p["PublicKey"], material, p["Algorithm"])

        def attempt(**extra):
            return self.kms.import_key_material(KeyId=key_id, ImportToken=p["ImportToken"],
                                                EncryptedKeyMaterial=blob, **extra)

        past = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)
        cases = {"past": {"ValidTo": past},
                 "more than 365 days": {"ValidTo": in_days(366)},
                 "expires without ValidTo": {"ExpirationModel": "KEY_MATERIAL_EXPIRES"},
                 "model omitted, no ValidTo": {},
                 "does not expire, with ValidTo": {"ExpirationModel": "KEY_MATERIAL_DOES_NOT_EXPIRE",
                                                   "ValidTo": in_days(30)}}
        for name, extra in cases.items():
            with self.subTest(name):
                self.assert_refused("ValidationException", attempt, **extra)
        self.assertEqual(self.describe(key_id)["KeyState"], "PendingImport")
        attempt(ValidTo=in_days(365) - datetime.timedelta(minutes=1))  # the same token still serves
        self.assertEqual(self.describe(key_id)["KeyState"], "Enabled")

    # --- refusals of tokens and material ------------------------------------------------------
    def test_import_token_serves_one_import_of_its_own_key(self):
        key_id, other = self.new_key(), self.new_key()
        material = secrets.token_bytes(32)
        p = self.params(key_id)
        blob = wrap(p["PublicKey"], material, p["Algorithm"])
        # Another key's token: the material was wrapped for this key's parameters.
        self.assert_refused("InvalidImportTokenException", self.kms.import_key_material,
                            KeyId=other, ImportToken=p["ImportToken"], EncryptedKeyMaterial=blob,
                            ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")
        self.kms.import_key_material(KeyId=key_id, ImportToken=p["ImportToken"],
                                     EncryptedKeyMaterial=blob,
                                     ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")
        self.assert_refused("InvalidImportTokenException", self.kms.import_key_material,
                            KeyId=key_id, ImportToken=p["ImportToken"], EncryptedKeyMaterial=blob,
                            ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")
        self.assert_refused("InvalidImportTokenException", self.kms.import_key_material,
                            KeyId=key_id, ImportToken=secrets.token_bytes(64),
                            EncryptedKeyMaterial=blob, ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")

    def test_undecryptable_or_unfitting_material_is_refused(self):
        key_id = self.new_key()
        material = secrets.token_bytes(32)
        p = self.params(key_id, "RSA_AES_KEY_WRAP_SHA_256", "RSA_3072")

        def attempt(blob):
            return self.kms.import_key_material(KeyId=key_id, ImportToken=p["ImportToken"],
                                                EncryptedKeyMaterial=blob,
                                                ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE")

        tampered = bytearray(wrap(p["PublicKey"], material, p["Algorithm"]))
        tampered[-2] ^= 0x01
        self.assert_refused("InvalidCiphertextException", attempt, bytes(tampered))
        # Wrapped with the algorithm the token was not asked for.
        self.assert_refused("InvalidCiphertextException", attempt,
                            wrap(p["PublicKey"], material, "RSA_AES_KEY_WRAP_SHA_1"))
        # Wrapped for another public key.
        elsewhere = rsa.generate_private_key(public_exponent=65537, key_size=3072).public_key()
        self.assert_refused("InvalidCiphertextException", attempt,
                            wrap(elsewhere.public_bytes(serialization.Encoding.DER,
                                                        serialization.PublicFormat.SubjectPublicKeyInfo),
                                 material, p["Algorithm"]))
        # SYMMETRIC_DEFAULT material is 256 bits.
        self.assert_refused("IncorrectKeyMaterialException", attempt,
                            wrap(p["PublicKey"], secrets.token_bytes(16), p["Algorithm"]))
        self.assertEqual(self.describe(key_id)["KeyState"], "PendingImport")

    # --- DeleteImportedKeyMaterial and reimport -----------------------------------------------
    def test_delete_and_reimport_the_same_material(self):
        key_id = self.new_key()
        material = secrets.token_bytes(32)
        first = self.import_material(key_id, material)
        deleted = self.kms.delete_imported_key_material(KeyId=key_id)
        self.assertEqual(deleted["KeyId"], self.describe(key_id)["Arn"])
        self.assertEqual(deleted["KeyMaterialId"], first["KeyMaterialId"])
        meta = self.describe(key_id)
        self.assertEqual((meta["KeyState"], meta["Enabled"]), ("PendingImport", False))
        [entry] = self.rotations(key_id)
        self.assertEqual((entry["KeyMaterialId"], entry["ImportState"], entry["KeyMaterialState"]),
                         (first["KeyMaterialId"], "PENDING_IMPORT", "CURRENT"))
        # Other material cannot take its place, by default or as named.
        other = secrets.token_bytes(32)
        self.assert_refused("IncorrectKeyMaterialException", self.import_material, key_id, other)
        self.assert_refused("IncorrectKeyMaterialException", self.import_material, key_id, other,
                            ImportType="EXISTING_KEY_MATERIAL", KeyMaterialId=first["KeyMaterialId"])
        self.assert_refused("IncorrectKeyMaterialException", self.import_material, key_id, material,
                            KeyMaterialId="0" * 64)
        # The same bytes, named by their id.
        back = self.import_material(key_id, material, ImportType="EXISTING_KEY_MATERIAL",
                                    KeyMaterialId=first["KeyMaterialId"])
        self.assertEqual(back["KeyMaterialId"], first["KeyMaterialId"])
        meta = self.describe(key_id)
        self.assertEqual((meta["KeyState"], meta["Enabled"]), ("Enabled", True))
        self.assertEqual(meta["CurrentKeyMaterialId"], first["KeyMaterialId"])
        self.assert_refused("NotFoundException", self.kms.delete_imported_key_material,
                            KeyId=key_id, KeyMaterialId="f" * 64)
        self.assert_refused("ValidationException", self.import_material, key_id, material,
                            KeyMaterialId="g" * 64)

    def test_first_import_cannot_be_existing_material(self):
        key_id = self.new_key()
        self.assert_refused("ValidationException", self.import_material, key_id,
                            secrets.token_bytes(32), ImportType="EXISTING_KEY_MATERIAL")
        self.assert_refused("ValidationException", self.import_material, key_id,
                            secrets.token_bytes(32), ImportType="SOME_KEY_MATERIAL")

    # --- NEW_KEY_MATERIAL, RotateKeyOnDemand, ListKeyRotations -------------------------------
    def test_new_key_material_waits_for_rotate_key_on_demand(self):
        key_id = self.new_key()
        first_material, second_material = secrets.token_bytes(32), secrets.token_bytes(32)
        first = self.import_material(key_id, first_material)["KeyMaterialId"]
        self.assertEqual(self.rotations(key_id, "ROTATIONS_ONLY"), [])
        # No new material yet: nothing to rotate to.
        self.assert_refused("KMSInvalidStateException", self.kms.rotate_key_on_demand, KeyId=key_id)
        # NEW_KEY_MATERIAL takes no KeyMaterialId, and material the key never had.
        self.assert_refused("ValidationException", self.import_material, key_id, second_material,
                            ImportType="NEW_KEY_MATERIAL", KeyMaterialId=first)
        self.assert_refused("IncorrectKeyMaterialException", self.import_material, key_id,
                            first_material, ImportType="NEW_KEY_MATERIAL")
        second = self.import_material(key_id, second_material, ImportType="NEW_KEY_MATERIAL",
                                      KeyMaterialDescription="rotation 1")["KeyMaterialId"]
        self.assertNotEqual(second, first)
        meta = self.describe(key_id)
        self.assertEqual((meta["KeyState"], meta["CurrentKeyMaterialId"]), ("Enabled", first))
        states = {r["KeyMaterialId"]: (r["KeyMaterialState"], r["ImportState"])
                  for r in self.rotations(key_id)}
        self.assertEqual(states, {first: ("CURRENT", "IMPORTED"),
                                  second: ("PENDING_ROTATION", "IMPORTED")})
        self.assertEqual(self.rotations(key_id, "ROTATIONS_ONLY"), [])

        rotated = self.kms.rotate_key_on_demand(KeyId=self.describe(key_id)["Arn"])
        self.assertIn(key_id, rotated["KeyId"])
        self.assertEqual(self.describe(key_id)["CurrentKeyMaterialId"], second)
        [rotation] = self.rotations(key_id, "ROTATIONS_ONLY")
        self.assertEqual((rotation["KeyMaterialId"], rotation["KeyMaterialState"],
                          rotation["RotationType"], rotation["KeyMaterialDescription"]),
                         (second, "CURRENT", "ON_DEMAND", "rotation 1"))
        self.assertIsInstance(rotation["RotationDate"], datetime.datetime)
        self.assertEqual(rotation["ExpirationModel"], "KEY_MATERIAL_DOES_NOT_EXPIRE")
        every = {r["KeyMaterialId"]: r for r in self.rotations(key_id)}
        self.assertEqual(every[first]["KeyMaterialState"], "NON_CURRENT")
        self.assertNotIn("RotationDate", every[first])  # the first material was not rotated to
        self.assert_refused("KMSInvalidStateException", self.kms.rotate_key_on_demand, KeyId=key_id)

        # Non-current material deleted: the key waits for it (PendingImport) until reimported.
        self.kms.delete_imported_key_material(KeyId=key_id, KeyMaterialId=first)
        self.assertEqual(self.describe(key_id)["KeyState"], "PendingImport")
        self.assertEqual({r["KeyMaterialId"]: r["ImportState"] for r in self.rotations(key_id)},
                         {first: "PENDING_IMPORT", second: "IMPORTED"})
        self.import_material(key_id, first_material)  # EXISTING_KEY_MATERIAL by default
        self.assertEqual(self.describe(key_id)["KeyState"], "Enabled")

    def test_pending_rotation_material_can_be_dropped_and_replaced(self):
        key_id = self.new_key()
        first = self.import_material(key_id, secrets.token_bytes(32))["KeyMaterialId"]
        pending = self.import_material(key_id, secrets.token_bytes(32),
                                       ImportType="NEW_KEY_MATERIAL")["KeyMaterialId"]
        self.kms.delete_imported_key_material(KeyId=key_id, KeyMaterialId=pending)
        meta = self.describe(key_id)
        self.assertEqual((meta["KeyState"], meta["CurrentKeyMaterialId"]), ("Enabled", first))
        self.assertEqual([r["KeyMaterialId"] for r in self.rotations(key_id)], [first])
        replacement = self.import_material(key_id, secrets.token_bytes(32),
                                           ImportType="NEW_KEY_MATERIAL")["KeyMaterialId"]
        self.kms.rotate_key_on_demand(KeyId=key_id)
        self.assertEqual(self.describe(key_id)["CurrentKeyMaterialId"], replacement)

    def test_rotation_needs_an_enabled_key(self):
        key_id = self.new_key()
        self.import_material(key_id, secrets.token_bytes(32))
        self.import_material(key_id, secrets.token_bytes(32), ImportType="NEW_KEY_MATERIAL")
        self.kms.disable_key(KeyId=key_id)
        self.assert_refused("DisabledException", self.kms.rotate_key_on_demand, KeyId=key_id)
        self.kms.enable_key(KeyId=key_id)
        self.kms.delete_imported_key_material(KeyId=key_id)
        self.assert_refused("KMSInvalidStateException", self.kms.rotate_key_on_demand, KeyId=key_id)

    # --- ScheduleKeyDeletion, CancelKeyDeletion -----------------------------------------------
    def test_pending_deletion_refuses_import(self):
        key_id = self.new_key()
        material = secrets.token_bytes(32)
        self.import_material(key_id, material)
        early = self.params(key_id)  # parameters fetched before the deletion was scheduled
        self.assert_refused("ValidationException", self.kms.schedule_key_deletion, KeyId=key_id,
                            PendingWindowInDays=6)
        self.assert_refused("ValidationException", self.kms.schedule_key_deletion, KeyId=key_id,
                            PendingWindowInDays=31)
        scheduled = self.kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
        meta = self.describe(key_id)
        self.assertEqual((scheduled["KeyId"], scheduled["KeyState"], scheduled["PendingWindowInDays"]),
                         (meta["Arn"], "PendingDeletion", 7))
        left = scheduled["DeletionDate"] - datetime.datetime.now(datetime.timezone.utc)
        self.assertAlmostEqual(left.total_seconds(), 7 * 86400, delta=120)
        self.assertEqual((meta["KeyState"], meta["DeletionDate"]), ("PendingDeletion", scheduled["DeletionDate"]))
        self.assert_refused("KMSInvalidStateException", self.kms.schedule_key_deletion, KeyId=key_id)
        self.assert_refused("KMSInvalidStateException", self.params, key_id)
        self.assert_refused("KMSInvalidStateException", self.import_material, key_id, material, early)
        # Deleting its material leaves a key pending deletion as it is.
        self.kms.delete_imported_key_material(KeyId=key_id)
        self.assertEqual(self.describe(key_id)["KeyState"], "PendingDeletion")

    def test_cancel_deletion(self):
        key_id = self.new_key()
        self.import_material(key_id, secrets.token_bytes(32))
        self.assert_refused("KMSInvalidStateException", self.kms.cancel_key_deletion, KeyId=key_id)
        scheduled = self.kms.schedule_key_deletion(KeyId=key_id)  # 30 days by default
        self.assertEqual(scheduled["PendingWindowInDays"], 30)
        cancelled = self.kms.cancel_key_deletion(KeyId=key_id)
        meta = self.describe(key_id)
        self.assertEqual(cancelled["KeyId"], meta["Arn"])
        self.assertEqual((meta["KeyState"], meta["Enabled"]), ("Disabled", False))  # as documented
        self.assertNotIn("DeletionDate", meta)

    # --- keys that are not EXTERNAL, and the caller's identity --------------------------------
    def test_keys_of_kms_material_take_no_import(self):
        key_id = self.kms.create_key()["KeyMetadata"]["KeyId"]
        self.assert_refused("UnsupportedOperationException", self.params, key_id)
        self.assert_refused("UnsupportedOperationException", self.kms.delete_imported_key_material,
                            KeyId=key_id)
        self.assert_refused("NotFoundException", self.params, "00000000-1111-2222-3333-444444444444")

    def test_operator_flow(self):
        """As kms/aws/aws_kms_client.cpp goes: the largest wrapping key spec, RSA_AES_KEY_WRAP_SHA_256,
        ImportKeyMaterial by the ARN GetParametersForImport answered with an integer ValidTo,
        later NEW_KEY_MATERIAL and RotateKeyOnDemand."""
        key_id = self.new_key(Tags=[{"TagKey": "byok.dev/owner", "TagValue": "conformance"}])
        p = self.params(key_id, "RSA_AES_KEY_WRAP_SHA_256", "RSA_4096")
        material = secrets.token_bytes(32)
        until = in_days(90)
        first = self.import_material(p["KeyId"], material, p, ExpirationModel="KEY_MATERIAL_EXPIRES",
                                     ValidTo=until)
        meta = self.describe(p["KeyId"])
        self.assertEqual((meta["KeyState"], meta["ValidTo"], meta["CurrentKeyMaterialId"]),
                         ("Enabled", until, first["KeyMaterialId"]))
        log = ENV.get("BYOK_AWS_IMPORT_LOG")
        if log:  # the server's record of what it unwrapped
            with open(log) as f:
                self.assertIn(f"{key_id} {first['KeyMaterialId']} {hashlib.sha256(material).hexdigest()}",
                              f.read().splitlines())
        p = self.params(key_id, "RSA_AES_KEY_WRAP_SHA_256", "RSA_4096")
        new = self.import_material(p["KeyId"], secrets.token_bytes(32), p, ImportType="NEW_KEY_MATERIAL",
                                   ExpirationModel="KEY_MATERIAL_EXPIRES", ValidTo=until)
        self.kms.rotate_key_on_demand(KeyId=p["KeyId"])
        self.assertEqual(self.describe(key_id)["CurrentKeyMaterialId"], new["KeyMaterialId"])

    def test_bad_credentials_are_refused(self):
        """As AWS KMS answers them: the JSON protocol's common errors, HTTP 400."""
        for access, secret, code in (
                (ENV["BYOK_AWS_ACCESS_KEY_ID"], "not-the-secret", "InvalidSignatureException"),
                ("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                 "UnrecognizedClientException")):
            with self.subTest(access=access):
                with self.assertRaises(ClientError) as caught:
                    kms_client(access, secret).list_keys()
                response = caught.exception.response
                self.assertEqual(response["ResponseMetadata"]["HTTPStatusCode"], 400)
                self.assertEqual(response["Error"].get("Code"), code)

if __name__ == "__main__":
    unittest.main()
