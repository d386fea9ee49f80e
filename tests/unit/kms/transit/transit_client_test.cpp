// TransitClient against a scripted transport: the requests it builds (paths, headers, bodies),
// how it reads Vault's answers and errors, when it retries, and what it refuses before sending.
// The same calls run against a real Vault in tests/integration/kms/transit_kms_test.cpp.
#include <catch2/catch.hpp>

#include <functional>
#include <memory>

#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "common/base64.h"
#include "kms/transit/transit_client.h"
#include "kms/transit/transit_traits.h"
#include "kms/transit/vault_errors.h"
#include "tests/unit/kms/scripted_transport.h"

using namespace byok;
using namespace byok::kms;
using namespace byok::kms::transit;
using Json = nlohmann::json;

namespace {

using kms::testing::answer;
using FixedClock = kms::testing::SettableClock;
using FakeTransport = kms::testing::ScriptedTransport;

struct Fixture {
  FixedClock clock;
  FakeTransport transport;
  std::vector<std::chrono::milliseconds> sleeps;
  std::unique_ptr<TransitClient> client;

  explicit Fixture(std::string mount = "transit", std::string ns = "") {
    REQUIRE(parse_rfc3339("2026-11-23T15:38:00Z", clock.wall));
    TransitConfig cfg;
    cfg.endpoint = "https://vault.test:8200/";
    cfg.mount_path = mount;
    cfg.vault_namespace = ns;
    cfg.token = "hvs.test-token";
    RetryEnvironment env{[this](std::chrono::milliseconds d) { sleeps.push_back(d); },
                         [] { return 0.5; }};
    client = std::make_unique<TransitClient>(cfg, transport, clock, env);
  }
};

// GET transit/keys/<name> as Vault 1.21 answers it for an imported AES key.
std::string symmetric_key(const std::string& name, bool allow_rotation = false,
                          bool deletion_allowed = false, int versions = 1) {
  Json keys = Json::object();
  for (int v = 1; v <= versions; ++v) keys[std::to_string(v)] = 1763912300 + v;
  return Json{{"request_id", "r"},
              {"data",
               {{"name", name},
                {"type", "aes256-gcm96"},
                {"derived", false},
                {"deletion_allowed", deletion_allowed},
                {"exportable", false},
                {"allow_plaintext_backup", false},
                {"imported_key", true},
                {"imported_key_allow_rotation", allow_rotation},
                {"latest_version", versions},
                {"min_available_version", 0},
                {"min_decryption_version", 1},
                {"min_encryption_version", 0},
                {"supports_decryption", true},
                {"supports_derivation", true},
                {"supports_encryption", true},
                {"supports_signing", false},
                {"auto_rotate_period", 0},
                {"keys", keys}}}}
      .dump();
}

std::string asymmetric_key(const std::string& name, const std::string& type, bool imported) {
  Json data = {{"name", name},
               {"type", type},
               {"deletion_allowed", false},
               {"imported_key", imported},
               {"latest_version", 2},
               {"min_decryption_version", 1},
               {"supports_signing", true},
               {"supports_encryption", false},
               {"keys",
                {{"1",
                  {{"creation_time", "2026-11-20T10:00:00.123456789Z"},
                   {"name", "P-256"},
                   {"public_key", "-----BEGIN PUBLIC KEY-----..."}}},
                 {"2",
                  {{"creation_time", "2026-11-22T10:00:00Z"},
                   {"name", "P-256"},
                   {"public_key", "-----BEGIN PUBLIC KEY-----..."}}}}}};
  if (imported) data["imported_key_allow_rotation"] = false;
  return Json{{"data", data}}.dump();
}

using Pkey = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

Pkey rsa_key(int bits) {
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(
      EVP_PKEY_CTX_new_id(EVP_PKEY_RSA, nullptr), &EVP_PKEY_CTX_free);
  EVP_PKEY* key = nullptr;
  REQUIRE(EVP_PKEY_keygen_init(ctx.get()) == 1);
  REQUIRE(EVP_PKEY_CTX_set_rsa_keygen_bits(ctx.get(), bits) == 1);
  REQUIRE(EVP_PKEY_keygen(ctx.get(), &key) == 1);
  return Pkey(key, &EVP_PKEY_free);
}

std::string public_pem(EVP_PKEY* key) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  REQUIRE(PEM_write_bio_PUBKEY(bio.get(), key) == 1);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

std::string spki_der(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(key, &der);
  REQUIRE(len > 0);
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

// One RSA-4096 key for the whole file: generating it takes a moment.
EVP_PKEY* wrapping_key_4096() {
  static Pkey key = rsa_key(4096);
  return key.get();
}

ImportTarget aes_target(bool allow_rotation = false) {
  ImportTarget t;
  t.name = "payments";
  t.key_type = "aes256-gcm96";
  t.allow_rotation = allow_rotation;
  t.owner = "5f0c3b1e-uid";
  t.wrapping_algorithm = "SHA256";
  return t;
}

}  // namespace

TEST_CASE("describe_key reads transit/keys/<name> with the token and maps its fields",
          "[kms][transit]") {
  Fixture f;
  f.transport.handler = [](const HttpRequest&) {
    return answer(200, symmetric_key("payments", false, false, 3));
  };
  auto key = f.client->describe_key("payments");
  REQUIRE(key.ok());
  REQUIRE(f.transport.requests.size() == 1);
  const auto& req = f.transport.requests[0];
  CHECK(req.method == "GET");
  CHECK(req.url == "https://vault.test:8200/v1/transit/keys/payments");
  CHECK(find_header(req.headers, "X-Vault-Token") == "hvs.test-token");
  CHECK(find_header(req.headers, "X-Vault-Namespace").empty());
  CHECK(req.body.empty());

  CHECK(key->key_id == "payments");
  CHECK(key->name == "payments");
  CHECK(key->resource == "transit/keys/payments");
  CHECK(key->version == "3");
  CHECK(key->state == "enabled");
  REQUIRE(key->status.has_value());
  CHECK(*key->status == CmkStatus::Current);
  CHECK(key->key_spec == "aes256-gcm96");
  CHECK(key->key_usage == "encryption,decryption,derivation");
  CHECK(key->origin == "imported");
  CHECK(key->imported);
  CHECK(key->enabled);
  REQUIRE(key->created.has_value());
  CHECK(format_rfc3339(*key->created) == "2025-11-23T15:38:21Z");  // version 1: 1763912301
  CHECK_FALSE(key->deletion_date.has_value());
}

TEST_CASE("asymmetric keys give the oldest version's RFC 3339 creation time", "[kms][transit]") {
  Fixture f;
  f.transport.handler = [](const HttpRequest&) {
    return answer(200, asymmetric_key("signer", "ecdsa-p256", false));
  };
  auto key = f.client->describe_key("signer");
  REQUIRE(key.ok());
  CHECK(key->key_spec == "ecdsa-p256");
  CHECK(key->key_usage == "signing");
  CHECK(key->origin == "transit");
  CHECK_FALSE(key->imported);
  CHECK(key->version == "2");
  REQUIRE(key->created.has_value());
  CHECK(format_rfc3339(*key->created) == "2026-11-20T10:00:00Z");
}

TEST_CASE("a key whose config allows deletion reports state deletion_allowed, still current",
          "[kms][transit]") {
  Fixture f;
  f.transport.handler = [](const HttpRequest&) {
    return answer(200, symmetric_key("k", false, true));
  };
  auto key = f.client->describe_key("k");
  REQUIRE(key.ok());
  CHECK(key->state == "deletion_allowed");
  REQUIRE(key->status.has_value());
  CHECK(*key->status == CmkStatus::Current);
}

TEST_CASE("transit_cmk_status maps the client's state words", "[kms][transit]") {
  CHECK(transit_cmk_status("enabled") == CmkStatus::Current);
  CHECK(transit_cmk_status("deletion_allowed") == CmkStatus::Current);
  CHECK(transit_cmk_status("deleted") == CmkStatus::Deleted);
  CHECK_FALSE(transit_cmk_status("Enabled").has_value());
  CHECK_FALSE(transit_cmk_status("").has_value());
}

TEST_CASE("mount path and namespace go into the path and X-Vault-Namespace", "[kms][transit]") {
  Fixture f("/team-a/transit/", "admin/eng");
  f.transport.handler = [](const HttpRequest&) { return answer(200, symmetric_key("k")); };
  auto key = f.client->describe_key("k");
  REQUIRE(key.ok());
  CHECK(f.transport.requests[0].url == "https://vault.test:8200/v1/team-a/transit/keys/k");
  CHECK(find_header(f.transport.requests[0].headers, "X-Vault-Namespace") == "admin/eng");
  CHECK(key->resource == "team-a/transit/keys/k");
}

TEST_CASE("names transit cannot hold are refused before anything is sent", "[kms][transit]") {
  Fixture f;
  f.transport.handler = [](const HttpRequest&) { return answer(200, symmetric_key("k")); };
  for (std::string bad : {"", "a/b", "-lead", "trail.", "sp ace", "../keys", "q?x=1"}) {
    auto key = f.client->describe_key(bad);
    REQUIRE_FALSE(key.ok());
    CHECK(key.error().kind == ErrorKind::InvalidArgument);
  }
  CHECK(f.transport.requests.empty());
  CHECK(f.client->describe_key("a").ok());
  CHECK(f.client->describe_key("payments-2026.v1_x").ok());
}

TEST_CASE("Vault error answers map to error kinds with messages naming the call and the cause",
          "[kms][transit]") {
  struct Case {
    int status;
    std::string body;
    ErrorKind kind;
    std::string words;
  };
  const std::vector<Case> cases = {
      {403, R"({"errors":["permission denied"]})", ErrorKind::PermissionDenied,
       "permission denied (HTTP 403)"},
      {403, R"({"errors":["2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n"]})",
       ErrorKind::Unauthenticated, ": permission denied; invalid token (HTTP 403)"},
      {404, R"({"errors":[]})", ErrorKind::NotFound, "not found (HTTP 404)"},
      {404, R"({"errors":["no handler for route \"transit/keys/k\". route entry not found."]})",
       ErrorKind::FailedPrecondition, "is a transit engine mounted at transit/?"},
      {400, R"({"errors":["unknown key type: hmac2"]})", ErrorKind::InvalidArgument,
       "unknown key type: hmac2 (HTTP 400)"},
      {500,
       R"({"errors":["1 error occurred:\n\t* the import path cannot be used with an existing key; use import-version to rotate an existing imported key\n\n"]})",
       ErrorKind::Conflict, "existing key"},
      {500, R"({"errors":["1 error occurred:\n\t* crypto/rsa: decryption error\n\n"]})",
       ErrorKind::InvalidArgument, ": crypto/rsa: decryption error (HTTP 500)"},
      {500, R"({"errors":["1 error occurred:\n\t* kwp: failed to unwrap\n\n"]})",
       ErrorKind::InvalidArgument, "kwp"},
      {500,
       R"({"errors":["1 error occurred:\n\t* invalid key size 16 bytes for key type aes256-gcm96\n\n"]})",
       ErrorKind::InvalidArgument, "invalid key size"},
      {429, R"({"errors":["request path \"transit/keys/k\": rate limit quota exceeded"]})",
       ErrorKind::Throttled, "rate limit"},
      {503, R"({"errors":["Vault is sealed"]})", ErrorKind::Unavailable, "Vault is sealed"},
      {502, "<html>Bad Gateway</html>", ErrorKind::Unavailable,
       "<html>Bad Gateway</html> (HTTP 502)"},
  };
  for (const auto& c : cases) {
    Fixture f;
    f.transport.handler = [&](const HttpRequest&) { return answer(c.status, c.body); };
    auto key = f.client->describe_key("k");
    REQUIRE_FALSE(key.ok());
    INFO(c.status << " " << c.body << " -> " << key.error().message);
    CHECK(key.error().kind == c.kind);
    CHECK(key.error().message.rfind("transit GET transit/keys/k: ", 0) == 0);
    CHECK(key.error().message.find(c.words) != std::string::npos);
  }
}

TEST_CASE("parse_vault_errors reads the errors list and nothing else", "[kms][transit]") {
  CHECK(parse_vault_errors(R"({"errors":["a","b"]})") == std::vector<std::string>{"a", "b"});
  REQUIRE(parse_vault_errors(R"({"errors":[]})").has_value());
  CHECK(parse_vault_errors(R"({"errors":[]})")->empty());
  CHECK_FALSE(parse_vault_errors(R"({"data":{}})").has_value());
  CHECK_FALSE(parse_vault_errors("not json").has_value());
  CHECK(parse_vault_errors(
            R"({"errors":["2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n"]})") ==
        std::vector<std::string>{"permission denied", "invalid token"});
}

TEST_CASE("reads are retried with backoff on 5xx and throttling, writes are sent once",
          "[kms][transit]") {
  Fixture f;
  int calls = 0;
  f.transport.handler = [&](const HttpRequest&) {
    return ++calls < 3 ? answer(503, R"({"errors":["Vault is sealed"]})")
                       : answer(200, symmetric_key("k"));
  };
  REQUIRE(f.client->describe_key("k").ok());
  CHECK(calls == 3);
  // Equal jitter with random01 = 0.5: 3/4 of 100 ms, then of 200 ms.
  CHECK(f.sleeps == std::vector<std::chrono::milliseconds>{std::chrono::milliseconds(75),
                                                           std::chrono::milliseconds(150)});

  Fixture g;
  g.transport.handler = [](const HttpRequest&) {
    return answer(503, R"({"errors":["Vault is sealed"]})");
  };
  auto gone = g.client->describe_key("k");
  REQUIRE_FALSE(gone.ok());
  CHECK(gone.error().kind == ErrorKind::Unavailable);
  CHECK(gone.error().message.find("gave up after 3 attempts") != std::string::npos);
  CHECK(g.transport.requests.size() == 3);

  Fixture h;
  h.transport.handler = [](const HttpRequest& r) {
    return r.method == "GET" ? answer(200, symmetric_key("payments", true))
                             : answer(503, R"({"errors":["Vault is sealed"]})");
  };
  auto imported = h.client->import_key(aes_target(true), WrappingKey{"", "", "SHA256", "", {}},
                                       std::string(600, 'w'), ImportKind::NewVersion);
  REQUIRE_FALSE(imported.ok());
  CHECK(imported.error().kind == ErrorKind::Unavailable);
  int posts = 0;
  for (const auto& r : h.transport.requests) posts += r.method == "POST";
  CHECK(posts == 1);
  CHECK(h.sleeps.empty());

  Fixture n;
  n.transport.handler = [](const HttpRequest&) {
    return answer(403, R"({"errors":["permission denied"]})");
  };
  CHECK_FALSE(n.client->describe_key("k").ok());
  CHECK(n.transport.requests.size() == 1);  // not transient: no retry
}

TEST_CASE("a transport failure is Unavailable and names the call", "[kms][transit]") {
  Fixture f;
  f.transport.handler = [](const HttpRequest&) -> Result<HttpResponse> {
    return make_error(ErrorKind::Unavailable, "connection refused");
  };
  auto who = f.client->who_am_i();
  REQUIRE_FALSE(who.ok());
  CHECK(who.error().kind == ErrorKind::Unavailable);
  CHECK(who.error().message.rfind("transit GET auth/token/lookup-self: connection refused", 0) ==
        0);
}

TEST_CASE("who_am_i reads lookup-self: display name, accessor, namespace", "[kms][transit]") {
  Fixture f("transit", "admin/eng");
  f.transport.handler = [](const HttpRequest&) {
    return answer(200, R"({"data":{"accessor":"8609694a-cdbc-db9b-d345-e782dbb562ed",
      "display_name":"token-byok-operator","policies":["byok-operator","default"],
      "namespace_path":"admin/eng/","entity_id":""}})");
  };
  auto who = f.client->who_am_i();
  REQUIRE(who.ok());
  CHECK(f.transport.requests[0].url == "https://vault.test:8200/v1/auth/token/lookup-self");
  CHECK(f.transport.requests[0].method == "GET");
  CHECK(who->principal == "token-byok-operator");
  CHECK(who->id == "8609694a-cdbc-db9b-d345-e782dbb562ed");
  CHECK(who->account == "admin/eng/");

  Fixture g;
  g.transport.handler = [](const HttpRequest&) {
    return answer(200, R"({"data":{"accessor":"acc-1","display_name":""}})");
  };
  auto anon = g.client->who_am_i();
  REQUIRE(anon.ok());
  CHECK(anon->principal == "acc-1");
  CHECK(anon->account.empty());
}

TEST_CASE("schedule_key_deletion allows deletion, then deletes at once", "[kms][transit]") {
  Fixture f;
  f.transport.handler = [](const HttpRequest& r) {
    return r.method == "GET" ? answer(200, symmetric_key("payments")) : answer(204, "");
  };
  auto d = f.client->schedule_key_deletion("payments", 30);
  REQUIRE(d.ok());
  REQUIRE(f.transport.requests.size() == 3);
  CHECK(f.transport.requests[0].method == "GET");
  CHECK(f.transport.requests[1].method == "POST");
  CHECK(f.transport.requests[1].url == "https://vault.test:8200/v1/transit/keys/payments/config");
  CHECK(Json::parse(f.transport.requests[1].body) == Json{{"deletion_allowed", true}});
  CHECK(find_header(f.transport.requests[1].headers, "Content-Type") == "application/json");
  CHECK(f.transport.requests[2].method == "DELETE");
  CHECK(f.transport.requests[2].url == "https://vault.test:8200/v1/transit/keys/payments");
  CHECK(d->key_id == "payments");
  CHECK(d->state == "deleted");
  CHECK(transit_cmk_status(d->state) == CmkStatus::Deleted);
  REQUIRE(d->deletion_date.has_value());
  CHECK(*d->deletion_date == f.clock.wall);
}

TEST_CASE("schedule_key_deletion of a missing key is NotFound and writes nothing",
          "[kms][transit]") {
  Fixture f;
  f.transport.handler = [](const HttpRequest&) { return answer(404, R"({"errors":[]})"); };
  auto d = f.client->schedule_key_deletion("gone", 7);
  REQUIRE_FALSE(d.ok());
  CHECK(d.error().kind == ErrorKind::NotFound);
  CHECK(f.transport.requests.size() == 1);
}

TEST_CASE("a failed DELETE leaves the key reported as deletion_allowed", "[kms][transit]") {
  Fixture f;
  bool allowed = false;
  f.transport.handler = [&](const HttpRequest& r) {
    if (r.method == "POST") {
      allowed = true;
      return answer(204, "");
    }
    if (r.method == "DELETE") return answer(403, R"({"errors":["permission denied"]})");
    return answer(200, symmetric_key("k", false, allowed));
  };
  auto d = f.client->schedule_key_deletion("k", 7);
  REQUIRE_FALSE(d.ok());
  CHECK(d.error().kind == ErrorKind::PermissionDenied);
  CHECK(d.error().message.rfind("transit DELETE transit/keys/k: permission denied", 0) == 0);
  auto key = f.client->describe_key("k");
  REQUIRE(key.ok());
  CHECK(key->state == "deletion_allowed");
}

TEST_CASE("cancel_key_deletion is Unsupported and says why", "[kms][transit]") {
  Fixture f;
  f.transport.handler = [](const HttpRequest&) { return answer(500, ""); };
  auto st = f.client->cancel_key_deletion("payments");
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().kind == ErrorKind::Unsupported);
  CHECK(st.error().message.find("no deletion window") != std::string::npos);
  CHECK(f.transport.requests.empty());
}

TEST_CASE("every ImportedKey type imports with SHA256 or SHA1, others are refused",
          "[kms][transit]") {
  Fixture f;
  for (std::string type :
       {"aes128-gcm96", "aes256-gcm96", "chacha20-poly1305", "rsa-2048", "rsa-3072", "rsa-4096",
        "ecdsa-p256", "ecdsa-p384", "ecdsa-p521", "ed25519"}) {
    auto algs = f.client->wrapping_algorithms(type);
    REQUIRE(algs.ok());
    CHECK(*algs == std::vector<std::string>{"SHA256", "SHA1"});
  }
  auto hmac = f.client->wrapping_algorithms("hmac");
  REQUIRE_FALSE(hmac.ok());
  CHECK(hmac.error().kind == ErrorKind::Unsupported);
  auto unknown = f.client->wrapping_algorithms("aes512-gcm");
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().kind == ErrorKind::InvalidArgument);
  CHECK(f.transport.requests.empty());
}

TEST_CASE("find_key: no key is nullopt, a matching imported key is taken", "[kms][transit]") {
  Fixture f;
  f.transport.handler = [](const HttpRequest&) { return answer(404, R"({"errors":[]})"); };
  auto none = f.client->find_key(aes_target());
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());

  Fixture g;
  g.transport.handler = [](const HttpRequest&) { return answer(200, symmetric_key("payments")); };
  auto found = g.client->find_key(aes_target());
  REQUIRE(found.ok());
  REQUIRE(found->has_value());
  CHECK((*found)->key_id == "payments");
  CHECK((*found)->version == "1");
  CHECK((*found)->imported);
}

TEST_CASE("find_key refuses a same-named key that cannot be this object's", "[kms][transit]") {
  struct Case {
    std::string body;
    ImportTarget target;
    std::string words;
  };
  auto rsa = aes_target();
  rsa.key_type = "rsa-2048";
  const std::vector<Case> cases = {
      {asymmetric_key("payments", "ecdsa-p256", false),
       [] {
         auto t = aes_target();
         t.key_type = "ecdsa-p256";
         return t;
       }(),
       "generated by transit, not imported"},
      {symmetric_key("payments"), rsa, "is of type aes256-gcm96, not rsa-2048"},
      {symmetric_key("payments", false), aes_target(true), "imported with allow_rotation false"},
  };
  for (const auto& c : cases) {
    Fixture f;
    f.transport.handler = [&](const HttpRequest&) { return answer(200, c.body); };
    auto found = f.client->find_key(c.target);
    REQUIRE_FALSE(found.ok());
    INFO(found.error().message);
    CHECK(found.error().kind == ErrorKind::AlreadyExists);
    CHECK(found.error().message.find(c.words) != std::string::npos);
    CHECK(found.error().message.find("spec.kmsKeyName") != std::string::npos);
  }
  Fixture g;
  g.transport.handler = [](const HttpRequest&) {
    return answer(403, R"({"errors":["permission denied"]})");
  };
  auto denied = g.client->find_key(aes_target());
  REQUIRE_FALSE(denied.ok());
  CHECK(denied.error().kind == ErrorKind::PermissionDenied);
}

TEST_CASE("prepare_import fetches the RSA-4096 wrapping key as SPKI DER", "[kms][transit]") {
  Fixture f;
  const std::string pem = public_pem(wrapping_key_4096());
  f.transport.handler = [&](const HttpRequest&) {
    return answer(200, Json{{"data", {{"public_key", pem}}}}.dump());
  };
  auto w = f.client->prepare_import(aes_target(), "");
  REQUIRE(w.ok());
  REQUIRE(f.transport.requests.size() == 1);
  CHECK(f.transport.requests[0].method == "GET");
  CHECK(f.transport.requests[0].url == "https://vault.test:8200/v1/transit/wrapping_key");
  CHECK(w->public_key_der == spki_der(wrapping_key_4096()));
  CHECK(w->algorithm == "SHA256");
  CHECK(w->key_id.empty());
  CHECK(w->import_token.empty());
  CHECK_FALSE(w->expires.has_value());

  auto again = f.client->prepare_import(aes_target(true), "payments");
  REQUIRE(again.ok());
  CHECK(again->key_id == "payments");
}

TEST_CASE("prepare_import refuses a wrong algorithm, a bad name, and a non-4096 wrapping key",
          "[kms][transit]") {
  Fixture f;
  Pkey small = rsa_key(2048);
  const std::string pem = public_pem(small.get());
  f.transport.handler = [&](const HttpRequest&) {
    return answer(200, Json{{"data", {{"public_key", pem}}}}.dump());
  };
  auto t = aes_target();
  t.wrapping_algorithm = "RSA_AES_KEY_WRAP_SHA_256";
  auto bad_alg = f.client->prepare_import(t, "");
  REQUIRE_FALSE(bad_alg.ok());
  CHECK(bad_alg.error().kind == ErrorKind::InvalidArgument);
  t = aes_target();
  t.name = "a/b";
  auto bad_name = f.client->prepare_import(t, "");
  REQUIRE_FALSE(bad_name.ok());
  CHECK(bad_name.error().kind == ErrorKind::InvalidArgument);
  CHECK(f.transport.requests.empty());

  auto small_key = f.client->prepare_import(aes_target(), "");
  REQUIRE_FALSE(small_key.ok());
  CHECK(small_key.error().message.find("not RSA-4096 (2048 bits)") != std::string::npos);

  Fixture g;
  g.transport.handler = [](const HttpRequest&) {
    return answer(200, R"({"data":{"public_key":"not a pem"}})");
  };
  auto garbage = g.client->prepare_import(aes_target(), "");
  REQUIRE_FALSE(garbage.ok());
  CHECK(garbage.error().kind == ErrorKind::Internal);
}

TEST_CASE("a first import posts the wrap to keys/<name>/import and reads the version back",
          "[kms][transit]") {
  Fixture f;
  f.transport.handler = [](const HttpRequest& r) {
    return r.method == "POST" ? answer(204, "") : answer(200, symmetric_key("payments"));
  };
  const std::string wrapped = std::string(512, '\x01') + std::string(40, '\x02');
  auto r = f.client->import_key(aes_target(), WrappingKey{"", "der", "SHA1", "", {}}, wrapped,
                                ImportKind::First);
  REQUIRE(r.ok());
  REQUIRE(f.transport.requests.size() == 2);
  const auto& post = f.transport.requests[0];
  CHECK(post.method == "POST");
  CHECK(post.url == "https://vault.test:8200/v1/transit/keys/payments/import");
  CHECK(find_header(post.headers, "X-Vault-Token") == "hvs.test-token");
  CHECK(Json::parse(post.body) == Json{{"ciphertext", base64_encode(wrapped)},
                                       {"hash_function", "SHA1"},
                                       {"type", "aes256-gcm96"},
                                       {"allow_rotation", false},
                                       {"exportable", false}});
  CHECK(f.transport.requests[1].method == "GET");
  CHECK(r->key_id == "payments");
  CHECK(r->resource == "transit/keys/payments");
  CHECK(r->version == "1");
}

TEST_CASE("a new version goes to import_version, only for keys imported with allow_rotation",
          "[kms][transit]") {
  const std::string wrapped(600, 'w');
  Fixture f;
  int versions = 1;
  f.transport.handler = [&](const HttpRequest& r) {
    if (r.method == "POST") {
      ++versions;
      return answer(204, "");
    }
    return answer(200, symmetric_key("payments", true, false, versions));
  };
  auto r = f.client->import_key(aes_target(true), WrappingKey{"payments", "", "SHA256", "", {}},
                                wrapped, ImportKind::NewVersion);
  REQUIRE(r.ok());
  REQUIRE(f.transport.requests.size() == 3);
  CHECK(f.transport.requests[1].url ==
        "https://vault.test:8200/v1/transit/keys/payments/import_version");
  CHECK(Json::parse(f.transport.requests[1].body) ==
        Json{{"ciphertext", base64_encode(wrapped)}, {"hash_function", "SHA256"}});
  CHECK(r->version == "2");

  Fixture g;
  g.transport.handler = [](const HttpRequest& r) {
    return r.method == "POST" ? answer(204, "") : answer(200, symmetric_key("payments", false));
  };
  auto refused =
      g.client->import_key(aes_target(false), WrappingKey{"payments", "", "SHA256", "", {}},
                           wrapped, ImportKind::NewVersion);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().kind == ErrorKind::FailedPrecondition);
  CHECK(refused.error().message.find("allow_rotation false") != std::string::npos);
  for (const auto& req : g.transport.requests) CHECK(req.method == "GET");
}

TEST_CASE("an import too short to hold transit's wrap is refused before sending",
          "[kms][transit]") {
  Fixture f;
  f.transport.handler = [](const HttpRequest&) { return answer(204, ""); };
  auto r = f.client->import_key(aes_target(), WrappingKey{"", "", "SHA256", "", {}},
                                std::string(256 + 40, 'x'), ImportKind::First);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::InvalidArgument);
  CHECK(r.error().message.find("512-byte RSA-OAEP block") != std::string::npos);
  auto bad_hash = f.client->import_key(aes_target(), WrappingKey{"", "", "SHA512-ish", "", {}},
                                       std::string(600, 'x'), ImportKind::First);
  REQUIRE_FALSE(bad_hash.ok());
  CHECK(bad_hash.error().kind == ErrorKind::InvalidArgument);
  CHECK(f.transport.requests.empty());
}

TEST_CASE("from_config needs the endpoint and the token, and reads mountPath and namespace",
          "[kms][transit]") {
  FakeTransport transport;
  transport.handler = [](const HttpRequest&) { return answer(200, symmetric_key("k")); };
  RealClock clock;
  ProviderConfig config;
  config.type = "transit";
  config.credentials = {{"token", "hvs.abc"}};
  auto no_endpoint = TransitClient::from_config(config, transport, clock);
  REQUIRE_FALSE(no_endpoint.ok());
  CHECK(no_endpoint.error().kind == ErrorKind::InvalidArgument);
  CHECK(no_endpoint.error().message.rfind("spec.endpoint is empty", 0) == 0);

  config.endpoint = "https://127.0.0.1:8200";
  config.credentials.clear();
  auto no_token = TransitClient::from_config(config, transport, clock);
  REQUIRE_FALSE(no_token.ok());
  CHECK(no_token.error().message.rfind("credentials Secret key token is missing", 0) == 0);
  config.credentials = {{"token", ""}};
  CHECK_FALSE(TransitClient::from_config(config, transport, clock).ok());

  config.credentials = {{"token", "hvs.abc"}};
  config.settings = {{"mountPath", "/"}};
  auto empty_mount = TransitClient::from_config(config, transport, clock);
  REQUIRE_FALSE(empty_mount.ok());
  CHECK(empty_mount.error().message.rfind("spec.transit.mountPath is empty", 0) == 0);

  config.settings.clear();
  auto plain = TransitClient::from_config(config, transport, clock);
  REQUIRE(plain.ok());
  CHECK((*plain)->mount_path() == "transit");
  CHECK(std::string((*plain)->provider()) == "transit");

  config.settings = {{"mountPath", "kms/transit/"}, {"namespace", "team-a"}};
  auto custom = TransitClient::from_config(config, transport, clock);
  REQUIRE(custom.ok());
  REQUIRE((*custom)->describe_key("k").ok());
  const auto& req = transport.requests.back();
  CHECK(req.url == "https://127.0.0.1:8200/v1/kms/transit/keys/k");
  CHECK(find_header(req.headers, "X-Vault-Token") == "hvs.abc");
  CHECK(find_header(req.headers, "X-Vault-Namespace") == "team-a");
}
