// ThalassaClient against a scripted transport: paths, headers and bodies it sends, how it reads
// keys, memberships and {"message"} errors, what it refuses before sending, and retries.
// Against the strict fake over TLS: tests/integration/kms/thalassa_kms_test.cpp.
#include <catch2/catch.hpp>

#include <functional>
#include <memory>

#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/base64.h"
#include "kms/thalassa/thalassa_client.h"
#include "kms/thalassa/thalassa_traits.h"
#include "tests/unit/kms/scripted_transport.h"

using namespace byok;
using namespace byok::kms;
using namespace byok::kms::thalassa;
using Json = nlohmann::json;

namespace {

using kms::testing::answer;
using FixedClock = kms::testing::SettableClock;
using FakeTransport = kms::testing::ScriptedTransport;

struct Fixture {
  FixedClock clock;
  FakeTransport transport;
  std::vector<std::chrono::milliseconds> sleeps;
  std::unique_ptr<ThalassaClient> client;

  Fixture() {
    REQUIRE(parse_rfc3339("2026-11-23T15:38:00Z", clock.wall));
    ThalassaConfig cfg;
    cfg.endpoint = "https://api.thalassa.test/";
    cfg.region = "nl-01";
    cfg.organisation = "org-42";
    cfg.token = "tk-secret";
    RetryEnvironment env{[this](std::chrono::milliseconds d) { sleeps.push_back(d); },
                         [] { return 0.5; }};
    client = std::make_unique<ThalassaClient>(cfg, transport, clock, env);
  }
};

Json key_json(const std::string& identity, const std::string& name, const std::string& status,
              bool imported = true, const std::string& owner = "uid-1", int latest = 1) {
  Json labels = Json::object();
  if (!owner.empty()) labels["byok.dev/owner"] = owner;
  return Json{
      {"identity", identity},
      {"name", name},
      {"slug", name},
      {"labels", labels},
      {"keyType", "aes256-gcm96"},
      {"status", status},
      {"exportAllowed", false},
      {"imported", imported},
      {"keyRotationEnabled", false},
      {"latestVersion", latest},
      {"versions",
       Json::array(
           {{{"version", 1}, {"status", "active"}, {"createdAt", "2026-11-20T08:00:00.123Z"}}})},
      {"createdAt", "2026-11-20T08:00:00.123Z"},
      {"updatedAt", "2026-11-20T08:00:00.123Z"}};
}

ImportTarget target(bool allow_rotation = false) {
  ImportTarget t;
  t.name = "payments";
  t.key_type = "aes256-gcm96";
  t.description = "payments data key";
  t.allow_rotation = allow_rotation;
  t.owner = "uid-1";
  t.wrapping_algorithm = "sha256";
  return t;
}

std::string rsa_public_pem(int bits) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(bits)), &EVP_PKEY_free);
  REQUIRE(key);
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  REQUIRE(PEM_write_bio_PUBKEY(bio.get(), key.get()) == 1);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

std::string der_of_pem(const std::string& pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr), &EVP_PKEY_free);
  REQUIRE(key);
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(key.get(), &der);
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

}  // namespace

TEST_CASE("describe_key GETs the key with the bearer token and organisation header",
          "[kms][thalassa]") {
  Fixture f;
  f.transport.handler = [](const HttpRequest&) {
    return answer(200, key_json("kms-abc123", "payments", "active", true, "uid-1", 3).dump());
  };
  auto key = f.client->describe_key("kms-abc123");
  REQUIRE(key.ok());
  REQUIRE(f.transport.requests.size() == 1);
  const auto& req = f.transport.requests[0];
  CHECK(req.method == "GET");
  CHECK(req.url == "https://api.thalassa.test/v1/kms/nl-01/keys/kms-abc123");
  CHECK(find_header(req.headers, "Authorization") == "Bearer tk-secret");
  CHECK(find_header(req.headers, "X-Organisation-Identity") == "org-42");
  CHECK(find_header(req.headers, "Accept") == "application/json");
  CHECK(req.body.empty());
  CHECK(key->key_id == "kms-abc123");
  CHECK(key->resource == "kms/nl-01/keys/kms-abc123");
  CHECK(key->name == "payments");
  CHECK(key->version == "3");
  CHECK(key->state == "active");
  CHECK(key->status == CmkStatus::Current);
  CHECK(key->enabled);
  CHECK(key->imported);
  CHECK(key->origin == "imported");
  CHECK(key->key_spec == "aes256-gcm96");
  REQUIRE(key->created.has_value());
  CHECK(format_rfc3339(*key->created) == "2026-11-20T08:00:00Z");

  // The resource form names the same key.
  REQUIRE(f.client->describe_key("kms/nl-01/keys/kms-abc123").ok());
  CHECK(f.transport.requests[1].url == "https://api.thalassa.test/v1/kms/nl-01/keys/kms-abc123");
}

TEST_CASE("thalassa_cmk_status maps active, disabled and pending_deletion", "[kms][thalassa]") {
  CHECK(thalassa_cmk_status("active") == CmkStatus::Current);
  CHECK(thalassa_cmk_status("disabled") == CmkStatus::Old);
  CHECK(thalassa_cmk_status("pending_deletion") == CmkStatus::Deleted);
  CHECK_FALSE(thalassa_cmk_status("Active").has_value());
  CHECK_FALSE(thalassa_cmk_status("deleted").has_value());
}

TEST_CASE("{\"message\"} errors map to error kinds and name the call", "[kms][thalassa]") {
  struct Case {
    int status;
    std::string body;
    ErrorKind kind;
    std::string text;
  };
  const std::vector<Case> cases = {
      {400, R"({"message":"unsupported keyType"})", ErrorKind::InvalidArgument,
       "unsupported keyType (HTTP 400)"},
      {401, R"({"message":"unauthorized: invalid or expired token"})", ErrorKind::Unauthenticated,
       "unauthorized"},
      {403, R"({"message":"forbidden: no access to organisation org-42"})",
       ErrorKind::PermissionDenied, "forbidden"},
      {404, R"({"message":"kms key kms-x not found"})", ErrorKind::NotFound,
       "kms key kms-x not found (HTTP 404)"},
      {409, R"({"message":"a kms key named payments already exists"})", ErrorKind::Conflict,
       "already exists"},
      {429, "", ErrorKind::Throttled, "no message (HTTP 429)"},
      {503, "<html>upstream down</html>", ErrorKind::Unavailable, "<html>upstream down</html>"},
  };
  for (const auto& c : cases) {
    Fixture f;
    f.transport.handler = [&](const HttpRequest&) { return answer(c.status, c.body); };
    auto key = f.client->describe_key("kms-x");
    REQUIRE_FALSE(key.ok());
    INFO(key.error().message);
    CHECK(key.error().kind == c.kind);
    CHECK(key.error().message.rfind("thalassa GET kms/nl-01/keys/kms-x: ", 0) == 0);
    CHECK(key.error().message.find(c.text) != std::string::npos);
  }
}

TEST_CASE("GETs are retried on 5xx, writes are sent once", "[kms][thalassa]") {
  Fixture f;
  int calls = 0;
  f.transport.handler = [&](const HttpRequest&) {
    return ++calls < 3 ? answer(502, R"({"message":"bad gateway"})")
                       : answer(200, key_json("kms-1", "k", "active").dump());
  };
  REQUIRE(f.client->describe_key("kms-1").ok());
  CHECK(calls == 3);
  CHECK(f.sleeps.size() == 2);

  Fixture g;
  g.transport.handler = [](const HttpRequest&) { return answer(503, R"({"message":"down"})"); };
  auto del = g.client->schedule_key_deletion("kms-1", 30);
  REQUIRE_FALSE(del.ok());
  CHECK(del.error().kind == ErrorKind::Unavailable);
  CHECK(g.transport.requests.size() == 1);
  CHECK(g.transport.requests[0].method == "DELETE");
  CHECK(g.sleeps.empty());
}

TEST_CASE("schedule_key_deletion DELETEs, then reads the state back", "[kms][thalassa]") {
  Fixture f;
  f.transport.handler = [](const HttpRequest& r) {
    return r.method == "DELETE" ? answer(204, "")
                                : answer(200, key_json("kms-1", "k", "pending_deletion").dump());
  };
  auto d = f.client->schedule_key_deletion("kms-1", 7);
  REQUIRE(d.ok());
  REQUIRE(f.transport.requests.size() == 2);
  CHECK(f.transport.requests[0].url == "https://api.thalassa.test/v1/kms/nl-01/keys/kms-1");
  CHECK(f.transport.requests[0].body.empty());
  CHECK(d->key_id == "kms-1");
  CHECK(d->state == "pending_deletion");
  CHECK(thalassa_cmk_status(d->state) == CmkStatus::Deleted);
  CHECK_FALSE(d->deletion_date.has_value());  // the API does not say when
}

TEST_CASE("cancel_key_deletion is DELETE .../cancel-deletion", "[kms][thalassa]") {
  Fixture f;
  f.transport.handler = [](const HttpRequest&) { return answer(204, ""); };
  REQUIRE(f.client->cancel_key_deletion("kms-1").ok());
  CHECK(f.transport.requests[0].method == "DELETE");
  CHECK(f.transport.requests[0].url ==
        "https://api.thalassa.test/v1/kms/nl-01/keys/kms-1/cancel-deletion");

  Fixture g;
  g.transport.handler = [](const HttpRequest&) {
    return answer(409, R"({"message":"kms key kms-1 is not pending deletion"})");
  };
  auto st = g.client->cancel_key_deletion("kms-1");
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().kind == ErrorKind::Conflict);
}

TEST_CASE("who_am_i picks the configured organisation's membership", "[kms][thalassa]") {
  Fixture f;
  f.transport.handler = [](const HttpRequest&) {
    return answer(200, R"([
      {"identity":"mem-1","organisation":{"identity":"org-other","slug":"other"},
       "user":{"subject":"usr-9","email":"x@example.test"},"role":"MEMBER"},
      {"identity":"mem-2","organisation":{"identity":"org-42","slug":"acme","name":"Acme"},
       "user":{"subject":"usr-7","name":"Op","email":"op@example.test"},"role":"OWNER"}])");
  };
  auto who = f.client->who_am_i();
  REQUIRE(who.ok());
  CHECK(f.transport.requests[0].url == "https://api.thalassa.test/v1/me/organisation-memberships");
  CHECK(who->principal == "op@example.test");
  CHECK(who->account == "org-42");
  CHECK(who->id == "usr-7");

  Fixture g;
  g.transport.handler = [](const HttpRequest&) {
    return answer(
        200, R"([{"identity":"mem-1","organisation":{"identity":"org-other","slug":"other"}}])");
  };
  auto none = g.client->who_am_i();
  REQUIRE_FALSE(none.ok());
  CHECK(none.error().kind == ErrorKind::PermissionDenied);
  CHECK(none.error().message.find("org-42") != std::string::npos);
}

TEST_CASE("wrapping algorithms are the hashFunction words, HMAC is refused", "[kms][thalassa]") {
  Fixture f;
  for (std::string type :
       {"aes128-gcm96", "aes256-gcm96", "chacha20-poly1305", "rsa-2048", "rsa-3072", "rsa-4096",
        "ecdsa-p256", "ecdsa-p384", "ecdsa-p521", "ed25519"}) {
    auto algs = f.client->wrapping_algorithms(type);
    REQUIRE(algs.ok());
    CHECK(*algs == std::vector<std::string>{"sha256", "sha1"});
  }
  for (std::string type : {"hmac", "hmac-sha256"}) {
    auto algs = f.client->wrapping_algorithms(type);
    REQUIRE_FALSE(algs.ok());
    CHECK(algs.error().kind == ErrorKind::Unsupported);
  }
  CHECK(f.client->wrapping_algorithms("des").error().kind == ErrorKind::InvalidArgument);
  CHECK(f.transport.requests.empty());
}

TEST_CASE("find_key lists by name and takes only the key with this owner's label",
          "[kms][thalassa]") {
  Fixture f;
  f.transport.handler = [](const HttpRequest&) {
    return answer(200, Json::array({key_json("kms-2", "payments-old", "active", true, "uid-1"),
                                    key_json("kms-1", "payments", "active", true, "uid-1")})
                           .dump());
  };
  auto found = f.client->find_key(target());
  REQUIRE(found.ok());
  REQUIRE(found->has_value());
  CHECK((*found)->key_id == "kms-1");  // exact name only
  CHECK(f.transport.requests[0].url == "https://api.thalassa.test/v1/kms/nl-01/keys?name=payments");

  Fixture g;
  g.transport.handler = [](const HttpRequest&) { return answer(200, "[]"); };
  auto none = g.client->find_key(target());
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());

  Fixture h;
  h.transport.handler = [](const HttpRequest&) {
    return answer(200,
                  Json::array({key_json("kms-9", "payments", "active", true, "uid-other")}).dump());
  };
  auto foreign = h.client->find_key(target());
  REQUIRE_FALSE(foreign.ok());
  CHECK(foreign.error().kind == ErrorKind::AlreadyExists);
  CHECK(foreign.error().message.find("\"uid-other\"") != std::string::npos);

  Fixture n;
  n.transport.handler = [](const HttpRequest&) { return answer(200, "[]"); };
  auto t = target();
  t.name = "a b&c";
  REQUIRE(n.client->find_key(t).ok());
  CHECK(n.transport.requests[0].url ==
        "https://api.thalassa.test/v1/kms/nl-01/keys?name=a%20b%26c");
}

TEST_CASE("prepare_import reads {publicKey} (or a bare PEM) as SPKI DER", "[kms][thalassa]") {
  const std::string pem = rsa_public_pem(2048);
  for (bool bare : {false, true}) {
    Fixture f;
    f.transport.handler = [&](const HttpRequest&) {
      return answer(
          200, bare ? pem : Json{{"publicKey", pem}, {"algorithm", "RSA_OAEP_AES_KWP"}}.dump());
    };
    auto w = f.client->prepare_import(target(), "");
    REQUIRE(w.ok());
    CHECK(f.transport.requests[0].url == "https://api.thalassa.test/v1/kms/nl-01/wrapping-key");
    CHECK(w->public_key_der == der_of_pem(pem));
    CHECK(w->algorithm == "sha256");
    CHECK(w->key_id.empty());
  }
  Fixture g;
  g.transport.handler = [&](const HttpRequest&) {
    return answer(200, Json{{"publicKey", pem}}.dump());
  };
  auto t = target();
  t.wrapping_algorithm = "RSA_AES_KEY_WRAP_SHA_256";
  auto bad = g.client->prepare_import(t, "");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().kind == ErrorKind::InvalidArgument);
  CHECK(g.transport.requests.empty());
  auto existing = g.client->prepare_import(target(true), "kms/nl-01/keys/kms-1");
  REQUIRE(existing.ok());
  CHECK(existing->key_id == "kms-1");
}

TEST_CASE("a first import POSTs the key with the wrap, hash, rotation flag and owner label",
          "[kms][thalassa]") {
  Fixture f;
  f.transport.handler = [](const HttpRequest&) {
    return answer(201, key_json("kms-new", "payments", "active", true, "uid-1").dump());
  };
  const std::string wrapped = std::string(512, '\x05') + std::string(40, '\x06');
  auto r = f.client->import_key(target(), WrappingKey{"", "der", "sha1", "", {}}, wrapped,
                                ImportKind::First);
  REQUIRE(r.ok());
  REQUIRE(f.transport.requests.size() == 1);
  const auto& req = f.transport.requests[0];
  CHECK(req.method == "POST");
  CHECK(req.url == "https://api.thalassa.test/v1/kms/nl-01/keys");
  CHECK(find_header(req.headers, "Content-Type") == "application/json");
  CHECK(Json::parse(req.body) == Json{{"name", "payments"},
                                      {"description", "payments data key"},
                                      {"keyType", "aes256-gcm96"},
                                      {"importKeyMaterial", base64_encode(wrapped)},
                                      {"hashFunction", "sha1"},
                                      {"allowRotation", false},
                                      {"labels", {{"byok.dev/owner", "uid-1"}}}});
  CHECK(r->key_id == "kms-new");
  CHECK(r->resource == "kms/nl-01/keys/kms-new");
  CHECK(r->version == "1");

  Fixture g;
  g.transport.handler = [](const HttpRequest&) {
    return answer(201, key_json("kms-new", "payments", "active", false).dump());
  };
  auto not_imported = g.client->import_key(target(), WrappingKey{"", "", "sha256", "", {}}, wrapped,
                                           ImportKind::First);
  REQUIRE_FALSE(not_imported.ok());
  CHECK(not_imported.error().message.find("does not report imported: true") != std::string::npos);
}

TEST_CASE("a new version goes to the assumed .../versions call", "[kms][thalassa]") {
  const std::string wrapped(600, 'w');
  Fixture f;
  f.transport.handler = [](const HttpRequest& r) {
    return r.method == "POST"
               ? answer(200, key_json("kms-1", "payments", "active", true, "uid-1", 2).dump())
               : answer(200, key_json("kms-1", "payments", "active").dump());
  };
  auto r = f.client->import_key(target(true), WrappingKey{"kms-1", "", "sha256", "", {}}, wrapped,
                                ImportKind::NewVersion);
  REQUIRE(r.ok());
  REQUIRE(f.transport.requests.size() == 2);
  CHECK(f.transport.requests[1].url ==
        "https://api.thalassa.test/v1/kms/nl-01/keys/kms-1/versions");
  CHECK(Json::parse(f.transport.requests[1].body) ==
        Json{{"importKeyMaterial", base64_encode(wrapped)}, {"hashFunction", "sha256"}});
  CHECK(r->version == "2");

  // A server that says allowRotation is false is believed before anything is sent.
  Fixture g;
  g.transport.handler = [](const HttpRequest&) {
    auto k = key_json("kms-1", "payments", "active");
    k["allowRotation"] = false;
    return answer(200, k.dump());
  };
  auto refused = g.client->import_key(target(true), WrappingKey{"kms-1", "", "sha256", "", {}},
                                      wrapped, ImportKind::NewVersion);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().kind == ErrorKind::FailedPrecondition);
  CHECK(g.transport.requests.size() == 1);

  Fixture h;
  h.transport.handler = [](const HttpRequest&) { return answer(200, "{}"); };
  auto no_id = h.client->import_key(target(true), WrappingKey{"", "", "sha256", "", {}}, wrapped,
                                    ImportKind::NewVersion);
  REQUIRE_FALSE(no_id.ok());
  CHECK(no_id.error().kind == ErrorKind::InvalidArgument);
  CHECK(h.transport.requests.empty());
}

TEST_CASE("from_config needs endpoint, region, organisation and token", "[kms][thalassa]") {
  FakeTransport transport;
  transport.handler = [](const HttpRequest&) {
    return answer(200, key_json("kms-1", "k", "active").dump());
  };
  RealClock clock;
  ProviderConfig c;
  c.type = "thalassa";
  auto fails_with = [&](const std::string& prefix) {
    auto client = ThalassaClient::from_config(c, transport, clock);
    REQUIRE_FALSE(client.ok());
    CHECK(client.error().kind == ErrorKind::InvalidArgument);
    CHECK(client.error().message.rfind(prefix, 0) == 0);
  };
  fails_with("spec.endpoint is empty");
  c.endpoint = "https://127.0.0.1:9443";
  fails_with("spec.region is empty");
  c.region = "nl-01";
  fails_with("spec.thalassa.organisation is empty");
  c.settings = {{"organisation", "org-42"}};
  fails_with("credentials Secret has no token");
  c.credentials = {{"token", "tk"}, {"personalAccessToken", "pat"}};
  fails_with("credentials Secret has both token and personalAccessToken");
  c.credentials = {{"token", "tk"}};
  auto client = ThalassaClient::from_config(c, transport, clock);
  REQUIRE(client.ok());
  CHECK(std::string((*client)->provider()) == "thalassa");
  REQUIRE((*client)->describe_key("kms-1").ok());
  CHECK(transport.requests[0].url == "https://127.0.0.1:9443/v1/kms/nl-01/keys/kms-1");
  CHECK(find_header(transport.requests[0].headers, "Authorization") == "Bearer tk");
  CHECK(find_header(transport.requests[0].headers, "X-Organisation-Identity") == "org-42");
}

TEST_CASE("a personal access token is sent as Token, an access token as Bearer",
          "[kms][thalassa]") {
  FakeTransport transport;
  transport.handler = [](const HttpRequest&) {
    return answer(200, key_json("kms-1", "k", "active").dump());
  };
  RealClock clock;
  ProviderConfig c;
  c.type = "thalassa";
  c.endpoint = "https://127.0.0.1:9443";
  c.region = "nl-01";
  c.settings = {{"organisation", "org-42"}};
  c.credentials = {{"personalAccessToken", "pat-1"}};
  auto client = ThalassaClient::from_config(c, transport, clock);
  REQUIRE(client.ok());
  REQUIRE((*client)->describe_key("kms-1").ok());
  CHECK(find_header(transport.requests.back().headers, "Authorization") == "Token pat-1");
  c.credentials = {{"token", "oidc-1"}};
  client = ThalassaClient::from_config(c, transport, clock);
  REQUIRE(client.ok());
  REQUIRE((*client)->describe_key("kms-1").ok());
  CHECK(find_header(transport.requests.back().headers, "Authorization") == "Bearer oidc-1");
}
