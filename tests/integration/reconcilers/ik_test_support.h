#pragma once
// What the ImportedKey integration tests share: a fresh SoftHSM2 token holding known key
// material (so a test can prove the KMS holds exactly that key), the operator started with that
// token, a KmsProvider for a fixture's KMS server, ImportedKey objects, and the per-provider
// check of what the KMS holds (each fake's test-only digest endpoint, moto's import log, or for
// Vault using the key).

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <memory>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "common/base64.h"
#include "controller/kube/resource.h"
#include "kms/aws/sigv4.h"
#include "kms/http_transport.h"
#include "kms/provider_factory.h"
#include "tests/harness/cluster.h"
#include "tests/harness/kms_provider_env.h"
#include "tests/harness/operator_process.h"
#include "tests/harness/server_env.h"
#include "tests/hsm/crypto_check.h"
#include "tests/hsm/test_token.h"
#include "tests/integration/kms/kms_test_support.h"
#include "tests/integration/kms/vault_root.h"
#include "reconcilers/imported_key/imported_key_types.h"

namespace byok::iktest {

using Json = nlohmann::json;
using namespace std::chrono_literals;

inline const kube::ResourceType kIk = byok::importedkey::imported_keys();

// The SubjectPublicKeyInfo of a private key, as a string of DER bytes.
inline std::string spki_of(EVP_PKEY* key) {
  auto der = hsm::test::public_der(key);
  return std::string(der.begin(), der.end());
}

// Known material on a fresh token: what the KMS must end up holding.
struct KnownKey {
  std::string type;
  testing::TestMaterial material;  // raw bytes or PKCS#8 (OpenSSL's encoding), and the key
};

// One namespace, one token, one operator (started by start()).
struct IkFixture {
  std::unique_ptr<kube::RestKubeClient> client = testing::connect_from_env();
  kube::KubeClient& c = *client;
  std::string ns;
  hsm::test::TestToken token;
  std::string log_path;
  std::unique_ptr<testing::ChildProcess> op;
  std::map<std::string, KnownKey> keys;       // by HSM label
  std::vector<std::string> other_namespaces;  // other tenants the same operator serves

  explicit IkFixture(const std::string& prefix) : ns(testing::create_namespace(c, prefix)) {
    log_path = "/tmp/byok-" + ns + ".log";
  }

  // Puts known material of `type` on the token under `label` (sensitive, extractable only by
  // wrapping, as a ceremony leaves it).
  const KnownKey& add_key(const std::string& label, const std::string& type) {
    KnownKey k{type, testing::make_material(type)};
    const bool softhsm = hsm::test::TestToken::kind() == hsm::test::TokenKind::SoftHsm;
    if (softhsm && (type == "ed25519" || type == "chacha20-poly1305")) {
      // Material SoftHSM cannot take by C_CreateObject here: a key of the type made in the token.
      auto h = token.open_hsm();
      hsm::GenerateRequest req;
      req.type = *hsm::parse_key_type(type);
      req.label = label;
      auto made = h->generate_key(req);
      if (!made) {
        // No such mechanism (ChaCha20 on SoftHSM2 2.6.1): an AES key stands in; the import
        // is refused before the HSM is asked.
        std::vector<std::uint8_t> value(32, 7);
        auto s = token.raw_session();
        hsm::test::import_secret(*s, label, value);
      }
      return keys.emplace(label, std::move(k)).first->second;
    }
    auto s = token.raw_session();
    if (k.material.pkey) {
      hsm::test::import_private(*s, label, k.material.pkey.get());
    } else {
      std::vector<std::uint8_t> value(k.material.bytes.begin(), k.material.bytes.end());
      hsm::test::import_secret(*s, label, value,
                               type == "chacha20-poly1305" ? CKK_CHACHA20 : CKK_AES);
    }
    return keys.emplace(label, std::move(k)).first->second;
  }

  // The operator with this token; `failpoints` arms BYOK_FAILPOINTS for this process only.
  void start(const std::string& failpoints = "") { start(std::vector<std::string>{}, failpoints); }
  void start(const std::vector<std::string>& extra_flags, const std::string& failpoints = "") {
    token.export_to_environment();
    if (failpoints.empty())
      unsetenv("BYOK_FAILPOINTS");
    else
      setenv("BYOK_FAILPOINTS", failpoints.c_str(), 1);
    std::vector<std::string> flags{"--resync-seconds", "30"};
    flags.insert(flags.end(), extra_flags.begin(), extra_flags.end());
    if (!other_namespaces.empty()) {  // the fixture's namespace and the other tenants'
      std::string watched = ns;
      for (const auto& other : other_namespaces) watched += "," + other;
      flags.insert(flags.end(), {"--namespace", watched});
    }
    op = testing::start_operator(ns, log_path, flags);
    unsetenv("BYOK_FAILPOINTS");
  }

  // The fixture's KMS as a user of namespace `ns` sees it: a KmsProvider `name` of their own (for
  // material wrapped offline), and, set up as a cluster admin would, ClusterKmsProvider
  // <ns>-<name> serving `ns` with an HsmKeyPolicy that lets `ns` import any key of the token
  // into it. create() sends ImportedKeys from the HSM there.
  void provider(const std::string& type, const std::string& name = "") {
    const std::string n = name.empty() ? type : name;
    auto config = testing::provider_config_from_env(type);
    testing::apply_kms_provider(c, ns, n, config);
    testing::apply_cluster_kms_provider(c, ns, cluster_provider(n), config, ns);
    testing::apply_hsm_key_policy(c, cluster_provider(n), ns, "*", cluster_provider(n));
  }
  std::string cluster_provider(const std::string& name) const { return ns + "-" + name; }

  // Another tenant's namespace, served by the same operator (start() watches it too): its own
  // ClusterKmsProvider <other>-<type> of the fixture's KMS and an HsmKeyPolicy letting it import
  // any key of the token there. create(o, other) sends its ImportedKeys.
  std::string add_tenant(const std::string& prefix, const std::string& type) {
    std::string other = testing::create_namespace(c, prefix);
    other_namespaces.push_back(other);
    const std::string name = other + "-" + type;
    testing::apply_cluster_kms_provider(c, ns, name, testing::provider_config_from_env(type),
                                        other);
    testing::apply_hsm_key_policy(c, name, other, "*", name);
    return other;
  }

  // Creates the ImportedKey; one from the HSM names the ClusterKmsProvider provider() made.
  void create(Json object, const std::string& in = "") {
    const std::string& where = in.empty() ? ns : in;
    auto& spec = object["spec"];
    if (spec["source"].contains("hsm") && !spec["providerRef"].contains("kind"))
      spec["providerRef"] = {
          {"kind", "ClusterKmsProvider"},
          {"name", where + "-" + spec["providerRef"]["name"].get<std::string>()}};
    auto r = c.create(kIk, where, object);
    if (!r) FAIL("creating ImportedKey: " << r.error().message);
  }

  Json status(const std::string& name, const std::string& in = "") {
    return testing::status_of(c, kIk, in.empty() ? ns : in, name);
  }

  // The status once condition Ready has `reason` (or the key is imported and Ready when
  // reason is empty); nullopt (after logging the last status) when that does not happen.
  std::optional<Json> try_wait(const std::string& name, const std::string& reason = "",
                               std::chrono::milliseconds timeout = 90s,
                               const std::string& in = "") {
    Json st;
    bool ok = testing::wait_until(
        [&] {
          st = status(name, in);
          if (reason.empty())
            return st.value("imported", false) &&
                   testing::condition_field(st, "Ready", "status") == "True";
          return testing::condition_field(st, "Ready") == reason;
        },
        timeout);
    if (ok) return st;
    UNSCOPED_INFO("ImportedKey " << (in.empty() ? ns : in) << "/" << name << " never reached "
                                 << (reason.empty() ? "imported" : reason)
                                 << "; status: " << st.dump() << "; operator log: " << log_path);
    return std::nullopt;
  }
  Json wait_for(const std::string& name, const std::string& reason = "",
                std::chrono::milliseconds timeout = 90s) {
    auto st = try_wait(name, reason, timeout);
    REQUIRE(st);
    return *st;
  }
};

// An ImportedKey from the HSM key `label` (or, with `secret` set, from that wrapped Secret).
inline Json imported_key(const std::string& name, const std::string& provider,
                         const std::string& type, const std::string& label,
                         Json extra = Json::object()) {
  Json spec = {{"providerRef", {{"name", provider}}},
               {"keyType", type},
               {"source", {{"hsm", {{"label", label}}}}}};
  for (auto& [k, v] : extra.items()) spec[k] = v;
  return {{"apiVersion", "byok.dev/v1alpha1"},
          {"kind", "ImportedKey"},
          {"metadata", {{"name", name}}},
          {"spec", spec}};
}

// A KMS client for provider `type`, as the operator builds one.
inline kms::ProviderHandle kms_client(const std::string& type) {
  static RealClock clock;
  auto handle = kms::make_provider(testing::provider_config_from_env(type), clock);
  if (!handle) FAIL("building the " << type << " client: " << handle.error().message);
  return std::move(*handle);
}

// GET on a fake's test-only endpoint (TLS with the fixture's CA).
inline Json fake_get(const std::string& provider, const std::string& base_var,
                     const std::string& ca_var, const std::string& path) {
  auto env = testing::ServerEnv::for_provider(provider);
  auto transport = kms::make_http_transport({std::chrono::seconds(10), env.file(ca_var)});
  kms::HttpRequest req{"GET", env[base_var] + path, {}, ""};
  auto resp = transport->send(req);
  if (!resp) FAIL("GET " << path << ": " << resp.error().message);
  INFO("GET " << path << " -> " << resp->status << " " << resp->body);
  REQUIRE(resp->status == 200);
  return Json::parse(resp->body);
}

inline std::string last_segment(const std::string& s) { return s.substr(s.rfind('/') + 1); }

// Proves the KMS holds `known` under the key the status names: each server's own evidence.
inline void check_kms_holds(const std::string& provider, const Json& st, const KnownKey& known) {
  const std::string key_id = st.value("keyId", ""), version = st.value("keyVersion", "");
  INFO(provider << " key " << key_id << " version " << version << " type " << known.type);
  const bool symmetric = !known.material.pkey;
  // A symmetric key by its bytes; a private key by its public half, since an HSM's PKCS#8 may
  // encode the same key differently (padding, optional fields).
  const std::string key_digest =
      kms::aws::sha256_hex(symmetric ? known.material.bytes : spki_of(known.material.pkey.get()));
  const char* digest_field = symmetric ? "sha256" : "public_sha256";
  if (provider == "aws") {
    auto env = testing::ServerEnv::for_provider("aws");
    std::ifstream log(env["BYOK_AWS_IMPORT_LOG"]);
    std::string id, material, digest, want_digest;
    while (log >> id >> material >> digest)
      if (id == last_segment(key_id) && material == version) want_digest = digest;
    CHECK(want_digest == key_digest);
  } else if (provider == "localkms") {
    // local-kms keeps no log to read: it encrypts with the key, and the ciphertext opens with the
    // known material. Its CiphertextBlob (src/cmk/aes_key.go): 1 length byte, the key ARN, a
    // 4-byte little-endian material version, the 12-byte GCM nonce, ciphertext and tag; no
    // encryption context, so no AAD.
    auto env = testing::ServerEnv::for_provider("localkms");
    auto transport = kms::make_http_transport({std::chrono::seconds(10), ""});
    const std::string plaintext = "byok-operator proves its import";
    kms::HttpRequest req{
        "POST",
        env["BYOK_LOCALKMS_ENDPOINT"] + "/",
        {{"X-Amz-Target", "TrentService.Encrypt"}, {"Content-Type", "application/x-amz-json-1.1"}},
        Json{{"KeyId", key_id}, {"Plaintext", base64_encode(plaintext)}}.dump()};
    auto resp = transport->send(req);
    REQUIRE(resp.ok());
    INFO("Encrypt -> " << resp->status << " " << resp->body);
    REQUIRE(resp->status == 200);
    auto blob = base64_decode(Json::parse(resp->body).value("CiphertextBlob", ""));
    REQUIRE(blob);
    REQUIRE(blob->size() > 1);
    const std::size_t arn_len = static_cast<unsigned char>((*blob)[0]);
    REQUIRE(blob->size() > 1 + arn_len + 4 + 12 + 16);
    CHECK(blob->substr(1, arn_len) == key_id);
    const std::string rest = blob->substr(1 + arn_len + 4);
    CHECK(testing::aes_gcm_decrypt(known.material.bytes, rest.substr(0, 12), rest.substr(12)) ==
          plaintext);
  } else if (provider == "gcp") {
    auto j = fake_get("gcp", "BYOK_GCP_ENDPOINT", "BYOK_GCP_CA_FILE",
                      "/__fake/material-sha256?name=" + version);
    CHECK(j.value(digest_field, "") == key_digest);
  } else if (provider == "azure" || provider == "azurehsm") {
    auto j =
        fake_get("azure", provider == "azure" ? "BYOK_AZURE_FAKE_URL" : "BYOK_AZURE_HSM_ENDPOINT",
                 "BYOK_AZURE_CA_FILE", "/__fake/keys/" + last_segment(key_id) + "/material-sha256");
    CHECK(j.value(digest_field, "") == key_digest);
  } else if (provider == "oci") {
    auto j = fake_get("oci", "BYOK_OCI_ENDPOINT", "BYOK_OCI_CA_FILE",
                      "/__fake/keys/" + key_id + "/material");
    CHECK(j.value("sha256", "") == kms::aws::sha256_hex(known.material.bytes));
  } else if (provider == "thalassa") {
    auto j = fake_get("thalassa", "BYOK_THALASSA_ENDPOINT", "BYOK_THALASSA_CA_FILE",
                      "/__fake/keys/" + last_segment(key_id) + "/sha256");
    CHECK(j["versions"].value(version, "") == kms::aws::sha256_hex(known.material.bytes));
  } else if (provider == "transit") {
    const std::string name = last_segment(key_id);
    if (symmetric && known.type != "chacha20-poly1305") {
      // Encrypted by Vault, opened here with the known key: only the same key can.
      const std::string plaintext = "byok operator check " + name;
      auto enc = testing::vault_root_call("POST", "transit/encrypt/" + name,
                                          {{"plaintext", base64_encode(plaintext)}});
      std::string ct = enc["data"]["ciphertext"].get<std::string>();
      const std::string prefix = "vault:v" + version + ":";
      REQUIRE(ct.rfind(prefix, 0) == 0);
      auto blob = base64_decode(ct.substr(prefix.size()));
      REQUIRE(blob.ok());
      CHECK(testing::aes_gcm_decrypt(known.material.bytes, blob->substr(0, 12), blob->substr(12)) ==
            plaintext);
    } else if (symmetric) {
      // ChaCha20-Poly1305: a round trip proves a usable key; the material check is the fake-free
      // part transit offers (Vault does not export imported keys).
      auto enc = testing::vault_root_call("POST", "transit/encrypt/" + name,
                                          {{"plaintext", base64_encode("x")}});
      auto dec = testing::vault_root_call("POST", "transit/decrypt/" + name,
                                          {{"ciphertext", enc["data"]["ciphertext"]}});
      CHECK(dec["data"]["plaintext"] == base64_encode("x"));
    } else {
      const std::string data = "byok operator signature check " + name;
      Json req = {{"input", base64_encode(data)}};
      const EVP_MD* md = EVP_sha256();
      if (known.type.rfind("rsa-", 0) == 0) req["signature_algorithm"] = "pkcs1v15";
      if (known.type == "ed25519")
        md = nullptr;
      else
        req["hash_algorithm"] = "sha2-256";
      auto sig = testing::vault_root_call("POST", "transit/sign/" + name, req);
      std::string s = sig["data"]["signature"].get<std::string>();
      auto bytes = base64_decode(s.substr(s.find(':', 6) + 1));
      REQUIRE(bytes.ok());
      CHECK(testing::verify_signature(known.material.pkey.get(), md, data, *bytes));
    }
  } else {
    FAIL("no check of what the KMS holds for provider " << provider);
  }
}

// Material wrapped offline (as byokctl would) for the wrapping key `provider` serves for
// `name`: the Secret's bytes and the fingerprint the ImportedKey must carry.
struct OfflineWrap {
  std::string wrapped;
  std::string fingerprint;
  std::string algorithm;
  std::string kid;  // Azure: the KEK's key identifier, which a .byok file names
};

inline OfflineWrap wrap_offline(const std::string& provider, const std::string& name,
                                const std::string& type, const std::string& material) {
  auto handle = kms_client(provider);
  kms::ImportTarget t;
  t.name = name;
  t.key_type = type;
  t.owner = "key-ceremony";
  auto algs = handle.client->wrapping_algorithms(type);
  REQUIRE(algs.ok());
  t.wrapping_algorithm = algs->front();
  auto w = handle.client->prepare_import(t, "");  // no key is created by these providers
  if (!w) FAIL("fetching the wrapping key: " << w.error().message);
  const EVP_MD* md = EVP_sha256();
  const bool azure = provider == "azure" || provider == "azurehsm";
  if (azure || t.wrapping_algorithm == "SHA1" || t.wrapping_algorithm == "sha1") md = EVP_sha1();
  OfflineWrap out;
  out.wrapped = testing::rsa_aes_wrap(w->public_key_der, md, material);
  out.fingerprint = kms::aws::sha256_hex(w->public_key_der);
  out.algorithm = t.wrapping_algorithm;
  if (azure) out.kid = w->import_token;
  return out;
}

inline void create_wrapped_secret(kube::KubeClient& c, const std::string& ns,
                                  const std::string& name, const std::string& wrapped) {
  auto r = c.create(kube::resources::secrets(), ns,
                    {{"apiVersion", "v1"},
                     {"kind", "Secret"},
                     {"metadata", {{"name", name}, {"namespace", ns}}},
                     {"data", {{"wrapped", base64_encode(wrapped)}}}});
  if (!r) FAIL("creating Secret " << name << ": " << r.error().message);
}

inline Json wrapped_source(const std::string& secret, const OfflineWrap& w) {
  return {{"wrappedSecretRef",
           {{"name", secret},
            {"wrappingKeyFingerprint", w.fingerprint},
            {"wrappingAlgorithm", w.algorithm}}}};
}

}  // namespace byok::iktest
