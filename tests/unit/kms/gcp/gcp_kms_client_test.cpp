// GcpKmsClient against a scripted transport: the REST calls it makes (paths, query, bodies,
// bearer tokens), how it reads Google's answers and errors, its retries and polls, its
// configuration checks and the import path.
#include <catch2/catch.hpp>

#include <memory>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "common/base64.h"
#include "kms/gcp/gcp_errors.h"
#include "kms/gcp/gcp_kms_client.h"
#include "kms/gcp/gcp_traits.h"
#include "tests/unit/kms/gcp/gcp_test_support.h"

using namespace byok;
using namespace byok::kms;
using namespace byok::kms::gcp;
using namespace byok::kms::gcp::testing;

namespace {

const std::string kVersions = "/cryptoKeyVersions";

std::string v1(const std::string& name) { return "/v1/" + name; }

// A real RSA public key of `bits` as PEM, as an ImportJob's publicKey.pem carries it.
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

const std::string& rsa3072_pem() {
  static const std::string pem = rsa_public_pem(3072);
  return pem;
}

ImportTarget aes_target() {
  ImportTarget t;
  t.name = "payments";
  t.key_type = "aes256-gcm96";
  t.owner = "6B1F0C2E-1111-4222-8333-ABCDEF012345";
  t.wrapping_algorithm = "RSA_OAEP_3072_SHA256_AES_256";
  t.allow_rotation = true;
  return t;
}

Json job_json(const std::string& name, const std::string& state, const std::string& method,
              const std::string& pem = "") {
  Json j = {{"name", name},
            {"importMethod", method},
            {"protectionLevel", "HSM"},
            {"createTime", "2026-11-23T15:38:00.1Z"},
            {"expireTime", "2026-11-26T15:38:00.1Z"},
            {"state", state}};
  if (!pem.empty()) j["publicKey"] = {{"pem", pem}};
  return j;
}

ProviderConfig provider_config() {
  ProviderConfig c;
  c.type = "gcp";
  c.settings = {{"project", "proj-1"}, {"location", "europe-west1"}, {"keyRing", "ring"}};
  c.credentials = {{"serviceAccountKey", sa_key_json().dump()}};
  return c;
}

}  // namespace

TEST_CASE("describe_key GETs the CryptoKey with a bearer token and reads its primary version",
          "[kms][gcp]") {
  Fixture f;
  auto key = key_json(key_name());
  key["primary"] = version_json(key_name(), 2, "ENABLED");
  key["primary"]["importJob"] = std::string(kKeyRing) + "/importJobs/j1";
  f.router.on("GET " + v1(key_name()), key);
  auto d = f.client->describe_key(key_name());
  REQUIRE(d.ok());
  REQUIRE(f.transport.requests.size() == 2);  // the grant, then the call
  const auto reqs = f.kms_requests();
  const auto& req = reqs.at(0);
  CHECK(req.method == "GET");
  CHECK(req.url == std::string(kEndpoint) + v1(key_name()));
  CHECK(find_header(req.headers, "Authorization") == "Bearer ya29.t1");
  CHECK(req.body.empty());
  CHECK(d->key_id == key_name());
  CHECK(d->resource == key_name());
  CHECK(d->name == "k1");
  CHECK(d->version == key_name() + "/cryptoKeyVersions/2");
  CHECK(d->state == "ENABLED");
  REQUIRE(d->status.has_value());
  CHECK(*d->status == CmkStatus::Current);
  CHECK(d->holds_material);
  CHECK(d->enabled);
  CHECK(d->imported);
  CHECK(d->key_spec == "GOOGLE_SYMMETRIC_ENCRYPTION");
  CHECK(d->key_usage == "ENCRYPT_DECRYPT");
  CHECK(d->origin == "HSM");
  REQUIRE(d->created.has_value());
  CHECK(format_rfc3339(*d->created) == "2026-11-20T09:59:59Z");
  CHECK_FALSE(d->deletion_date.has_value());

  // The token is cached: a second call asks for none.
  REQUIRE(f.client->describe_key(key_name()).ok());
  CHECK(f.transport.requests.size() == 3);
}

TEST_CASE("without a primary, the version with the highest id speaks for the key, over pages",
          "[kms][gcp]") {
  Fixture f;
  const auto name = key_name("signer");
  f.router.on("GET " + v1(name), key_json(name, "ASYMMETRIC_SIGN", "EC_SIGN_P256_SHA256"));
  f.router.on("GET " + v1(name) + kVersions,
              Json{{"cryptoKeyVersions",
                    {version_json(name, 9, "DISABLED", "EC_SIGN_P256_SHA256"),
                     version_json(name, 10, "ENABLED", "EC_SIGN_P256_SHA256")}},
                   {"nextPageToken", "tok/+="}});
  f.router.on(
      "GET " + v1(name) + kVersions,
      Json{{"cryptoKeyVersions", {version_json(name, 2, "DESTROYED", "EC_SIGN_P256_SHA256")}}});
  auto d = f.client->describe_key(name);
  REQUIRE(d.ok());
  auto reqs = f.kms_requests();
  REQUIRE(reqs.size() == 3);
  CHECK(reqs[1].url == std::string(kEndpoint) + v1(name) + kVersions + "?pageSize=100");
  CHECK(reqs[2].url ==
        std::string(kEndpoint) + v1(name) + kVersions + "?pageSize=100&pageToken=tok%2F%2B%3D");
  CHECK(d->version == name + "/cryptoKeyVersions/10");  // 10 > 9 > 2, numerically
  CHECK(d->state == "ENABLED");
  CHECK(d->key_spec == "EC_SIGN_P256_SHA256");
  CHECK(d->key_usage == "ASYMMETRIC_SIGN");
}

TEST_CASE("a CryptoKey with no version at all holds no material: old, no state", "[kms][gcp]") {
  Fixture f;
  auto key = key_json(key_name());
  key["importOnly"] = true;
  f.router.on("GET " + v1(key_name()), key);
  f.router.on("GET " + v1(key_name()) + kVersions, Json::object());  // Google omits empty lists
  auto d = f.client->describe_key(key_name());
  REQUIRE(d.ok());
  CHECK(d->state.empty());
  CHECK(d->version.empty());
  CHECK_FALSE(d->holds_material);
  REQUIRE(d->status.has_value());
  CHECK(*d->status == CmkStatus::Old);
  CHECK(d->imported);
  CHECK_FALSE(d->enabled);
}

TEST_CASE("a DESTROY_SCHEDULED primary is deleted, with its destroyTime as deletion date",
          "[kms][gcp]") {
  Fixture f;
  auto key = key_json(key_name());
  key["primary"] = version_json(key_name(), 1, "DESTROY_SCHEDULED");
  key["primary"]["destroyTime"] = "2026-12-23T15:38:00.999Z";
  f.router.on("GET " + v1(key_name()), key);
  auto d = f.client->describe_key(key_name());
  REQUIRE(d.ok());
  CHECK(*d->status == CmkStatus::Deleted);
  REQUIRE(d->deletion_date.has_value());
  CHECK(format_rfc3339(*d->deletion_date) == "2026-12-23T15:38:00Z");
}

TEST_CASE("describe_key refuses what is not a CryptoKey name without calling out", "[kms][gcp]") {
  Fixture f;
  for (const std::string& bad : std::vector<std::string>{
           "k1", "projects/p/locations/l/keyRings/r", key_name() + "/cryptoKeyVersions/1",
           "projects/p/locations/l/keyRings/r/cryptoKeys/",
           "projects//locations/l/keyRings/r/cryptoKeys/k",
           "projects/p/regions/l/keyRings/r/cryptoKeys/k"}) {
    auto d = f.client->describe_key(bad);
    INFO(bad);
    REQUIRE_FALSE(d.ok());
    CHECK(d.error().kind == ErrorKind::InvalidArgument);
  }
  CHECK(f.transport.requests.empty());
  CHECK(is_crypto_key_name(key_name()));
}

TEST_CASE("the default endpoint is Cloud KMS's over TLS", "[kms][gcp]") {
  Fixture f("");
  CHECK(f.client->endpoint() == "https://cloudkms.googleapis.com");
  f.router.on("GET " + v1(key_name()), key_json(key_name()));
  f.router.on("GET " + v1(key_name()) + kVersions, Json::object());
  REQUIRE(f.client->describe_key(key_name()).ok());
  CHECK(f.kms_requests()[0].url == "https://cloudkms.googleapis.com" + v1(key_name()));
  Fixture slash("https://kms.test///");
  CHECK(slash.client->endpoint() == "https://kms.test");
}

TEST_CASE("Google error answers map to error kinds with messages naming the call and the cause",
          "[kms][gcp]") {
  struct Case {
    int http;
    std::string status;
    ErrorKind kind;
  };
  const Case cases[] = {
      {404, "NOT_FOUND", ErrorKind::NotFound},
      {403, "PERMISSION_DENIED", ErrorKind::PermissionDenied},
      {400, "INVALID_ARGUMENT", ErrorKind::InvalidArgument},
      {400, "FAILED_PRECONDITION", ErrorKind::FailedPrecondition},
      {409, "ALREADY_EXISTS", ErrorKind::Conflict},
      {409, "ABORTED", ErrorKind::Conflict},
      {429, "RESOURCE_EXHAUSTED", ErrorKind::Throttled},
      {503, "UNAVAILABLE", ErrorKind::Unavailable},
      {500, "INTERNAL", ErrorKind::Unavailable},
      {504, "DEADLINE_EXCEEDED", ErrorKind::Unavailable},
      {501, "UNIMPLEMENTED", ErrorKind::Unsupported},
  };
  for (const auto& c : cases) {
    Fixture f;
    f.router.on("GET " + v1(key_name()), google_error_answer(c.http, c.status, "the words"));
    auto d = f.client->describe_key(key_name());
    INFO(c.status);
    REQUIRE_FALSE(d.ok());
    CHECK(d.error().kind == c.kind);
    CHECK(d.error().message.rfind(
              "GCP GetCryptoKey: " + c.status + ": the words (HTTP " + std::to_string(c.http) + ")",
              0) == 0);
  }
  // Without a Google body, the HTTP status decides.
  CHECK(google_error_kind("", 404) == ErrorKind::NotFound);
  CHECK(google_error_kind("", 502) == ErrorKind::Unavailable);
  CHECK(google_error_kind("SOMETHING_NEW", 418) == ErrorKind::Internal);
  auto e = parse_google_error("<html>\n<b>oops</b>\n</html>");
  CHECK(e.status.empty());
  CHECK(e.message == "<html> <b>oops</b> </html>");
}

TEST_CASE("reads are retried on 5xx and throttling, writes are sent once", "[kms][gcp]") {
  Fixture f;
  f.router.on("GET " + v1(key_name()), google_error_answer(503, "UNAVAILABLE", "busy"));
  f.router.on("GET " + v1(key_name()), google_error_answer(429, "RESOURCE_EXHAUSTED", "slow down"));
  auto key = key_json(key_name());
  key["primary"] = version_json(key_name(), 1, "ENABLED");
  f.router.on("GET " + v1(key_name()), key);
  REQUIRE(f.client->describe_key(key_name()).ok());
  CHECK(f.kms_requests().size() == 3);
  CHECK(f.sleeps == std::vector<std::chrono::milliseconds>{std::chrono::milliseconds(75),
                                                           std::chrono::milliseconds(150)});

  Fixture g;
  g.router.on("GET " + v1(key_name()), google_error_answer(503, "UNAVAILABLE", "down"));
  auto d = g.client->describe_key(key_name());
  REQUIRE_FALSE(d.ok());
  CHECK(d.error().message.find("(gave up after 3 attempts)") != std::string::npos);
  CHECK(g.kms_requests().size() == 3);

  Fixture w;
  w.router.on("POST " + v1(key_name() + "/cryptoKeyVersions/1:restore"),
              google_error_answer(503, "UNAVAILABLE", "down"));
  auto r = w.client->restore_crypto_key_version(key_name() + "/cryptoKeyVersions/1");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::Unavailable);
  CHECK(w.kms_requests().size() == 1);
  CHECK(w.sleeps.empty());
}

TEST_CASE("a refused token is dropped and the call sent once more with a fresh one", "[kms][gcp]") {
  Fixture f;
  f.router.on("POST " + v1(key_name() + "/cryptoKeyVersions/1:restore"),
              google_error_answer(401, "UNAUTHENTICATED",
                                  "Request had invalid authentication credentials."));
  f.router.on("POST " + v1(key_name() + "/cryptoKeyVersions/1:restore"),
              version_json(key_name(), 1, "DISABLED"));
  auto r = f.client->restore_crypto_key_version(key_name() + "/cryptoKeyVersions/1");
  REQUIRE(r.ok());
  CHECK(r->state == "DISABLED");
  auto reqs = f.kms_requests();
  REQUIRE(reqs.size() == 2);
  CHECK(find_header(reqs[0].headers, "Authorization") == "Bearer ya29.t1");
  CHECK(find_header(reqs[1].headers, "Authorization") == "Bearer ya29.t2");

  // Refused again with the new token: Unauthenticated, no third try.
  Fixture g;
  g.router.on("GET " + v1(key_name()), google_error_answer(401, "UNAUTHENTICATED", "no"));
  auto d = g.client->describe_key(key_name());
  REQUIRE_FALSE(d.ok());
  CHECK(d.error().kind == ErrorKind::Unauthenticated);
  CHECK(g.kms_requests().size() == 2);
}

TEST_CASE("a refused grant fails the call with the token endpoint's words", "[kms][gcp]") {
  Fixture f;
  f.router.token_handler = [](const HttpRequest&) -> std::optional<HttpResponse> {
    return answer(400, R"({"error":"invalid_grant","error_description":"Invalid JWT Signature."})");
  };
  auto d = f.client->describe_key(key_name());
  REQUIRE_FALSE(d.ok());
  CHECK(d.error().kind == ErrorKind::Unauthenticated);
  CHECK(d.error().message ==
        "GCP GetCryptoKey: GCP OAuth2 token: invalid_grant: Invalid JWT Signature. (HTTP 400)");
  CHECK(f.kms_requests().empty());
  auto who = f.client->who_am_i();
  REQUIRE_FALSE(who.ok());
  CHECK(who.error().kind == ErrorKind::Unauthenticated);
}

TEST_CASE("who_am_i names the service account and the project of its key ring", "[kms][gcp]") {
  Fixture f;
  auto who = f.client->who_am_i();
  REQUIRE(who.ok());
  CHECK(who->principal == kEmail);
  CHECK(who->account == "proj-1");
  CHECK(who->id == "1234567890");
  CHECK(f.transport.requests.size() == 1);  // it proved the key works by getting a token
}

TEST_CASE("from_config checks the settings and the credentials Secret", "[kms][gcp]") {
  ScriptedTransport transport;
  SettableClock clock;
  auto ok = GcpKmsClient::from_config(provider_config(), transport, clock);
  REQUIRE(ok.ok());
  CHECK((*ok)->key_ring_name() == "projects/proj-1/locations/europe-west1/keyRings/ring");
  CHECK((*ok)->endpoint() == "https://cloudkms.googleapis.com");
  auto with_endpoint = provider_config();
  with_endpoint.endpoint = "https://127.0.0.1:8443";
  CHECK((*GcpKmsClient::from_config(with_endpoint, transport, clock))->endpoint() ==
        "https://127.0.0.1:8443");

  struct Case {
    std::function<void(ProviderConfig&)> change;
    std::string message;
  };
  const Case cases[] = {
      {[](ProviderConfig& c) { c.settings.erase("project"); }, "spec.gcp.project is empty"},
      {[](ProviderConfig& c) { c.settings["location"] = ""; }, "spec.gcp.location is empty"},
      {[](ProviderConfig& c) { c.settings.erase("keyRing"); }, "spec.gcp.keyRing is empty"},
      {[](ProviderConfig& c) { c.settings["keyRing"] = "projects/p/locations/l/keyRings/r"; },
       "spec.gcp settings must be plain ids"},
      {[](ProviderConfig& c) { c.credentials.clear(); },
       "credentials Secret key serviceAccountKey is missing"},
      {[](ProviderConfig& c) { c.credentials["serviceAccountKey"] = "{}"; },
       "credentials Secret key serviceAccountKey is not a service-account JSON key: type is \"\""},
      {[](ProviderConfig& c) {
         auto j = sa_key_json();
         j.erase("client_email");
         c.credentials["serviceAccountKey"] = j.dump();
       },
       "credentials Secret key serviceAccountKey is not a service-account JSON key: client_email "
       "is missing"},
      {[](ProviderConfig& c) { c.type = "aws"; }, "provider type is \"aws\", not gcp"},
  };
  for (const auto& c : cases) {
    auto config = provider_config();
    c.change(config);
    auto r = GcpKmsClient::from_config(config, transport, clock);
    INFO(c.message);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::InvalidArgument);
    CHECK(r.error().message.rfind(c.message, 0) == 0);
  }
  CHECK(transport.requests.empty());
}

TEST_CASE(
    "wrapping algorithms: SHA-256 before SHA-1, direct OAEP never for RSA material, and "
    "types Cloud KMS cannot hold are Unsupported",
    "[kms][gcp]") {
  Fixture f;
  const std::vector<std::string> common = {
      "RSA_OAEP_4096_SHA256_AES_256", "RSA_OAEP_3072_SHA256_AES_256", "RSA_OAEP_4096_SHA1_AES_256",
      "RSA_OAEP_3072_SHA1_AES_256"};
  auto with_direct = common;
  with_direct.push_back("RSA_OAEP_4096_SHA256");
  with_direct.push_back("RSA_OAEP_3072_SHA256");
  for (const char* t : {"aes256-gcm96", "aes128-gcm96", "ecdsa-p256", "ecdsa-p384", "ed25519"}) {
    INFO(t);
    CHECK(*f.client->wrapping_algorithms(t) == with_direct);
  }
  for (const char* t : {"rsa-2048", "rsa-3072", "rsa-4096"}) {
    INFO(t);
    CHECK(*f.client->wrapping_algorithms(t) == common);
  }
  for (const char* t : {"chacha20-poly1305", "ecdsa-p521"}) {
    auto r = f.client->wrapping_algorithms(t);
    INFO(t);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::Unsupported);
    CHECK(r.error().message.find(std::string("does not import ") + t) != std::string::npos);
  }
  auto bad = f.client->wrapping_algorithms("hmac-sha256");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().kind == ErrorKind::InvalidArgument);
  CHECK(f.transport.requests.empty());

  CHECK(gcp_import_spec("aes256-gcm96")->algorithm == "GOOGLE_SYMMETRIC_ENCRYPTION");
  CHECK(gcp_import_spec("aes128-gcm96")->purpose == "RAW_ENCRYPT_DECRYPT");
  CHECK(gcp_import_spec("rsa-3072")->algorithm == "RSA_DECRYPT_OAEP_3072_SHA256");
  CHECK(gcp_import_spec("ecdsa-p384")->algorithm == "EC_SIGN_P384_SHA384");
  CHECK(gcp_import_spec("ed25519")->algorithm == "EC_SIGN_ED25519");
  CHECK(owner_label_value("6B1F0C2E-1111 x.y") == "6b1f0c2e-1111_x_y");
  CHECK(owner_label_value(std::string(80, 'a')).size() == 63);
}

TEST_CASE(
    "prepare_import creates an import-only key and an ImportJob, waits until it is ACTIVE "
    "and returns its public key as DER",
    "[kms][gcp]") {
  Fixture f;
  const auto name = key_name("payments");
  auto created = key_json(name);
  created["importOnly"] = true;
  f.router.on("POST " + v1(std::string(kKeyRing) + "/cryptoKeys"), created);
  f.router.token_handler = nullptr;
  // The job's name is chosen by the client; answer whatever it asked for.
  std::string job_name;
  auto inner = f.transport.handler;
  f.transport.handler = [&](const HttpRequest& r) -> Result<HttpResponse> {
    auto parts = parse_url(r.url);
    if (parts && parts->path == v1(std::string(kKeyRing) + "/importJobs")) {
      job_name = std::string(kKeyRing) + "/importJobs/" +
                 parts->query.substr(std::string("importJobId=").size());
      return answer(
          200, job_json(job_name, "PENDING_GENERATION", "RSA_OAEP_3072_SHA256_AES_256").dump());
    }
    if (parts && !job_name.empty() && parts->path == v1(job_name)) {
      static int polls = 0;
      return answer(
          200, (++polls < 2
                    ? job_json(job_name, "PENDING_GENERATION", "RSA_OAEP_3072_SHA256_AES_256")
                    : job_json(job_name, "ACTIVE", "RSA_OAEP_3072_SHA256_AES_256", rsa3072_pem()))
                   .dump());
    }
    return inner(r);
  };
  auto w = f.client->prepare_import(aes_target(), "");
  REQUIRE(w.ok());
  auto reqs = f.kms_requests();
  REQUIRE(reqs.size() == 4);  // create key, create job, two polls
  CHECK(reqs[0].method == "POST");
  CHECK(reqs[0].url == std::string(kEndpoint) + v1(std::string(kKeyRing) + "/cryptoKeys") +
                           "?cryptoKeyId=payments&skipInitialVersionCreation=true");
  CHECK(find_header(reqs[0].headers, "Content-Type") == "application/json");
  CHECK(Json::parse(reqs[0].body) ==
        Json{{"purpose", "ENCRYPT_DECRYPT"},
             {"importOnly", true},
             {"versionTemplate",
              {{"algorithm", "GOOGLE_SYMMETRIC_ENCRYPTION"}, {"protectionLevel", "HSM"}}},
             {"labels", {{"byok-dev-owner", "6b1f0c2e-1111-4222-8333-abcdef012345"}}}});
  CHECK(reqs[1].method == "POST");
  CHECK(Json::parse(reqs[1].body) ==
        Json{{"importMethod", "RSA_OAEP_3072_SHA256_AES_256"}, {"protectionLevel", "HSM"}});
  // <name>-<UTC yyyymmddhhmmss>-<8 hex>
  auto id = job_name.substr(job_name.rfind('/') + 1);
  CHECK(id.rfind("payments-20261123153800-", 0) == 0);
  CHECK(id.size() == std::string("payments-20261123153800-").size() + 8);
  CHECK(reqs[2].method == "GET");
  CHECK(f.sleeps == std::vector<std::chrono::milliseconds>(2, std::chrono::milliseconds(250)));

  CHECK(w->key_id == name);
  CHECK(w->import_token == job_name);
  CHECK(w->algorithm == "RSA_OAEP_3072_SHA256_AES_256");
  REQUIRE(w->expires.has_value());
  CHECK(format_rfc3339(*w->expires) == "2026-11-26T15:38:00Z");
  const auto* p = reinterpret_cast<const unsigned char*>(w->public_key_der.data());
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> pub(
      d2i_PUBKEY(nullptr, &p, static_cast<long>(w->public_key_der.size())), &EVP_PKEY_free);
  REQUIRE(pub);
  CHECK(EVP_PKEY_get_bits(pub.get()) == 3072);
}

TEST_CASE("prepare_import for an existing key makes an ImportJob at the key's protection level",
          "[kms][gcp]") {
  Fixture f;
  const auto name = key_name("payments");
  auto existing = key_json(name);
  existing["versionTemplate"]["protectionLevel"] = "SOFTWARE";
  f.router.on("GET " + v1(name), existing);
  f.router.on("POST " + v1(std::string(kKeyRing) + "/importJobs"),
              job_json(std::string(kKeyRing) + "/importJobs/j", "ACTIVE",
                       "RSA_OAEP_4096_SHA256_AES_256", rsa3072_pem()));
  auto target = aes_target();
  target.wrapping_algorithm = "RSA_OAEP_4096_SHA256_AES_256";
  // The job's key is 3072-bit although the method says 4096: refused, not passed on.
  auto w = f.client->prepare_import(target, name);
  REQUIRE_FALSE(w.ok());
  CHECK(w.error().kind == ErrorKind::Internal);
  CHECK(w.error().message.find("not a 4096-bit RSA key") != std::string::npos);
  auto reqs = f.kms_requests();
  REQUIRE(reqs.size() == 2);
  CHECK(reqs[0].method == "GET");
  CHECK(Json::parse(reqs[1].body)["protectionLevel"] == "SOFTWARE");
}

TEST_CASE("prepare_import refuses a method that cannot carry the key type, and a bad id",
          "[kms][gcp]") {
  Fixture f;
  auto target = aes_target();
  target.key_type = "rsa-3072";
  target.wrapping_algorithm = "RSA_OAEP_3072_SHA256";
  auto w = f.client->prepare_import(target, "");
  REQUIRE_FALSE(w.ok());
  CHECK(w.error().kind == ErrorKind::InvalidArgument);
  CHECK(w.error().message.find("cannot carry rsa-3072 keys") != std::string::npos);
  target = aes_target();
  target.name = "no spaces allowed";
  CHECK(f.client->prepare_import(target, "").error().kind == ErrorKind::InvalidArgument);
  target = aes_target();
  target.key_type = "chacha20-poly1305";
  CHECK(f.client->prepare_import(target, "").error().kind == ErrorKind::Unsupported);
  CHECK(f.transport.requests.empty());
}

TEST_CASE(
    "import_key sends the raw wrap base64-encoded, waits for the import and makes the "
    "version primary",
    "[kms][gcp]") {
  Fixture f;
  const auto name = key_name("payments");
  const std::string job = std::string(kKeyRing) + "/importJobs/j1";
  auto pending = version_json(name, 3, "PENDING_IMPORT");
  pending["importJob"] = job;
  auto enabled = pending;
  enabled["state"] = "ENABLED";
  f.router.on("POST " + v1(name) + kVersions + ":import", pending);
  f.router.on("GET " + v1(name) + "/cryptoKeyVersions/3", pending);
  f.router.on("GET " + v1(name) + "/cryptoKeyVersions/3", enabled);
  auto updated = key_json(name);
  updated["primary"] = enabled;
  f.router.on("POST " + v1(name) + ":updatePrimaryVersion", updated);

  WrappingKey w;
  w.key_id = name;
  w.import_token = job;
  const std::string wrapped("\x00\x01\xfe\xff wrap", 9);
  auto r = f.client->import_key(aes_target(), w, wrapped, ImportKind::NewVersion);
  REQUIRE(r.ok());
  CHECK(r->key_id == name);
  CHECK(r->resource == name);
  CHECK(r->version == name + "/cryptoKeyVersions/3");
  auto reqs = f.kms_requests();
  REQUIRE(reqs.size() == 4);
  CHECK(reqs[0].url == std::string(kEndpoint) + v1(name) + kVersions + ":import");
  CHECK(Json::parse(reqs[0].body) == Json{{"algorithm", "GOOGLE_SYMMETRIC_ENCRYPTION"},
                                          {"importJob", job},
                                          {"wrappedKey", base64_encode(wrapped)}});
  CHECK(reqs[3].url == std::string(kEndpoint) + v1(name) + ":updatePrimaryVersion");
  CHECK(Json::parse(reqs[3].body) == Json{{"cryptoKeyVersionId", "3"}});
}

TEST_CASE(
    "an import that fails in the background is InvalidArgument with Google's reason, "
    "asymmetric keys get no primary, and a rotation needs allowRotation",
    "[kms][gcp]") {
  Fixture f;
  const auto name = key_name("signer");
  auto failed = version_json(name, 1, "IMPORT_FAILED", "EC_SIGN_P256_SHA256");
  failed["importFailureReason"] = "The wrapped key could not be unwrapped.";
  f.router.on("POST " + v1(name) + kVersions + ":import", failed);
  WrappingKey w{
      name, "", "RSA_OAEP_3072_SHA256_AES_256", std::string(kKeyRing) + "/importJobs/j", {}};
  auto target = aes_target();
  target.key_type = "ecdsa-p256";
  auto r = f.client->import_key(target, w, "wrap", ImportKind::First);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::InvalidArgument);
  CHECK(r.error().message == "GCP ImportCryptoKeyVersion: " + name +
                                 "/cryptoKeyVersions/1 is IMPORT_FAILED: The wrapped key could "
                                 "not be unwrapped.");

  Fixture g;
  g.router.on("POST " + v1(name) + kVersions + ":import",
              version_json(name, 1, "ENABLED", "EC_SIGN_P256_SHA256"));
  auto ok = g.client->import_key(target, w, "wrap", ImportKind::First);
  REQUIRE(ok.ok());
  CHECK(g.kms_requests().size() == 1);  // no updatePrimaryVersion for ASYMMETRIC_SIGN

  target.allow_rotation = false;
  auto refused = g.client->import_key(target, w, "wrap", ImportKind::NewVersion);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().kind == ErrorKind::FailedPrecondition);
  CHECK(g.kms_requests().size() == 1);
}

TEST_CASE("polling gives up after the configured number of polls", "[kms][gcp]") {
  Fixture f;
  const auto name = key_name("payments");
  auto pending = version_json(name, 1, "PENDING_IMPORT");
  f.router.on("POST " + v1(name) + kVersions + ":import", pending);
  f.router.on("GET " + v1(name) + "/cryptoKeyVersions/1", pending);
  WrappingKey w{name, "", "", std::string(kKeyRing) + "/importJobs/j", {}};
  auto r = f.client->import_key(aes_target(), w, "wrap", ImportKind::First);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::Unavailable);
  CHECK(r.error().message.find("still PENDING_IMPORT after 5 polls") != std::string::npos);
  CHECK(f.sleeps.size() == 5);
}

TEST_CASE(
    "schedule_key_deletion destroys every ENABLED or DISABLED version and reports the "
    "destroy time, and cancel restores the DESTROY_SCHEDULED ones",
    "[kms][gcp]") {
  Fixture f;
  const auto name = key_name();
  f.router.on("GET " + v1(name) + kVersions,
              Json{{"cryptoKeyVersions",
                    {version_json(name, 1, "DESTROYED"), version_json(name, 2, "DISABLED"),
                     version_json(name, 3, "ENABLED")}}});
  for (int id : {2, 3}) {
    auto v = version_json(name, id, "DESTROY_SCHEDULED");
    v["destroyTime"] = id == 2 ? "2026-12-23T15:38:00Z" : "2026-12-23T15:38:01Z";
    f.router.on("POST " + v1(name) + "/cryptoKeyVersions/" + std::to_string(id) + ":destroy", v);
  }
  auto s = f.client->schedule_key_deletion(name, 7);
  REQUIRE(s.ok());
  CHECK(s->key_id == name);
  CHECK(s->state == "DESTROY_SCHEDULED");
  REQUIRE(s->deletion_date.has_value());
  CHECK(format_rfc3339(*s->deletion_date) == "2026-12-23T15:38:01Z");
  auto reqs = f.kms_requests();
  REQUIRE(reqs.size() == 3);
  CHECK(reqs[1].url == std::string(kEndpoint) + v1(name) + "/cryptoKeyVersions/2:destroy");
  CHECK(reqs[1].body == "{}");
  CHECK(reqs[2].url == std::string(kEndpoint) + v1(name) + "/cryptoKeyVersions/3:destroy");

  Fixture c;
  c.router.on(
      "GET " + v1(name) + kVersions,
      Json{{"cryptoKeyVersions",
            {version_json(name, 1, "DESTROYED"), version_json(name, 2, "DESTROY_SCHEDULED")}}});
  c.router.on("POST " + v1(name) + "/cryptoKeyVersions/2:restore",
              version_json(name, 2, "DISABLED"));
  REQUIRE(c.client->cancel_key_deletion(name).ok());
  CHECK(c.kms_requests().size() == 2);

  // Nothing scheduled and the current version gone for good: nothing can be cancelled.
  Fixture d;
  d.router.on("GET " + v1(name) + kVersions,
              Json{{"cryptoKeyVersions", {version_json(name, 1, "DESTROYED")}}});
  auto key = key_json(name);
  key["primary"] = version_json(name, 1, "DESTROYED");
  d.router.on("GET " + v1(name), key);
  auto cancel = d.client->cancel_key_deletion(name);
  REQUIRE_FALSE(cancel.ok());
  CHECK(cancel.error().kind == ErrorKind::FailedPrecondition);
}

TEST_CASE(
    "find_key: none when the key does not exist, the key when its owner label matches, "
    "AlreadyExists when someone else's key has the name",
    "[kms][gcp]") {
  const auto name = key_name("payments");
  Fixture none;
  none.router.on("GET " + v1(name),
                 google_error_answer(404, "NOT_FOUND", "CryptoKey " + name + " not found."));
  auto r = none.client->find_key(aes_target());
  REQUIRE(r.ok());
  CHECK_FALSE(r->has_value());

  Fixture mine;
  auto key = key_json(name);
  key["importOnly"] = true;
  key["labels"] = {{"byok-dev-owner", "6b1f0c2e-1111-4222-8333-abcdef012345"}};
  mine.router.on("GET " + v1(name), key);
  mine.router.on("GET " + v1(name) + kVersions, Json::object());
  auto found = mine.client->find_key(aes_target());
  REQUIRE(found.ok());
  REQUIRE(found->has_value());
  CHECK((*found)->key_id == name);
  CHECK(*(*found)->status == CmkStatus::Old);  // created, nothing imported yet

  Fixture theirs;
  key["labels"] = {{"byok-dev-owner", "someone-else"}};
  theirs.router.on("GET " + v1(name), key);
  auto clash = theirs.client->find_key(aes_target());
  REQUIRE_FALSE(clash.ok());
  CHECK(clash.error().kind == ErrorKind::AlreadyExists);
  CHECK(clash.error().message.find("\"someone-else\"") != std::string::npos);
}
