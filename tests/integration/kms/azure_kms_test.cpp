// KeyVaultClient over TLS against the strict fakes of Microsoft Entra ID and Azure Key Vault
// (tests/fakes/azure/fake_azure_key_vault.py; tests/harness/azure-kms.sh says why there is no
// real Key Vault server here). Every vault call below carries a token the fake Entra issued for
// the client's credentials, and the fake vault checks its signature, audience and expiry;
// imports are really unwrapped with the KEK's private half, so the material hashes compared
// below prove the .byok file, the wrap and the KEK kid were all right.
//
// The fakes are started once per ctest run by the kms_azure fixture (tests/integration/
// CMakeLists.txt); BYOK_AZURE_KMS_ENV names their env file.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <memory>

#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include "common/clock.h"
#include "kms/aws/sigv4.h"
#include "kms/azure/azure_traits.h"
#include "kms/azure/key_vault_client.h"
#include "kms/http_transport.h"
#include "tests/harness/server_env.h"
#include "tests/integration/kms/kms_test_support.h"

using namespace byok;
using namespace byok::kms;
using namespace byok::kms::azure;
using byok::testing::CountingTransport;
using Json = nlohmann::json;

namespace {

namespace fs = std::filesystem;

const byok::testing::ServerEnv& fakes() {
  static const auto env = byok::testing::ServerEnv::for_provider("azure");
  return env;
}

std::string to_hex(const std::string& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string hex;
  for (unsigned char b : bytes) {
    hex += digits[b >> 4];
    hex += digits[b & 15];
  }
  return hex;
}

std::string random_hex(size_t bytes) { return to_hex(byok::testing::random_bytes(bytes)); }

// A name no other test (nor an earlier run against the same fakes) uses.
std::string unique_name(const std::string& prefix) { return prefix + "-" + random_hex(6); }

ProviderConfig config(std::map<std::string, std::string> credential_changes = {},
                      std::string endpoint = "") {
  const auto& f = fakes();
  ProviderConfig c;
  c.type = "azure";
  c.endpoint = endpoint.empty() ? f["BYOK_AZURE_ENDPOINT"] : endpoint;
  c.settings = {{"vaultUrl", f["BYOK_AZURE_VAULT_URL"]}};
  c.credentials = {{"tenantId", f["BYOK_AZURE_TENANT_ID"]},
                   {"clientId", f["BYOK_AZURE_CLIENT_ID"]},
                   {"clientSecret", f["BYOK_AZURE_CLIENT_SECRET"]},
                   {"authorityHost", f["BYOK_AZURE_AUTHORITY_HOST"]}};
  for (const auto& [k, v] : credential_changes) {
    if (v.empty())
      c.credentials.erase(k);
    else
      c.credentials[k] = v;
  }
  c.extra_ca_pem = f.file("BYOK_AZURE_CA_FILE");
  return c;
}

struct Client {
  RealClock clock;
  CountingTransport transport;
  std::unique_ptr<KeyVaultClient> kv;

  explicit Client(ProviderConfig c = config(), bool trust_ca = true)
      : transport(make_http_transport(
            {std::chrono::seconds(10), trust_ca ? c.extra_ca_pem : std::string()})) {
    auto made = KeyVaultClient::from_config(c, transport, clock);
    REQUIRE(made.ok());
    kv = std::move(*made);
  }
};

// The fake vault's test-only endpoints, over TLS with the harness CA.
Json fake_call(const std::string& method, const std::string& path) {
  auto t = make_http_transport({std::chrono::seconds(10), fakes().file("BYOK_AZURE_CA_FILE")});
  auto resp = t->send({method, fakes()["BYOK_AZURE_FAKE_URL"] + path, {}, ""});
  REQUIRE(resp.ok());
  INFO(resp->body);
  REQUIRE(resp->status == 200);
  return Json::parse(resp->body);
}

// A federated token file the fake Entra accepts while its contents stay unchanged.
struct FederatedToken {
  fs::path path;
  explicit FederatedToken(const std::string& dir) {
    path = fs::path(dir) / ("token-" + random_hex(8));
    write("eyJhbGciOiJSUzI1NiJ9." + random_hex(24) + ".sig");
  }
  void write(const std::string& contents) const {
    std::ofstream(path, std::ios::trunc) << contents;
  }
  ~FederatedToken() { fs::remove(path); }
};

ImportTarget import_target(const std::string& name, const std::string& type) {
  ImportTarget t;
  t.name = name;
  t.key_type = type;
  t.owner = "uid-" + random_hex(8);
  t.wrapping_algorithm = "CKM_RSA_AES_KEY_WRAP";
  return t;
}

std::string create_rsa_key(Client& c, const std::string& name) {
  CreateKeyRequest req;
  req.kty = "RSA-HSM";
  req.key_size = 2048;
  auto key = c.kv->create_key(name, req);
  REQUIRE(key.ok());
  return key->version;
}

}  // namespace

TEST_CASE("azure: a created key describes as Enabled (current), named by the vault URL",
          "[kms][azure]") {
  Client c;
  const auto name = unique_name("cmk");
  auto version = create_rsa_key(c, name);
  const std::string id = fakes()["BYOK_AZURE_VAULT_URL"] + "/keys/" + name;
  auto key = c.kv->describe_key(id);
  REQUIRE(key.ok());
  CHECK(key->resource == id);
  CHECK(key->name == name);
  CHECK(key->version == version);
  CHECK(key->version.size() == 32);
  CHECK(key->state == "Enabled");
  REQUIRE(key->status.has_value());
  CHECK(*key->status == CmkStatus::Current);
  CHECK(key->key_spec == "RSA-HSM");
  CHECK(key->enabled);
  CHECK_FALSE(key->imported);
  REQUIRE(key->created.has_value());
  CHECK(std::chrono::abs(*key->created - std::chrono::system_clock::now()) <
        std::chrono::minutes(5));
  // By version too.
  auto pinned = c.kv->describe_key(id + "/" + version);
  REQUIRE(pinned.ok());
  CHECK(pinned->version == version);
}

TEST_CASE("azure: a missing key is NotFound with Key Vault's message naming the key",
          "[kms][azure]") {
  Client c;
  const auto name = unique_name("missing");
  auto key = c.kv->describe_key(name);
  REQUIRE_FALSE(key.ok());
  CHECK(key.error().kind == ErrorKind::NotFound);
  CHECK(key.error().message.rfind("Key Vault GetKey " + name +
                                      ": KeyNotFound: A key with (name/id) " + name +
                                      " was not found in this key vault.",
                                  0) == 0);
  CHECK(key.error().message.find("(HTTP 404)") != std::string::npos);
  CHECK(c.transport.sent == 3);  // token, GetKey, GetDeletedKey: nothing retried
}

TEST_CASE(
    "azure: a disabled key is Disabled (old), an expired one Expired (old), enabling brings "
    "it back",
    "[kms][azure]") {
  Client c;
  const auto name = unique_name("toggle");
  create_rsa_key(c, name);
  KeyUpdate disable;
  disable.enabled = false;
  REQUIRE(c.kv->update_key(name, "", disable).ok());
  auto key = c.kv->describe_key(name);
  REQUIRE(key.ok());
  CHECK(key->state == "Disabled");
  CHECK(*key->status == CmkStatus::Old);
  CHECK_FALSE(key->enabled);

  KeyUpdate expire;
  expire.enabled = true;
  expire.expires = std::chrono::system_clock::now() - std::chrono::hours(1);
  REQUIRE(c.kv->update_key(name, "", expire).ok());
  key = c.kv->describe_key(name);
  REQUIRE(key.ok());
  CHECK(key->state == "Expired");
  CHECK(*key->status == CmkStatus::Old);
  REQUIRE(key->material_expires.has_value());

  KeyUpdate renew;
  renew.expires = std::chrono::system_clock::now() + std::chrono::hours(24 * 365);
  REQUIRE(c.kv->update_key(name, "", renew).ok());
  key = c.kv->describe_key(name);
  REQUIRE(key.ok());
  CHECK(key->state == "Enabled");
  CHECK(*key->status == CmkStatus::Current);
}

TEST_CASE("azure: deletion moves the key to /deletedkeys (deleted) until it is recovered",
          "[kms][azure]") {
  Client c;
  const auto name = unique_name("doomed");
  create_rsa_key(c, name);
  auto schedule = c.kv->schedule_key_deletion(name, 7);
  REQUIRE(schedule.ok());
  CHECK(schedule->key_id == name);
  CHECK(schedule->state == "Deleted");
  REQUIRE(schedule->deletion_date.has_value());
  // The vault's retention (90 days here), not the requested window.
  auto days = std::chrono::duration_cast<std::chrono::hours>(*schedule->deletion_date -
                                                             std::chrono::system_clock::now())
                  .count() /
              24;
  CHECK(days >= 89);
  CHECK(days <= 90);

  auto key = c.kv->describe_key(name);
  REQUIRE(key.ok());
  CHECK(key->state == "Deleted");
  CHECK(*key->status == CmkStatus::Deleted);
  // Deleting again reports the same schedule instead of failing.
  auto again = c.kv->schedule_key_deletion(name, 7);
  REQUIRE(again.ok());
  CHECK(again->deletion_date == schedule->deletion_date);

  REQUIRE(c.kv->cancel_key_deletion(name).ok());
  key = c.kv->describe_key(name);
  REQUIRE(key.ok());
  CHECK(key->state == "Enabled");
  CHECK(*key->status == CmkStatus::Current);
  // Cancelling when nothing is pending is fine.
  CHECK(c.kv->cancel_key_deletion(name).ok());
}

TEST_CASE("azure: a wrong client secret is Unauthenticated by the token endpoint", "[kms][azure]") {
  Client c(config({{"clientSecret", "not-the-secret"}}));
  auto key = c.kv->describe_key(unique_name("any"));
  REQUIRE_FALSE(key.ok());
  CHECK(key.error().kind == ErrorKind::Unauthenticated);
  CHECK(key.error().message.find("Entra token (tenant " + fakes()["BYOK_AZURE_TENANT_ID"]) !=
        std::string::npos);
  CHECK(key.error().message.find(
            "invalid_client: AADSTS7000215: Invalid client secret provided.") != std::string::npos);
  CHECK(key.error().message.find("not-the-secret") == std::string::npos);
  CHECK(c.transport.sent == 1);  // no vault call without a token, and no retry
  Client unknown(config({{"clientId", "11111111-2222-3333-4444-555555555555"}}));
  auto who = unknown.kv->who_am_i();
  REQUIRE_FALSE(who.ok());
  CHECK(who.error().kind == ErrorKind::Unauthenticated);
  CHECK(who.error().message.find("unauthorized_client: AADSTS700016") != std::string::npos);
}

TEST_CASE("azure: who_am_i names the application, its object id and the tenant", "[kms][azure]") {
  Client c;
  auto who = c.kv->who_am_i();
  REQUIRE(who.ok());
  CHECK(who->principal == fakes()["BYOK_AZURE_CLIENT_ID"]);
  CHECK(who->id == fakes()["BYOK_AZURE_OBJECT_ID"]);
  CHECK(who->account == fakes()["BYOK_AZURE_TENANT_ID"]);
}

TEST_CASE("azure: workload identity: the federated token file is read again for a new token",
          "[kms][azure]") {
  FederatedToken file(fakes()["BYOK_AZURE_FEDERATED_TOKEN_DIR"]);
  Client c(config({{"clientSecret", ""},
                   {"clientId", fakes()["BYOK_AZURE_FEDERATED_CLIENT_ID"]},
                   {"tokenFile", file.path.string()}}));
  auto who = c.kv->who_am_i();
  REQUIRE(who.ok());
  CHECK(who->principal == fakes()["BYOK_AZURE_FEDERATED_CLIENT_ID"]);
  CHECK(who->id == fakes()["BYOK_AZURE_FEDERATED_OBJECT_ID"]);
  const auto name = unique_name("wi");
  CreateKeyRequest req;
  req.kty = "EC-HSM";
  req.crv = "P-256";
  REQUIRE(c.kv->create_key(name, req).ok());

  // The kubelet rotates the file; the old assertion is no longer accepted. Revoking the cached
  // token makes the vault refuse it, so the client must fetch a new one with the new assertion.
  file.write("eyJhbGciOiJSUzI1NiJ9." + random_hex(24) + ".rotated");
  fake_call("POST", "/__fake/revoke-tokens?client_id=" + fakes()["BYOK_AZURE_FEDERATED_CLIENT_ID"]);
  auto key = c.kv->describe_key(name);
  REQUIRE(key.ok());
  CHECK(key->key_spec == "EC-HSM P-256");

  // An assertion the issuer never wrote is refused.
  FederatedToken foreign(fs::temp_directory_path().string());
  Client stranger(config({{"clientSecret", ""},
                          {"clientId", fakes()["BYOK_AZURE_FEDERATED_CLIENT_ID"]},
                          {"tokenFile", foreign.path.string()}}));
  auto refused = stranger.kv->who_am_i();
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().kind == ErrorKind::Unauthenticated);
  CHECK(refused.error().message.find("AADSTS700213") != std::string::npos);
}

TEST_CASE("azure: an unreachable vault is Unavailable after a few quick attempts", "[kms][azure]") {
  Client c(config({}, "https://127.0.0.1:" + std::to_string(byok::testing::free_loopback_port())));
  auto key = c.kv->describe_key(unique_name("any"));
  REQUIRE_FALSE(key.ok());
  CHECK(key.error().kind == ErrorKind::Unavailable);
  CHECK(key.error().message.rfind("Key Vault GetKey ", 0) == 0);
  CHECK(key.error().message.find("gave up after 3 attempts") != std::string::npos);
  CHECK(c.transport.sent == 4);  // one token, three tries
}

TEST_CASE("azure: TLS verification stays on: servers whose CA is not trusted are refused",
          "[kms][azure]") {
  Client c(config(), /*trust_ca=*/false);
  auto key = c.kv->describe_key(unique_name("any"));
  REQUIRE_FALSE(key.ok());
  CHECK(key.error().kind == ErrorKind::Unavailable);
  CHECK(key.error().message.find("Entra token") != std::string::npos);
  auto who = c.kv->who_am_i();
  REQUIRE_FALSE(who.ok());
  CHECK(who.error().kind == ErrorKind::Unavailable);
}

TEST_CASE(
    "azure: RSA-2048 and EC P-256 keys imported through key_hsm arrive intact and are found "
    "again",
    "[kms][azure]") {
  for (const char* type : {"rsa-2048", "ecdsa-p256"}) {
    INFO(type);
    Client c;
    auto target = import_target(unique_name("byok"), type);
    auto algorithms = c.kv->wrapping_algorithms(type);
    REQUIRE(algorithms.ok());
    REQUIRE(algorithms->front() == "CKM_RSA_AES_KEY_WRAP");
    auto before = c.kv->find_key(target);
    REQUIRE(before.ok());
    CHECK_FALSE(before->has_value());

    auto wrapping = c.kv->prepare_import(target, "");
    REQUIRE(wrapping.ok());
    CHECK(wrapping->import_token.rfind(
              fakes()["BYOK_AZURE_VAULT_URL"] + "/keys/" + target.name + "-kek/", 0) == 0);
    auto kek = byok::testing::public_key_from_spki(wrapping->public_key_der);
    CHECK(EVP_PKEY_get_bits(kek.get()) == 4096);

    auto material = byok::testing::make_material(type);
    // Azure's .byok wrap: OAEP with SHA-1.
    auto wrapped =
        byok::testing::rsa_aes_wrap(wrapping->public_key_der, EVP_sha1(), material.bytes);
    auto imported = c.kv->import_key(target, *wrapping, wrapped, ImportKind::First);
    REQUIRE(imported.ok());
    CHECK(imported->key_id == target.name);
    CHECK(imported->resource == fakes()["BYOK_AZURE_VAULT_URL"] + "/keys/" + target.name);

    auto held = fake_call("GET", "/__fake/keys/" + target.name + "/material-sha256");
    CHECK(held["sha256"] == aws::sha256_hex(material.bytes));
    CHECK(held["version"] == imported->version);

    auto found = c.kv->find_key(target);
    REQUIRE(found.ok());
    REQUIRE(found->has_value());
    CHECK((*found)->version == imported->version);
    CHECK((*found)->state == "Enabled");
    CHECK((*found)->imported);
    CHECK((*found)->key_spec == (std::string(type) == "rsa-2048" ? "RSA-HSM" : "EC-HSM P-256"));

    // A second prepare reuses the KEK rather than making another.
    auto again = c.kv->prepare_import(target, "");
    REQUIRE(again.ok());
    CHECK(again->import_token == wrapping->import_token);
  }
}

TEST_CASE("azure: the fake vault refuses a wrap it cannot unwrap with the KEK", "[kms][azure]") {
  Client c;
  auto target = import_target(unique_name("badwrap"), "ecdsa-p256");
  auto wrapping = c.kv->prepare_import(target, "");
  REQUIRE(wrapping.ok());
  auto material = byok::testing::make_material("ecdsa-p256");
  // OAEP with SHA-256 is not what a .byok file carries.
  auto wrapped =
      byok::testing::rsa_aes_wrap(wrapping->public_key_der, EVP_sha256(), material.bytes);
  auto r = c.kv->import_key(target, *wrapping, wrapped, ImportKind::First);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::InvalidArgument);
  CHECK(r.error().message.find("RSA-OAEP (SHA-1) decryption") != std::string::npos);
  // Right wrap, wrong curve for the key type.
  auto p384 = byok::testing::make_material("ecdsa-p384");
  auto r2 = c.kv->import_key(
      target, *wrapping,
      byok::testing::rsa_aes_wrap(wrapping->public_key_der, EVP_sha1(), p384.bytes),
      ImportKind::First);
  REQUIRE_FALSE(r2.ok());
  CHECK(r2.error().message.find("curve is P-384") != std::string::npos);
  auto none = c.kv->find_key(target);
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());
}

TEST_CASE("azure: a rotation imports new material as a new version", "[kms][azure]") {
  Client c;
  auto target = import_target(unique_name("rotating"), "rsa-2048");
  target.allow_rotation = true;
  auto wrapping = c.kv->prepare_import(target, "");
  REQUIRE(wrapping.ok());
  auto first = byok::testing::make_material("rsa-2048");
  auto v1 = c.kv->import_key(
      target, *wrapping,
      byok::testing::rsa_aes_wrap(wrapping->public_key_der, EVP_sha1(), first.bytes),
      ImportKind::First);
  REQUIRE(v1.ok());
  auto second = byok::testing::make_material("rsa-2048");
  auto v2 = c.kv->import_key(
      target, *wrapping,
      byok::testing::rsa_aes_wrap(wrapping->public_key_der, EVP_sha1(), second.bytes),
      ImportKind::NewVersion);
  REQUIRE(v2.ok());
  CHECK(v2->version != v1->version);
  CHECK(fake_call("GET", "/__fake/keys/" + target.name + "/material-sha256")["sha256"] ==
        aws::sha256_hex(second.bytes));
  CHECK(fake_call("GET", "/__fake/keys/" + target.name + "/material-sha256?version=" +
                             v1->version)["sha256"] == aws::sha256_hex(first.bytes));
  auto key = c.kv->describe_key(target.name);
  REQUIRE(key.ok());
  CHECK(key->version == v2->version);
}

TEST_CASE("azure: find_key refuses a key of the target's name that another owner made",
          "[kms][azure]") {
  Client c;
  const auto name = unique_name("taken");
  create_rsa_key(c, name);
  auto r = c.kv->find_key(import_target(name, "rsa-2048"));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::AlreadyExists);
  CHECK(r.error().message.find("tag byok.dev/owner is absent") != std::string::npos);
}

TEST_CASE("azure: key types Key Vault cannot import are refused before any call", "[kms][azure]") {
  Client c;
  for (const char* type : {"ed25519", "chacha20-poly1305", "aes256-gcm96"}) {
    INFO(type);
    auto algorithms = c.kv->wrapping_algorithms(type);
    REQUIRE_FALSE(algorithms.ok());
    CHECK(algorithms.error().kind == ErrorKind::Unsupported);
    auto prepared = c.kv->prepare_import(import_target(unique_name("no"), type), "");
    CHECK(prepared.error().kind == ErrorKind::Unsupported);
  }
  CHECK(c.transport.sent == 0);
}
