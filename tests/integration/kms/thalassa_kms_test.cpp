// ThalassaClient against the strict fake of a Thalassa-style regional KMS over TLS
// (tests/fakes/thalassa/fake_thalassa_kms.py, started by tests/harness/thalassa-kms.sh): no real
// Thalassa server can run here. The fake checks the bearer token and organisation header and
// really unwraps what is imported; its test-only /__fake/ endpoint returns the SHA-256 of what it
// unwrapped, which the tests compare with the material they wrapped.
//
// The fake is started once per ctest run by the kms_thalassa fixture; tests/harness/
// server_env.h finds its env file.
#include <catch2/catch.hpp>

#include <memory>

#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include "common/clock.h"
#include "kms/aws/sigv4.h"
#include "kms/http_transport.h"
#include "kms/thalassa/thalassa_client.h"
#include "kms/thalassa/thalassa_traits.h"
#include "tests/harness/kms_provider_env.h"
#include "tests/harness/server_env.h"
#include "tests/integration/kms/kms_test_support.h"

using namespace byok;
using namespace byok::kms;
using namespace byok::kms::thalassa;
using byok::testing::CountingTransport;
using Json = nlohmann::json;

namespace {

const byok::testing::ServerEnv& fake() {
  static const auto env = byok::testing::ServerEnv::for_provider("thalassa");
  return env;
}

struct Client {
  RealClock clock;
  CountingTransport transport;
  ThalassaClient kms;

  static ThalassaConfig config(const std::string& token, const std::string& endpoint,
                               const std::string& organisation) {
    ThalassaConfig c;
    c.endpoint = endpoint.empty() ? fake()["BYOK_THALASSA_ENDPOINT"] : endpoint;
    c.region = fake()["BYOK_THALASSA_REGION"];
    c.organisation = organisation.empty() ? fake()["BYOK_THALASSA_ORGANISATION"] : organisation;
    c.token = token;
    c.retry.base_delay = std::chrono::milliseconds(20);
    return c;
  }
  explicit Client(std::string token = fake()["BYOK_THALASSA_TOKEN"], std::string endpoint = "",
                  bool trust_ca = true, std::string organisation = "")
      : transport(
            make_http_transport({std::chrono::seconds(10),
                                 trust_ca ? fake().file("BYOK_THALASSA_CA_FILE") : std::string()})),
        kms(config(token, endpoint, organisation), transport, clock) {}
};

// The fake's test-only endpoints (no authentication).
Json fake_call(const std::string& method, const std::string& path, const Json& body = nullptr) {
  auto transport =
      make_http_transport({std::chrono::seconds(10), fake().file("BYOK_THALASSA_CA_FILE")});
  HttpRequest req{method,
                  fake()["BYOK_THALASSA_ENDPOINT"] + path,
                  {{"Content-Type", "application/json"}},
                  body.is_null() ? "" : body.dump()};
  auto resp = transport->send(req);
  if (!resp) FAIL(method << " " << path << ": " << resp.error().message);
  INFO(method << " " << path << " -> " << resp->status << " " << resp->body);
  REQUIRE(resp->status == 200);
  return Json::parse(resp->body);
}

std::string imported_sha256(const std::string& identity, const std::string& version) {
  return fake_call("GET", "/__fake/keys/" + identity + "/sha256")["versions"].value(version, "");
}

ImportTarget target_for(const std::string& type, bool allow_rotation = false,
                        const std::string& hash = "sha256") {
  ImportTarget t;
  t.name = byok::testing::unique_name("it-" + type);
  t.key_type = type;
  t.description = "byok-operator integration test";
  t.allow_rotation = allow_rotation;
  t.owner = "uid-" + t.name;
  t.wrapping_algorithm = hash;
  return t;
}

const EVP_MD* oaep_md(const std::string& hash) {
  return hash == "sha1" ? EVP_sha1() : EVP_sha256();
}

struct Imported {
  std::string identity;
  std::string material;
};

Imported import_fresh(ThalassaClient& kms, const ImportTarget& target) {
  auto before = kms.find_key(target);
  REQUIRE(before.ok());
  REQUIRE_FALSE(before->has_value());
  auto wrapping = kms.prepare_import(target, "");
  if (!wrapping) FAIL("prepare_import: " << wrapping.error().message);
  auto material = byok::testing::make_material(target.key_type);
  auto r = kms.import_key(
      target, *wrapping,
      byok::testing::rsa_aes_wrap(wrapping->public_key_der, oaep_md(target.wrapping_algorithm),
                                  material.bytes),
      ImportKind::First);
  if (!r) FAIL("import_key: " << r.error().message);
  CHECK(r->version == "1");
  CHECK(r->resource == "kms/" + fake()["BYOK_THALASSA_REGION"] + "/keys/" + r->key_id);
  CHECK(imported_sha256(r->key_id, "1") == kms::aws::sha256_hex(material.bytes));
  return {r->key_id, material.bytes};
}

}  // namespace

TEST_CASE("thalassa: who_am_i names the token's user in the configured organisation",
          "[kms][thalassa]") {
  Client c;
  auto who = c.kms.who_am_i();
  REQUIRE(who.ok());
  CHECK(who->principal == fake()["BYOK_THALASSA_EMAIL"]);
  CHECK(who->account == fake()["BYOK_THALASSA_ORGANISATION"]);
  CHECK(who->id == fake()["BYOK_THALASSA_SUBJECT"]);
  // The organisation may be named by its slug too.
  Client by_slug(fake()["BYOK_THALASSA_TOKEN"], "", true,
                 fake()["BYOK_THALASSA_ORGANISATION_SLUG"]);
  REQUIRE(by_slug.kms.who_am_i().ok());
}

TEST_CASE("thalassa: symmetric and private keys import, the fake unwraps exactly the material",
          "[kms][thalassa]") {
  struct Case {
    std::string type, hash;
  };
  for (const auto& c : {Case{"aes256-gcm96", "sha256"}, Case{"aes128-gcm96", "sha1"},
                        Case{"chacha20-poly1305", "sha256"}, Case{"rsa-2048", "sha256"},
                        Case{"ecdsa-p256", "sha1"}, Case{"ed25519", "sha256"}}) {
    INFO(c.type << " " << c.hash);
    Client client;
    auto target = target_for(c.type, false, c.hash);
    auto imported = import_fresh(client.kms, target);
    auto key = client.kms.describe_key(imported.identity);
    REQUIRE(key.ok());
    CHECK(key->name == target.name);
    CHECK(key->key_spec == c.type);
    CHECK(key->state == "active");
    CHECK(key->status == CmkStatus::Current);
    CHECK(key->imported);
    CHECK(key->version == "1");
    auto found = client.kms.find_key(target);
    REQUIRE(found.ok());
    REQUIRE(found->has_value());
    CHECK((*found)->key_id == imported.identity);
  }
}

TEST_CASE("thalassa: a wrap the wrapping key cannot open is refused and creates nothing",
          "[kms][thalassa]") {
  Client c;
  auto target = target_for("aes256-gcm96");
  auto wrapping = c.kms.prepare_import(target, "");
  REQUIRE(wrapping.ok());
  auto wrapped = byok::testing::rsa_aes_wrap(wrapping->public_key_der, EVP_sha256(),
                                             byok::testing::random_bytes(32));
  SECTION("one flipped byte in the KWP half") { wrapped[wrapped.size() - 5] ^= 0x01; }
  SECTION("one flipped byte in the OAEP half") { wrapped[100] ^= 0x01; }
  SECTION("OAEP with SHA-256 announced as sha1") { wrapping->algorithm = "sha1"; }
  SECTION("an RSA key wrapped for an AES type") {
    wrapped = byok::testing::rsa_aes_wrap(wrapping->public_key_der, EVP_sha256(),
                                          byok::testing::make_material("ecdsa-p256").bytes);
  }
  auto r = c.kms.import_key(target, *wrapping, wrapped, ImportKind::First);
  REQUIRE_FALSE(r.ok());
  INFO(r.error().message);
  CHECK(r.error().kind == ErrorKind::InvalidArgument);
  CHECK(r.error().message.rfind("thalassa POST kms/" + fake()["BYOK_THALASSA_REGION"] + "/keys: ",
                                0) == 0);
  auto after = c.kms.find_key(target);
  REQUIRE(after.ok());
  CHECK_FALSE(after->has_value());
}

TEST_CASE("thalassa: a taken name is a Conflict, and find_key refuses another owner's key",
          "[kms][thalassa]") {
  Client c;
  auto target = target_for("aes256-gcm96");
  import_fresh(c.kms, target);
  auto other = target;
  other.owner = "uid-someone-else";
  auto found = c.kms.find_key(other);
  REQUIRE_FALSE(found.ok());
  CHECK(found.error().kind == ErrorKind::AlreadyExists);
  auto wrapping = c.kms.prepare_import(other, "");
  REQUIRE(wrapping.ok());
  auto again = c.kms.import_key(other, *wrapping,
                                byok::testing::rsa_aes_wrap(wrapping->public_key_der, EVP_sha256(),
                                                            byok::testing::random_bytes(32)),
                                ImportKind::First);
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().kind == ErrorKind::Conflict);
}

TEST_CASE("thalassa: new material as a new version only for keys imported with allowRotation",
          "[kms][thalassa]") {
  Client c;
  auto rotatable = target_for("aes256-gcm96", true);
  auto first = import_fresh(c.kms, rotatable);
  auto wrapping = c.kms.prepare_import(rotatable, first.identity);
  REQUIRE(wrapping.ok());
  CHECK(wrapping->key_id == first.identity);
  auto second = byok::testing::make_material("aes256-gcm96");
  auto r = c.kms.import_key(
      rotatable, *wrapping,
      byok::testing::rsa_aes_wrap(wrapping->public_key_der, EVP_sha256(), second.bytes),
      ImportKind::NewVersion);
  if (!r) FAIL(r.error().message);
  CHECK(r->key_id == first.identity);
  CHECK(r->version == "2");
  CHECK(imported_sha256(first.identity, "2") == kms::aws::sha256_hex(second.bytes));
  CHECK(imported_sha256(first.identity, "1") == kms::aws::sha256_hex(first.material));
  CHECK(c.kms.describe_key(first.identity)->version == "2");

  auto fixed = target_for("aes256-gcm96", false);
  auto imported = import_fresh(c.kms, fixed);
  auto w2 = c.kms.prepare_import(fixed, imported.identity);
  REQUIRE(w2.ok());
  auto refused = c.kms.import_key(fixed, *w2,
                                  byok::testing::rsa_aes_wrap(w2->public_key_der, EVP_sha256(),
                                                              byok::testing::random_bytes(32)),
                                  ImportKind::NewVersion);
  REQUIRE_FALSE(refused.ok());
  INFO(refused.error().message);
  CHECK(refused.error().kind == ErrorKind::InvalidArgument);
  CHECK(refused.error().message.find("allowRotation false") != std::string::npos);
  CHECK(c.kms.describe_key(imported.identity)->version == "1");
}

TEST_CASE("thalassa: deletion is scheduled (deleted) and can be cancelled", "[kms][thalassa]") {
  Client c;
  auto imported = import_fresh(c.kms, target_for("aes256-gcm96"));
  auto d = c.kms.schedule_key_deletion(imported.identity, 7);
  if (!d) FAIL(d.error().message);
  CHECK(d->key_id == imported.identity);
  CHECK(d->state == "pending_deletion");
  auto key = c.kms.describe_key(imported.identity);
  REQUIRE(key.ok());
  CHECK(key->status == CmkStatus::Deleted);
  CHECK_FALSE(key->enabled);
  REQUIRE(c.kms.cancel_key_deletion(imported.identity).ok());
  CHECK(c.kms.describe_key(imported.identity)->state == "active");
  auto twice = c.kms.cancel_key_deletion(imported.identity);
  REQUIRE_FALSE(twice.ok());
  CHECK(twice.error().kind == ErrorKind::Conflict);
}

TEST_CASE("thalassa: a key disabled in the console is old", "[kms][thalassa]") {
  Client c;
  auto imported = import_fresh(c.kms, target_for("aes256-gcm96"));
  fake_call("POST", "/__fake/keys/" + imported.identity + "/state", {{"status", "disabled"}});
  auto key = c.kms.describe_key(imported.identity);
  REQUIRE(key.ok());
  CHECK(key->state == "disabled");
  CHECK(key->status == CmkStatus::Old);
  CHECK_FALSE(key->enabled);
}

TEST_CASE("thalassa: a missing key is NotFound, not retried", "[kms][thalassa]") {
  Client c;
  auto key = c.kms.describe_key("kms-0000000000000000");
  REQUIRE_FALSE(key.ok());
  CHECK(key.error().kind == ErrorKind::NotFound);
  CHECK(key.error().message.find("kms-0000000000000000 not found") != std::string::npos);
  CHECK(c.transport.sent == 1);
}

TEST_CASE("thalassa: a read-only token may describe but not import or delete", "[kms][thalassa]") {
  Client owner;
  auto imported = import_fresh(owner.kms, target_for("aes256-gcm96"));
  Client reader(fake()["BYOK_THALASSA_READER_TOKEN"]);
  REQUIRE(reader.kms.describe_key(imported.identity).ok());
  auto target = target_for("aes256-gcm96");
  auto wrapping = reader.kms.prepare_import(target, "");
  REQUIRE(wrapping.ok());  // reading the wrapping key is allowed
  auto r = reader.kms.import_key(target, *wrapping,
                                 byok::testing::rsa_aes_wrap(wrapping->public_key_der, EVP_sha256(),
                                                             byok::testing::random_bytes(32)),
                                 ImportKind::First);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::PermissionDenied);
  auto d = reader.kms.schedule_key_deletion(imported.identity, 7);
  REQUIRE_FALSE(d.ok());
  CHECK(d.error().kind == ErrorKind::PermissionDenied);
  CHECK(owner.kms.describe_key(imported.identity)->state == "active");
}

TEST_CASE("thalassa: an unknown token is Unauthenticated, another organisation is PermissionDenied",
          "[kms][thalassa]") {
  Client bad("tk-not-issued-by-the-fake");
  auto key = bad.kms.describe_key("kms-1");
  REQUIRE_FALSE(key.ok());
  CHECK(key.error().kind == ErrorKind::Unauthenticated);
  CHECK(bad.transport.sent == 1);
  auto who = bad.kms.who_am_i();
  REQUIRE_FALSE(who.ok());
  CHECK(who.error().kind == ErrorKind::Unauthenticated);

  Client elsewhere(fake()["BYOK_THALASSA_TOKEN"], "", true, "org-not-mine");
  auto denied = elsewhere.kms.prepare_import(target_for("aes256-gcm96"), "");
  REQUIRE_FALSE(denied.ok());
  CHECK(denied.error().kind == ErrorKind::PermissionDenied);
  auto no_membership = elsewhere.kms.who_am_i();
  REQUIRE_FALSE(no_membership.ok());
  CHECK(no_membership.error().kind == ErrorKind::PermissionDenied);
}

TEST_CASE(
    "thalassa: a personal access token goes as Token, an access token as Bearer, and "
    "neither under the other scheme",
    "[kms][thalassa]") {
  auto transport =
      make_http_transport({std::chrono::seconds(10), fake().file("BYOK_THALASSA_CA_FILE")});
  RealClock clock;
  ProviderConfig config = byok::testing::provider_config_from_env("thalassa");
  auto who_with = [&](const std::string& key, const std::string& token) {
    config.credentials = {{key, token}};
    auto client = ThalassaClient::from_config(config, *transport, clock);
    REQUIRE(client.ok());
    return (*client)->who_am_i();
  };
  auto pat = who_with("personalAccessToken", fake()["BYOK_THALASSA_PERSONAL_TOKEN"]);
  REQUIRE(pat.ok());
  CHECK(pat->id == fake()["BYOK_THALASSA_SUBJECT"]);
  // The same personal access token as a bearer token, and an access token as a personal one.
  auto pat_as_bearer = who_with("token", fake()["BYOK_THALASSA_PERSONAL_TOKEN"]);
  REQUIRE_FALSE(pat_as_bearer.ok());
  CHECK(pat_as_bearer.error().kind == ErrorKind::Unauthenticated);
  auto bearer_as_pat = who_with("personalAccessToken", fake()["BYOK_THALASSA_TOKEN"]);
  REQUIRE_FALSE(bearer_as_pat.ok());
  CHECK(bearer_as_pat.error().kind == ErrorKind::Unauthenticated);
}

TEST_CASE("thalassa: an unreachable endpoint is Unavailable after the retries", "[kms][thalassa]") {
  Client c(fake()["BYOK_THALASSA_TOKEN"],
           "https://127.0.0.1:" + std::to_string(byok::testing::free_loopback_port()));
  auto key = c.kms.describe_key("kms-1");
  REQUIRE_FALSE(key.ok());
  CHECK(key.error().kind == ErrorKind::Unavailable);
  CHECK(key.error().message.find("gave up after 3 attempts") != std::string::npos);
  CHECK(c.transport.sent == 3);
}

TEST_CASE("thalassa: a server whose CA is not trusted is refused", "[kms][thalassa]") {
  Client c(fake()["BYOK_THALASSA_TOKEN"], "", /*trust_ca=*/false);
  auto who = c.kms.who_am_i();
  REQUIRE_FALSE(who.ok());
  INFO(who.error().message);
  CHECK(who.error().kind == ErrorKind::Unavailable);
}

TEST_CASE("thalassa: from_config builds a working client", "[kms][thalassa]") {
  auto transport =
      make_http_transport({std::chrono::seconds(10), fake().file("BYOK_THALASSA_CA_FILE")});
  RealClock clock;
  ProviderConfig config = byok::testing::provider_config_from_env("thalassa");
  config.credentials = {{"token", fake()["BYOK_THALASSA_TOKEN"]}};
  auto client = ThalassaClient::from_config(config, *transport, clock);
  REQUIRE(client.ok());
  auto who = (*client)->who_am_i();
  REQUIRE(who.ok());
  CHECK(who->id == fake()["BYOK_THALASSA_SUBJECT"]);
}
