"""Conformance of the OCI Vault fake (tests/fakes/oci/fake_oci_kms.py) with the official OCI SDK.

The pinned `oci` package (requirements.txt) drives the fake that tests/harness/oci-kms.sh started
(its settings in the BYOK_OCI_* environment, see run.sh) through what kms/oci/oci_kms_client.cpp
does: GetWrappingKey, ImportKey (AES and RSA material wrapped here with `cryptography` as OCI
publishes it), GetKey, GetKeyVersion, ListKeys, ListKeyVersions, ImportKeyVersion,
ScheduleKeyDeletion and CancelKeyDeletion, and through what OCI refuses (a bad signature, a
tampered wrap, a field the API does not have, ...). The operator uses only the management
endpoint (KmsManagementClient), never KmsVaultClient. A fake the SDK cannot use, or one that
accepts what OCI refuses, fails here.

    cd tests/conformance && set -a && . DIR/env && set +a && $PY -m unittest -v test_oci_sdk
"""

import base64
import datetime
import hashlib
import json
import os
import secrets
import ssl
import tempfile
import unittest
import urllib.request

import oci
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.keywrap import aes_key_wrap_with_padding

M = oci.key_management.models
ENV = os.environ
OWNER_TAG = "byok.dev/owner"  # the freeform tag kms/oci/oci_kms_client.cpp puts on its keys
OAEP = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(),
                    label=None)


def sdk_config(key_file=None, pass_phrase=None):
    config = {"tenancy": ENV["BYOK_OCI_TENANCY"], "user": ENV["BYOK_OCI_USER"],
              "fingerprint": ENV["BYOK_OCI_FINGERPRINT"],
              "key_file": key_file or ENV["BYOK_OCI_PRIVATE_KEY_FILE"],
              "region": "us-ashburn-1"}
    if pass_phrase is not None:
        config["pass_phrase"] = pass_phrase
    oci.config.validate_config(config)
    return config


def management_client(config=None):
    """KmsManagementClient on the fake's endpoint, trusting only its CA. No retries and no circuit
    breaker: a refusal must surface as it is, at once."""
    client = oci.key_management.KmsManagementClient(
        config or sdk_config(), service_endpoint=ENV["BYOK_OCI_ENDPOINT"],
        retry_strategy=oci.retry.NoneRetryStrategy(),
        circuit_breaker_strategy=oci.circuit_breaker.NoCircuitBreakerStrategy(),
        timeout=(10, 60))
    session = client.base_client.session
    session.trust_env = False  # REQUESTS_CA_BUNDLE / proxies from the environment would win
    session.verify = ENV["BYOK_OCI_CA_FILE"]
    return client


def fake_admin(path):
    """The fake's test-only endpoint (GET /__fake/...), to see what it really unwrapped."""
    ctx = ssl.create_default_context(cafile=ENV["BYOK_OCI_CA_FILE"])
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                         urllib.request.HTTPSHandler(context=ctx))
    with opener.open(ENV["BYOK_OCI_ENDPOINT"] + path, timeout=30) as r:
        return json.load(r)


def wrapping_public_key(client):
    pem = client.get_wrapping_key().data.public_key
    return serialization.load_pem_public_key(pem.encode())


def wrap(public_key, material, algorithm):
    """OCI's published import formats ("Importing Vault Keys and Key Versions"):
    RSA_OAEP_SHA256 is RSA-OAEP (SHA-256, MGF1-SHA-256, no label) of the material itself;
    RSA_OAEP_AES_SHA256 is the same RSA-OAEP of a temporary AES-256 key, followed by that key's
    AES key wrap with padding (RFC 5649) of the material."""
    if algorithm == "RSA_OAEP_SHA256":
        return public_key.encrypt(material, OAEP)
    temporary = secrets.token_bytes(32)
    return public_key.encrypt(temporary, OAEP) + aes_key_wrap_with_padding(temporary, material)


def b64(data):
    return base64.b64encode(data).decode()


def rsa_material(bits):
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    return key, der


def unique(prefix):
    return f"{prefix}-{secrets.token_hex(4)}"


class OciConformance(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.kms = management_client()
        cls.compartment = ENV["BYOK_OCI_COMPARTMENT_ID"]
        cls.wrapping = wrapping_public_key(cls.kms)
        cls.owner = unique("conformance")

    # --- helpers ------------------------------------------------------------------------------
    def import_aes(self, material, algorithm="RSA_OAEP_AES_SHA256", name=None, **extra):
        fields = {"protection_mode": "HSM", "freeform_tags": {OWNER_TAG: self.owner}} | extra
        details = M.ImportKeyDetails(
            compartment_id=self.compartment, display_name=name or unique("aes"),
            key_shape=M.KeyShape(algorithm="AES", length=len(material)),
            wrapped_import_key=M.WrappedImportKey(
                key_material=b64(wrap(self.wrapping, material, algorithm)),
                wrapping_algorithm=algorithm), **fields)
        return self.kms.import_key(details).data

    def assert_refused(self, status, code, call, *args, **kwargs):
        with self.assertRaises(oci.exceptions.ServiceError) as caught:
            call(*args, **kwargs)
        self.assertEqual((caught.exception.status, caught.exception.code), (status, code),
                         caught.exception.message)
        return caught.exception

    def assert_material(self, key_id, material, version_id=None):
        held = fake_admin(f"/__fake/keys/{key_id}/material")
        sha = hashlib.sha256(material).hexdigest()
        if version_id is None:
            self.assertEqual(held["sha256"], sha)
        else:
            self.assertIn({"id": version_id, "sha256": sha},
                          [{"id": v["id"], "sha256": v["sha256"]} for v in held["versions"]])

    def raw_call(self, method, path, body=None, query=None):
        """A request the SDK's models cannot express (a field the API lacks, or the exact JSON the
        operator's C++ client sends), still signed and sent by the SDK."""
        return self.kms.base_client.call_api(
            resource_path=path, method=method, query_params=query or {},
            header_params={"accept": "application/json", "content-type": "application/json"},
            body=body, response_type="object")

    # --- GetWrappingKey -----------------------------------------------------------------------
    def test_wrapping_key_is_the_vaults_rsa_4096_key(self):
        r = self.kms.get_wrapping_key()
        self.assertEqual(r.status, 200)
        self.assertTrue(r.headers.get("opc-request-id"))
        w = r.data
        self.assertIsInstance(w, M.WrappingKey)
        self.assertEqual(w.id, ENV["BYOK_OCI_WRAPPING_KEY_ID"])
        self.assertEqual(w.vault_id, ENV["BYOK_OCI_VAULT_ID"])
        self.assertEqual(w.compartment_id, self.compartment)
        self.assertEqual(w.lifecycle_state, "ENABLED")
        self.assertIsInstance(w.time_created, datetime.datetime)
        key = serialization.load_pem_public_key(w.public_key.encode())
        self.assertIsInstance(key, rsa.RSAPublicKey)
        self.assertEqual(key.key_size, 4096)

    def test_client_request_id_is_echoed(self):
        r = self.kms.get_wrapping_key(opc_request_id="CONFORMANCE0001")
        self.assertTrue(r.headers["opc-request-id"].startswith("CONFORMANCE0001"))

    def test_encrypted_api_key_with_passphrase_signs_too(self):
        with open(ENV["BYOK_OCI_PASSPHRASE_FILE"]) as f:
            passphrase = f.read().strip()
        client = management_client(sdk_config(ENV["BYOK_OCI_ENCRYPTED_PRIVATE_KEY_FILE"], passphrase))
        self.assertEqual(client.get_wrapping_key().status, 200)

    # --- ImportKey, GetKey, GetKeyVersion -----------------------------------------------------
    def test_import_aes_keys_with_both_wrapping_algorithms(self):
        for length in (16, 24, 32):
            for algorithm in ("RSA_OAEP_SHA256", "RSA_OAEP_AES_SHA256"):
                with self.subTest(length=length, algorithm=algorithm):
                    material = secrets.token_bytes(length)
                    name = unique(f"aes{length * 8}")
                    key = self.import_aes(material, algorithm, name)
                    self.assertIsInstance(key, M.Key)
                    self.assertEqual(key.display_name, name)
                    self.assertEqual(key.compartment_id, self.compartment)
                    self.assertEqual(key.vault_id, ENV["BYOK_OCI_VAULT_ID"])
                    self.assertEqual((key.key_shape.algorithm, key.key_shape.length), ("AES", length))
                    self.assertEqual(key.protection_mode, "HSM")
                    self.assertEqual(key.lifecycle_state, "ENABLED")
                    self.assertEqual(key.freeform_tags, {OWNER_TAG: self.owner})
                    self.assertTrue(key.current_key_version.startswith("ocid1.keyversion."))
                    self.assertFalse(key.is_auto_rotation_enabled)
                    got = self.kms.get_key(key.id).data
                    self.assertEqual(got.id, key.id)
                    self.assertEqual(got.current_key_version, key.current_key_version)
                    version = self.kms.get_key_version(key.id, key.current_key_version).data
                    self.assertIsInstance(version, M.KeyVersion)
                    self.assertEqual(version.origin, "EXTERNAL")
                    self.assertEqual(version.key_id, key.id)
                    self.assertEqual(version.lifecycle_state, "ENABLED")
                    self.assertIsNone(version.public_key)  # AES: no public half
                    self.assert_material(key.id, material)

    def test_import_rsa_keys(self):
        for bits in (2048, 3072):
            with self.subTest(bits=bits):
                private, der = rsa_material(bits)
                details = M.ImportKeyDetails(
                    compartment_id=self.compartment, display_name=unique(f"rsa{bits}"),
                    key_shape=M.KeyShape(algorithm="RSA", length=bits // 8),
                    wrapped_import_key=M.WrappedImportKey(
                        key_material=b64(wrap(self.wrapping, der, "RSA_OAEP_AES_SHA256")),
                        wrapping_algorithm="RSA_OAEP_AES_SHA256"),
                    protection_mode="HSM", freeform_tags={OWNER_TAG: self.owner})
                key = self.kms.import_key(details).data
                self.assertEqual((key.key_shape.algorithm, key.key_shape.length), ("RSA", bits // 8))
                version = self.kms.get_key_version(key.id, key.current_key_version).data
                self.assertEqual(version.origin, "EXTERNAL")
                public = serialization.load_pem_public_key(version.public_key.encode())
                self.assertEqual(public.public_numbers(), private.public_key().public_numbers())
                self.assert_material(key.id, der)

    def test_import_software_protection_mode(self):
        key = self.import_aes(secrets.token_bytes(32), protection_mode="SOFTWARE")
        self.assertEqual(key.protection_mode, "SOFTWARE")

    def test_import_with_auto_rotation_fields(self):
        # The SDK's ImportKeyDetails has isAutoRotationEnabled and autoKeyRotationDetails.
        start = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=2)
        key = self.import_aes(secrets.token_bytes(32), is_auto_rotation_enabled=True,
                              auto_key_rotation_details=M.AutoKeyRotationDetails(
                                  rotation_interval_in_days=90, time_of_schedule_start=start))
        self.assertTrue(key.is_auto_rotation_enabled)
        details = key.auto_key_rotation_details
        self.assertEqual(details.rotation_interval_in_days, 90)
        self.assertEqual(details.time_of_schedule_start.date(), start.date())
        self.assertEqual(details.time_of_next_rotation - details.time_of_schedule_start,
                         datetime.timedelta(days=90))
        self.assertTrue(self.kms.get_key(key.id).data.is_auto_rotation_enabled)
        off = self.import_aes(secrets.token_bytes(32), is_auto_rotation_enabled=False)
        self.assertFalse(off.is_auto_rotation_enabled)
        self.assertIsNone(off.auto_key_rotation_details)
        # The interval "should be between 60 days and 365 days", and is needed to enable it.
        for interval in (30, 366):
            with self.subTest(interval=interval):
                self.assert_refused(400, "InvalidParameter", self.import_aes,
                                    secrets.token_bytes(32), is_auto_rotation_enabled=True,
                                    auto_key_rotation_details=M.AutoKeyRotationDetails(
                                        rotation_interval_in_days=interval))
        self.assert_refused(400, "MissingParameter", self.import_aes, secrets.token_bytes(32),
                            is_auto_rotation_enabled=True)

    def test_defined_tags_name_existing_namespaces_only(self):
        key = self.import_aes(secrets.token_bytes(32), defined_tags={})
        self.assertEqual(key.defined_tags, {})
        # The fake's tenancy has no tag namespaces: OCI refuses one that does not exist.
        self.assert_refused(400, "RelatedResourceNotAuthorizedOrNotFound", self.import_aes,
                            secrets.token_bytes(32), defined_tags={"Operations": {"CostCenter": "42"}})

    # --- ListKeys -----------------------------------------------------------------------------
    def test_list_keys_pages_filters_and_sorts(self):
        owner = unique("listing")
        made = []
        for _ in range(3):
            made.append(self.import_aes(secrets.token_bytes(16), name=unique("list"),
                                        freeform_tags={OWNER_TAG: owner}).id)
        _, der = rsa_material(2048)
        rsa_key = self.kms.import_key(M.ImportKeyDetails(
            compartment_id=self.compartment, display_name=unique("list-rsa"),
            key_shape=M.KeyShape(algorithm="RSA", length=256),
            wrapped_import_key=M.WrappedImportKey(
                key_material=b64(wrap(self.wrapping, der, "RSA_OAEP_AES_SHA256")),
                wrapping_algorithm="RSA_OAEP_AES_SHA256"))).data
        # Pages of one, followed through opc-next-page by the SDK's paginator.
        every = oci.pagination.list_call_get_all_results(
            self.kms.list_keys, self.compartment, limit=1).data
        self.assertTrue(all(isinstance(k, M.KeySummary) for k in every))
        ids = [k.id for k in every]
        self.assertEqual(len(ids), len(set(ids)))
        for key_id in made + [rsa_key.id]:
            self.assertIn(key_id, ids)
        # Newest first by default (TIMECREATED, descending); ASC reverses that.
        mine = [i for i in ids if i in made]
        self.assertEqual(mine, list(reversed(made)))
        ascending = [k.id for k in oci.pagination.list_call_get_all_results(
            self.kms.list_keys, self.compartment, sort_by="TIMECREATED", sort_order="ASC").data]
        self.assertEqual([i for i in ascending if i in made], made)
        first = self.kms.list_keys(self.compartment, limit=1)
        self.assertEqual(len(first.data), 1)
        self.assertTrue(first.has_next_page)
        summary = next(k for k in every if k.id == rsa_key.id)
        self.assertEqual((summary.algorithm, summary.protection_mode, summary.lifecycle_state),
                         ("RSA", "HSM", "ENABLED"))
        self.assertEqual(summary.display_name, rsa_key.display_name)
        # Filters.
        rsa_only = [k.id for k in oci.pagination.list_call_get_all_results(
            self.kms.list_keys, self.compartment, algorithm="RSA", length=256).data]
        self.assertIn(rsa_key.id, rsa_only)
        self.assertFalse(set(made) & set(rsa_only))
        aes128 = [k.id for k in oci.pagination.list_call_get_all_results(
            self.kms.list_keys, self.compartment, algorithm="AES", length=16,
            protection_mode="HSM").data]
        self.assertTrue(set(made) <= set(aes128))
        by_name = [k.display_name for k in oci.pagination.list_call_get_all_results(
            self.kms.list_keys, self.compartment, sort_by="DISPLAYNAME").data]
        self.assertEqual(by_name, sorted(by_name))

    def test_list_keys_refusals(self):
        self.assert_refused(404, "NotAuthorizedOrNotFound", self.kms.list_keys,
                            "ocid1.compartment.oc1..aaaaaaaanotthefakes")
        self.assert_refused(400, "InvalidParameter", self.kms.list_keys, self.compartment,
                            limit=0)
        self.assert_refused(400, "InvalidParameter", self.raw_call, "GET", "/20180608/keys",
                            query={"compartmentId": self.compartment, "sortBy": "SIZE"})
        self.assert_refused(400, "InvalidParameter", self.raw_call, "GET", "/20180608/keys",
                            query={"compartmentId": self.compartment, "colour": "blue"})

    # --- ImportKeyVersion, ListKeyVersions ----------------------------------------------------
    def test_key_versions(self):
        first = secrets.token_bytes(32)
        key = self.import_aes(first)
        materials = {key.current_key_version: first}
        for algorithm in ("RSA_OAEP_SHA256", "RSA_OAEP_AES_SHA256"):
            material = secrets.token_bytes(32)
            version = self.kms.import_key_version(key.id, M.ImportKeyVersionDetails(
                wrapped_import_key=M.WrappedImportKey(
                    key_material=b64(wrap(self.wrapping, material, algorithm)),
                    wrapping_algorithm=algorithm),
                freeform_tags={OWNER_TAG: self.owner})).data
            self.assertIsInstance(version, M.KeyVersion)
            self.assertEqual((version.key_id, version.origin, version.lifecycle_state),
                             (key.id, "EXTERNAL", "ENABLED"))
            self.assertEqual(self.kms.get_key(key.id).data.current_key_version, version.id)
            materials[version.id] = material
            self.assert_material(key.id, material)
        order = list(materials)
        listed = self.kms.list_key_versions(key.id).data
        self.assertTrue(all(isinstance(v, M.KeyVersionSummary) for v in listed))
        self.assertEqual([v.id for v in listed], list(reversed(order)))  # newest first
        self.assertTrue(all(v.origin == "EXTERNAL" and v.key_id == key.id for v in listed))
        paged = oci.pagination.list_call_get_all_results(
            self.kms.list_key_versions, key.id, limit=1, sort_by="TIMECREATED", sort_order="ASC")
        self.assertEqual([v.id for v in paged.data], order)
        for version_id, material in materials.items():
            self.assert_material(key.id, material, version_id)
        # A version of another shape is refused: AES-128 material for an AES-256 key.
        self.assert_refused(400, "InvalidParameter", self.kms.import_key_version, key.id,
                            M.ImportKeyVersionDetails(wrapped_import_key=M.WrappedImportKey(
                                key_material=b64(wrap(self.wrapping, secrets.token_bytes(16),
                                                      "RSA_OAEP_AES_SHA256")),
                                wrapping_algorithm="RSA_OAEP_AES_SHA256")))
        self.assert_refused(400, "InvalidParameter", self.raw_call, "GET",
                            f"/20180608/keys/{key.id}/keyVersions", query={"sortOrder": "UP"})

    # --- ScheduleKeyDeletion, CancelKeyDeletion -----------------------------------------------
    def test_schedule_and_cancel_deletion(self):
        key = self.import_aes(secrets.token_bytes(32))
        when = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=10)
        scheduled = self.kms.schedule_key_deletion(
            key.id, M.ScheduleKeyDeletionDetails(time_of_deletion=when)).data
        self.assertIsInstance(scheduled, M.Key)
        self.assertEqual(scheduled.lifecycle_state, "SCHEDULING_DELETION")
        self.assertLess(abs((scheduled.time_of_deletion - when).total_seconds()), 1)
        got = self.kms.get_key(key.id).data
        self.assertEqual(got.lifecycle_state, "PENDING_DELETION")
        # Nothing can be imported into it, and it cannot be scheduled twice.
        self.assert_refused(409, "IncorrectState", self.kms.import_key_version, key.id,
                            M.ImportKeyVersionDetails(wrapped_import_key=M.WrappedImportKey(
                                key_material=b64(wrap(self.wrapping, secrets.token_bytes(32),
                                                      "RSA_OAEP_SHA256")),
                                wrapping_algorithm="RSA_OAEP_SHA256")))
        self.assert_refused(409, "IncorrectState", self.kms.schedule_key_deletion, key.id,
                            M.ScheduleKeyDeletionDetails(time_of_deletion=when))
        cancelled = self.kms.cancel_key_deletion(key.id).data
        self.assertEqual(cancelled.lifecycle_state, "CANCELLING_DELETION")
        self.assertIsNone(cancelled.time_of_deletion)
        back = self.kms.get_key(key.id).data
        self.assertEqual(back.lifecycle_state, "ENABLED")
        self.assert_refused(409, "IncorrectState", self.kms.cancel_key_deletion, key.id)
        # Without timeOfDeletion: 30 days from the request.
        default = self.kms.schedule_key_deletion(key.id, M.ScheduleKeyDeletionDetails()).data
        days = (default.time_of_deletion - datetime.datetime.now(datetime.timezone.utc)).total_seconds() / 86400
        self.assertAlmostEqual(days, 30, delta=0.01)
        self.kms.cancel_key_deletion(key.id)

    def test_deletion_time_must_be_7_to_30_days_ahead(self):
        key = self.import_aes(secrets.token_bytes(32))
        now = datetime.datetime.now(datetime.timezone.utc)
        for days in (1, 6.9, 30.1, 60):
            with self.subTest(days=days):
                self.assert_refused(400, "InvalidParameter", self.kms.schedule_key_deletion, key.id,
                                    M.ScheduleKeyDeletionDetails(
                                        time_of_deletion=now + datetime.timedelta(days=days)))
        self.assertEqual(self.kms.get_key(key.id).data.lifecycle_state, "ENABLED")

    # --- the operator's own request bodies ----------------------------------------------------
    def test_operator_request_shapes_are_accepted(self):
        """The exact JSON kms/oci/oci_kms_client.cpp sends (import_key, schedule/cancel)."""
        material = secrets.token_bytes(32)
        tags = {OWNER_TAG: self.owner}
        name = unique("operator")
        body = {"compartmentId": self.compartment, "displayName": name,
                "keyShape": {"algorithm": "AES", "length": 32}, "protectionMode": "HSM",
                "wrappedImportKey": {"keyMaterial": b64(wrap(self.wrapping, material, "RSA_OAEP_AES_SHA256")),
                                     "wrappingAlgorithm": "RSA_OAEP_AES_SHA256"},
                "freeformTags": tags}
        key = self.raw_call("POST", "/20180608/keys/import", body).data
        self.assertEqual(key["displayName"], name)
        second = secrets.token_bytes(32)
        version = self.raw_call("POST", f"/20180608/keys/{key['id']}/keyVersions/import", {
            "wrappedImportKey": {"keyMaterial": b64(wrap(self.wrapping, second, "RSA_OAEP_SHA256")),
                                 "wrappingAlgorithm": "RSA_OAEP_SHA256"},
            "freeformTags": tags}).data
        self.assertEqual(version["keyId"], key["id"])
        self.assert_material(key["id"], second)
        when = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=7, minutes=10))
        scheduled = self.raw_call("POST", f"/20180608/keys/{key['id']}/actions/scheduleDeletion",
                                  {"timeOfDeletion": when.strftime("%Y-%m-%dT%H:%M:%SZ")}).data
        self.assertEqual(scheduled["lifecycleState"], "SCHEDULING_DELETION")
        self.raw_call("POST", f"/20180608/keys/{key['id']}/actions/cancelDeletion")
        self.assertEqual(self.kms.get_key(key["id"]).data.lifecycle_state, "ENABLED")

    # --- refusals -----------------------------------------------------------------------------
    def test_bad_signature_is_not_authenticated(self):
        other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        with tempfile.NamedTemporaryFile("wb", suffix=".pem") as f:
            f.write(other.private_bytes(serialization.Encoding.PEM,
                                        serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption()))
            f.flush()
            impostor = management_client(sdk_config(f.name))  # the right keyId, the wrong key
            e = self.assert_refused(401, "NotAuthenticated", impostor.get_wrapping_key)
            self.assertIn("authentication", e.message)
            self.assert_refused(401, "NotAuthenticated", impostor.list_keys, self.compartment)
        config = sdk_config()
        config["fingerprint"] = "00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff"
        self.assert_refused(401, "NotAuthenticated", management_client(config).get_wrapping_key)

    def test_tampered_or_misdirected_wraps_are_refused(self):
        material = secrets.token_bytes(32)
        blob = bytearray(wrap(self.wrapping, material, "RSA_OAEP_AES_SHA256"))
        blob[-3] ^= 0x01  # inside the AES key wrap
        shape = M.KeyShape(algorithm="AES", length=32)

        def attempt(blob, algorithm="RSA_OAEP_AES_SHA256", shape=shape):
            return self.kms.import_key(M.ImportKeyDetails(
                compartment_id=self.compartment, display_name=unique("tampered"), key_shape=shape,
                wrapped_import_key=M.WrappedImportKey(key_material=b64(bytes(blob)),
                                                      wrapping_algorithm=algorithm)))

        self.assert_refused(400, "InvalidParameter", attempt, blob)
        rsa_part = bytearray(wrap(self.wrapping, material, "RSA_OAEP_SHA256"))
        rsa_part[10] ^= 0x80  # inside the RSA-OAEP block
        self.assert_refused(400, "InvalidParameter", attempt, rsa_part, "RSA_OAEP_SHA256")
        # Wrapped for another vault: a different RSA wrapping key.
        elsewhere = rsa.generate_private_key(public_exponent=65537, key_size=4096).public_key()
        self.assert_refused(400, "InvalidParameter", attempt,
                            wrap(elsewhere, material, "RSA_OAEP_AES_SHA256"))
        # AES-256 material declared as AES-128.
        self.assert_refused(400, "InvalidParameter", attempt,
                            wrap(self.wrapping, material, "RSA_OAEP_AES_SHA256"),
                            shape=M.KeyShape(algorithm="AES", length=16))
        # RSA material cannot be carried by RSA_OAEP_SHA256, nor can a key be ECDSA.
        _, der = rsa_material(2048)
        self.assert_refused(400, "InvalidParameter", attempt,
                            wrap(self.wrapping, material, "RSA_OAEP_SHA256"), "RSA_OAEP_SHA256",
                            M.KeyShape(algorithm="RSA", length=256))
        self.assert_refused(400, "InvalidParameter", attempt,
                            wrap(self.wrapping, der, "RSA_OAEP_AES_SHA256"),
                            shape=M.KeyShape(algorithm="ECDSA", length=32, curve_id="NIST_P256"))
        self.assert_refused(400, "InvalidParameter", attempt,
                            wrap(self.wrapping, material, "RSA_OAEP_AES_SHA256"),
                            shape=M.KeyShape(algorithm="AES", length=64))

    def test_unknown_fields_and_missing_ones_are_refused(self):
        good = {"compartmentId": self.compartment, "displayName": unique("strict"),
                "keyShape": {"algorithm": "AES", "length": 32},
                "wrappedImportKey": {
                    "keyMaterial": b64(wrap(self.wrapping, secrets.token_bytes(32), "RSA_OAEP_SHA256")),
                    "wrappingAlgorithm": "RSA_OAEP_SHA256"}}
        for field, where in (("colour", None), ("keyRing", None), ("extra", "keyShape"),
                             ("iv", "wrappedImportKey"), ("rotationEveryDays", "autoKeyRotationDetails")):
            with self.subTest(field=field, where=where):
                body = json.loads(json.dumps(good))
                if where == "autoKeyRotationDetails":
                    body[where] = {"rotationIntervalInDays": 90}
                (body[where] if where else body)[field] = "x"
                e = self.assert_refused(400, "InvalidParameter", self.raw_call, "POST",
                                        "/20180608/keys/import", body)
                self.assertIn(field, e.message)
        for enum, value in ((("wrappedImportKey", "wrappingAlgorithm"), "RSA_PKCS1"),
                            ((None, "protectionMode"), "EXTERNAL"),
                            ((None, "isAutoRotationEnabled"), "yes")):
            with self.subTest(enum=enum):
                body = json.loads(json.dumps(good))
                (body[enum[0]] if enum[0] else body)[enum[1]] = value
                self.assert_refused(400, "InvalidParameter", self.raw_call, "POST",
                                    "/20180608/keys/import", body)
        for missing in ("compartmentId", "displayName", "keyShape", "wrappedImportKey"):
            with self.subTest(missing=missing):
                body = dict(good)
                del body[missing]
                self.assert_refused(400, "MissingParameter", self.raw_call, "POST",
                                    "/20180608/keys/import", body)
        key = self.import_aes(secrets.token_bytes(32))
        self.assert_refused(400, "InvalidParameter", self.raw_call, "POST",
                            f"/20180608/keys/{key.id}/keyVersions/import",
                            {"wrappedImportKey": good["wrappedImportKey"], "displayName": "v2"})
        self.assert_refused(400, "InvalidParameter", self.raw_call, "POST",
                            f"/20180608/keys/{key.id}/actions/scheduleDeletion",
                            {"timeOfDeletion": None, "reason": "x"})
        self.assert_refused(400, "RelatedResourceNotAuthorizedOrNotFound", self.raw_call, "POST",
                            "/20180608/keys/import",
                            dict(good, compartmentId="ocid1.compartment.oc1..aaaaaaaaelsewhere"))

    def test_unknown_keys_are_not_found(self):
        missing = "ocid1.key.oc1.iad.bnotavault.aaaaaaaanosuchkey"
        self.assert_refused(404, "NotAuthorizedOrNotFound", self.kms.get_key, missing)
        self.assert_refused(404, "NotAuthorizedOrNotFound", self.kms.list_key_versions, missing)
        self.assert_refused(404, "NotAuthorizedOrNotFound", self.kms.cancel_key_deletion, missing)
        key = self.import_aes(secrets.token_bytes(16))
        self.assert_refused(404, "NotAuthorizedOrNotFound", self.kms.get_key_version, key.id,
                            "ocid1.keyversion.oc1.iad.bnotavault.aaaaaaaanosuchversion")


if __name__ == "__main__":
    unittest.main()
