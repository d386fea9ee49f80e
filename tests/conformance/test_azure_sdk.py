"""Conformance of the Azure fakes (tests/fakes/azure/fake_azure_key_vault.py: Entra ID, a Key Vault
and a Managed HSM) with Microsoft's official SDK: azure-identity (MSAL underneath) gets the tokens,
azure-keyvault-keys drives the key API, both unmodified: Key Vault's challenge authentication (with
its resource check), MSAL's OpenID discovery, the SDK's default api-version and paging.

The SDK believes it talks to https://byok-test.vault.azure.net, https://byok-test.managedhsm.azure.net
and https://login.microsoftonline.com: a requests adapter connects those names to the fakes'
127.0.0.1 ports without any DNS lookup, keeping the Host header and the certificate check (against
the harness CA, for the real name); any other name is refused before a socket opens, so nothing
leaves 127.0.0.1.

Flows are the operator's (kms/azure/key_vault_client.cpp): an RSA-HSM key exchange key with
key_ops [import], a BYOK import of a .byok file built here (CKM_RSA_AES_KEY_WRAP: RSA-OAEP-SHA1 of
an ephemeral AES key, then AES key wrap with padding of the PKCS#8 key, or of the raw AES key for a
Managed HSM oct-HSM key), get, versions, enable/disable/expiry, soft delete, the deleted key,
recovery and purge; and refusals: a token for the wrong audience, an unknown vault host, an
unknown api-version, tampered .byok files, an authority Entra does not know.

Run by tests/conformance/run.sh azure SERVERS_DIR, or by hand:
  tests/harness/azure-kms.sh start DIR; set -a; . DIR/env; set +a
  cd tests/conformance && $(bash -c '. ../harness/lib.sh; conformance_python') \\
      -m unittest -v test_azure_sdk
"""

import base64
import datetime
import hashlib
import json
import logging
import os
import threading
import types
import unittest
import urllib.parse
import uuid

import requests
import urllib3
from azure.core.exceptions import (ClientAuthenticationError, HttpResponseError,
                                   ResourceExistsError, ResourceNotFoundError)
from azure.core.pipeline.transport import RequestsTransport
from azure.identity import ClientSecretCredential, WorkloadIdentityCredential
from azure.keyvault.keys import ApiVersion, JsonWebKey, KeyClient
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.keywrap import aes_key_wrap_with_padding

ENV = os.environ
VAULT_URL = ENV["BYOK_AZURE_VAULT_URL"]
HSM_URL = ENV["BYOK_AZURE_HSM_URL"]
VAULT_ENDPOINT = ENV["BYOK_AZURE_ENDPOINT"]
HSM_ENDPOINT = ENV["BYOK_AZURE_HSM_ENDPOINT"]
AUTHORITY = ENV["BYOK_AZURE_AUTHORITY_HOST"]
CA_FILE = ENV["BYOK_AZURE_CA_FILE"]
TENANT = ENV["BYOK_AZURE_TENANT_ID"]
CLIENT_ID = ENV["BYOK_AZURE_CLIENT_ID"]
SECRET = ENV["BYOK_AZURE_CLIENT_SECRET"]
VAULT_RESOURCE = "https://vault.azure.net"
HSM_RESOURCE = "https://managedhsm.azure.net"
AES_OPS = ["encrypt", "decrypt", "wrapKey", "unwrapKey"]


def port_of(url):
    return urllib.parse.urlsplit(url).port


def host_of(url):
    return urllib.parse.urlsplit(url).hostname


# Name -> 127.0.0.1 port: the only names the SDK may reach. Tests add names (an unknown vault).
ROUTES = {
    host_of(VAULT_URL): port_of(VAULT_ENDPOINT),
    host_of(HSM_URL): port_of(HSM_ENDPOINT),
    "login.microsoftonline.com": port_of(AUTHORITY),
}


class LoopbackAdapter(requests.adapters.HTTPAdapter):
    """Connects https://NAME to 127.0.0.1:ROUTES[NAME] (https://127.0.0.1:PORT as is), verifying
    the server certificate for NAME against the harness CA, and sends Host: NAME as a client that
    resolved NAME would. No DNS, no proxy, no other destination."""

    def __init__(self, routes):
        self.routes = routes
        self.pools = {}
        self.pools_lock = threading.Lock()
        self.hosts = []  # every Host header sent, for the assertions
        super().__init__(max_retries=0)

    def pool_for(self, url):
        parts = urllib.parse.urlsplit(url)
        host = (parts.hostname or "").lower()
        if parts.scheme != "https":
            raise requests.exceptions.ConnectionError("refused, not https: %s" % url)
        if host == "127.0.0.1":
            port = parts.port
        elif host in self.routes and parts.port in (None, 443):
            port = self.routes[host]
        else:
            raise requests.exceptions.ConnectionError(
                "refused: %s is not one of the fakes' names; nothing leaves 127.0.0.1" % url)
        with self.pools_lock:
            pool = self.pools.get((host, port))
            if pool is None:
                pool = urllib3.HTTPSConnectionPool(
                    "127.0.0.1", port, maxsize=4, cert_reqs="CERT_REQUIRED", ca_certs=CA_FILE,
                    server_hostname=None if host == "127.0.0.1" else host, assert_hostname=host)
                self.pools[(host, port)] = pool
        return pool

    def get_connection_with_tls_context(self, request, verify, proxies=None, cert=None):
        return self.pool_for(request.url)

    def get_connection(self, url, proxies=None):
        return self.pool_for(url)

    def cert_verify(self, conn, url, verify, cert):
        # The pool's own settings (CERT_REQUIRED, the harness CA) stand, whatever the caller passed.
        pass

    def send(self, request, **kwargs):
        request.headers["Host"] = urllib.parse.urlsplit(request.url).netloc
        self.hosts.append(request.headers["Host"])
        return super().send(request, **kwargs)

    def close(self):
        with self.pools_lock:
            for pool in self.pools.values():
                pool.close()
            self.pools.clear()
        super().close()


ADAPTER = LoopbackAdapter(ROUTES)
SESSION = requests.Session()
SESSION.trust_env = False  # no proxy from the environment
SESSION.mount("https://", ADAPTER)
SESSION.mount("http://", ADAPTER)


def transport():
    return RequestsTransport(session=SESSION, session_owner=False)


def credential(**kwargs):
    """The operator's app registration, at the fake's authority (BYOK_AZURE_AUTHORITY_HOST, an
    address, so instance discovery is off as for any authority Microsoft does not list)."""
    args = dict(authority=AUTHORITY, disable_instance_discovery=True, transport=transport())
    args.update(kwargs)
    return ClientSecretCredential(args.pop("tenant_id", TENANT), args.pop("client_id", CLIENT_ID),
                                  args.pop("client_secret", SECRET), **args)


CREDENTIAL = None  # one per module: tokens are cached as a service would cache them


def client(url=VAULT_URL, cred=None, **kwargs):
    return KeyClient(vault_url=url, credential=cred or CREDENTIAL, transport=transport(), **kwargs)


def setUpModule():
    global CREDENTIAL
    CREDENTIAL = credential()
    # The refusals below are expected; azure-identity would log each as a warning.
    logging.getLogger("azure.identity").setLevel(logging.ERROR)


def tearDownModule():
    CREDENTIAL.close()
    SESSION.close()


def unique(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:10])


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def claims_of(token):
    return json.loads(b64url_decode(token.split(".")[1]))


def pkcs8(private_key):
    return private_key.private_bytes(serialization.Encoding.DER,
                                     serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption())


def byok_file(kek, material, tamper=None):
    """A .byok file per Microsoft's BYOK specification for the KeyVaultKey `kek`:
    CKM_RSA_AES_KEY_WRAP = RSA-OAEP (SHA-1, MGF1 SHA-1) of an ephemeral AES-256 key, followed by
    AES key wrap with padding (RFC 5649) of the target key material."""
    public = rsa.RSAPublicNumbers(int.from_bytes(kek.key.e, "big"),
                                  int.from_bytes(kek.key.n, "big")).public_key()
    aes = os.urandom(32)
    wrapped = public.encrypt(aes, padding.OAEP(mgf=padding.MGF1(hashes.SHA1()),
                                               algorithm=hashes.SHA1(), label=None))
    wrapped += aes_key_wrap_with_padding(aes, material)
    if tamper == "ciphertext":
        wrapped = wrapped[:-1] + bytes([wrapped[-1] ^ 1])
    if tamper == "oaep-sha256":
        wrapped = public.encrypt(aes, padding.OAEP(mgf=padding.MGF1(hashes.SHA256()),
                                                   algorithm=hashes.SHA256(), label=None))
        wrapped += aes_key_wrap_with_padding(aes, material)
    blob = {"schema_version": "1.0.0",
            "header": {"kid": kek.id, "alg": "dir", "enc": "CKM_RSA_AES_KEY_WRAP"},
            "ciphertext": b64url(wrapped),
            "generator": "byok-operator conformance test; software"}
    if tamper == "enc":
        blob["header"]["enc"] = "CKM_RSA_AES_KEY_WRAP_PAD"
    return json.dumps(blob).encode()


def fake_material(endpoint, name, version=None):
    """The fake's test-only record of imported material (sha256 of what it unwrapped)."""
    url = "%s/__fake/keys/%s/material-sha256" % (endpoint, name)
    resp = SESSION.get(url, params={"version": version} if version else None, timeout=10)
    resp.raise_for_status()
    return resp.json()


def create_kek(kv, name, size=2048):
    """The operator's key exchange key: RSA-HSM, key_ops [import] only."""
    return kv.create_rsa_key(name, size=size, hardware_protected=True, key_operations=["import"],
                             tags={"byok.dev/kek-for": name[:-4]})


class WrongAudience:
    """A credential that hands out a real token of this tenant, but for the other resource."""

    def __init__(self, resource):
        self.scope = resource + "/.default"

    def get_token(self, *scopes, **kwargs):
        return CREDENTIAL.get_token(self.scope)


class LifecycleMixin:
    """The operator's calls after an import, for a vault and for a Managed HSM alike."""

    def lifecycle(self, kv, name, make_version):
        first, second = make_version(), make_version()
        self.assertNotEqual(first.properties.version, second.properties.version)
        self.assertRegex(second.properties.version, r"^[0-9a-f]{32}$")

        # GetKey: latest, and by version.
        latest = kv.get_key(name)
        self.assertEqual(latest.id, second.id)
        self.assertEqual(kv.get_key(name, first.properties.version).id, first.id)
        with self.assertRaises(ResourceNotFoundError):
            kv.get_key(name, "0" * 32)

        # GetKeyVersions, one per page: the SDK follows the fake's nextLink.
        pages = kv.list_properties_of_key_versions(name, max_page_size=1).by_page()
        versions = [p.version for page in pages for p in page]
        self.assertEqual(sorted(versions), sorted([first.properties.version,
                                                   second.properties.version]))
        self.assertIn(name, [p.name for p in kv.list_properties_of_keys()])

        # UpdateKey: disable, then enable with an expiry, on the latest version and on an older one.
        disabled = kv.update_key_properties(name, enabled=False)
        self.assertFalse(disabled.properties.enabled)
        self.assertEqual(disabled.properties.version, second.properties.version)
        self.assertFalse(kv.get_key(name).properties.enabled)
        expires = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) + \
            datetime.timedelta(days=30)
        renewed = kv.update_key_properties(name, enabled=True, expires_on=expires,
                                           tags={"byok.dev/owner": "uid-1"})
        self.assertTrue(renewed.properties.enabled)
        self.assertEqual(renewed.properties.expires_on, expires)
        self.assertEqual(renewed.properties.tags, {"byok.dev/owner": "uid-1"})
        old = kv.update_key_properties(name, first.properties.version, enabled=False)
        self.assertFalse(old.properties.enabled)
        self.assertTrue(kv.get_key(name).properties.enabled)
        with self.assertRaises(HttpResponseError) as bad:
            kv.update_key_properties(name, key_operations=["frobnicate"])
        self.assertEqual(bad.exception.status_code, 400)

        # DeleteKey (soft delete), GetDeletedKey, then the name is taken until recovered/purged.
        poller = kv.begin_delete_key(name)
        deleted = poller.result()
        poller.wait()
        self.assertEqual(deleted.name, name)
        self.assertEqual(deleted.recovery_id, "%s/deletedkeys/%s" % (kv.vault_url, name))
        got = kv.get_deleted_key(name)
        self.assertEqual(got.id, second.id)
        days = (got.scheduled_purge_date - got.deleted_date).days
        self.assertEqual(days, got.properties.recoverable_days)
        self.assertIn(got.properties.recovery_level, ("Recoverable+Purgeable",
                                                      "CustomizedRecoverable+Purgeable"))
        self.assertIn(name, [d.name for d in kv.list_deleted_keys()])
        with self.assertRaises(ResourceNotFoundError):
            kv.get_key(name)
        with self.assertRaises(ResourceExistsError) as taken:
            make_version()
        self.assertEqual(taken.exception.status_code, 409)

        kv.begin_recover_deleted_key(name).wait()
        self.assertEqual(kv.get_key(name).id, second.id)
        kv.begin_delete_key(name).wait()
        kv.purge_deleted_key(name)
        with self.assertRaises(ResourceNotFoundError):
            kv.get_deleted_key(name)


class VaultTest(LifecycleMixin, unittest.TestCase):
    kv = None

    @classmethod
    def setUpClass(cls):
        cls.kv = client()
        cls.kek_name = unique("cf") + "-kek"
        # The operator's default KEK size.
        cls.kek = create_kek(cls.kv, cls.kek_name, size=4096)

    def test_kek_is_an_import_only_rsa_hsm_key(self):
        kek = self.kv.get_key(self.kek_name)
        self.assertEqual(kek.id, self.kek.id)
        self.assertTrue(kek.id.startswith(VAULT_URL + "/keys/" + self.kek_name + "/"))
        self.assertEqual(kek.key_type, "RSA-HSM")
        self.assertEqual(kek.key_operations, ["import"])
        self.assertEqual(len(kek.key.n), 512)
        self.assertEqual(kek.key.e, b"\x01\x00\x01")
        self.assertTrue(kek.properties.enabled)
        self.assertEqual(kek.properties.tags, {"byok.dev/kek-for": self.kek_name[:-4]})
        # Every call went to the vault's name, none to an address.
        self.assertIn(host_of(VAULT_URL), ADAPTER.hosts)

    def test_import_only_alone_and_only_on_rsa_hsm(self):
        for kwargs in ({"key_operations": ["import", "sign"], "hardware_protected": True},
                       {"key_operations": ["import"], "hardware_protected": False}):
            with self.assertRaises(HttpResponseError) as refused:
                self.kv.create_rsa_key(unique("kek"), size=2048, **kwargs)
            self.assertEqual(refused.exception.status_code, 400)

    def test_byok_rsa_and_ec_imports_arrive_intact(self):
        rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        ec_key = ec.generate_private_key(ec.SECP256R1())
        for private, jwk in (
                (rsa_key, {"kty": "RSA-HSM", "key_ops": ["encrypt", "decrypt", "wrapKey",
                                                         "unwrapKey", "sign", "verify"]}),
                (ec_key, {"kty": "EC-HSM", "crv": "P-256", "key_ops": ["sign", "verify"]})):
            name = unique("byok")
            material = pkcs8(private)
            imported = self.kv.import_key(
                name, JsonWebKey(t=byok_file(self.kek, material), **jwk), hardware_protected=True,
                enabled=True, tags={"byok.dev/owner": "uid-" + name})
            self.assertEqual(imported.key_type, jwk["kty"])
            self.assertEqual(imported.key_operations, jwk["key_ops"])
            numbers = private.public_key().public_numbers()
            if jwk["kty"] == "RSA-HSM":
                self.assertEqual(int.from_bytes(imported.key.n, "big"), numbers.n)
            else:
                self.assertEqual(imported.key.crv, "P-256")
                self.assertEqual(int.from_bytes(imported.key.x, "big"), numbers.x)
                self.assertEqual(int.from_bytes(imported.key.y, "big"), numbers.y)
            held = fake_material(VAULT_ENDPOINT, name)
            self.assertEqual(held["sha256"], hashlib.sha256(material).hexdigest())
            self.assertEqual(held["version"], imported.properties.version)
            got = self.kv.get_key(name)
            self.assertEqual(got.id, imported.id)
            self.assertEqual(got.properties.tags, {"byok.dev/owner": "uid-" + name})

    def test_byok_lifecycle(self):
        name = unique("life")
        jwk = {"kty": "RSA-HSM", "key_ops": ["encrypt", "decrypt"]}

        def import_version():
            material = pkcs8(rsa.generate_private_key(public_exponent=65537, key_size=2048))
            return self.kv.import_key(name, JsonWebKey(t=byok_file(self.kek, material), **jwk),
                                      hardware_protected=True)

        self.lifecycle(self.kv, name, import_version)

    def test_created_key_lifecycle(self):
        name = unique("made")
        self.lifecycle(self.kv, name, lambda: self.kv.create_ec_key(
            name, curve="P-384", hardware_protected=True))

    def test_tampered_or_misdirected_byok_is_refused(self):
        material = pkcs8(ec.generate_private_key(ec.SECP256R1()))
        jwk = {"kty": "EC-HSM", "crv": "P-256", "key_ops": ["sign", "verify"]}
        name = unique("tamper")
        cases = {
            "ciphertext": "AES key unwrap with padding",
            "oaep-sha256": "RSA-OAEP (SHA-1) decryption",
            "enc": "CKM_RSA_AES_KEY_WRAP",
        }
        for tamper, message in cases.items():
            with self.subTest(tamper=tamper):
                with self.assertRaises(HttpResponseError) as refused:
                    self.kv.import_key(name, JsonWebKey(t=byok_file(self.kek, material, tamper),
                                                        **jwk), hardware_protected=True)
                self.assertEqual(refused.exception.status_code, 400)
                self.assertEqual(refused.exception.error.code, "BadParameter")
                self.assertIn(message, refused.exception.error.message)
        # The right wrap, the wrong curve for the key type.
        with self.assertRaises(HttpResponseError) as refused:
            self.kv.import_key(name, JsonWebKey(t=byok_file(self.kek, material),
                                                **dict(jwk, crv="P-384")))
        self.assertIn("curve is P-256", refused.exception.error.message)
        # A KEK that is not import-only cannot carry a .byok.
        signer = self.kv.create_rsa_key(unique("signer"), size=2048, hardware_protected=True)
        with self.assertRaises(HttpResponseError) as refused:
            self.kv.import_key(name, JsonWebKey(t=byok_file(signer, material), **jwk))
        self.assertIn("key exchange key", refused.exception.error.message)
        # AES (oct-HSM) is a Managed HSM's; a vault refuses it, created or imported.
        with self.assertRaises(HttpResponseError) as refused:
            self.kv.import_key(name, JsonWebKey(kty="oct-HSM", key_ops=AES_OPS,
                                                t=byok_file(self.kek, os.urandom(32))))
        self.assertEqual(refused.exception.status_code, 400)
        with self.assertRaises(HttpResponseError) as refused:
            self.kv.create_oct_key(name, size=256, hardware_protected=True)
        self.assertEqual(refused.exception.status_code, 400)
        with self.assertRaises(ResourceNotFoundError):
            self.kv.get_key(name)

    def test_every_stable_api_version_the_sdk_knows(self):
        for version in ApiVersion:
            with self.subTest(version=version.value):
                kv = client(api_version=version)
                self.assertEqual(kv.get_key(self.kek_name).id, self.kek.id)
        with self.assertRaises(HttpResponseError) as refused:
            client(api_version="7.9").get_key(self.kek_name)
        self.assertEqual(refused.exception.status_code, 400)
        self.assertIn("The specified version (7.9) is not recognized",
                      refused.exception.error.message)

    def test_token_for_another_audience_is_refused(self):
        kv = client(cred=WrongAudience(HSM_RESOURCE))
        with self.assertRaises(ClientAuthenticationError) as refused:
            kv.get_key(self.kek_name)
        self.assertEqual(refused.exception.status_code, 401)
        self.assertIn("AKV10022: Invalid audience. Expected https://vault.azure.net",
                      refused.exception.message)

    def test_unknown_vault_host_is_refused(self):
        ROUTES["byok-nosuch.vault.azure.net"] = port_of(VAULT_ENDPOINT)
        try:
            with self.assertRaises(HttpResponseError) as refused:
                client("https://byok-nosuch.vault.azure.net").get_key(self.kek_name)
        finally:
            del ROUTES["byok-nosuch.vault.azure.net"]
        self.assertEqual(refused.exception.status_code, 400)
        self.assertIn("Host header (byok-nosuch.vault.azure.net)", refused.exception.message)

    def test_names_off_the_loopback_routes_never_leave(self):
        with self.assertRaises(Exception) as refused:
            client("https://byok-elsewhere.vault.azure.net", retry_total=0).get_key("k")
        self.assertIn("nothing leaves 127.0.0.1", str(refused.exception))


class ManagedHsmTest(LifecycleMixin, unittest.TestCase):
    hsm = None

    @classmethod
    def setUpClass(cls):
        cls.hsm = client(HSM_URL)
        cls.kek_name = unique("cfh") + "-kek"
        cls.kek = create_kek(cls.hsm, cls.kek_name)

    def test_oct_hsm_keys_of_each_aes_size(self):
        for size in (128, 192, 256):
            with self.subTest(size=size):
                key = self.hsm.create_oct_key(unique("aes%d" % size), size=size,
                                              hardware_protected=True)
                self.assertEqual(key.key_type, "oct-HSM")
                self.assertEqual(sorted(key.key_operations), sorted(AES_OPS))
                self.assertTrue(key.id.startswith(HSM_URL + "/keys/"))
                self.assertIsNone(key.key.k)  # no secret material leaves the HSM
        for kwargs in ({"size": 512, "hardware_protected": True},
                       {"size": 256, "hardware_protected": False}):
            with self.assertRaises(HttpResponseError) as refused:
                self.hsm.create_oct_key(unique("aes"), **kwargs)
            self.assertEqual(refused.exception.status_code, 400)
        with self.assertRaises(HttpResponseError) as refused:
            self.hsm.create_rsa_key(unique("soft"), size=2048, hardware_protected=False)
        self.assertEqual(refused.exception.status_code, 400)

    def test_byok_aes_import_of_each_size(self):
        for size in (16, 24, 32):
            with self.subTest(bits=size * 8):
                name = unique("byok-aes")
                secret = os.urandom(size)
                imported = self.hsm.import_key(
                    name, JsonWebKey(kty="oct-HSM", key_ops=AES_OPS, t=byok_file(self.kek, secret)),
                    hardware_protected=True, tags={"byok.dev/owner": "uid-" + name})
                self.assertEqual(imported.key_type, "oct-HSM")
                self.assertEqual(imported.key_operations, AES_OPS)
                self.assertTrue(imported.id.startswith(HSM_URL + "/keys/" + name + "/"))
                held = fake_material(HSM_ENDPOINT, name)
                self.assertEqual(held["sha256"], hashlib.sha256(secret).hexdigest())
                self.assertEqual(self.hsm.get_key(name).id, imported.id)

    def test_byok_rsa_import_into_the_hsm(self):
        name = unique("byok-rsa")
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        imported = self.hsm.import_key(
            name, JsonWebKey(kty="RSA-HSM", key_ops=["wrapKey", "unwrapKey"],
                             t=byok_file(self.kek, pkcs8(private))), hardware_protected=True)
        self.assertEqual(int.from_bytes(imported.key.n, "big"),
                         private.public_key().public_numbers().n)

    def test_plain_oct_import(self):
        name = unique("plain-aes")
        secret = os.urandom(32)
        imported = self.hsm.import_key(name, JsonWebKey(kty="oct-HSM", key_ops=AES_OPS, k=secret),
                                       hardware_protected=True)
        self.assertEqual(imported.key_type, "oct-HSM")
        self.assertIsNone(imported.key.k)
        self.assertEqual(fake_material(HSM_ENDPOINT, name)["sha256"],
                         hashlib.sha256(secret).hexdigest())
        with self.assertRaises(HttpResponseError) as refused:
            self.hsm.import_key(unique("plain-aes"),
                                JsonWebKey(kty="oct-HSM", key_ops=AES_OPS, k=os.urandom(20)))
        self.assertEqual(refused.exception.status_code, 400)

    def test_aes_byok_refusals(self):
        name = unique("bad-aes")
        jwk = {"kty": "oct-HSM", "key_ops": AES_OPS}
        with self.assertRaises(HttpResponseError) as refused:
            self.hsm.import_key(name, JsonWebKey(t=byok_file(self.kek, os.urandom(32),
                                                             "ciphertext"), **jwk))
        self.assertIn("AES key unwrap with padding", refused.exception.error.message)
        with self.assertRaises(HttpResponseError) as refused:
            self.hsm.import_key(name, JsonWebKey(t=byok_file(self.kek, os.urandom(20)), **jwk))
        self.assertIn("not 16, 24 or 32", refused.exception.error.message)
        # A vault's KEK does not open a .byok for the HSM.
        vault_kek = create_kek(client(), unique("cf") + "-kek")
        with self.assertRaises(HttpResponseError) as refused:
            self.hsm.import_key(name, JsonWebKey(t=byok_file(vault_kek, os.urandom(32)), **jwk))
        self.assertIn("not a key identifier of this managed HSM", refused.exception.error.message)
        with self.assertRaises(ResourceNotFoundError):
            self.hsm.get_key(name)

    def test_aes_lifecycle(self):
        name = unique("life-aes")
        self.lifecycle(self.hsm, name, lambda: self.hsm.import_key(
            name, JsonWebKey(kty="oct-HSM", key_ops=AES_OPS, t=byok_file(self.kek, os.urandom(32))),
            hardware_protected=True))

    def test_audiences_are_per_resource(self):
        with self.assertRaises(ClientAuthenticationError) as refused:
            client(HSM_URL, cred=WrongAudience(VAULT_RESOURCE)).get_key(self.kek_name)
        self.assertIn("AKV10022: Invalid audience. Expected https://managedhsm.azure.net",
                      refused.exception.message)
        token = CREDENTIAL.get_token(HSM_RESOURCE + "/.default").token
        self.assertEqual(claims_of(token)["aud"], HSM_RESOURCE)

    def test_api_versions_before_managed_hsm_are_refused(self):
        for version in ("2016-10-01", "7.0", "7.1"):
            with self.subTest(version=version), self.assertRaises(HttpResponseError) as refused:
                client(HSM_URL, api_version=version).get_key(self.kek_name)
            self.assertEqual(refused.exception.status_code, 400)
        self.assertEqual(client(HSM_URL, api_version="7.2").get_key(self.kek_name).id,
                         self.kek.id)

    def test_routing_by_host_on_one_front_door(self):
        # The HSM's name sent to the vault's listener reaches the HSM; the vault has no such key.
        ROUTES[host_of(HSM_URL)] = port_of(VAULT_ENDPOINT)
        try:
            self.assertEqual(client(HSM_URL).get_key(self.kek_name).id, self.kek.id)
        finally:
            ROUTES[host_of(HSM_URL)] = port_of(HSM_ENDPOINT)
        with self.assertRaises(ResourceNotFoundError):
            client().get_key(self.kek_name)


class EntraTest(unittest.TestCase):
    def test_token_claims(self):
        token = CREDENTIAL.get_token(VAULT_RESOURCE + "/.default").token
        claims = claims_of(token)
        self.assertEqual(claims["aud"], VAULT_RESOURCE)
        self.assertEqual(claims["appid"], CLIENT_ID)
        self.assertEqual(claims["tid"], TENANT)
        self.assertEqual(claims["oid"], ENV["BYOK_AZURE_OBJECT_ID"])

    def test_msal_discovery_at_microsofts_authority_name(self):
        # The default authority (login.microsoftonline.com, which MSAL knows, so no instance
        # discovery): OpenID configuration, then the token endpoint it names.
        cred = ClientSecretCredential(TENANT, CLIENT_ID, SECRET, transport=transport())
        kv = KeyClient(VAULT_URL, cred, transport=transport())
        made = kv.create_ec_key(unique("msal"), curve="P-256", hardware_protected=True)
        self.assertEqual(kv.get_key(made.name).id, made.id)
        self.assertIn("login.microsoftonline.com", ADAPTER.hosts)

    def test_instance_discovery_refuses_an_unknown_authority(self):
        # As the real instance discovery does for any host Microsoft does not list.
        cred = ClientSecretCredential(TENANT, CLIENT_ID, SECRET, authority=AUTHORITY,
                                      transport=transport())
        with self.assertRaises((ValueError, ClientAuthenticationError)) as refused:
            cred.get_token(VAULT_RESOURCE + "/.default")
        self.assertIn("not well-known", str(refused.exception))

    def test_refusals(self):
        with self.assertRaises(ClientAuthenticationError) as refused:
            credential(client_secret="not-the-secret").get_token(VAULT_RESOURCE + "/.default")
        self.assertIn("AADSTS7000215", str(refused.exception))
        with self.assertRaises(ClientAuthenticationError) as refused:
            credential().get_token("https://storage.azure.com/.default")
        self.assertIn("AADSTS500011", str(refused.exception))
        # An unknown tenant: MSAL's OpenID discovery fails (MSAL drops Entra's words, so they are
        # checked on the discovery document itself).
        stranger = str(uuid.uuid4())
        with self.assertRaises((ValueError, ClientAuthenticationError)) as refused:
            credential(tenant_id=stranger).get_token(VAULT_RESOURCE + "/.default")
        self.assertIn("Unable to get authority configuration", str(refused.exception))
        resp = SESSION.get("%s/%s/v2.0/.well-known/openid-configuration" % (AUTHORITY, stranger),
                           timeout=10)
        self.assertEqual(resp.status_code, 400)
        self.assertEqual(resp.json()["error"], "invalid_tenant")
        self.assertIn("AADSTS90002", resp.json()["error_description"])

    def test_workload_identity_federation(self):
        token_file = os.path.join(ENV["BYOK_AZURE_FEDERATED_TOKEN_DIR"], unique("sdk-token"))
        with open(token_file, "w") as f:
            f.write("eyJhbGciOiJSUzI1NiJ9.%s.sig" % uuid.uuid4().hex)
        try:
            cred = WorkloadIdentityCredential(
                tenant_id=TENANT, client_id=ENV["BYOK_AZURE_FEDERATED_CLIENT_ID"],
                token_file_path=token_file, authority=AUTHORITY, transport=transport())
            kv = KeyClient(VAULT_URL, cred, transport=transport())
            key = kv.create_ec_key(unique("wi"), curve="P-256", hardware_protected=True)
            self.assertEqual(key.key_type, "EC-HSM")
            claims = claims_of(cred.get_token(VAULT_RESOURCE + "/.default").token)
            self.assertEqual(claims["appid"], ENV["BYOK_AZURE_FEDERATED_CLIENT_ID"])
            self.assertEqual(claims["appidacr"], "2")
        finally:
            os.remove(token_file)
        stranger = os.path.join(ENV["BYOK_AZURE_FEDERATED_TOKEN_DIR"], "..", unique("foreign"))
        with open(stranger, "w") as f:
            f.write("eyJhbGciOiJSUzI1NiJ9.%s.sig" % uuid.uuid4().hex)
        try:
            cred = WorkloadIdentityCredential(
                tenant_id=TENANT, client_id=ENV["BYOK_AZURE_FEDERATED_CLIENT_ID"],
                token_file_path=stranger, authority=AUTHORITY, transport=transport())
            with self.assertRaises(ClientAuthenticationError) as refused:
                cred.get_token(VAULT_RESOURCE + "/.default")
            self.assertIn("AADSTS700213", str(refused.exception))
        finally:
            os.remove(stranger)


class OperatorRequestShapesTest(unittest.TestCase):
    """What kms/azure/key_vault_client.cpp and entra_token_source.cpp send, byte for byte where it
    matters: spec.endpoint (https://127.0.0.1:PORT, so Host: 127.0.0.1:PORT), api-version 7.4, the
    form-encoded client-credentials grant at BYOK_AZURE_AUTHORITY_HOST. Not the SDK: a guard that
    the fake keeps serving the operator while it follows the SDK."""

    def token(self):
        resp = SESSION.post(
            "%s/%s/oauth2/v2.0/token" % (AUTHORITY, TENANT),
            data={"grant_type": "client_credentials", "client_id": CLIENT_ID,
                  "scope": VAULT_RESOURCE + "/.default", "client_secret": SECRET},
            headers={"Accept": "application/json"}, timeout=10)
        self.assertEqual(resp.status_code, 200, resp.text)
        return resp.json()["access_token"]

    def call(self, method, path, token, body=None):
        headers = {"Authorization": "Bearer " + token, "Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        return SESSION.request(method, VAULT_ENDPOINT + path + "?api-version=7.4", headers=headers,
                               data=None if body is None else json.dumps(body), timeout=10)

    def test_operator_flow_by_address(self):
        token = self.token()
        kek_name = unique("op") + "-kek"
        resp = self.call("POST", "/keys/%s/create" % kek_name, token,
                         {"kty": "RSA-HSM", "key_size": 2048, "key_ops": ["import"],
                          "attributes": {"enabled": True},
                          "tags": {"byok.dev/kek-for": kek_name[:-4]}})
        self.assertEqual(resp.status_code, 200, resp.text)
        kek_bundle = resp.json()
        self.assertTrue(kek_bundle["key"]["kid"].startswith(VAULT_URL + "/keys/"))

        kek = types.SimpleNamespace(  # what byok_file() reads of a KeyVaultKey
            id=kek_bundle["key"]["kid"],
            key=types.SimpleNamespace(n=b64url_decode(kek_bundle["key"]["n"]),
                                      e=b64url_decode(kek_bundle["key"]["e"])))

        name = kek_name[:-4]
        material = pkcs8(ec.generate_private_key(ec.SECP384R1()))
        resp = self.call("PUT", "/keys/" + name, token, {
            "key": {"kty": "EC-HSM", "key_ops": ["sign", "verify"], "crv": "P-384",
                    "key_hsm": b64url(byok_file(kek, material))},
            "Hsm": True, "attributes": {"enabled": True}, "tags": {"byok.dev/owner": "uid-x"}})
        self.assertEqual(resp.status_code, 200, resp.text)
        version = resp.json()["key"]["kid"].rsplit("/", 1)[1]
        self.assertEqual(self.call("GET", "/keys/%s/%s" % (name, version), token).status_code, 200)
        resp = self.call("PATCH", "/keys/%s/" % name, token, {"attributes": {"enabled": False}})
        self.assertFalse(resp.json()["attributes"]["enabled"])
        self.assertEqual(self.call("DELETE", "/keys/" + name, token).status_code, 200)
        self.assertIn("recoveryId", self.call("GET", "/deletedkeys/" + name, token).json())
        self.assertEqual(self.call("POST", "/deletedkeys/%s/recover" % name, token).status_code, 200)
        self.assertEqual(self.call("GET", "/keys/" + name, token).status_code, 200)


if __name__ == "__main__":
    unittest.main()
