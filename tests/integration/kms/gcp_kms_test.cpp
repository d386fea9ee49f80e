// GcpKmsClient against the strict Cloud KMS fake over TLS (tests/fakes/gcp/fake_gcp_kms.py; no
// Cloud KMS emulator exists). The fake checks the RS256 signature of every JWT grant with the
// service account's public key, the bearer token of every call, field names and state rules, and
// really unwraps imported material, so an import passes only when the wrap is right; the tests
// compare the SHA-256 of what the fake unwrapped with what they wrapped.
//
// The fake is started once per ctest run by the kms_gcp fixture (tests/harness/gcp-kms.sh);
// ServerEnv::for_provider("gcp") reads the env file it writes.
#include <catch2/catch.hpp>

#include <chrono>
#include <memory>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/text.h"
#include "common/uuid.h"
#include "kms/aws/sigv4.h"
#include "kms/gcp/gcp_kms_client.h"
#include "kms/http_transport.h"
#include "tests/harness/server_env.h"
#include "tests/integration/kms/kms_test_support.h"

using namespace byok;
using namespace byok::kms;
using namespace byok::kms::gcp;
using byok::testing::CountingTransport;
using Json = nlohmann::json;

namespace {

const byok::testing::ServerEnv& fake() {
  static const auto env = byok::testing::ServerEnv::for_provider("gcp");
  return env;
}

std::string unique_id(const std::string& prefix) {
  return prefix + "-" + random_uuid().substr(0, 8);
}

std::string key_ring() {
  return "projects/" + fake()["BYOK_GCP_PROJECT"] + "/locations/" + fake()["BYOK_GCP_LOCATION"] +
         "/keyRings/" + fake()["BYOK_GCP_KEY_RING"];
}

struct Client {
  RealClock clock;
  CountingTransport transport;
  std::unique_ptr<GcpKmsClient> kms;

  static GcpKmsConfig config(const std::string& sa_key_json, const std::string& endpoint) {
    GcpKmsConfig c;
    c.project = fake()["BYOK_GCP_PROJECT"];
    c.location = fake()["BYOK_GCP_LOCATION"];
    c.key_ring = fake()["BYOK_GCP_KEY_RING"];
    c.endpoint = endpoint.empty() ? fake()["BYOK_GCP_ENDPOINT"] : endpoint;
    auto key = parse_service_account_key(sa_key_json);
    REQUIRE(key.ok());
    c.key = *key;
    c.retry.base_delay = std::chrono::milliseconds(20);
    c.poll = {100, std::chrono::milliseconds(100)};
    return c;
  }
  explicit Client(const std::string& sa_key_json = fake().file("BYOK_GCP_SA_KEY_FILE"),
                  const std::string& endpoint = "", bool trust_ca = true)
      : transport(
            make_http_transport({std::chrono::seconds(10),
                                 trust_ca ? fake().file("BYOK_GCP_CA_FILE") : std::string()})),
        kms(std::make_unique<GcpKmsClient>(config(sa_key_json, endpoint), transport, clock)) {}
};

// The fake's test-only endpoints, over the same TLS trust.
HttpResponse admin(const std::string& method, const std::string& path_and_query,
                   const std::string& body = "") {
  static auto transport =
      make_http_transport({std::chrono::seconds(10), fake().file("BYOK_GCP_CA_FILE")});
  HttpRequest req{method,
                  fake()["BYOK_GCP_ENDPOINT"] + "/__fake/" + path_and_query,
                  {{"Content-Type", "application/json"}},
                  body};
  auto resp = transport->send(req);
  REQUIRE(resp.ok());
  return *resp;
}

std::string imported_sha256(const std::string& version_name) {
  auto resp = admin("GET", "material-sha256?name=" + percent_encode(version_name));
  INFO(resp.body);
  REQUIRE(resp.status == 200);
  return Json::parse(resp.body)["sha256"].get<std::string>();
}

// A key with a version Cloud KMS generated itself, as a user would register for a CMK.
std::string generated_key(GcpKmsClient& kms) {
  CreateCryptoKeyRequest req;
  req.crypto_key_id = unique_id("cmk");
  auto key = kms.create_crypto_key(req);
  if (!key) FAIL("CreateCryptoKey: " << key.error().message);
  REQUIRE(key->primary.has_value());
  return key->name;
}

ImportTarget target_for(const std::string& key_type, const std::string& method) {
  ImportTarget t;
  t.name = unique_id("ik");
  t.key_type = key_type;
  t.owner = random_uuid();
  t.wrapping_algorithm = method;
  t.allow_rotation = true;
  return t;
}

const EVP_MD* oaep_md(const std::string& method) {
  return method.find("_SHA1_") != std::string::npos ? EVP_sha1() : EVP_sha256();
}

// The wrap the method names: RSA-OAEP || AES-KWP, or RSA-OAEP of the material itself.
std::string wrap_for(const WrappingKey& w, const std::string& material) {
  if (w.algorithm.find("_AES_256") != std::string::npos)
    return byok::testing::rsa_aes_wrap(w.public_key_der, oaep_md(w.algorithm), material);
  auto pub = byok::testing::public_key_from_spki(w.public_key_der);
  return byok::testing::rsa_oaep_encrypt(pub.get(), EVP_sha256(), material);
}

// prepare_import + wrap + import_key; returns the new version's name.
std::string import(GcpKmsClient& kms, const ImportTarget& target, const std::string& existing,
                   const std::string& material, ImportKind kind) {
  auto w = kms.prepare_import(target, existing);
  if (!w) FAIL("prepare_import: " << w.error().message);
  CHECK(w->algorithm == target.wrapping_algorithm);
  CHECK(w->import_token.rfind(key_ring() + "/importJobs/" + target.name + "-", 0) == 0);
  REQUIRE(w->expires.has_value());
  CHECK(*w->expires > std::chrono::system_clock::now() + std::chrono::hours(71));
  auto r = kms.import_key(target, *w, wrap_for(*w, material), kind);
  if (!r) FAIL("import_key: " << r.error().message);
  CHECK(r->key_id == key_ring() + "/cryptoKeys/" + target.name);
  return r->version;
}

}  // namespace

TEST_CASE("gcp: a key with a generated version describes as ENABLED and current", "[kms][gcp]") {
  Client c;
  auto name = generated_key(*c.kms);
  auto key = c.kms->describe_key(name);
  REQUIRE(key.ok());
  CHECK(key->key_id == name);
  CHECK(key->resource == name);
  CHECK(key->version == name + "/cryptoKeyVersions/1");
  CHECK(key->state == "ENABLED");
  REQUIRE(key->status.has_value());
  CHECK(*key->status == CmkStatus::Current);
  CHECK(key->enabled);
  CHECK_FALSE(key->imported);
  CHECK(key->key_spec == "GOOGLE_SYMMETRIC_ENCRYPTION");
  CHECK(key->key_usage == "ENCRYPT_DECRYPT");
  CHECK(key->origin == "HSM");
  REQUIRE(key->created.has_value());
  auto age = std::chrono::system_clock::now() - *key->created;
  CHECK(age < std::chrono::minutes(5));
  CHECK(age > -std::chrono::minutes(5));
}

TEST_CASE("gcp: who_am_i names the service account, built through from_config", "[kms][gcp]") {
  RealClock clock;
  auto transport = make_http_transport({std::chrono::seconds(10), fake().file("BYOK_GCP_CA_FILE")});
  ProviderConfig config;
  config.type = "gcp";
  config.endpoint = fake()["BYOK_GCP_ENDPOINT"];
  config.settings = {{"project", fake()["BYOK_GCP_PROJECT"]},
                     {"location", fake()["BYOK_GCP_LOCATION"]},
                     {"keyRing", fake()["BYOK_GCP_KEY_RING"]}};
  config.credentials = {{"serviceAccountKey", fake().file("BYOK_GCP_SA_KEY_FILE")}};
  auto client = GcpKmsClient::from_config(config, *transport, clock);
  REQUIRE(client.ok());
  auto who = (*client)->who_am_i();
  REQUIRE(who.ok());
  CHECK(who->principal == fake()["BYOK_GCP_SA_EMAIL"]);
  CHECK(who->account == fake()["BYOK_GCP_PROJECT"]);
}

TEST_CASE("gcp: a missing key is NotFound with a message naming the call and the key",
          "[kms][gcp]") {
  Client c;
  const std::string missing = key_ring() + "/cryptoKeys/" + unique_id("missing");
  auto key = c.kms->describe_key(missing);
  REQUIRE_FALSE(key.ok());
  CHECK(key.error().kind == ErrorKind::NotFound);
  CHECK(key.error().message ==
        "GCP GetCryptoKey: NOT_FOUND: CryptoKey " + missing + " not found. (HTTP 404)");
  CHECK(c.transport.sent == 2);  // the grant, one GET: not retried
}

TEST_CASE("gcp: a disabled version is DISABLED (old) and enabling brings it back", "[kms][gcp]") {
  Client c;
  auto name = generated_key(*c.kms);
  const std::string version = name + "/cryptoKeyVersions/1";
  auto set = [&](const char* state) {
    auto resp = admin("POST", "version-state", Json{{"name", version}, {"state", state}}.dump());
    INFO(resp.body);
    REQUIRE(resp.status == 200);
  };
  set("DISABLED");
  auto key = c.kms->describe_key(name);
  REQUIRE(key.ok());
  CHECK(key->state == "DISABLED");
  CHECK(*key->status == CmkStatus::Old);
  CHECK_FALSE(key->enabled);
  set("ENABLED");
  CHECK(c.kms->describe_key(name)->state == "ENABLED");
}

TEST_CASE(
    "gcp: scheduling deletion makes the key DESTROY_SCHEDULED (deleted) and cancelling "
    "restores it DISABLED",
    "[kms][gcp]") {
  Client c;
  auto name = generated_key(*c.kms);
  auto scheduled = c.kms->schedule_key_deletion(name, 7);
  REQUIRE(scheduled.ok());
  CHECK(scheduled->key_id == name);
  CHECK(scheduled->state == "DESTROY_SCHEDULED");
  REQUIRE(scheduled->deletion_date.has_value());
  // The key's destroyScheduledDuration (30 days by default), not the 7 days asked for.
  auto until = *scheduled->deletion_date - std::chrono::system_clock::now();
  CHECK(until > std::chrono::hours(29 * 24));
  CHECK(until <= std::chrono::hours(30 * 24 + 1));
  auto key = c.kms->describe_key(name);
  REQUIRE(key.ok());
  CHECK(key->state == "DESTROY_SCHEDULED");
  CHECK(*key->status == CmkStatus::Deleted);
  CHECK(key->deletion_date.has_value());
  // Scheduling again finds nothing left to destroy and reports the same.
  auto again = c.kms->schedule_key_deletion(name, 7);
  REQUIRE(again.ok());
  CHECK(again->state == "DESTROY_SCHEDULED");

  REQUIRE(c.kms->cancel_key_deletion(name).ok());
  auto back = c.kms->describe_key(name);
  REQUIRE(back.ok());
  CHECK(back->state == "DISABLED");  // as Cloud KMS restores: disabled, material kept
  CHECK(*back->status == CmkStatus::Old);
  CHECK_FALSE(back->deletion_date.has_value());
  CHECK(c.kms->cancel_key_deletion(name).ok());  // nothing pending: nothing to do
}

TEST_CASE("gcp: a service-account key the token endpoint does not know is refused", "[kms][gcp]") {
  Client c(fake().file("BYOK_GCP_WRONG_SA_KEY_FILE"));
  auto key = c.kms->describe_key(key_ring() + "/cryptoKeys/anything");
  REQUIRE_FALSE(key.ok());
  CHECK(key.error().kind == ErrorKind::Unauthenticated);
  CHECK(key.error().message ==
        "GCP GetCryptoKey: GCP OAuth2 token: invalid_grant: Invalid JWT Signature. (HTTP 400)");
  CHECK(c.transport.sent == 1);  // refused grants are not retried, and no KMS call went out
  auto who = c.kms->who_am_i();
  REQUIRE_FALSE(who.ok());
  CHECK(who.error().kind == ErrorKind::Unauthenticated);
}

TEST_CASE("gcp: an expired token is replaced and the call goes through", "[kms][gcp]") {
  Client c;
  auto name = generated_key(*c.kms);
  CHECK(c.transport.sent == 2);
  REQUIRE(admin("POST", "expire-tokens").status == 200);
  auto key = c.kms->describe_key(name);
  REQUIRE(key.ok());
  CHECK(key->state == "ENABLED");
  CHECK(c.transport.sent == 5);  // refused GET, new grant, GET again
}

TEST_CASE("gcp: TLS verification stays on: a server whose CA is not trusted is refused",
          "[kms][gcp]") {
  Client c(fake().file("BYOK_GCP_SA_KEY_FILE"), "", /*trust_ca=*/false);
  auto key = c.kms->describe_key(key_ring() + "/cryptoKeys/anything");
  REQUIRE_FALSE(key.ok());
  CHECK(key.error().kind == ErrorKind::Unavailable);
  CHECK(key.error().message.rfind("GCP GetCryptoKey: GCP OAuth2 token: POST https://127.0.0.1:",
                                  0) == 0);
}

TEST_CASE("gcp: an unreachable endpoint is Unavailable after a few quick attempts", "[kms][gcp]") {
  const std::string closed =
      "https://127.0.0.1:" + std::to_string(byok::testing::free_loopback_port());
  Client c(fake().file("BYOK_GCP_SA_KEY_FILE"), closed);
  auto key = c.kms->describe_key(key_ring() + "/cryptoKeys/anything");
  REQUIRE_FALSE(key.ok());
  CHECK(key.error().kind == ErrorKind::Unavailable);
  CHECK(key.error().message.rfind("GCP GetCryptoKey: GET " + closed + "/v1/", 0) == 0);
  CHECK(key.error().message.find("gave up after 3 attempts") != std::string::npos);
  CHECK(c.transport.sent == 4);  // the grant (the token endpoint is up), three GETs

  // The token endpoint unreachable: the same, one level down.
  auto sa = Json::parse(fake().file("BYOK_GCP_SA_KEY_FILE"));
  sa["token_uri"] = closed + "/token";
  Client t(sa.dump());
  auto who = t.kms->who_am_i();
  REQUIRE_FALSE(who.ok());
  CHECK(who.error().kind == ErrorKind::Unavailable);
  CHECK(who.error().message.rfind("GCP OAuth2 token: POST " + closed + "/token", 0) == 0);
  CHECK(t.transport.sent == 3);
}

TEST_CASE(
    "gcp: AES-256 material imported with RSA-OAEP-SHA256 + AES-KWP is what the KMS holds, "
    "find_key finds it, and a rotation adds a primary version",
    "[kms][gcp]") {
  Client c;
  auto target = target_for("aes256-gcm96", "RSA_OAEP_3072_SHA256_AES_256");
  auto before = c.kms->find_key(target);
  REQUIRE(before.ok());
  CHECK_FALSE(before->has_value());

  auto material = byok::testing::make_material("aes256-gcm96");
  auto v1 = import(*c.kms, target, "", material.bytes, ImportKind::First);
  CHECK(v1 == key_ring() + "/cryptoKeys/" + target.name + "/cryptoKeyVersions/1");
  CHECK(imported_sha256(v1) == aws::sha256_hex(material.bytes));

  auto found = c.kms->find_key(target);
  REQUIRE(found.ok());
  REQUIRE(found->has_value());
  const auto& key = **found;
  CHECK(key.name == target.name);
  CHECK(key.version == v1);
  CHECK(key.state == "ENABLED");
  CHECK(*key.status == CmkStatus::Current);
  CHECK(key.imported);
  CHECK(key.key_spec == "GOOGLE_SYMMETRIC_ENCRYPTION");
  CHECK(key.origin == "HSM");

  // Another owner's target with the same name is not taken for ours.
  auto stranger = target;
  stranger.owner = random_uuid();
  auto clash = c.kms->find_key(stranger);
  REQUIRE_FALSE(clash.ok());
  CHECK(clash.error().kind == ErrorKind::AlreadyExists);

  // Rotation: new material, new version, and it becomes the primary Cloud KMS encrypts with.
  auto next = byok::testing::make_material("aes256-gcm96");
  target.wrapping_algorithm = "RSA_OAEP_4096_SHA1_AES_256";
  auto v2 = import(*c.kms, target, key.key_id, next.bytes, ImportKind::NewVersion);
  CHECK(v2 == key_ring() + "/cryptoKeys/" + target.name + "/cryptoKeyVersions/2");
  CHECK(imported_sha256(v2) == aws::sha256_hex(next.bytes));
  auto rotated = c.kms->describe_key(key.key_id);
  REQUIRE(rotated.ok());
  CHECK(rotated->version == v2);
  CHECK(rotated->state == "ENABLED");
  CHECK(imported_sha256(v1) == aws::sha256_hex(material.bytes));  // the old version stays
}

TEST_CASE("gcp: RSA-3072 material (PKCS#8) imported with the common wrap matches byte for byte",
          "[kms][gcp]") {
  Client c;
  auto target = target_for("rsa-3072", "RSA_OAEP_4096_SHA256_AES_256");
  auto material = byok::testing::make_material("rsa-3072");
  auto version = import(*c.kms, target, "", material.bytes, ImportKind::First);
  CHECK(imported_sha256(version) == aws::sha256_hex(material.bytes));
  auto key = c.kms->describe_key(key_ring() + "/cryptoKeys/" + target.name);
  REQUIRE(key.ok());
  CHECK(key->version == version);  // no primary for ASYMMETRIC_DECRYPT: the latest version
  CHECK(key->state == "ENABLED");
  CHECK(key->key_spec == "RSA_DECRYPT_OAEP_3072_SHA256");
  CHECK(key->key_usage == "ASYMMETRIC_DECRYPT");
}

TEST_CASE("gcp: AES-128 material wrapped directly with RSA-OAEP-SHA256 imports as AES_128_GCM",
          "[kms][gcp]") {
  Client c;
  auto target = target_for("aes128-gcm96", "RSA_OAEP_3072_SHA256");
  auto material = byok::testing::make_material("aes128-gcm96");
  auto version = import(*c.kms, target, "", material.bytes, ImportKind::First);
  CHECK(imported_sha256(version) == aws::sha256_hex(material.bytes));
  auto key = c.kms->describe_key(key_ring() + "/cryptoKeys/" + target.name);
  REQUIRE(key.ok());
  CHECK(key->key_spec == "AES_128_GCM");
  CHECK(key->key_usage == "RAW_ENCRYPT_DECRYPT");
}

TEST_CASE("gcp: a wrap with one wrong byte fails the import, and wrong-length material too",
          "[kms][gcp]") {
  Client c;
  auto target = target_for("aes256-gcm96", "RSA_OAEP_3072_SHA256_AES_256");
  auto w = c.kms->prepare_import(target, "");
  REQUIRE(w.ok());
  auto wrapped = wrap_for(*w, byok::testing::make_material("aes256-gcm96").bytes);
  wrapped[wrapped.size() - 3] ^= 0x01;  // inside the AES-KWP part
  auto r = c.kms->import_key(target, *w, wrapped, ImportKind::First);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::InvalidArgument);
  CHECK(r.error().message.find("is IMPORT_FAILED: ") != std::string::npos);
  CHECK(r.error().message.find("AES-KWP") != std::string::npos);

  // 16 bytes where GOOGLE_SYMMETRIC_ENCRYPTION takes 32: unwraps, but does not fit.
  auto short_material = wrap_for(*w, byok::testing::make_material("aes128-gcm96").bytes);
  auto r2 = c.kms->import_key(target, *w, short_material, ImportKind::First);
  REQUIRE_FALSE(r2.ok());
  CHECK(r2.error().kind == ErrorKind::InvalidArgument);
  CHECK(r2.error().message.find("takes 32 bytes of key material, got 16") != std::string::npos);
}
