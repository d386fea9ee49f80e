// KeyVaultClient against a scripted transport that plays Entra and Key Vault: what it sends
// (paths, api-version, bearer token, bodies), how it reads KeyBundles and errors, the derived
// state, retries, the KEK and .byok import path, and from_config's checks.
#include <catch2/catch.hpp>

#include <memory>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "kms/azure/azure_traits.h"
#include "kms/azure/byok_file.h"
#include "kms/azure/key_vault_client.h"
#include "tests/unit/kms/azure/azure_test_support.h"

using namespace byok;
using namespace byok::kms;
using namespace byok::kms::azure;
using namespace byok::kms::azure::testing;
using Json = nlohmann::json;

namespace {

constexpr const char* kVault = "https://contoso.vault.azure.net";
constexpr const char* kEndpoint = "https://127.0.0.1:8443";
constexpr const char* kAuthority = "https://login.microsoftonline.com";
constexpr const char* kTenant = "72f988bf-86f1-41af-91ab-2d7cd011db47";
constexpr const char* kClient = "0f4c1e6a-2b2e-4f38-9d2e-6a0c4d1e9b11";
constexpr const char* kVersion = "78deebed173b48e48f55abf87ed4cf71";

long long epoch(const char* rfc3339) {
  SystemTime t;
  REQUIRE(parse_rfc3339(rfc3339, t));
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

Json bundle(const std::string& name, Json attributes, Json tags = nullptr,
            const std::string& authority = "https://contoso.vault.azure.net") {
  Json b = {{"key",
             {{"kid", authority + "/keys/" + name + "/" + kVersion},
              {"kty", "RSA-HSM"},
              {"key_ops", {"encrypt", "decrypt", "wrapKey", "unwrapKey"}},
              {"n", base64url_encode(std::string(256, '\xc5'))},
              {"e", "AQAB"}}},
            {"attributes", attributes}};
  if (!tags.is_null()) b["tags"] = tags;
  return b;
}

Json enabled_attributes() {
  return {{"enabled", true},
          {"created", epoch("2026-01-02T03:04:05Z")},
          {"updated", epoch("2026-01-02T03:04:05Z")},
          {"recoveryLevel", "Recoverable+Purgeable"},
          {"recoverableDays", 90}};
}

HttpResponse kv_error(int status, const std::string& code, const std::string& message) {
  return answer(status, Json{{"error", {{"code", code}, {"message", message}}}}.dump());
}

const std::string kToken = make_jwt(
    {{"aud", "https://vault.azure.net"}, {"appid", kClient}, {"oid", "obj-7"}, {"tid", kTenant}});

bool is_token_request(const HttpRequest& r) {
  return r.url.rfind(std::string(kAuthority) + "/", 0) == 0;
}

struct Fixture {
  SettableClock clock;
  ScriptedTransport transport;
  std::vector<std::chrono::milliseconds> sleeps;
  std::unique_ptr<KeyVaultClient> client;
  // Vault requests only (token requests are answered and counted apart).
  std::function<Result<HttpResponse>(const HttpRequest&)> vault;
  std::vector<HttpRequest> vault_requests;
  int token_requests = 0;

  explicit Fixture(std::string vault_url = kVault, std::string endpoint = kEndpoint) {
    REQUIRE(parse_rfc3339("2026-11-23T15:38:00Z", clock.wall));
    transport.handler = [this](const HttpRequest& r) -> Result<HttpResponse> {
      if (is_token_request(r)) {
        ++token_requests;
        return token_answer(kToken);
      }
      vault_requests.push_back(r);
      return vault(r);
    };
    KeyVaultConfig c;
    c.vault_url = vault_url;
    c.endpoint = endpoint;
    c.credentials = {kTenant, kClient, "secret", "", kAuthority};
    auto v = parse_vault_url(vault_url);
    REQUIRE(v.ok());
    RetryEnvironment env{[this](std::chrono::milliseconds d) { sleeps.push_back(d); },
                         [] { return 0.5; }};
    client = std::make_unique<KeyVaultClient>(c, *v, transport, clock, env);
  }
};

std::string url(const std::string& path) {
  return std::string(kEndpoint) + path + "?api-version=7.4";
}

// A real RSA key's n and e, for KEK answers the client turns into a SubjectPublicKeyInfo.
struct RsaKey {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key{nullptr, EVP_PKEY_free};
  std::string n, e;
  RsaKey() {
    key.reset(EVP_RSA_gen(2048));
    REQUIRE(key);
    BIGNUM *bn_n = nullptr, *bn_e = nullptr;
    REQUIRE(EVP_PKEY_get_bn_param(key.get(), OSSL_PKEY_PARAM_RSA_N, &bn_n) == 1);
    REQUIRE(EVP_PKEY_get_bn_param(key.get(), OSSL_PKEY_PARAM_RSA_E, &bn_e) == 1);
    n.resize(BN_num_bytes(bn_n));
    e.resize(BN_num_bytes(bn_e));
    BN_bn2bin(bn_n, reinterpret_cast<unsigned char*>(n.data()));
    BN_bn2bin(bn_e, reinterpret_cast<unsigned char*>(e.data()));
    BN_free(bn_n);
    BN_free(bn_e);
  }
  std::string spki() const {
    unsigned char* der = nullptr;
    int len = i2d_PUBKEY(key.get(), &der);
    REQUIRE(len > 0);
    std::string out(reinterpret_cast<char*>(der), len);
    OPENSSL_free(der);
    return out;
  }
};

Json kek_bundle(const RsaKey& rsa, const std::string& name, const std::string& owner,
                bool enabled = true) {
  Json attrs = enabled_attributes();
  attrs["enabled"] = enabled;
  return {{"key",
           {{"kid", std::string("https://contoso.vault.azure.net/keys/") + name + "/" + kVersion},
            {"kty", "RSA-HSM"},
            {"key_ops", {"import"}},
            {"n", base64url_encode(rsa.n)},
            {"e", base64url_encode(rsa.e)}}},
          {"attributes", attrs},
          {"tags", {{"byok.dev/owner", owner}}}};
}

ImportTarget target(const std::string& type = "rsa-3072") {
  ImportTarget t;
  t.name = "payments";
  t.key_type = type;
  t.owner = "9d1c2f3e-uid";
  t.wrapping_algorithm = "CKM_RSA_AES_KEY_WRAP";
  return t;
}

}  // namespace

TEST_CASE("GetKey sends a bearer token to the endpoint with api-version 7.4 and reads the bundle",
          "[kms][azure]") {
  Fixture f;
  f.vault = [](const HttpRequest&) {
    return answer(200, bundle("payments", enabled_attributes(), {{"byok.dev/owner", "u"}},
                              "https://127.0.0.1:8443")
                           .dump());
  };
  auto key = f.client->describe_key("https://contoso.vault.azure.net/keys/payments");
  REQUIRE(key.ok());
  REQUIRE(f.vault_requests.size() == 1);
  const auto& req = f.vault_requests[0];
  CHECK(req.method == "GET");
  CHECK(req.url == url("/keys/payments"));
  CHECK(find_header(req.headers, "Authorization") == "Bearer " + kToken);
  CHECK(f.token_requests == 1);
  auto form = parse_form(f.transport.requests[0].body);
  CHECK(form["scope"] == "https://vault.azure.net/.default");
  // The vault URL names the key, whatever authority the server writes into kid.
  CHECK(key->resource == "https://contoso.vault.azure.net/keys/payments");
  CHECK(key->key_id == "payments");
  CHECK(key->name == "payments");
  CHECK(key->version == kVersion);
  CHECK(key->state == "Enabled");
  REQUIRE(key->status.has_value());
  CHECK(*key->status == CmkStatus::Current);
  CHECK(key->key_spec == "RSA-HSM");
  CHECK(key->key_usage == "encrypt,decrypt,wrapKey,unwrapKey");
  CHECK(key->enabled);
  CHECK(key->imported);
  REQUIRE(key->created.has_value());
  CHECK(format_rfc3339(*key->created) == "2026-01-02T03:04:05Z");
  // A second call reuses the cached token.
  REQUIRE(f.client->describe_key("payments/" + std::string(kVersion)).ok());
  CHECK(f.vault_requests[1].url == url("/keys/payments/" + std::string(kVersion)));
  CHECK(f.token_requests == 1);
}

TEST_CASE("the state word comes from enabled, nbf and exp", "[kms][azure]") {
  struct Case {
    Json attributes;
    std::string state;
    CmkStatus status;
  };
  Json disabled = enabled_attributes();
  disabled["enabled"] = false;
  Json expired = enabled_attributes();
  expired["exp"] = epoch("2026-11-23T15:37:59Z");
  Json not_yet = enabled_attributes();
  not_yet["nbf"] = epoch("2026-11-23T16:00:00Z");
  Json valid_window = enabled_attributes();
  valid_window["nbf"] = epoch("2026-11-01T00:00:00Z");
  valid_window["exp"] = epoch("2027-11-01T00:00:00Z");
  const Case cases[] = {{disabled, "Disabled", CmkStatus::Old},
                        {expired, "Expired", CmkStatus::Old},
                        {not_yet, "NotYetValid", CmkStatus::Old},
                        {valid_window, "Enabled", CmkStatus::Current}};
  for (const auto& c : cases) {
    INFO(c.attributes.dump());
    Fixture f;
    f.vault = [&](const HttpRequest&) { return answer(200, bundle("k", c.attributes).dump()); };
    auto key = f.client->describe_key("k");
    REQUIRE(key.ok());
    CHECK(key->state == c.state);
    REQUIRE(key->status.has_value());
    CHECK(*key->status == c.status);
  }
}

TEST_CASE("azure_cmk_status maps every derived state and nothing else", "[kms][azure][key_state]") {
  CHECK(azure_cmk_status("Enabled") == CmkStatus::Current);
  CHECK(azure_cmk_status("Disabled") == CmkStatus::Old);
  CHECK(azure_cmk_status("NotYetValid") == CmkStatus::Old);
  CHECK(azure_cmk_status("Expired") == CmkStatus::Old);
  CHECK(azure_cmk_status("Deleted") == CmkStatus::Deleted);
  CHECK_FALSE(azure_cmk_status("enabled").has_value());
  CHECK_FALSE(azure_cmk_status("Purged").has_value());
  CHECK_FALSE(azure_cmk_status("").has_value());
}

TEST_CASE("a key missing from /keys but in /deletedkeys describes as Deleted with its purge date",
          "[kms][azure]") {
  Fixture f;
  f.vault = [](const HttpRequest& r) {
    if (r.url.find("/deletedkeys/") != std::string::npos) {
      Json b = bundle("gone", enabled_attributes());
      b["recoveryId"] = "https://contoso.vault.azure.net/deletedkeys/gone";
      b["deletedDate"] = epoch("2026-11-20T00:00:00Z");
      b["scheduledPurgeDate"] = epoch("2027-02-18T00:00:00Z");
      return answer(200, b.dump());
    }
    return kv_error(404, "KeyNotFound",
                    "A key with (name/id) gone was not found in this key vault.");
  };
  auto key = f.client->describe_key("https://CONTOSO.vault.azure.net/keys/gone");
  REQUIRE(key.ok());
  REQUIRE(f.vault_requests.size() == 2);
  CHECK(f.vault_requests[1].url == url("/deletedkeys/gone"));
  CHECK(key->state == "Deleted");
  CHECK(*key->status == CmkStatus::Deleted);
  REQUIRE(key->deletion_date.has_value());
  CHECK(format_rfc3339(*key->deletion_date) == "2027-02-18T00:00:00Z");
}

TEST_CASE("a key in neither /keys nor /deletedkeys is NotFound with Key Vault's words",
          "[kms][azure]") {
  Fixture f;
  f.vault = [](const HttpRequest& r) {
    if (r.url.find("/deletedkeys/") != std::string::npos)
      return kv_error(404, "KeyNotFound", "Deleted Key not found: nope");
    return kv_error(404, "KeyNotFound",
                    "A key with (name/id) nope was not found in this key vault.");
  };
  auto key = f.client->describe_key("nope");
  REQUIRE_FALSE(key.ok());
  CHECK(key.error().kind == ErrorKind::NotFound);
  CHECK(key.error().message ==
        "Key Vault GetKey nope: KeyNotFound: A key with (name/id) nope was not found in this key "
        "vault. (HTTP 404)");
  CHECK(f.sleeps.empty());
}

TEST_CASE("Key Vault errors map to kinds, only throttling and 5xx are retried, and only GETs",
          "[kms][azure]") {
  struct Case {
    int status;
    std::string code;
    ErrorKind kind;
    size_t tries;
  };
  const Case cases[] = {
      {400, "BadParameter", ErrorKind::InvalidArgument, 1},
      {403, "Forbidden", ErrorKind::PermissionDenied, 1},
      {409, "Conflict", ErrorKind::FailedPrecondition, 1},
      {429, "Throttled", ErrorKind::Throttled, 3},
      {500, "InternalServerError", ErrorKind::Unavailable, 3},
      {503, "ServiceUnavailable", ErrorKind::Unavailable, 3},
  };
  for (const auto& c : cases) {
    INFO(c.code);
    Fixture f;
    f.vault = [&](const HttpRequest&) { return kv_error(c.status, c.code, "words"); };
    auto r = f.client->get_key("k");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == c.kind);
    CHECK(r.error().message.rfind(
              "Key Vault GetKey k: " + c.code + ": words (HTTP " + std::to_string(c.status) + ")",
              0) == 0);
    CHECK(f.vault_requests.size() == c.tries);
    Fixture w;
    w.vault = [&](const HttpRequest&) { return kv_error(c.status, c.code, "words"); };
    REQUIRE_FALSE(w.client->delete_key("k").ok());
    CHECK(w.vault_requests.size() == 1);  // writes are sent once
  }
  Fixture f;
  f.vault = [&](const HttpRequest&) -> Result<HttpResponse> {
    if (f.vault_requests.size() < 3) return kv_error(503, "ServiceUnavailable", "busy");
    return answer(200, bundle("k", enabled_attributes()).dump());
  };
  REQUIRE(f.client->get_key("k").ok());
  REQUIRE(f.sleeps.size() == 2);
  CHECK(f.sleeps[0] == std::chrono::milliseconds(75));  // 3/4 of 100 ms (equal jitter at 0.5)
  CHECK(f.sleeps[1] == std::chrono::milliseconds(150));
  Fixture down;
  down.vault = [](const HttpRequest&) -> Result<HttpResponse> {
    return make_error(ErrorKind::Unavailable,
                      "GET https://127.0.0.1:8443/keys/k: connection refused");
  };
  auto r = down.client->get_key("k");
  CHECK(r.error().kind == ErrorKind::Unavailable);
  CHECK(r.error().message.find("(gave up after 3 attempts)") != std::string::npos);
}

TEST_CASE("a 401 from the vault is answered once with a fresh token, writes included",
          "[kms][azure]") {
  Fixture f;
  f.vault = [&](const HttpRequest&) -> Result<HttpResponse> {
    if (f.vault_requests.size() == 1)
      return kv_error(401, "Unauthorized", "[TokenExpired] Error validating token: 'S2S12086'.");
    return answer(200, bundle("k", enabled_attributes()).dump());
  };
  REQUIRE(f.client->delete_key("k").ok());
  CHECK(f.vault_requests.size() == 2);
  CHECK(f.token_requests == 2);
  Fixture g;
  g.vault = [](const HttpRequest&) {
    return kv_error(401, "Unauthorized", "AKV10022: Invalid audience.");
  };
  auto r = g.client->get_key("k");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::Unauthenticated);
  CHECK(g.vault_requests.size() == 2);  // no loop
}

TEST_CASE("key ids of another vault, and malformed ones, are refused before any call",
          "[kms][azure]") {
  Fixture f;
  f.vault = [](const HttpRequest&) { return answer(200, "{}"); };
  for (const char* id :
       {"https://other.vault.azure.net/keys/k", "https://contoso.vault.azure.net/secrets/k",
        "k/with/too/many", "bad_name", "https://contoso.vault.azure.net/keys/k/not-hex!"}) {
    INFO(id);
    auto r = f.client->describe_key(id);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::InvalidArgument);
  }
  CHECK(f.transport.requests.empty());
}

TEST_CASE("schedule_key_deletion soft-deletes, an earlier deletion is reported, not an error",
          "[kms][azure]") {
  Fixture f;
  Json deleted = bundle("k", enabled_attributes());
  deleted["recoveryId"] = "https://contoso.vault.azure.net/deletedkeys/k";
  deleted["deletedDate"] = epoch("2026-11-23T15:38:00Z");
  deleted["scheduledPurgeDate"] = epoch("2027-02-21T15:38:00Z");
  f.vault = [&](const HttpRequest&) { return answer(200, deleted.dump()); };
  auto s = f.client->schedule_key_deletion("https://contoso.vault.azure.net/keys/k", 7);
  REQUIRE(s.ok());
  CHECK(f.vault_requests[0].method == "DELETE");
  CHECK(f.vault_requests[0].url == url("/keys/k"));
  CHECK(s->key_id == "k");
  CHECK(s->state == "Deleted");
  REQUIRE(s->deletion_date.has_value());
  CHECK(format_rfc3339(*s->deletion_date) == "2027-02-21T15:38:00Z");

  Fixture again;
  again.vault = [&](const HttpRequest& r) {
    if (r.method == "DELETE") return kv_error(404, "KeyNotFound", "not found");
    return answer(200, deleted.dump());
  };
  auto s2 = again.client->schedule_key_deletion("k", 30);
  REQUIRE(s2.ok());
  CHECK(again.vault_requests[1].url == url("/deletedkeys/k"));
  CHECK(s2->state == "Deleted");
}

TEST_CASE("deleting an imported key deletes the KEK made for its import, and no other key",
          "[kms][azure]") {
  for (const std::string made_for : {"payments", "someone-else"}) {
    Fixture f;
    Json deleted = bundle("payments", enabled_attributes());
    deleted["recoveryId"] = "https://contoso.vault.azure.net/deletedkeys/payments";
    Json kek = bundle("payments-kek", enabled_attributes(), {{"byok.dev/kek-for", made_for}});
    f.vault = [&](const HttpRequest& r) {
      if (r.url.find("/keys/payments-kek") != std::string::npos)
        return answer(200, r.method == "DELETE" ? deleted.dump() : kek.dump());
      return answer(200, deleted.dump());
    };
    auto s = f.client->schedule_key_deletion("https://contoso.vault.azure.net/keys/payments", 7);
    REQUIRE(s.ok());
    std::vector<std::string> calls;
    for (const auto& r : f.vault_requests) calls.push_back(r.method + " " + r.url);
    std::vector<std::string> want = {"DELETE " + url("/keys/payments"),
                                     "GET " + url("/keys/payments-kek")};
    if (made_for == "payments") want.push_back("DELETE " + url("/keys/payments-kek"));
    CHECK(calls == want);
  }
}

TEST_CASE("cancel_key_deletion recovers, a live key needs no recovery", "[kms][azure]") {
  Fixture f;
  f.vault = [](const HttpRequest&) {
    return answer(200, bundle("k", enabled_attributes()).dump());
  };
  REQUIRE(f.client->cancel_key_deletion("k").ok());
  CHECK(f.vault_requests[0].method == "POST");
  CHECK(f.vault_requests[0].url == url("/deletedkeys/k/recover"));

  Fixture live;
  live.vault = [](const HttpRequest& r) {
    if (r.method == "POST") return kv_error(404, "KeyNotFound", "Deleted Key not found: k");
    return answer(200, bundle("k", enabled_attributes()).dump());
  };
  REQUIRE(live.client->cancel_key_deletion("k").ok());

  Fixture none;
  none.vault = [](const HttpRequest&) { return kv_error(404, "KeyNotFound", "not found"); };
  auto r = none.client->cancel_key_deletion("k");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::NotFound);
  CHECK(r.error().message.rfind("Key Vault RecoverDeletedKey k: ", 0) == 0);
}

TEST_CASE("who_am_i reads the access token: client id, object id, tenant", "[kms][azure]") {
  Fixture f;
  f.vault = [](const HttpRequest&) { return answer(500, ""); };
  auto who = f.client->who_am_i();
  REQUIRE(who.ok());
  CHECK(who->principal == kClient);
  CHECK(who->id == "obj-7");
  CHECK(who->account == kTenant);
  CHECK(f.vault_requests.empty());
}

TEST_CASE(
    "wrapping algorithms: RSA and EC everywhere, AES only in a Managed HSM, never ed25519 or "
    "chacha20",
    "[kms][azure]") {
  Fixture vault;
  for (const char* t :
       {"rsa-2048", "rsa-3072", "rsa-4096", "ecdsa-p256", "ecdsa-p384", "ecdsa-p521"}) {
    INFO(t);
    auto algs = vault.client->wrapping_algorithms(t);
    REQUIRE(algs.ok());
    CHECK(*algs == std::vector<std::string>{"CKM_RSA_AES_KEY_WRAP"});
  }
  auto aes = vault.client->wrapping_algorithms("aes256-gcm96");
  REQUIRE_FALSE(aes.ok());
  CHECK(aes.error().kind == ErrorKind::Unsupported);
  CHECK(aes.error().message.find("Managed HSM") != std::string::npos);
  for (const char* t : {"ed25519", "chacha20-poly1305"}) {
    auto r = vault.client->wrapping_algorithms(t);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::Unsupported);
    CHECK(r.error().message == std::string("Azure Key Vault does not import ") + t +
                                   " keys (it imports RSA, EC P-256/P-384/P-521 and, in a "
                                   "Managed HSM, AES keys)");
  }
  CHECK(vault.client->wrapping_algorithms("hmac-sha256").error().kind ==
        ErrorKind::InvalidArgument);
  Fixture hsm("https://contoso.managedhsm.azure.net");
  REQUIRE(hsm.client->vault().managed_hsm);
  CHECK(hsm.client->wrapping_algorithms("aes128-gcm96").ok());
  CHECK(key_vault_scope(hsm.client->vault()) == "https://managedhsm.azure.net/.default");
}

TEST_CASE("find_key: ours by the owner tag, someone else's refused, none is nullopt",
          "[kms][azure]") {
  Fixture ours;
  ours.vault = [](const HttpRequest&) {
    return answer(
        200, bundle("payments", enabled_attributes(), {{"byok.dev/owner", "9d1c2f3e-uid"}}).dump());
  };
  auto found = ours.client->find_key(target());
  REQUIRE(found.ok());
  REQUIRE(found->has_value());
  CHECK((*found)->name == "payments");
  CHECK(ours.vault_requests[0].url == url("/keys/payments"));

  Fixture theirs;
  theirs.vault = [](const HttpRequest&) {
    return answer(200,
                  bundle("payments", enabled_attributes(), {{"byok.dev/owner", "other"}}).dump());
  };
  auto clash = theirs.client->find_key(target());
  REQUIRE_FALSE(clash.ok());
  CHECK(clash.error().kind == ErrorKind::AlreadyExists);
  CHECK(clash.error().message.find("'other'") != std::string::npos);

  Fixture none;
  none.vault = [](const HttpRequest&) { return kv_error(404, "KeyNotFound", "not found"); };
  auto nothing = none.client->find_key(target());
  REQUIRE(nothing.ok());
  CHECK_FALSE(nothing->has_value());
  CHECK(none.vault_requests.size() == 2);  // /keys, then /deletedkeys

  Fixture deleted;
  deleted.vault = [](const HttpRequest& r) {
    if (r.url.find("/deletedkeys/") == std::string::npos) return kv_error(404, "KeyNotFound", "x");
    Json b = bundle("payments", enabled_attributes(), {{"byok.dev/owner", "9d1c2f3e-uid"}});
    b["recoveryId"] = "https://contoso.vault.azure.net/deletedkeys/payments";
    return answer(200, b.dump());
  };
  auto d = deleted.client->find_key(target());
  REQUIRE(d.ok());
  REQUIRE(d->has_value());
  CHECK((*d)->state == "Deleted");
}

TEST_CASE(
    "prepare_import creates an RSA-HSM import-only KEK and returns its SPKI and versioned kid",
    "[kms][azure]") {
  RsaKey rsa;
  Fixture f;
  f.vault = [&](const HttpRequest& r) {
    if (r.method == "GET") return kv_error(404, "KeyNotFound", "not found");
    return answer(200, kek_bundle(rsa, "payments-kek", "9d1c2f3e-uid").dump());
  };
  auto w = f.client->prepare_import(target(), "");
  REQUIRE(w.ok());
  REQUIRE(f.vault_requests.size() == 2);
  CHECK(f.vault_requests[0].url == url("/keys/payments-kek"));
  const auto& create = f.vault_requests[1];
  CHECK(create.method == "POST");
  CHECK(create.url == url("/keys/payments-kek/create"));
  CHECK(find_header(create.headers, "Content-Type") == "application/json");
  auto body = Json::parse(create.body);
  CHECK(body["kty"] == "RSA-HSM");
  CHECK(body["key_size"] == 4096);
  CHECK(body["key_ops"] == Json{"import"});
  CHECK(body["attributes"]["enabled"] == true);
  CHECK(body["tags"]["byok.dev/owner"] == "9d1c2f3e-uid");
  CHECK(body["tags"]["byok.dev/kek-for"] == "payments");
  CHECK(w->public_key_der == rsa.spki());
  CHECK(w->import_token ==
        std::string("https://contoso.vault.azure.net/keys/payments-kek/") + kVersion);
  CHECK(w->algorithm == "CKM_RSA_AES_KEY_WRAP");
  CHECK(w->key_id.empty());
}

TEST_CASE("prepare_import reuses a usable KEK, renews our unusable one, refuses a foreign key",
          "[kms][azure]") {
  RsaKey rsa;
  Fixture reuse;
  reuse.vault = [&](const HttpRequest&) {
    return answer(200, kek_bundle(rsa, "payments-kek", "someone-before").dump());
  };
  REQUIRE(reuse.client->prepare_import(target(), "").ok());
  CHECK(reuse.vault_requests.size() == 1);

  Fixture renew;
  renew.vault = [&](const HttpRequest& r) {
    return answer(200, kek_bundle(rsa, "payments-kek", "9d1c2f3e-uid", r.method != "GET").dump());
  };
  REQUIRE(renew.client->prepare_import(target(), "").ok());
  REQUIRE(renew.vault_requests.size() == 2);
  CHECK(renew.vault_requests[1].url == url("/keys/payments-kek/create"));

  Fixture foreign;
  foreign.vault = [&](const HttpRequest&) {
    return answer(200, bundle("payments-kek", enabled_attributes(), {{"team", "x"}}).dump());
  };
  auto r = foreign.client->prepare_import(target(), "");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::AlreadyExists);
  CHECK(foreign.vault_requests.size() == 1);

  Fixture bad_alg;
  auto t = target();
  t.wrapping_algorithm = "RSA_AES_KEY_WRAP_SHA_256";
  CHECK(bad_alg.client->prepare_import(t, "").error().kind == ErrorKind::InvalidArgument);
  CHECK(bad_alg.client->prepare_import(target("ed25519"), "").error().kind ==
        ErrorKind::Unsupported);
  CHECK(bad_alg.transport.requests.empty());
}

TEST_CASE(
    "import_key PUTs the .byok file as base64url key_hsm with kty, crv, key_ops and the owner "
    "tag",
    "[kms][azure]") {
  Fixture f;
  f.vault = [](const HttpRequest&) {
    Json b = bundle("payments", enabled_attributes(), {{"byok.dev/owner", "9d1c2f3e-uid"}});
    b["key"]["kty"] = "EC-HSM";
    return answer(200, b.dump());
  };
  WrappingKey w;
  w.algorithm = "CKM_RSA_AES_KEY_WRAP";
  w.import_token = std::string("https://contoso.vault.azure.net/keys/payments-kek/") + kVersion;
  const std::string wrapped("\x01\x02\xfe\xff wrapped bytes", 19);
  auto r = f.client->import_key(target("ecdsa-p384"), w, wrapped, ImportKind::First);
  REQUIRE(r.ok());
  CHECK(r->key_id == "payments");
  CHECK(r->resource == "https://contoso.vault.azure.net/keys/payments");
  CHECK(r->version == kVersion);
  REQUIRE(f.vault_requests.size() == 1);
  const auto& req = f.vault_requests[0];
  CHECK(req.method == "PUT");
  CHECK(req.url == url("/keys/payments"));
  auto body = Json::parse(req.body);
  CHECK(body["key"]["kty"] == "EC-HSM");
  CHECK(body["key"]["crv"] == "P-384");
  CHECK(body["key"]["key_ops"] == Json{"sign", "verify"});
  CHECK(body["Hsm"] == true);
  CHECK(body["attributes"]["enabled"] == true);
  CHECK(body["tags"] == Json{{"byok.dev/owner", "9d1c2f3e-uid"}});
  const std::string key_hsm = body["key"]["key_hsm"];
  CHECK(key_hsm.find_first_of("+/=") == std::string::npos);  // base64url, unpadded
  auto byok = base64_decode(key_hsm);
  REQUIRE(byok.ok());
  CHECK(*byok == make_byok_file(w.import_token, wrapped, "byok-operator"));
  auto blob = Json::parse(*byok);
  CHECK(blob["header"]["kid"] == w.import_token);
  CHECK(*base64_decode(blob["ciphertext"].get<std::string>()) == wrapped);
}

TEST_CASE("import_key refuses a rotation without allowRotation and a foreign wrapping key",
          "[kms][azure]") {
  Fixture f;
  f.vault = [](const HttpRequest&) { return answer(200, "{}"); };
  WrappingKey w;
  w.algorithm = "CKM_RSA_AES_KEY_WRAP";
  w.import_token = "https://contoso.vault.azure.net/keys/payments-kek/v1";
  CHECK(f.client->import_key(target(), w, "x", ImportKind::NewVersion).error().kind ==
        ErrorKind::FailedPrecondition);
  WrappingKey aws_like;
  aws_like.algorithm = "RSAES_OAEP_SHA_256";
  aws_like.import_token = "token";
  CHECK(f.client->import_key(target(), aws_like, "x", ImportKind::First).error().kind ==
        ErrorKind::InvalidArgument);
  CHECK(f.transport.requests.empty());
}

TEST_CASE("the .byok file has Microsoft's members, in order", "[kms][azure]") {
  CHECK(make_byok_file("https://v.vault.azure.net/keys/kek/1a2b", std::string("\xfb\xff\x00", 3),
                       "byokctl 0.1.0; SoftHSM 2.6.1") ==
        "{\n"
        "  \"schema_version\": \"1.0.0\",\n"
        "  \"header\": {\n"
        "    \"kid\": \"https://v.vault.azure.net/keys/kek/1a2b\",\n"
        "    \"alg\": \"dir\",\n"
        "    \"enc\": \"CKM_RSA_AES_KEY_WRAP\"\n"
        "  },\n"
        "  \"ciphertext\": \"-_8A\",\n"
        "  \"generator\": \"byokctl 0.1.0; SoftHSM 2.6.1\"\n"
        "}\n");
}

TEST_CASE("a .byok file read back gives its KEK and wrap, anything else is named", "[kms][azure]") {
  const std::string wrapped("\x01\x02\xfe\xff wrapped", 13);
  const std::string file = make_byok_file("https://v.vault.azure.net/keys/kek/1a2b", wrapped, "g");
  CHECK(looks_like_byok_file(file));
  CHECK_FALSE(looks_like_byok_file(wrapped));
  CHECK_FALSE(looks_like_byok_file("{ not json"));
  auto parsed = parse_byok_file(file);
  REQUIRE(parsed.ok());
  CHECK(parsed->kek_kid == "https://v.vault.azure.net/keys/kek/1a2b");
  CHECK(parsed->wrapped == wrapped);
  auto other_enc = Json::parse(file);
  other_enc["header"]["enc"] = "A256KW";
  CHECK(parse_byok_file(other_enc.dump()).error().message.find("header.enc") != std::string::npos);
  auto no_kid = Json::parse(file);
  no_kid["header"].erase("kid");
  CHECK(parse_byok_file(no_kid.dump()).error().message.find("header.kid") != std::string::npos);
  // Members of the wrong type are refused, never thrown.
  auto null_ciphertext = Json::parse(file);
  null_ciphertext["ciphertext"] = nullptr;
  CHECK(parse_byok_file(null_ciphertext.dump()).error().message.find("ciphertext") !=
        std::string::npos);
  auto numeric_version = Json::parse(file);
  numeric_version["schema_version"] = 1;
  CHECK(parse_byok_file(numeric_version.dump()).error().message.find("schema_version") !=
        std::string::npos);
  auto numeric_kid = Json::parse(file);
  numeric_kid["header"]["kid"] = 7;
  CHECK(parse_byok_file(numeric_kid.dump()).error().message.find("header.kid") !=
        std::string::npos);
}

TEST_CASE("import_key takes a whole .byok file for its own KEK, and refuses one for another KEK",
          "[kms][azure]") {
  Fixture f;
  f.vault = [](const HttpRequest&) {
    return answer(200, bundle("payments", enabled_attributes()).dump());
  };
  WrappingKey w;
  w.algorithm = "CKM_RSA_AES_KEY_WRAP";
  w.import_token = std::string("https://contoso.vault.azure.net/keys/payments-kek/") + kVersion;
  const std::string wrapped("\x01\x02 ceremony wrap", 17);
  auto ok = f.client->import_key(
      target("rsa-2048"), w, make_byok_file(w.import_token, wrapped, "byokctl"), ImportKind::First);
  REQUIRE(ok.ok());
  REQUIRE(f.vault_requests.size() == 1);
  auto byok =
      base64_decode(Json::parse(f.vault_requests[0].body)["key"]["key_hsm"].get<std::string>());
  REQUIRE(byok.ok());
  CHECK(*byok == make_byok_file(w.import_token, wrapped, "byok-operator"));  // the wrap, re-sent

  auto foreign = f.client->import_key(
      target("rsa-2048"), w,
      make_byok_file("https://contoso.vault.azure.net/keys/other-kek/1", wrapped, "x"),
      ImportKind::First);
  REQUIRE_FALSE(foreign.ok());
  CHECK(foreign.error().kind == ErrorKind::InvalidArgument);
  CHECK(foreign.error().message.find("other-kek") != std::string::npos);
  CHECK(f.vault_requests.size() == 1);  // refused before anything was sent
}

TEST_CASE("from_config names the missing or wrong field", "[kms][azure]") {
  SettableClock clock;
  ScriptedTransport transport;
  auto good = [] {
    ProviderConfig c;
    c.type = "azure";
    c.settings = {{"vaultUrl", "https://contoso.vault.azure.net"}};
    c.credentials = {{"tenantId", kTenant}, {"clientId", kClient}, {"clientSecret", "s"}};
    return c;
  };
  auto ok = KeyVaultClient::from_config(good(), transport, clock);
  REQUIRE(ok.ok());
  CHECK((*ok)->endpoint() == "https://contoso.vault.azure.net");
  CHECK((*ok)->token_source().scope() == "https://vault.azure.net/.default");
  CHECK((*ok)->token_source().token_url() ==
        std::string(kAuthority) + "/" + kTenant + "/oauth2/v2.0/token");

  struct Case {
    std::function<void(ProviderConfig&)> change;
    std::string message;
  };
  const Case cases[] = {
      {[](ProviderConfig& c) { c.settings.clear(); }, "spec.azure.vaultUrl is empty"},
      {[](ProviderConfig& c) { c.settings["vaultUrl"] = "http://contoso.vault.azure.net"; },
       "spec.azure.vaultUrl: vault URL 'http://contoso.vault.azure.net' must start with https://"},
      {[](ProviderConfig& c) { c.settings["vaultUrl"] = "https://127.0.0.1:8443"; },
       "spec.azure.vaultUrl: vault URL 'https://127.0.0.1:8443' must use the vault's DNS name"},
      {[](ProviderConfig& c) { c.settings["vaultUrl"] = "https://contoso.vault.azure.net/keys"; },
       "spec.azure.vaultUrl: vault URL 'https://contoso.vault.azure.net/keys' must be the vault's "
       "root"},
      {[](ProviderConfig& c) { c.credentials.erase("tenantId"); },
       "credentials Secret key tenantId is missing"},
      {[](ProviderConfig& c) { c.credentials.erase("clientId"); },
       "credentials Secret key clientId is missing"},
      {[](ProviderConfig& c) { c.credentials.erase("clientSecret"); },
       "credentials Secret key clientSecret is missing (or set tokenFile for workload identity)"},
      {[](ProviderConfig& c) { c.credentials["tokenFile"] = "/var/run/token"; },
       "credentials Secret sets both clientSecret and tokenFile: keep one"},
      {[](ProviderConfig& c) { c.credentials["tenantId"] = "../evil"; },
       "credentials Secret key tenantId must be a tenant id or domain name"},
      {[](ProviderConfig& c) { c.credentials["authorityHost"] = "http://login.example"; },
       "credentials Secret key authorityHost must be an https:// URL"},
  };
  for (const auto& c : cases) {
    INFO(c.message);
    auto config = good();
    c.change(config);
    auto r = KeyVaultClient::from_config(config, transport, clock);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::InvalidArgument);
    CHECK(r.error().message.rfind(c.message, 0) == 0);
  }

  auto federated = good();
  federated.credentials.erase("clientSecret");
  federated.credentials["tokenFile"] = "/var/run/secrets/azure/tokens/azure-identity-token";
  federated.credentials["authorityHost"] = "https://login.microsoftonline.us/";
  federated.endpoint = "https://127.0.0.1:8443/";
  auto fed = KeyVaultClient::from_config(federated, transport, clock);
  REQUIRE(fed.ok());
  CHECK((*fed)->endpoint() == "https://127.0.0.1:8443");
  CHECK((*fed)->token_source().token_url() ==
        std::string("https://login.microsoftonline.us/") + kTenant + "/oauth2/v2.0/token");
}

TEST_CASE("vault URLs and key identifiers parse as Microsoft writes them", "[kms][azure]") {
  auto v = parse_vault_url("https://Contoso.Vault.Azure.CN/");
  REQUIRE(v.ok());
  CHECK(v->url == "https://contoso.vault.azure.cn");
  CHECK_FALSE(v->managed_hsm);
  CHECK(key_vault_scope(*v) == "https://vault.azure.cn/.default");
  auto gov = parse_vault_url("https://x.vault.usgovcloudapi.net");
  REQUIRE(gov.ok());
  CHECK(key_vault_scope(*gov) == "https://vault.usgovcloudapi.net/.default");
  auto ref =
      parse_key_id("https://contoso.vault.azure.cn/keys/My-Key-1/" + std::string(kVersion), *v);
  REQUIRE(ref.ok());
  CHECK(ref->name == "My-Key-1");
  CHECK(ref->version == kVersion);
  auto bare = parse_key_id("k/", *v);
  REQUIRE(bare.ok());
  CHECK(bare->name == "k");
  CHECK(bare->version.empty());
  CHECK(parse_key_id(std::string(128, 'a'), *v).error().kind == ErrorKind::InvalidArgument);
  auto kid = parse_kid("https://127.0.0.1:8443/keys/k/abc123");
  REQUIRE(kid.ok());
  CHECK(kid->version == "abc123");
  CHECK(parse_kid("https://x/secrets/k").error().kind == ErrorKind::Internal);
}
