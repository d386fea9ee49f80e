"""Conformance of the Google Cloud KMS fake (tests/fakes/gcp/fake_gcp_kms.py) with Google's own
client library: google-cloud-kms (REST transport) and google-auth, pinned in requirements.txt, drive
the fake through the flows the operator uses (kms/gcp/gcp_kms_client.cpp): the service account's
OAuth2 JWT grant, import-only CryptoKeys created without a first version, ImportJobs (HSM and
SOFTWARE; CKM_RSA_AES_KEY_WRAP and direct RSA-OAEP), key material wrapped here exactly as Google
documents it, imports, primary versions, destroy and restore. It also holds the fake to the
refusals the real API makes, and checks the request shapes of the operator's own client (lowerCamel
JSON, enum names, no $alt) next to the SDK's ($alt=json;enum-encoding=int, enum numbers).

Run with the variables of the fake's DIR/env exported (tests/harness/gcp-kms.sh start DIR):
    cd tests/conformance && $PY -m unittest -v test_gcp_sdk
tests/conformance/run.sh does exactly that. Every name it creates carries a random suffix: the
fake may be shared with the integration tests.
"""

import base64
import datetime
import hashlib
import json
import os
import secrets
import time
import unittest
from urllib.parse import urlsplit

ENV = {k: os.environ.get(k, "") for k in (
    "BYOK_GCP_ENDPOINT", "BYOK_GCP_CA_FILE", "BYOK_GCP_SA_KEY_FILE", "BYOK_GCP_WRONG_SA_KEY_FILE",
    "BYOK_GCP_SA_EMAIL", "BYOK_GCP_PROJECT", "BYOK_GCP_LOCATION", "BYOK_GCP_KEY_RING")}
MISSING = [k for k, v in ENV.items() if not v]
if MISSING:
    raise SystemExit(f"test_gcp_sdk: {', '.join(MISSING)} not set (source the fake's DIR/env)")
ENDPOINT = ENV["BYOK_GCP_ENDPOINT"].rstrip("/")
if urlsplit(ENDPOINT).hostname != "127.0.0.1":
    raise SystemExit(f"test_gcp_sdk: {ENDPOINT} is not on 127.0.0.1; this test talks to the local fake only")

# Only the fake, only over its CA: no proxies, no mTLS discovery, no Regional Access Boundary
# lookups (google-auth would ask iamcredentials.googleapis.com), no default credentials.
for _name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy",
              "GOOGLE_APPLICATION_CREDENTIALS", "GOOGLE_CLOUD_UNIVERSE_DOMAIN",
              "GOOGLE_SDK_EXPERIMENTAL_PYTHON_REGIONAL_ACCESS_BOUNDARY_LOOKUP_ENABLED"):
    os.environ.pop(_name, None)
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1"
os.environ["REQUESTS_CA_BUNDLE"] = ENV["BYOK_GCP_CA_FILE"]
os.environ["GOOGLE_API_USE_CLIENT_CERTIFICATE"] = "false"
os.environ["GOOGLE_API_USE_MTLS_ENDPOINT"] = "never"

import requests  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa  # noqa: E402
from cryptography.hazmat.primitives.keywrap import aes_key_wrap_with_padding  # noqa: E402
from google.api_core import exceptions as gexc  # noqa: E402
from google.auth import credentials as gcreds  # noqa: E402
from google.auth import exceptions as auth_exceptions  # noqa: E402
from google.auth import jwt as gjwt  # noqa: E402
from google.auth.transport.requests import Request as AuthRequest  # noqa: E402
from google.cloud import kms_v1  # noqa: E402
from google.cloud.kms_v1.services.key_management_service.transports.rest import (  # noqa: E402
    KeyManagementServiceRestTransport)
from google.oauth2 import credentials as oauth2_credentials  # noqa: E402
from google.oauth2 import service_account  # noqa: E402
from google.protobuf import duration_pb2, timestamp_pb2  # noqa: E402

CryptoKey = kms_v1.CryptoKey
Version = kms_v1.CryptoKeyVersion
ImportJob = kms_v1.ImportJob
PL = kms_v1.ProtectionLevel
ALG = Version.CryptoKeyVersionAlgorithm
STATE = Version.CryptoKeyVersionState
SCOPE = "https://www.googleapis.com/auth/cloudkms"
KEY_RING = f"projects/{ENV['BYOK_GCP_PROJECT']}/locations/{ENV['BYOK_GCP_LOCATION']}/keyRings/{ENV['BYOK_GCP_KEY_RING']}"
CA = ENV["BYOK_GCP_CA_FILE"]
RUN = secrets.token_hex(4)
POLL_SECONDS = 15


def uid(prefix):
    return f"conf-{prefix}-{RUN}-{secrets.token_hex(3)}"


def key_file(path=None):
    with open(path or ENV["BYOK_GCP_SA_KEY_FILE"]) as f:
        return json.load(f)


def operator_grant(path=None):
    """The JWT grant as the operator's C++ client makes it (kms/gcp/service_account.cpp,
    token_source.cpp): typ JWT, kid, iss = sub = the account, aud = the key file's token_uri,
    one hour; a form POST to token_uri. Returns the token endpoint's answer."""
    info = key_file(path)
    signer = service_account.Credentials.from_service_account_info(info).signer
    now = int(time.time())
    assertion = gjwt.encode(signer, {"iss": info["client_email"], "sub": info["client_email"], "scope": SCOPE,
                                     "aud": info["token_uri"], "iat": now, "exp": now + 3600}).decode()
    return requests.post(info["token_uri"], data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                                                  "assertion": assertion}, verify=CA, timeout=10)


def sa_credentials(key_file=None):
    return service_account.Credentials.from_service_account_file(key_file or ENV["BYOK_GCP_SA_KEY_FILE"],
                                                                 scopes=[SCOPE])


def sdk_client(credentials=None):
    """The client as the brief has it: transport "rest", the service account's credentials (the
    library turns them into self-signed JWTs, AIP-4111), the fake's endpoint."""
    return kms_v1.KeyManagementServiceClient(
        transport="rest", credentials=credentials or sa_credentials(),
        client_options={"api_endpoint": ENDPOINT})


def auth_request():
    session = requests.Session()
    session.verify = CA
    return AuthRequest(session)


def oaep(hash_cls):
    return padding.OAEP(mgf=padding.MGF1(algorithm=hash_cls()), algorithm=hash_cls(), label=None)


def rsa_aes_wrap(public_pem, material, hash_cls=hashes.SHA256):
    """CKM_RSA_AES_KEY_WRAP as the ImportCryptoKeyVersionRequest.wrapped_key reference describes it:
    RSA-OAEP (MGF1 with the same hash, empty label) of an ephemeral AES-256 key, then the material
    wrapped with that key by AES-KWP (RFC 5649)."""
    public = serialization.load_pem_public_key(public_pem.encode())
    ephemeral = os.urandom(32)
    return public.encrypt(ephemeral, oaep(hash_cls)) + aes_key_wrap_with_padding(ephemeral, material)


def rsa_oaep_wrap(public_pem, material):
    """RSA_OAEP_{3072,4096}_SHA256: the material itself, RSA-OAEP with SHA-256 and an empty label."""
    return serialization.load_pem_public_key(public_pem.encode()).encrypt(material, oaep(hashes.SHA256))


def pkcs8(private_key):
    return private_key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption())


def spki_sha256(private_key):
    return hashlib.sha256(private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).hexdigest()


def fake_material(version_name):
    r = requests.get(f"{ENDPOINT}/__fake/material-sha256", params={"name": version_name}, verify=CA, timeout=10)
    r.raise_for_status()
    return r.json()


def wait_for(fetch, done, what):
    deadline = time.monotonic() + POLL_SECONDS
    while True:
        got = fetch()
        if done(got):
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: still {got} after {POLL_SECONDS}s")
        time.sleep(0.1)


def to_datetime(value):
    """A timestamp field as proto-plus gives it (DatetimeWithNanoseconds) as an aware datetime."""
    return value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)


class NoRefresh(gcreds.AnonymousCredentials):
    """No credentials at all, and none to refresh when the answer is 401."""

    def refresh(self, request):
        pass


class GcpKmsConformance(unittest.TestCase):
    client = None
    hsm_job = None       # HSM, RSA_OAEP_3072_SHA256_AES_256, ACTIVE
    software_job = None  # SOFTWARE, RSA_OAEP_4096_SHA256, ACTIVE

    @classmethod
    def setUpClass(cls):
        cls.client = sdk_client()
        cls.hsm_job = cls.create_active_job(uid("job-hsm"), ImportJob.ImportMethod.RSA_OAEP_3072_SHA256_AES_256, PL.HSM)
        cls.software_job = cls.create_active_job(uid("job-sw"), ImportJob.ImportMethod.RSA_OAEP_4096_SHA256,
                                                 PL.SOFTWARE)

    # ---- helpers ---------------------------------------------------------------------------
    @classmethod
    def create_active_job(cls, job_id, method, level):
        job = cls.client.create_import_job(parent=KEY_RING, import_job_id=job_id,
                                           import_job=ImportJob(import_method=method, protection_level=level))
        assert job.name == f"{KEY_RING}/importJobs/{job_id}", job.name
        return wait_for(lambda: cls.client.get_import_job(name=job.name),
                        lambda j: j.state != ImportJob.ImportJobState.PENDING_GENERATION, f"ImportJob {job_id}")

    def create_import_only_key(self, prefix, purpose, algorithm, level, **extra):
        key_id = uid(prefix)
        key = self.client.create_crypto_key(request=kms_v1.CreateCryptoKeyRequest(
            parent=KEY_RING, crypto_key_id=key_id, skip_initial_version_creation=True,
            crypto_key=CryptoKey(purpose=purpose, import_only=True, labels={"byok-owner": "conformance"},
                                 version_template=kms_v1.CryptoKeyVersionTemplate(algorithm=algorithm,
                                                                                   protection_level=level),
                                 **extra)))
        self.assertEqual(key.name, f"{KEY_RING}/cryptoKeys/{key_id}")
        return key

    def import_and_wait(self, key, algorithm, job, material=None, field="wrapped_key", wrapped=None):
        if wrapped is None:
            with_kwp = job.import_method in (ImportJob.ImportMethod.RSA_OAEP_3072_SHA256_AES_256,
                                             ImportJob.ImportMethod.RSA_OAEP_4096_SHA256_AES_256)
            wrapped = rsa_aes_wrap(job.public_key.pem, material) if with_kwp else \
                rsa_oaep_wrap(job.public_key.pem, material)
        version = self.client.import_crypto_key_version(request={
            "parent": key.name, "algorithm": algorithm, "import_job": job.name, field: wrapped})
        self.assertEqual(version.state, STATE.PENDING_IMPORT)
        self.assertEqual(version.import_job, job.name)
        self.assertEqual(version.algorithm, algorithm)
        return wait_for(lambda: self.client.get_crypto_key_version(name=version.name),
                        lambda v: v.state != STATE.PENDING_IMPORT, f"version {version.name}")

    def assert_api_error(self, exc_class, status, call, *args, **kwargs):
        """The call fails with this HTTP error class and this google.rpc status in the body."""
        with self.assertRaises(exc_class) as caught:
            call(*args, **kwargs)
        body = caught.exception.response.json()
        self.assertEqual(body["error"]["status"], status, body)
        return caught.exception

    def raw(self, method, path, query=None, body=None, token=None):
        """A plain HTTPS call with the fake's CA and a service-account bearer token."""
        if token is None:
            creds = sa_credentials()
            creds.refresh(auth_request())
            token = creds.token
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = body if isinstance(body, str) else json.dumps(body)
        return requests.request(method, f"{ENDPOINT}/v1/{path}", params=query, data=data, headers=headers,
                                verify=CA, timeout=30)

    # ---- authentication --------------------------------------------------------------------
    def test_token_via_jwt_grant(self):
        """google-auth's JWT bearer grant at the key file's token_uri gives a token the API takes;
        a key the account does not have gets invalid_grant."""
        creds = sa_credentials()
        token_uri = key_file()["token_uri"]
        self.assertTrue(token_uri.startswith(ENDPOINT + "/"), token_uri)
        # A transport made with always_use_jwt_access=False goes through the token endpoint.
        transport = KeyManagementServiceRestTransport(host=ENDPOINT, credentials=creds, always_use_jwt_access=False)
        client = kms_v1.KeyManagementServiceClient(transport=transport)
        with self.assertRaises(gexc.NotFound):
            client.get_crypto_key(name=f"{KEY_RING}/cryptoKeys/{uid('absent')}")
        self.assertTrue(creds.valid)
        self.assertNotEqual(creds.token.count("."), 2, "a self-signed JWT, not a token from the grant")
        self.assertGreater(creds.expiry, datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
                           + datetime.timedelta(minutes=50))
        # The token from the grant, as a plain OAuth2 access token.
        plain = kms_v1.KeyManagementServiceClient(
            transport="rest", credentials=oauth2_credentials.Credentials(creds.token),
            client_options={"api_endpoint": ENDPOINT})
        self.assertEqual(plain.get_import_job(name=self.hsm_job.name).name, self.hsm_job.name)

        wrong = sa_credentials(ENV["BYOK_GCP_WRONG_SA_KEY_FILE"])
        with self.assertRaises(auth_exceptions.RefreshError) as caught:
            wrong.refresh(auth_request())
        self.assertIn("invalid_grant", str(caught.exception))

    def test_self_signed_jwt_access(self):
        """The library's default for a service-account key: a self-signed JWT as the bearer token,
        with a scope claim or with the service as audience. Other audiences, other keys: 401."""
        scoped = gjwt.Credentials.from_service_account_file(
            ENV["BYOK_GCP_SA_KEY_FILE"], audience=None, additional_claims={"scope": SCOPE})
        audience = gjwt.Credentials.from_service_account_file(
            ENV["BYOK_GCP_SA_KEY_FILE"], audience="https://cloudkms.googleapis.com/")
        for creds in (scoped, audience):
            self.assertEqual(sdk_client(creds).get_import_job(name=self.hsm_job.name).name, self.hsm_job.name)
        # What the client made of the service-account credentials in setUpClass: a JWT too.
        self.assertEqual(self.client._transport._credentials.token.count("."), 2)

        token_uri = key_file()["token_uri"]
        refused = [
            gjwt.Credentials.from_service_account_file(ENV["BYOK_GCP_SA_KEY_FILE"], audience=token_uri),
            gjwt.Credentials.from_service_account_file(ENV["BYOK_GCP_SA_KEY_FILE"],
                                                       audience="https://storage.googleapis.com/"),
            gjwt.Credentials.from_service_account_file(ENV["BYOK_GCP_WRONG_SA_KEY_FILE"],
                                                       audience="https://cloudkms.googleapis.com/"),
            gjwt.Credentials.from_service_account_file(ENV["BYOK_GCP_SA_KEY_FILE"], audience=None,
                                                       additional_claims={"scope": "https://www.googleapis.com/auth/devstorage.read_only"}),
        ]
        for creds in refused:
            with self.subTest(audience=creds._audience, claims=creds.additional_claims):
                with self.assertRaises(gexc.Unauthorized):
                    sdk_client(creds).get_import_job(name=self.hsm_job.name)

    def test_unauthenticated_call_is_401(self):
        anonymous = sdk_client(NoRefresh())
        error = self.assert_api_error(gexc.Unauthorized, "UNAUTHENTICATED", anonymous.get_crypto_key,
                                      name=f"{KEY_RING}/cryptoKeys/{uid('absent')}")
        self.assertEqual(error.code, 401)
        self.assertEqual(self.raw("GET", self.hsm_job.name, token="").status_code, 401)
        self.assertEqual(self.raw("GET", self.hsm_job.name, token="ya29.not-issued").status_code, 401)

    # ---- the operator's flows ----------------------------------------------------------------
    def test_import_jobs_hsm_and_software(self):
        for job, bits, level in ((self.hsm_job, 3072, PL.HSM), (self.software_job, 4096, PL.SOFTWARE)):
            with self.subTest(job=job.name):
                self.assertEqual(job.state, ImportJob.ImportJobState.ACTIVE)
                self.assertEqual(job.protection_level, level)
                public = serialization.load_pem_public_key(job.public_key.pem.encode())
                self.assertIsInstance(public, rsa.RSAPublicKey)
                self.assertEqual(public.key_size, bits)
                self.assertGreater(to_datetime(job.expire_time), to_datetime(job.create_time))
                self.assertGreaterEqual(to_datetime(job.generate_time), to_datetime(job.create_time))
        attestation = self.hsm_job.attestation
        self.assertEqual(attestation.format, kms_v1.KeyOperationAttestation.AttestationFormat.CAVIUM_V2_COMPRESSED)
        self.assertGreater(len(attestation.content), 256)
        self.assertTrue(attestation.cert_chains.cavium_certs and attestation.cert_chains.google_card_certs
                        and attestation.cert_chains.google_partition_certs)
        self.assertFalse(self.software_job.attestation.content, "SOFTWARE ImportJobs carry no attestation")
        # The wrapping key in DER on request (GetImportJobRequest.public_key_format), same key.
        der = self.client.get_import_job(request={"name": self.hsm_job.name,
                                                  "public_key_format": kms_v1.PublicKey.PublicKeyFormat.DER})
        self.assertEqual(der.public_key_format, kms_v1.PublicKey.PublicKeyFormat.DER)
        self.assertEqual(serialization.load_der_public_key(der.public_key.data).public_numbers(),
                         serialization.load_pem_public_key(self.hsm_job.public_key.pem.encode()).public_numbers())
        self.assert_api_error(gexc.NotFound, "NOT_FOUND", self.client.get_import_job,
                              name=f"{KEY_RING}/importJobs/{uid('absent')}")
        self.assert_api_error(gexc.Conflict, "ALREADY_EXISTS", self.client.create_import_job,
                              parent=KEY_RING, import_job_id=self.hsm_job.name.rsplit("/", 1)[1],
                              import_job=ImportJob(import_method=ImportJob.ImportMethod.RSA_OAEP_3072_SHA256_AES_256,
                                                   protection_level=PL.HSM))

    def test_symmetric_import_hsm_primary_destroy_restore(self):
        """aes256-gcm96 as the operator imports it: an import-only ENCRYPT_DECRYPT key, HSM,
        CKM_RSA_AES_KEY_WRAP with SHA-256 in wrapped_key, then primary, destroy, restore."""
        key = self.create_import_only_key("sym", CryptoKey.CryptoKeyPurpose.ENCRYPT_DECRYPT,
                                          ALG.GOOGLE_SYMMETRIC_ENCRYPTION, PL.HSM)
        self.assertEqual(key.purpose, CryptoKey.CryptoKeyPurpose.ENCRYPT_DECRYPT)
        self.assertTrue(key.import_only)
        self.assertEqual(key.version_template.protection_level, PL.HSM)
        self.assertEqual(key.version_template.algorithm, ALG.GOOGLE_SYMMETRIC_ENCRYPTION)
        self.assertEqual(key.labels["byok-owner"], "conformance")
        self.assertEqual(key.destroy_scheduled_duration, datetime.timedelta(days=30))
        self.assertFalse(key.primary.name, "no first version was asked for")
        self.assertEqual(list(self.client.list_crypto_key_versions(parent=key.name)), [])

        material = os.urandom(32)
        version = self.import_and_wait(key, ALG.GOOGLE_SYMMETRIC_ENCRYPTION, self.hsm_job, material)
        self.assertEqual(version.state, STATE.ENABLED, version.import_failure_reason)
        self.assertEqual(version.protection_level, PL.HSM)
        self.assertTrue(version.import_time)
        self.assertEqual(fake_material(version.name)["sha256"], hashlib.sha256(material).hexdigest())

        # An import-only key gets no primary by itself; the operator sets it.
        self.assertFalse(self.client.get_crypto_key(name=key.name).primary.name)
        updated = self.client.update_crypto_key_primary_version(name=key.name,
                                                                crypto_key_version_id=version.name.rsplit("/", 1)[1])
        self.assertEqual(updated.primary.name, version.name)
        self.assertEqual(updated.primary.state, STATE.ENABLED)
        self.assertEqual(self.client.get_crypto_key(name=key.name).primary.name, version.name)

        before = datetime.datetime.now(datetime.timezone.utc)
        destroyed = self.client.destroy_crypto_key_version(name=version.name)
        self.assertEqual(destroyed.state, STATE.DESTROY_SCHEDULED)
        delay = to_datetime(destroyed.destroy_time) - before
        self.assertTrue(datetime.timedelta(days=29, hours=23) < delay < datetime.timedelta(days=30, minutes=5), delay)
        self.assert_api_error(gexc.BadRequest, "FAILED_PRECONDITION", self.client.destroy_crypto_key_version,
                              name=version.name)
        self.assert_api_error(gexc.BadRequest, "FAILED_PRECONDITION", self.client.update_crypto_key_primary_version,
                              name=key.name, crypto_key_version_id=version.name.rsplit("/", 1)[1])
        restored = self.client.restore_crypto_key_version(name=version.name)
        self.assertEqual(restored.state, STATE.DISABLED)
        self.assertFalse(restored.destroy_time)
        self.assert_api_error(gexc.BadRequest, "FAILED_PRECONDITION", self.client.restore_crypto_key_version,
                              name=version.name)
        self.assertEqual(self.client.get_crypto_key_version(name=version.name).state, STATE.DISABLED)

    def test_rsa_aes_wrapped_key_field_second_version_and_paging(self):
        """The older rsa_aes_wrapped_key field carries the same CKM_RSA_AES_KEY_WRAP; a second
        version; the pager walks pages of one; the primary moves to the new version."""
        key = self.create_import_only_key("sym2", CryptoKey.CryptoKeyPurpose.ENCRYPT_DECRYPT,
                                          ALG.GOOGLE_SYMMETRIC_ENCRYPTION, PL.HSM)
        first, second = os.urandom(32), os.urandom(32)
        v1 = self.import_and_wait(key, ALG.GOOGLE_SYMMETRIC_ENCRYPTION, self.hsm_job, first)
        v2 = self.import_and_wait(key, ALG.GOOGLE_SYMMETRIC_ENCRYPTION, self.hsm_job, second,
                                  field="rsa_aes_wrapped_key")
        for v, material in ((v1, first), (v2, second)):
            self.assertEqual(v.state, STATE.ENABLED, v.import_failure_reason)
            self.assertEqual(fake_material(v.name)["sha256"], hashlib.sha256(material).hexdigest())
        self.assertNotEqual(v1.name, v2.name)

        pager = self.client.list_crypto_key_versions(request={"parent": key.name, "page_size": 1,
                                                              "view": Version.CryptoKeyVersionView.FULL})
        pages = list(pager.pages)
        self.assertEqual([len(p.crypto_key_versions) for p in pages], [1, 1])
        self.assertEqual(pages[0].total_size, 2)
        self.assertEqual([v.name for p in pages for v in p.crypto_key_versions], [v1.name, v2.name])

        for v in (v1, v2):
            updated = self.client.update_crypto_key_primary_version(name=key.name,
                                                                    crypto_key_version_id=v.name.rsplit("/", 1)[1])
            self.assertEqual(updated.primary.name, v.name)

    def test_asymmetric_imports(self):
        """PKCS#8 private keys: an RSA key under CKM_RSA_AES_KEY_WRAP (HSM), an EC P-256 key
        wrapped directly with RSA-OAEP-4096-SHA256 (SOFTWARE); no primary for asymmetric keys."""
        rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        key = self.create_import_only_key("rsa", CryptoKey.CryptoKeyPurpose.ASYMMETRIC_DECRYPT,
                                          ALG.RSA_DECRYPT_OAEP_2048_SHA256, PL.HSM)
        version = self.import_and_wait(key, ALG.RSA_DECRYPT_OAEP_2048_SHA256, self.hsm_job, pkcs8(rsa_key))
        self.assertEqual(version.state, STATE.ENABLED, version.import_failure_reason)
        self.assertEqual(fake_material(version.name)["public_sha256"], spki_sha256(rsa_key))
        self.assert_api_error(gexc.BadRequest, "FAILED_PRECONDITION", self.client.update_crypto_key_primary_version,
                              name=key.name, crypto_key_version_id=version.name.rsplit("/", 1)[1])
        self.assertFalse(self.client.get_crypto_key(name=key.name).primary.name)

        ec_key = ec.generate_private_key(ec.SECP256R1())
        key = self.create_import_only_key("ec", CryptoKey.CryptoKeyPurpose.ASYMMETRIC_SIGN,
                                          ALG.EC_SIGN_P256_SHA256, PL.SOFTWARE)
        version = self.import_and_wait(key, ALG.EC_SIGN_P256_SHA256, self.software_job, pkcs8(ec_key))
        self.assertEqual(version.state, STATE.ENABLED, version.import_failure_reason)
        self.assertEqual(version.protection_level, PL.SOFTWARE)
        self.assertEqual(fake_material(version.name)["public_sha256"], spki_sha256(ec_key))

        # "this method cannot be used to wrap RSA keys for import" (RSA_OAEP_4096_SHA256)
        sw_rsa = self.create_import_only_key("rsa-sw", CryptoKey.CryptoKeyPurpose.ASYMMETRIC_SIGN,
                                             ALG.RSA_SIGN_PSS_2048_SHA256, PL.SOFTWARE)
        self.assert_api_error(gexc.BadRequest, "INVALID_ARGUMENT", self.client.import_crypto_key_version, request={
            "parent": sw_rsa.name, "algorithm": ALG.RSA_SIGN_PSS_2048_SHA256, "import_job": self.software_job.name,
            "wrapped_key": os.urandom(512)})

    # ---- refusals the real API makes -------------------------------------------------------------
    def test_tampered_or_foreign_wrap_ends_import_failed(self):
        key = self.create_import_only_key("bad", CryptoKey.CryptoKeyPurpose.ENCRYPT_DECRYPT,
                                          ALG.GOOGLE_SYMMETRIC_ENCRYPTION, PL.HSM)
        wrapped = bytearray(rsa_aes_wrap(self.hsm_job.public_key.pem, os.urandom(32)))
        wrapped[-3] ^= 0x01  # inside the AES-KWP part
        version = self.import_and_wait(key, ALG.GOOGLE_SYMMETRIC_ENCRYPTION, self.hsm_job, wrapped=bytes(wrapped))
        self.assertEqual(version.state, STATE.IMPORT_FAILED)
        self.assertTrue(version.import_failure_reason)
        # Wrapped for another key than the ImportJob's.
        other = rsa.generate_private_key(public_exponent=65537, key_size=3072).public_key()
        other_pem = other.public_bytes(serialization.Encoding.PEM,
                                       serialization.PublicFormat.SubjectPublicKeyInfo).decode()
        version = self.import_and_wait(key, ALG.GOOGLE_SYMMETRIC_ENCRYPTION, self.hsm_job,
                                       wrapped=rsa_aes_wrap(other_pem, os.urandom(32)))
        self.assertEqual(version.state, STATE.IMPORT_FAILED)
        # SHA-1 OAEP where the method says SHA-256.
        version = self.import_and_wait(key, ALG.GOOGLE_SYMMETRIC_ENCRYPTION, self.hsm_job,
                                       wrapped=rsa_aes_wrap(self.hsm_job.public_key.pem, os.urandom(32), hashes.SHA1))
        self.assertEqual(version.state, STATE.IMPORT_FAILED)
        # 16 bytes where GOOGLE_SYMMETRIC_ENCRYPTION takes 32.
        version = self.import_and_wait(key, ALG.GOOGLE_SYMMETRIC_ENCRYPTION, self.hsm_job, os.urandom(16))
        self.assertEqual(version.state, STATE.IMPORT_FAILED)
        with self.assertRaises(gexc.NotFound):
            fake_material_or_404(version.name)

    def test_bad_crypto_key_id_is_invalid_argument(self):
        template = kms_v1.CryptoKeyVersionTemplate(algorithm=ALG.GOOGLE_SYMMETRIC_ENCRYPTION, protection_level=PL.HSM)
        for key_id in ("has space", "x" * 64, "dot.ted", ""):
            with self.subTest(key_id=key_id):
                self.assert_api_error(gexc.BadRequest, "INVALID_ARGUMENT", self.client.create_crypto_key,
                                      request=kms_v1.CreateCryptoKeyRequest(
                                          parent=KEY_RING, crypto_key_id=key_id, skip_initial_version_creation=True,
                                          crypto_key=CryptoKey(purpose=CryptoKey.CryptoKeyPurpose.ENCRYPT_DECRYPT,
                                                               import_only=True, version_template=template)))
        self.assert_api_error(gexc.BadRequest, "INVALID_ARGUMENT", self.client.create_import_job,
                              parent=KEY_RING, import_job_id="no/slash",
                              import_job=ImportJob(import_method=ImportJob.ImportMethod.RSA_OAEP_3072_SHA256,
                                                   protection_level=PL.SOFTWARE))

    def test_create_crypto_key_refusals(self):
        def create(key, skip=True, key_id=None):
            return self.client.create_crypto_key(request=kms_v1.CreateCryptoKeyRequest(
                parent=KEY_RING, crypto_key_id=key_id or uid("ref"), skip_initial_version_creation=skip,
                crypto_key=key))
        template = kms_v1.CryptoKeyVersionTemplate
        sym = CryptoKey.CryptoKeyPurpose.ENCRYPT_DECRYPT
        # An import-only key must be created without a first version.
        self.assert_api_error(gexc.BadRequest, "INVALID_ARGUMENT", create,
                              CryptoKey(purpose=sym, import_only=True), skip=False)
        # The algorithm must fit the purpose; a purpose is required.
        self.assert_api_error(gexc.BadRequest, "INVALID_ARGUMENT", create, CryptoKey(
            purpose=CryptoKey.CryptoKeyPurpose.ASYMMETRIC_SIGN, version_template=template(algorithm=ALG.AES_256_GCM)))
        self.assert_api_error(gexc.BadRequest, "INVALID_ARGUMENT", create,
                              CryptoKey(version_template=template(algorithm=ALG.GOOGLE_SYMMETRIC_ENCRYPTION)))
        # Labels: lowercase keys and values.
        self.assert_api_error(gexc.BadRequest, "INVALID_ARGUMENT", create, CryptoKey(purpose=sym, labels={"Owner": "x"}))
        # destroy_scheduled_duration between 24 hours and 120 days.
        self.assert_api_error(gexc.BadRequest, "INVALID_ARGUMENT", create, CryptoKey(
            purpose=sym, destroy_scheduled_duration=duration_pb2.Duration(seconds=3600)))
        # Automatic rotation is for ENCRYPT_DECRYPT keys only, and needs a next rotation time.
        self.assert_api_error(gexc.BadRequest, "INVALID_ARGUMENT", create, CryptoKey(
            purpose=CryptoKey.CryptoKeyPurpose.ASYMMETRIC_SIGN, rotation_period=duration_pb2.Duration(seconds=86400 * 30),
            next_rotation_time=timestamp_pb2.Timestamp(seconds=int(time.time()) + 86400),
            version_template=template(algorithm=ALG.EC_SIGN_P256_SHA256)))
        self.assert_api_error(gexc.BadRequest, "INVALID_ARGUMENT", create, CryptoKey(
            purpose=sym, rotation_period=duration_pb2.Duration(seconds=86400 * 30)), skip=False)
        # trusted_wrapping_enabled is for HSM_SINGLE_TENANT keys only.
        self.assert_api_error(gexc.BadRequest, "INVALID_ARGUMENT", self.client.create_crypto_key, request={
            "parent": KEY_RING, "crypto_key_id": uid("tw"), "skip_initial_version_creation": True,
            "trusted_wrapping_enabled": True, "crypto_key": {"purpose": CryptoKey.CryptoKeyPurpose.ASYMMETRIC_SIGN,
                                                             "import_only": True,
                                                             "version_template": {"algorithm": ALG.EC_SIGN_P256_SHA256,
                                                                                  "protection_level": PL.HSM}}})
        # A second key with the same id.
        key_id = uid("dup")
        create(CryptoKey(purpose=sym, import_only=True), key_id=key_id)
        self.assert_api_error(gexc.Conflict, "ALREADY_EXISTS", create, CryptoKey(purpose=sym, import_only=True),
                              key_id=key_id)
        # Another project: denied; another key ring: not found.
        self.assert_api_error(gexc.Forbidden, "PERMISSION_DENIED", self.client.get_crypto_key,
                              name=f"projects/not-{ENV['BYOK_GCP_PROJECT']}/locations/{ENV['BYOK_GCP_LOCATION']}"
                                   f"/keyRings/{ENV['BYOK_GCP_KEY_RING']}/cryptoKeys/x")
        self.assert_api_error(gexc.NotFound, "NOT_FOUND", self.client.get_crypto_key,
                              name=f"{KEY_RING}x/cryptoKeys/x")

    def test_published_crypto_key_fields_are_accepted(self):
        """Fields of the published CryptoKey beyond the operator's: rotation, a shorter destroy
        schedule, a Key Access Justifications policy; output-only fields are the service's."""
        next_rotation = timestamp_pb2.Timestamp(seconds=int(time.time()) + 7 * 86400)
        reasons = [kms_v1.AccessReason.CUSTOMER_INITIATED_ACCESS, kms_v1.AccessReason.GOOGLE_INITIATED_SYSTEM_OPERATION]
        key_id = uid("fields")
        key = self.client.create_crypto_key(parent=KEY_RING, crypto_key_id=key_id, crypto_key=CryptoKey(
            name=f"{KEY_RING}/cryptoKeys/something-else", create_time=timestamp_pb2.Timestamp(seconds=946684800),
            purpose=CryptoKey.CryptoKeyPurpose.ENCRYPT_DECRYPT, next_rotation_time=next_rotation,
            rotation_period=duration_pb2.Duration(seconds=90 * 86400),
            destroy_scheduled_duration=duration_pb2.Duration(seconds=86400),
            key_access_justifications_policy=kms_v1.KeyAccessJustificationsPolicy(allowed_access_reasons=reasons)))
        self.assertEqual(key.name, f"{KEY_RING}/cryptoKeys/{key_id}")
        self.assertGreater(to_datetime(key.create_time).year, 2000)
        self.assertEqual(key.rotation_period, datetime.timedelta(days=90))
        self.assertEqual(int(to_datetime(key.next_rotation_time).timestamp()), next_rotation.seconds)
        self.assertEqual(key.destroy_scheduled_duration, datetime.timedelta(days=1))
        self.assertEqual(list(key.key_access_justifications_policy.allowed_access_reasons), reasons)
        # Not import-only, no skip: a first, generated, primary version.
        self.assertEqual(key.primary.state, STATE.ENABLED)
        self.assertTrue(key.primary.generate_time)
        destroyed = self.client.destroy_crypto_key_version(name=key.primary.name)
        delay = to_datetime(destroyed.destroy_time) - datetime.datetime.now(datetime.timezone.utc)
        self.assertTrue(datetime.timedelta(hours=23) < delay <= datetime.timedelta(days=1), delay)

    def test_import_request_refusals(self):
        key = self.create_import_only_key("imp", CryptoKey.CryptoKeyPurpose.ENCRYPT_DECRYPT,
                                          ALG.GOOGLE_SYMMETRIC_ENCRYPTION, PL.HSM)
        wrapped = rsa_aes_wrap(self.hsm_job.public_key.pem, os.urandom(32))
        base = {"parent": key.name, "algorithm": ALG.GOOGLE_SYMMETRIC_ENCRYPTION, "import_job": self.hsm_job.name}
        cases = {
            "both wrapped_key and rsa_aes_wrapped_key": ("INVALID_ARGUMENT", dict(base, wrapped_key=wrapped,
                                                                                  rsa_aes_wrapped_key=wrapped)),
            "no wrapped key": ("INVALID_ARGUMENT", dict(base)),
            "no import job": ("INVALID_ARGUMENT", dict(base, import_job="", wrapped_key=wrapped)),
            "algorithm of another purpose": ("INVALID_ARGUMENT", dict(base, algorithm=ALG.EC_SIGN_P256_SHA256,
                                                                      wrapped_key=wrapped)),
            "wrapped key of the wrong size": ("INVALID_ARGUMENT", dict(base, wrapped_key=wrapped[:-3])),
            "trusted wrapping outside HSM_SINGLE_TENANT": ("INVALID_ARGUMENT", dict(base, wrapped_key=wrapped,
                                                                                   trusted_wrapping_enabled=True)),
            "ImportJob of another protection level": ("FAILED_PRECONDITION", dict(
                base, import_job=self.software_job.name, wrapped_key=rsa_oaep_wrap(self.software_job.public_key.pem,
                                                                                   os.urandom(32)))),
        }
        for what, (status, request) in cases.items():
            with self.subTest(what):
                self.assert_api_error(gexc.BadRequest, status, self.client.import_crypto_key_version, request=request)
        self.assert_api_error(gexc.NotFound, "NOT_FOUND", self.client.import_crypto_key_version,
                              request=dict(base, import_job=f"{KEY_RING}/importJobs/{uid('absent')}",
                                           wrapped_key=wrapped))
        # Nothing of that made a version.
        self.assertEqual(list(self.client.list_crypto_key_versions(parent=key.name)), [])

    # ---- protobuf JSON on the wire -------------------------------------------------------------
    def test_enum_encoding_and_json_names(self):
        """Google's front end answers with enum numbers under $alt=json;enum-encoding=int and names
        otherwise, and parses bodies as protobuf JSON: lowerCamel or proto names, enum names or
        numbers; unknown names, duplicate fields and unknown enum values are refused."""
        creds = sa_credentials()
        creds.refresh(auth_request())
        token = creds.token
        path = f"{KEY_RING}/cryptoKeys"
        key_id = uid("json")
        r = self.raw("POST", path, {"crypto_key_id": key_id, "skip_initial_version_creation": "true",
                                    "$alt": "json;enum-encoding=int"},
                     {"purpose": 1, "version_template": {"protection_level": "HSM", "algorithm": 1},
                      "import_only": True, "labels": {"byok-owner": "conformance"}}, token=token)
        self.assertEqual(r.status_code, 200, r.text)
        got = r.json()
        self.assertEqual(got["purpose"], 1)
        self.assertEqual(got["versionTemplate"], {"protectionLevel": 2, "algorithm": 1})
        self.assertTrue(got["importOnly"])
        self.assertNotIn("import_only", got)

        # An enum number as a string, null for a field left out, an enum's 0 as absent.
        r = self.raw("POST", path, {"cryptoKeyId": uid("json")},
                     {"purpose": "1", "importOnly": None, "versionTemplate": {"protectionLevel": 0}}, token=token)
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual((r.json()["purpose"], r.json()["versionTemplate"]["protectionLevel"]),
                         ("ENCRYPT_DECRYPT", "SOFTWARE"))
        self.assertEqual(r.json()["primary"]["state"], "ENABLED")

        named = self.raw("GET", f"{path}/{key_id}", token=token).json()
        self.assertEqual(named["purpose"], "ENCRYPT_DECRYPT")
        self.assertEqual(named["versionTemplate"], {"protectionLevel": "HSM", "algorithm": "GOOGLE_SYMMETRIC_ENCRYPTION"})
        self.assertEqual(named["destroyScheduledDuration"], "2592000s")
        numbered = self.raw("GET", f"{path}/{key_id}", {"$alt": "json;enum-encoding=int"}, token=token).json()
        self.assertEqual(numbered["purpose"], 1)
        job = self.raw("GET", self.hsm_job.name, {"$alt": "json;enum-encoding=int"}, token=token).json()
        self.assertEqual((job["state"], job["importMethod"], job["protectionLevel"], job["attestation"]["format"]),
                         (2, 3, 2, 4))

        def refused(query, body, status="INVALID_ARGUMENT", words=""):
            resp = self.raw("POST", path, dict({"cryptoKeyId": uid("json")}, **query), body, token=token)
            self.assertEqual(resp.status_code, 400, resp.text)
            self.assertEqual(resp.json()["error"]["status"], status)
            self.assertIn(words, resp.json()["error"]["message"])

        sym = {"purpose": "ENCRYPT_DECRYPT"}
        with self.subTest("unknown body field"):
            refused({}, dict(sym, colour="blue"), words='Unknown name "colour"')
        with self.subTest("unknown nested field"):
            refused({}, dict(sym, versionTemplate={"algorithm": 1, "size": 3}), words='Unknown name "size"')
        with self.subTest("the same field twice"):
            refused({}, dict(sym, importOnly=True, import_only=True))
        with self.subTest("unknown enum number"):
            refused({}, {"purpose": 4})
        with self.subTest("unknown enum name"):
            refused({}, {"purpose": "ENCRYPT"})
        with self.subTest("wrong JSON type"):
            refused({}, dict(sym, importOnly="yes"))
        with self.subTest("unknown query parameter"):
            refused({"colour": "blue"}, sym, words='Unknown name "colour"')
        with self.subTest("unknown $alt"):
            refused({"$alt": "xml"}, sym)
        with self.subTest("query bool not a bool"):
            refused({"skipInitialVersionCreation": "yes"}, sym)
        with self.subTest("malformed duration"):
            refused({}, dict(sym, destroyScheduledDuration="1 day"))
        with self.subTest("malformed bytes"):
            resp = self.raw("POST", f"{path}/{key_id}/cryptoKeyVersions:import", None,
                            {"algorithm": "GOOGLE_SYMMETRIC_ENCRYPTION", "importJob": self.hsm_job.name,
                             "wrappedKey": "not base64!"}, token=token)
            self.assertEqual(resp.status_code, 400, resp.text)

    def test_operator_request_shapes(self):
        """What the operator's C++ client sends (kms/gcp/gcp_kms_client.cpp): lowerCamel JSON,
        enum names, no $alt, "{}" bodies for destroy and restore; answers carry enum names."""
        grant = operator_grant()
        self.assertEqual(grant.status_code, 200, grant.text)
        self.assertEqual(grant.json()["token_type"].lower(), "bearer")
        self.assertGreater(grant.json()["expires_in"], 0)
        token = grant.json()["access_token"]
        refused = operator_grant(ENV["BYOK_GCP_WRONG_SA_KEY_FILE"])
        self.assertEqual((refused.status_code, refused.json()["error"]), (400, "invalid_grant"))
        key_id = uid("op")
        r = self.raw("POST", f"{KEY_RING}/cryptoKeys?cryptoKeyId={key_id}&skipInitialVersionCreation=true", None,
                     json.dumps({"purpose": "ENCRYPT_DECRYPT", "versionTemplate": {
                         "algorithm": "GOOGLE_SYMMETRIC_ENCRYPTION", "protectionLevel": "HSM"},
                         "importOnly": True, "labels": {"byok-owner": "conformance"}}), token=token)
        self.assertEqual(r.status_code, 200, r.text)
        key = r.json()
        self.assertEqual((key["purpose"], key["versionTemplate"]["protectionLevel"]), ("ENCRYPT_DECRYPT", "HSM"))
        job_id = uid("op-job")
        r = self.raw("POST", f"{KEY_RING}/importJobs?importJobId={job_id}", None,
                     json.dumps({"importMethod": "RSA_OAEP_3072_SHA256_AES_256", "protectionLevel": "HSM"}),
                     token=token)
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(r.json()["state"], "PENDING_GENERATION")
        job = wait_for(lambda: self.raw("GET", f"{KEY_RING}/importJobs/{job_id}", token=token).json(),
                       lambda j: j["state"] != "PENDING_GENERATION", job_id)
        self.assertEqual(job["state"], "ACTIVE")
        self.assertEqual(job["attestation"]["format"], "CAVIUM_V2_COMPRESSED")
        material = os.urandom(32)
        r = self.raw("POST", f"{key['name']}/cryptoKeyVersions:import", None, json.dumps({
            "algorithm": "GOOGLE_SYMMETRIC_ENCRYPTION", "importJob": job["name"],
            "wrappedKey": base64.b64encode(rsa_aes_wrap(job["publicKey"]["pem"], material)).decode()}), token=token)
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(r.json()["state"], "PENDING_IMPORT")
        version = wait_for(lambda: self.raw("GET", r.json()["name"], token=token).json(),
                           lambda v: v["state"] != "PENDING_IMPORT", "version")
        self.assertEqual(version["state"], "ENABLED")
        self.assertEqual(fake_material(version["name"])["sha256"], hashlib.sha256(material).hexdigest())
        r = self.raw("POST", f"{key['name']}:updatePrimaryVersion", None,
                     json.dumps({"cryptoKeyVersionId": version["name"].rsplit("/", 1)[1]}), token=token)
        self.assertEqual(r.json()["primary"]["state"], "ENABLED")
        page = self.raw("GET", f"{key['name']}/cryptoKeyVersions?pageSize=100", token=token).json()
        self.assertEqual([v["name"] for v in page["cryptoKeyVersions"]], [version["name"]])
        r = self.raw("POST", f"{version['name']}:destroy", None, "{}", token=token)
        self.assertEqual(r.json()["state"], "DESTROY_SCHEDULED")
        r = self.raw("POST", f"{version['name']}:restore", None, "{}", token=token)
        self.assertEqual(r.json()["state"], "DISABLED")


def fake_material_or_404(version_name):
    r = requests.get(f"{ENDPOINT}/__fake/material-sha256", params={"name": version_name}, verify=CA, timeout=10)
    if r.status_code == 404:
        raise gexc.NotFound("no material")
    r.raise_for_status()
    return r.json()


if __name__ == "__main__":
    unittest.main()
