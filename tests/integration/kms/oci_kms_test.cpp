// OciKmsClient against the strict OCI Vault fake (tests/fakes/oci/fake_oci_kms.py) over TLS: no
// OCI emulator exists. The fake verifies every request's signature with the public half of the
// API key it generated (its own implementation, Python's cryptography), checks the body hash and
// the date, and really unwraps imported material with its RSA-4096 wrapping key, so each test
// below passes only if our signing and wrapping agree with an independent implementation of
// OCI's published rules.
//
// The fake is started once per ctest run by the kms_oci fixture (tests/harness/oci-kms.sh);
// BYOK_OCI_KMS_ENV names its env file.
#include <catch2/catch.hpp>

#include <fstream>
#include <memory>
#include <sstream>

#include <nlohmann/json.hpp>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <unistd.h>

#include "common/clock.h"
#include "kms/aws/sigv4.h"
#include "kms/http_transport.h"
#include "kms/oci/oci_kms_client.h"
#include "tests/harness/server_env.h"
#include "tests/integration/kms/kms_test_support.h"

using namespace byok;
using namespace byok::kms;
using namespace byok::kms::oci;
using byok::testing::CountingTransport;
using Json = nlohmann::json;

namespace {

const byok::testing::ServerEnv& fake() {
  static const auto env = byok::testing::ServerEnv::for_provider("oci");
  return env;
}

std::string trimmed_file(const std::string& name) {
  std::string s = fake().file(name);
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

ProviderConfig provider_config(const std::string& endpoint = "") {
  ProviderConfig c;
  c.type = "oci";
  c.region = "us-ashburn-1";
  c.settings = {{"managementEndpoint", endpoint.empty() ? fake()["BYOK_OCI_ENDPOINT"] : endpoint},
                {"compartmentId", fake()["BYOK_OCI_COMPARTMENT_ID"]},
                {"vaultId", fake()["BYOK_OCI_VAULT_ID"]}};
  c.credentials = {{"tenancy", fake()["BYOK_OCI_TENANCY"]},
                   {"user", fake()["BYOK_OCI_USER"]},
                   {"fingerprint", fake()["BYOK_OCI_FINGERPRINT"]},
                   {"privateKey", fake().file("BYOK_OCI_PRIVATE_KEY_FILE")}};
  return c;
}

struct Client {
  RealClock clock;
  CountingTransport transport;
  std::unique_ptr<OciKmsClient> kms;

  explicit Client(ProviderConfig config = provider_config(), bool trust_ca = true)
      : transport(
            make_http_transport({std::chrono::seconds(10),
                                 trust_ca ? fake().file("BYOK_OCI_CA_FILE") : std::string()})) {
    auto built = OciKmsClient::from_config(config, transport, clock);
    REQUIRE(built.ok());
    kms = std::move(*built);
  }
};

// The fake's test-only endpoints (under /__fake/, no signature).
Json admin(const std::string& method, const std::string& path, const Json& body = nullptr) {
  static auto transport =
      make_http_transport({std::chrono::seconds(10), fake().file("BYOK_OCI_CA_FILE")});
  HttpRequest req{method,
                  fake()["BYOK_OCI_ENDPOINT"] + "/__fake/" + path,
                  {{"content-type", "application/json"}},
                  body.is_null() ? "" : body.dump()};
  auto resp = transport->send(req);
  REQUIRE(resp.ok());
  INFO(resp->body);
  REQUIRE(resp->status == 200);
  return Json::parse(resp->body);
}

std::string unique_name(const std::string& prefix) {
  static int counter = 0;
  return prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
}

std::string console_key(const std::string& name) {
  return admin("POST", "keys", {{"displayName", name}})["id"].get<std::string>();
}

ImportTarget target_for(const std::string& key_type, const std::string& algorithm) {
  ImportTarget t;
  t.name = unique_name("ik-" + key_type);
  t.key_type = key_type;
  t.owner = "uid-" + unique_name("owner");
  t.wrapping_algorithm = algorithm;
  return t;
}

// The wrap OCI names `algorithm`, made here with OpenSSL directly.
std::string wrap(const WrappingKey& w, const std::string& material) {
  if (w.algorithm == "RSA_OAEP_SHA256") {
    auto pub = byok::testing::public_key_from_spki(w.public_key_der);
    return byok::testing::rsa_oaep_encrypt(pub.get(), EVP_sha256(), material);
  }
  return byok::testing::rsa_aes_wrap(w.public_key_der, EVP_sha256(), material);
}

// prepare_import, wrap, import_key; returns the result and checks the fake holds `material`.
ImportResult import(Client& c, const ImportTarget& t, const std::string& material) {
  auto w = c.kms->prepare_import(t, "");
  REQUIRE(w.ok());
  CHECK(w->key_id.empty());
  CHECK(w->import_token == fake()["BYOK_OCI_WRAPPING_KEY_ID"]);
  auto pub = byok::testing::public_key_from_spki(w->public_key_der);
  CHECK(EVP_PKEY_get_bits(pub.get()) == 4096);
  auto r = c.kms->import_key(t, *w, wrap(*w, material), ImportKind::First);
  REQUIRE(r.ok());
  auto held = admin("GET", "keys/" + r->key_id + "/material");
  CHECK(held["sha256"] == aws::sha256_hex(material));
  CHECK(held["currentKeyVersion"] == r->version);
  return *r;
}

}  // namespace

TEST_CASE("oci: an existing key describes as ENABLED and current", "[kms][oci]") {
  Client c;
  std::string name = unique_name("console");
  std::string id = console_key(name);
  auto key = c.kms->describe_key(id);
  REQUIRE(key.ok());
  CHECK(key->key_id == id);
  CHECK(key->resource == id);
  CHECK(key->name == name);
  CHECK(key->state == "ENABLED");
  REQUIRE(key->status.has_value());
  CHECK(*key->status == CmkStatus::Current);
  CHECK(key->enabled);
  CHECK(key->key_spec == "AES");
  CHECK(key->origin == "INTERNAL");
  CHECK_FALSE(key->imported);
  CHECK(key->version.rfind("ocid1.keyversion.", 0) == 0);
  CHECK(key->created.has_value());
  CHECK_FALSE(key->deletion_date.has_value());
  CHECK(c.transport.sent == 2);  // GetKey, GetKeyVersion
}

TEST_CASE("oci: a missing key is NotFound, naming the call and the opc-request-id", "[kms][oci]") {
  Client c;
  auto key = c.kms->describe_key("ocid1.key.oc1.iad.bbpmissing.nosuchkey");
  REQUIRE_FALSE(key.ok());
  CHECK(key.error().kind == ErrorKind::NotFound);
  CHECK(key.error().message.find("OCI GetKey: NotAuthorizedOrNotFound: ") == 0);
  CHECK(key.error().message.find("(HTTP 404, opc-request-id ") != std::string::npos);
  CHECK(c.transport.sent == 1);
}

TEST_CASE("oci: a disabled key is DISABLED (old), and current again once enabled", "[kms][oci]") {
  Client c;
  std::string id = console_key(unique_name("disable"));
  admin("POST", "keys/" + id + "/lifecycleState", {{"lifecycleState", "DISABLED"}});
  auto disabled = c.kms->describe_key(id);
  REQUIRE(disabled.ok());
  CHECK(disabled->state == "DISABLED");
  CHECK(*disabled->status == CmkStatus::Old);
  CHECK_FALSE(disabled->enabled);

  admin("POST", "keys/" + id + "/lifecycleState", {{"lifecycleState", "ENABLED"}});
  auto enabled = c.kms->describe_key(id);
  REQUIRE(enabled.ok());
  CHECK(*enabled->status == CmkStatus::Current);
}

TEST_CASE("oci: scheduling deletion makes the key deleted, and cancelling restores its state",
          "[kms][oci]") {
  Client c;
  std::string id = console_key(unique_name("delete"));
  auto before = std::chrono::system_clock::now();
  auto scheduled = c.kms->schedule_key_deletion(id, 7);
  REQUIRE(scheduled.ok());
  CHECK(scheduled->key_id == id);
  CHECK(scheduled->state == "SCHEDULING_DELETION");
  REQUIRE(scheduled->deletion_date.has_value());
  auto days = std::chrono::duration<double, std::ratio<86400>>(*scheduled->deletion_date - before);
  CHECK(days.count() > 7.0);
  CHECK(days.count() < 7.05);

  auto pending = c.kms->describe_key(id);
  REQUIRE(pending.ok());
  CHECK(pending->state == "PENDING_DELETION");
  CHECK(*pending->status == CmkStatus::Deleted);
  REQUIRE(pending->deletion_date.has_value());

  // A second schedule is refused by the KMS: the key is not ENABLED or DISABLED.
  auto again = c.kms->schedule_key_deletion(id, 30);
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().kind == ErrorKind::FailedPrecondition);
  CHECK(again.error().message.find("OCI ScheduleKeyDeletion: IncorrectState: ") == 0);

  REQUIRE(c.kms->cancel_key_deletion(id).ok());
  auto restored = c.kms->describe_key(id);
  REQUIRE(restored.ok());
  CHECK(restored->state == "ENABLED");
  CHECK(*restored->status == CmkStatus::Current);
  CHECK_FALSE(restored->deletion_date.has_value());

  auto nothing_to_cancel = c.kms->cancel_key_deletion(id);
  REQUIRE_FALSE(nothing_to_cancel.ok());
  CHECK(nothing_to_cancel.error().kind == ErrorKind::FailedPrecondition);

  // A disabled key scheduled for deletion and cancelled is disabled again.
  admin("POST", "keys/" + id + "/lifecycleState", {{"lifecycleState", "DISABLED"}});
  REQUIRE(c.kms->schedule_key_deletion(id, 30).ok());
  REQUIRE(c.kms->cancel_key_deletion(id).ok());
  CHECK(c.kms->describe_key(id)->state == "DISABLED");
}

TEST_CASE("oci: a request signed with another private key is refused (Unauthenticated)",
          "[kms][oci]") {
  auto config = provider_config();
  auto other = byok::testing::make_material("rsa-2048");  // a fresh RSA key, PKCS #8
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  REQUIRE(PEM_write_bio_PKCS8PrivateKey(bio.get(), other.pkey.get(), nullptr, nullptr, 0, nullptr,
                                        nullptr) == 1);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  config.credentials["privateKey"] = std::string(data, static_cast<size_t>(len));
  Client c(config);
  auto key = c.kms->describe_key(console_key(unique_name("wrong-key")));
  REQUIRE_FALSE(key.ok());
  CHECK(key.error().kind == ErrorKind::Unauthenticated);
  CHECK(key.error().message.find("OCI GetKey: NotAuthenticated: ") == 0);
  CHECK(c.transport.sent == 1);  // not retried
}

TEST_CASE("oci: a clock more than 5 minutes off is refused (Unauthenticated)", "[kms][oci]") {
  struct SkewedClock final : Clock {
    SystemTime now() const override {
      return std::chrono::system_clock::now() + std::chrono::minutes(6);
    }
    SteadyTime steady_now() const override { return std::chrono::steady_clock::now(); }
  } skewed;
  CountingTransport transport(
      make_http_transport({std::chrono::seconds(10), fake().file("BYOK_OCI_CA_FILE")}));
  auto kms = OciKmsClient::from_config(provider_config(), transport, skewed);
  REQUIRE(kms.ok());
  auto key = (*kms)->describe_key(console_key(unique_name("skew")));
  REQUIRE_FALSE(key.ok());
  CHECK(key.error().kind == ErrorKind::Unauthenticated);
}

TEST_CASE("oci: a body changed after signing is refused by its x-content-sha256", "[kms][oci]") {
  auto signer = RequestSigner::create(fake()["BYOK_OCI_TENANCY"] + "/" + fake()["BYOK_OCI_USER"] +
                                          "/" + fake()["BYOK_OCI_FINGERPRINT"],
                                      fake().file("BYOK_OCI_PRIVATE_KEY_FILE"));
  REQUIRE(signer.ok());
  auto transport = make_http_transport({std::chrono::seconds(10), fake().file("BYOK_OCI_CA_FILE")});
  std::string id = console_key(unique_name("tamper"));
  HttpRequest req{
      "POST",
      fake()["BYOK_OCI_ENDPOINT"] + "/20180608/keys/" + id + "/actions/scheduleDeletion",
      {},
      R"({"timeOfDeletion":null})"};
  REQUIRE(signer->sign(req, std::chrono::system_clock::now()).ok());
  req.body = R"({"timeOfDeletion":nul })";  // same length, other bytes
  auto resp = transport->send(req);
  REQUIRE(resp.ok());
  CHECK(resp->status == 401);
  CHECK(Json::parse(resp->body)["code"] == "NotAuthenticated");

  // The same request, left as signed, goes through: the refusal was the body's doing.
  req.body = R"({"timeOfDeletion":null})";
  auto ok = transport->send(req);
  REQUIRE(ok.ok());
  CHECK(ok->status == 200);
  CHECK(Json::parse(ok->body)["lifecycleState"] == "SCHEDULING_DELETION");
}

TEST_CASE("oci: an encrypted API key works with its passphrase", "[kms][oci]") {
  auto config = provider_config();
  config.credentials["privateKey"] = fake().file("BYOK_OCI_ENCRYPTED_PRIVATE_KEY_FILE");
  config.credentials["passphrase"] = trimmed_file("BYOK_OCI_PASSPHRASE_FILE");
  Client c(config);
  auto key = c.kms->describe_key(console_key(unique_name("passphrase")));
  REQUIRE(key.ok());
  CHECK(key->state == "ENABLED");
}

TEST_CASE("oci: who_am_i names the API key's user and tenancy", "[kms][oci]") {
  Client c;
  auto who = c.kms->who_am_i();
  REQUIRE(who.ok());
  CHECK(who->principal == fake()["BYOK_OCI_USER"]);
  CHECK(who->account == fake()["BYOK_OCI_TENANCY"]);
  CHECK(c.transport.sent == 0);
}

TEST_CASE("oci: an unreachable endpoint is Unavailable after a few quick attempts", "[kms][oci]") {
  Client c(
      provider_config("https://127.0.0.1:" + std::to_string(byok::testing::free_loopback_port())));
  auto key = c.kms->describe_key("ocid1.key.oc1.iad.bbp.unreachable");
  REQUIRE_FALSE(key.ok());
  CHECK(key.error().kind == ErrorKind::Unavailable);
  CHECK(key.error().message.find("OCI GetKey: GET https://127.0.0.1:") == 0);
  CHECK(key.error().message.find("gave up after 3 attempts") != std::string::npos);
  CHECK(c.transport.sent == 3);
}

TEST_CASE("oci: TLS verification stays on: a server whose CA is not trusted is refused",
          "[kms][oci]") {
  Client c(provider_config(), /*trust_ca=*/false);
  auto key = c.kms->describe_key("ocid1.key.oc1.iad.bbp.untrusted");
  REQUIRE_FALSE(key.ok());
  CHECK(key.error().kind == ErrorKind::Unavailable);
  CHECK(key.error().message.find("OCI GetKey: GET https://127.0.0.1:") == 0);
}

TEST_CASE("oci: AES-256 imported with RSA_OAEP_SHA256 holds exactly the wrapped material",
          "[kms][oci]") {
  Client c;
  auto t = target_for("aes256-gcm96", "RSA_OAEP_SHA256");
  auto material = byok::testing::make_material(t.key_type);
  auto r = import(c, t, material.bytes);
  CHECK(r.key_id.rfind("ocid1.key.", 0) == 0);
  CHECK(r.resource == r.key_id);
  auto key = c.kms->describe_key(r.key_id);
  REQUIRE(key.ok());
  CHECK(key->name == t.name);
  CHECK(key->state == "ENABLED");
  CHECK(key->key_spec == "AES");
  CHECK(key->origin == "EXTERNAL");
  CHECK(key->imported);
  CHECK(key->version == r.version);
}

TEST_CASE("oci: AES-256 imported with RSA_OAEP_AES_SHA256 holds exactly the wrapped material",
          "[kms][oci]") {
  Client c;
  auto t = target_for("aes256-gcm96", "RSA_OAEP_AES_SHA256");
  auto material = byok::testing::make_material(t.key_type);
  auto r = import(c, t, material.bytes);
  CHECK(c.kms->describe_key(r.key_id)->imported);
}

TEST_CASE("oci: an RSA-2048 private key (PKCS #8) imported with RSA_OAEP_AES_SHA256",
          "[kms][oci]") {
  Client c;
  auto t = target_for("rsa-2048", "RSA_OAEP_AES_SHA256");
  auto material = byok::testing::make_material(t.key_type);
  auto r = import(c, t, material.bytes);
  auto key = c.kms->describe_key(r.key_id);
  REQUIRE(key.ok());
  CHECK(key->key_spec == "RSA");
  CHECK(key->imported);
}

TEST_CASE("oci: material that does not match the shape, or a damaged wrap, is refused",
          "[kms][oci]") {
  Client c;
  auto t = target_for("aes256-gcm96", "RSA_OAEP_AES_SHA256");
  auto w = c.kms->prepare_import(t, "");
  REQUIRE(w.ok());

  // A 16-byte key declared as AES-256.
  auto short_key =
      c.kms->import_key(t, *w, wrap(*w, byok::testing::random_bytes(16)), ImportKind::First);
  REQUIRE_FALSE(short_key.ok());
  CHECK(short_key.error().kind == ErrorKind::InvalidArgument);
  CHECK(short_key.error().message.find(
            "OCI ImportKey: InvalidParameter: key material is 16 bytes") == 0);

  // One flipped byte in the AES-KWP part fails the unwrap's integrity check.
  std::string damaged = wrap(*w, byok::testing::random_bytes(32));
  damaged[damaged.size() - 3] ^= 0x01;
  auto bad = c.kms->import_key(t, *w, damaged, ImportKind::First);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().kind == ErrorKind::InvalidArgument);
  CHECK(bad.error().message.find("Failed to unwrap") != std::string::npos);

  auto none = c.kms->find_key(t);
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());  // nothing was created by the refused imports
}

TEST_CASE("oci: find_key finds the imported key by displayName and owner tag only", "[kms][oci]") {
  Client c;
  auto t = target_for("aes256-gcm96", "RSA_OAEP_AES_SHA256");
  auto fresh = c.kms->find_key(t);
  REQUIRE(fresh.ok());
  CHECK_FALSE(fresh->has_value());

  auto r = import(c, t, byok::testing::make_material(t.key_type).bytes);
  auto found = c.kms->find_key(t);
  REQUIRE(found.ok());
  REQUIRE(found->has_value());
  CHECK((*found)->key_id == r.key_id);
  CHECK((*found)->name == t.name);
  CHECK((*found)->imported);

  // The same displayName made by someone else (the console) is not ours.
  auto stranger = t;
  stranger.owner = "uid-someone-else";
  admin("POST", "keys", {{"displayName", t.name}});
  auto not_ours = c.kms->find_key(stranger);
  REQUIRE(not_ours.ok());
  CHECK_FALSE(not_ours->has_value());

  // A deleted key is not found again.
  admin("POST", "keys/" + r.key_id + "/lifecycleState", {{"lifecycleState", "DELETED"}});
  auto gone = c.kms->find_key(t);
  REQUIRE(gone.ok());
  CHECK_FALSE(gone->has_value());
}

TEST_CASE("oci: ImportKeyVersion adds a version holding the new material", "[kms][oci]") {
  Client c;
  auto t = target_for("aes256-gcm96", "RSA_OAEP_AES_SHA256");
  auto first = import(c, t, byok::testing::make_material(t.key_type).bytes);

  auto w = c.kms->prepare_import(t, first.key_id);
  REQUIRE(w.ok());
  CHECK(w->key_id == first.key_id);
  std::string material = byok::testing::make_material(t.key_type).bytes;
  auto second = c.kms->import_key(t, *w, wrap(*w, material), ImportKind::NewVersion);
  REQUIRE(second.ok());
  CHECK(second->key_id == first.key_id);
  CHECK(second->version.rfind("ocid1.keyversion.", 0) == 0);
  CHECK(second->version != first.version);

  auto key = c.kms->describe_key(first.key_id);
  REQUIRE(key.ok());
  CHECK(key->version == second->version);
  auto held = admin("GET", "keys/" + first.key_id + "/material");
  CHECK(held["sha256"] == aws::sha256_hex(material));
  REQUIRE(held["versions"].size() == 2);
  CHECK(held["versions"][1]["freeformTags"]["byok.dev/owner"] == t.owner);
}

TEST_CASE("oci: key types OCI Vault cannot import are refused before any call", "[kms][oci]") {
  Client c;
  for (const char* type : {"chacha20-poly1305", "ed25519", "ecdsa-p256"}) {
    INFO(type);
    auto t = target_for(type, "RSA_OAEP_AES_SHA256");
    auto algs = c.kms->wrapping_algorithms(type);
    REQUIRE_FALSE(algs.ok());
    CHECK(algs.error().kind == ErrorKind::Unsupported);
    auto w = c.kms->prepare_import(t, "");
    REQUIRE_FALSE(w.ok());
    CHECK(w.error().kind == ErrorKind::Unsupported);
  }
  CHECK(c.transport.sent == 0);
}
