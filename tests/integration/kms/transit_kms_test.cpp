// TransitClient against a real transit engine over TLS: the HashiCorp Vault server in dev mode
// (tests/harness/transit-kms.sh; scripts/build-vault.sh says why Vault and not OpenBao). Material
// is made and wrapped here with OpenSSL, imported through the client, and then used through
// transit (encrypt, sign) and checked locally with the same material: a key that imported
// anything else would fail those checks.
//
// The server is started once per ctest run by the kms_transit fixture (tests/integration/
// CMakeLists.txt); tests/harness/server_env.h finds its env file.
#include <catch2/catch.hpp>

#include <memory>

#include <nlohmann/json.hpp>

#include "common/base64.h"
#include "common/clock.h"
#include "kms/http_transport.h"
#include "kms/transit/transit_client.h"
#include "kms/transit/transit_traits.h"
#include "tests/harness/server_env.h"
#include "tests/integration/kms/kms_test_support.h"
#include "tests/integration/kms/vault_root.h"

using namespace byok;
using namespace byok::kms;
using namespace byok::kms::transit;
using byok::testing::CountingTransport;
using Json = nlohmann::json;

namespace {

const byok::testing::ServerEnv& vault() {
  static const auto env = byok::testing::ServerEnv::for_provider("transit");
  return env;
}

struct Client {
  RealClock clock;
  CountingTransport transport;
  TransitClient kms;

  static TransitConfig config(const std::string& token, const std::string& endpoint,
                              const std::string& mount) {
    TransitConfig c;
    c.endpoint = endpoint.empty() ? vault()["BYOK_TRANSIT_ENDPOINT"] : endpoint;
    c.mount_path = mount;
    c.token = token;
    c.retry.base_delay = std::chrono::milliseconds(20);
    return c;
  }
  explicit Client(std::string token = vault()["BYOK_TRANSIT_TOKEN"], std::string endpoint = "",
                  bool trust_ca = true, std::string mount = "transit")
      : transport(
            make_http_transport({std::chrono::seconds(10),
                                 trust_ca ? vault().file("BYOK_TRANSIT_CA_FILE") : std::string()})),
        kms(config(token, endpoint, mount), transport, clock) {}
};

// "vault:vN:<base64>" -> the bytes.
std::string unprefix(const std::string& value, const std::string& version) {
  const std::string prefix = "vault:v" + version + ":";
  REQUIRE(value.rfind(prefix, 0) == 0);
  auto bytes = base64_decode(value.substr(prefix.size()));
  REQUIRE(bytes.ok());
  return *bytes;
}

ImportTarget target_for(const std::string& type, bool allow_rotation = false,
                        const std::string& hash = "SHA256") {
  ImportTarget t;
  t.name = byok::testing::unique_name("it-" + type);
  t.key_type = type;
  t.allow_rotation = allow_rotation;
  t.owner = "uid-" + t.name;
  t.wrapping_algorithm = hash;
  return t;
}

const EVP_MD* oaep_md(const std::string& hash) {
  return hash == "SHA1" ? EVP_sha1() : EVP_sha256();
}

// The whole import path as the reconciler drives it; returns the material imported.
byok::testing::TestMaterial import_fresh(TransitClient& kms, const ImportTarget& target) {
  auto before = kms.find_key(target);
  REQUIRE(before.ok());
  REQUIRE_FALSE(before->has_value());
  auto algs = kms.wrapping_algorithms(target.key_type);
  REQUIRE(algs.ok());
  REQUIRE(std::find(algs->begin(), algs->end(), target.wrapping_algorithm) != algs->end());
  auto wrapping = kms.prepare_import(target, "");
  if (!wrapping) FAIL("prepare_import: " << wrapping.error().message);
  auto material = byok::testing::make_material(target.key_type);
  auto wrapped = byok::testing::rsa_aes_wrap(wrapping->public_key_der,
                                             oaep_md(target.wrapping_algorithm), material.bytes);
  REQUIRE(wrapped.size() > 512);
  auto imported = kms.import_key(target, *wrapping, wrapped, ImportKind::First);
  if (!imported) FAIL("import_key: " << imported.error().message);
  CHECK(imported->key_id == target.name);
  CHECK(imported->resource == "transit/keys/" + target.name);
  CHECK(imported->version == "1");
  return material;
}

// Encrypts with transit, decrypts here with the material: only the same key opens it.
void check_aes_key(const std::string& name, const std::string& material,
                   const std::string& version) {
  const std::string plaintext = "byok transit check " + name;
  auto enc = byok::testing::vault_root_call("POST", "transit/encrypt/" + name,
                                            {{"plaintext", base64_encode(plaintext)}});
  auto blob = unprefix(enc["data"]["ciphertext"].get<std::string>(), version);
  REQUIRE(blob.size() > 12 + 16);
  CHECK(byok::testing::aes_gcm_decrypt(material, blob.substr(0, 12), blob.substr(12)) == plaintext);
}

// Signs with transit, verifies here with the material's public half.
void check_signing_key(const std::string& name, const std::string& type, EVP_PKEY* key) {
  const std::string data = "byok transit signature check " + name;
  Json req = {{"input", base64_encode(data)}};
  const EVP_MD* md = EVP_sha256();
  if (type.rfind("rsa-", 0) == 0) req["signature_algorithm"] = "pkcs1v15";
  if (type == "ed25519")
    md = nullptr;
  else
    req["hash_algorithm"] = "sha2-256";
  auto sig = byok::testing::vault_root_call("POST", "transit/sign/" + name, req);
  auto bytes = unprefix(sig["data"]["signature"].get<std::string>(), "1");
  CHECK(byok::testing::verify_signature(key, md, data, bytes));
  // And a signature over other data does not verify: the check can fail.
  CHECK_FALSE(byok::testing::verify_signature(key, md, data + "!", bytes));
}

}  // namespace

TEST_CASE("transit: who_am_i names the operator token by display name and accessor",
          "[kms][transit]") {
  INFO(vault()["BYOK_TRANSIT_SERVER"]);
  Client c;
  auto who = c.kms.who_am_i();
  REQUIRE(who.ok());
  CHECK(who->principal == "token-byok-operator");
  CHECK(who->id == vault()["BYOK_TRANSIT_TOKEN_ACCESSOR"]);
  CHECK(who->account.empty());
}

TEST_CASE("transit: AES-256 material imports and encrypts as the same key (SHA256 and SHA1 wraps)",
          "[kms][transit]") {
  for (std::string hash : {"SHA256", "SHA1"}) {
    Client c;
    auto target = target_for("aes256-gcm96", false, hash);
    auto material = import_fresh(c.kms, target);
    auto key = c.kms.describe_key(target.name);
    REQUIRE(key.ok());
    CHECK(key->state == "enabled");
    CHECK(key->status == CmkStatus::Current);
    CHECK(key->key_spec == "aes256-gcm96");
    CHECK(key->imported);
    CHECK(key->origin == "imported");
    CHECK(key->version == "1");
    REQUIRE(key->created.has_value());
    CHECK(std::chrono::abs(std::chrono::system_clock::now() - *key->created) <
          std::chrono::minutes(5));
    check_aes_key(target.name, material.bytes, "1");
    // find_key now finds it: a second reconcile does not import again.
    auto found = c.kms.find_key(target);
    REQUIRE(found.ok());
    REQUIRE(found->has_value());
    CHECK((*found)->key_id == target.name);
  }
}

TEST_CASE("transit: RSA-2048, ECDSA-P256 and Ed25519 private keys import and sign as themselves",
          "[kms][transit]") {
  for (std::string type : {"rsa-2048", "ecdsa-p256", "ed25519"}) {
    INFO(type);
    Client c;
    auto target = target_for(type);
    auto material = import_fresh(c.kms, target);
    auto key = c.kms.describe_key(target.name);
    REQUIRE(key.ok());
    CHECK(key->key_spec == type);
    CHECK(key->imported);
    CHECK(key->key_usage.find("signing") != std::string::npos);
    check_signing_key(target.name, type, material.pkey.get());
  }
}

TEST_CASE("transit: a wrap the wrapping key cannot open is refused and creates nothing",
          "[kms][transit]") {
  Client c;
  auto target = target_for("aes256-gcm96");
  auto wrapping = c.kms.prepare_import(target, "");
  REQUIRE(wrapping.ok());
  auto wrapped = byok::testing::rsa_aes_wrap(wrapping->public_key_der, EVP_sha256(),
                                             byok::testing::random_bytes(32));
  SECTION("one flipped byte in the KWP half") { wrapped[wrapped.size() - 5] ^= 0x01; }
  SECTION("OAEP with SHA-256 announced as SHA1") { target.wrapping_algorithm = "SHA1"; }
  SECTION("16 bytes of material for an AES-256 key") {
    wrapped = byok::testing::rsa_aes_wrap(wrapping->public_key_der, EVP_sha256(),
                                          byok::testing::random_bytes(16));
  }
  WrappingKey w = *wrapping;
  w.algorithm = target.wrapping_algorithm;
  auto imported = c.kms.import_key(target, w, wrapped, ImportKind::First);
  REQUIRE_FALSE(imported.ok());
  INFO(imported.error().message);
  CHECK(imported.error().kind == ErrorKind::InvalidArgument);
  CHECK(imported.error().message.rfind("transit POST transit/keys/" + target.name + "/import: ",
                                       0) == 0);
  auto after = c.kms.find_key(target);
  REQUIRE(after.ok());
  CHECK_FALSE(after->has_value());
}

TEST_CASE("transit: importing onto an existing name is a Conflict", "[kms][transit]") {
  Client c;
  auto target = target_for("aes256-gcm96");
  import_fresh(c.kms, target);
  auto wrapping = c.kms.prepare_import(target, target.name);
  REQUIRE(wrapping.ok());
  auto again = c.kms.import_key(target, *wrapping,
                                byok::testing::rsa_aes_wrap(wrapping->public_key_der, EVP_sha256(),
                                                            byok::testing::random_bytes(32)),
                                ImportKind::First);
  REQUIRE_FALSE(again.ok());
  INFO(again.error().message);
  CHECK(again.error().kind == ErrorKind::Conflict);
}

TEST_CASE("transit: import_version adds a version to a rotatable key, and is refused otherwise",
          "[kms][transit]") {
  Client c;
  auto target = target_for("aes256-gcm96", true);
  auto first = import_fresh(c.kms, target);
  auto wrapping = c.kms.prepare_import(target, target.name);
  REQUIRE(wrapping.ok());
  CHECK(wrapping->key_id == target.name);
  auto second = byok::testing::make_material("aes256-gcm96");
  auto r = c.kms.import_key(
      target, *wrapping,
      byok::testing::rsa_aes_wrap(wrapping->public_key_der, EVP_sha256(), second.bytes),
      ImportKind::NewVersion);
  if (!r) FAIL(r.error().message);
  CHECK(r->version == "2");
  auto key = c.kms.describe_key(target.name);
  REQUIRE(key.ok());
  CHECK(key->version == "2");
  check_aes_key(target.name, second.bytes, "2");  // new data goes under the new material

  // Without allow_rotation the client refuses before sending anything.
  auto fixed = target_for("aes256-gcm96", false);
  import_fresh(c.kms, fixed);
  auto w2 = c.kms.prepare_import(fixed, fixed.name);
  REQUIRE(w2.ok());
  const std::string wrapped = byok::testing::rsa_aes_wrap(w2->public_key_der, EVP_sha256(),
                                                          byok::testing::random_bytes(32));
  auto refused = c.kms.import_key(fixed, *w2, wrapped, ImportKind::NewVersion);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().kind == ErrorKind::FailedPrecondition);
  CHECK(refused.error().message.find("allow_rotation false") != std::string::npos);
  CHECK(c.kms.describe_key(fixed.name)->version == "1");
  // Why the client checks: the server itself takes a new version for such a key (allow_rotation
  // only governs transit's own rotate). If this ever fails, the server started enforcing it.
  byok::testing::vault_root_call(
      "POST", "transit/keys/" + fixed.name + "/import_version",
      {{"ciphertext", base64_encode(wrapped)}, {"hash_function", "SHA256"}});
  CHECK(c.kms.describe_key(fixed.name)->version == "2");
}

TEST_CASE("transit: find_key refuses a same-named key that is not an import of this shape",
          "[kms][transit]") {
  Client c;
  auto target = target_for("aes256-gcm96");
  byok::testing::vault_root_call("POST", "transit/keys/" + target.name,
                                 {{"type", "aes256-gcm96"}});  // generated
  auto found = c.kms.find_key(target);
  REQUIRE_FALSE(found.ok());
  CHECK(found.error().kind == ErrorKind::AlreadyExists);
  CHECK(found.error().message.find("generated by transit, not imported") != std::string::npos);
  auto generated = c.kms.describe_key(target.name);
  REQUIRE(generated.ok());
  CHECK_FALSE(generated->imported);
  CHECK(generated->origin == "transit");
}

TEST_CASE("transit: deletion is immediate, cancelling is unsupported", "[kms][transit]") {
  Client c;
  auto target = target_for("aes256-gcm96");
  import_fresh(c.kms, target);
  auto d = c.kms.schedule_key_deletion(target.name, 7);
  if (!d) FAIL(d.error().message);
  CHECK(d->state == "deleted");
  CHECK(transit_cmk_status(d->state) == CmkStatus::Deleted);
  REQUIRE(d->deletion_date.has_value());
  auto gone = c.kms.describe_key(target.name);
  REQUIRE_FALSE(gone.ok());
  CHECK(gone.error().kind == ErrorKind::NotFound);
  auto found = c.kms.find_key(target);
  REQUIRE(found.ok());
  CHECK_FALSE(found->has_value());
  auto again = c.kms.schedule_key_deletion(target.name, 7);
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().kind == ErrorKind::NotFound);
  auto cancel = c.kms.cancel_key_deletion(target.name);
  REQUIRE_FALSE(cancel.ok());
  CHECK(cancel.error().kind == ErrorKind::Unsupported);
}

TEST_CASE("transit: a missing key is NotFound, a wrong mount is FailedPrecondition",
          "[kms][transit]") {
  Client c;
  auto missing = c.kms.describe_key("no-such-key-here");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().kind == ErrorKind::NotFound);
  CHECK(missing.error().message.rfind("transit GET transit/keys/no-such-key-here: ", 0) == 0);
  CHECK(c.transport.sent == 1);  // not retried

  Client wrong(vault()["BYOK_TRANSIT_ROOT_TOKEN"], "", true, "not-mounted");
  auto unmounted = wrong.kms.describe_key("k");
  REQUIRE_FALSE(unmounted.ok());
  INFO(unmounted.error().message);
  CHECK(unmounted.error().kind == ErrorKind::FailedPrecondition);
  CHECK(unmounted.error().message.find("not-mounted/") != std::string::npos);
}

TEST_CASE("transit: a read-only token may describe but not import or delete (PermissionDenied)",
          "[kms][transit]") {
  Client op;
  auto target = target_for("aes256-gcm96");
  import_fresh(op.kms, target);

  Client ro(vault()["BYOK_TRANSIT_NARROW_TOKEN"]);
  auto who = ro.kms.who_am_i();
  REQUIRE(who.ok());
  CHECK(who->id == vault()["BYOK_TRANSIT_NARROW_ACCESSOR"]);
  CHECK(who->principal == "token-byok-read-only");
  REQUIRE(ro.kms.describe_key(target.name).ok());
  auto wrapping = ro.kms.prepare_import(target_for("aes256-gcm96"), "");
  REQUIRE_FALSE(wrapping.ok());
  CHECK(wrapping.error().kind == ErrorKind::PermissionDenied);
  CHECK(wrapping.error().message.rfind("transit GET transit/wrapping_key: ", 0) == 0);
  CHECK(wrapping.error().message.find("permission denied") != std::string::npos);
  auto deleted = ro.kms.schedule_key_deletion(target.name, 7);
  REQUIRE_FALSE(deleted.ok());
  CHECK(deleted.error().kind == ErrorKind::PermissionDenied);
  REQUIRE(op.kms.describe_key(target.name).ok());  // still there
}

TEST_CASE("transit: an unknown token is Unauthenticated", "[kms][transit]") {
  Client c("hvs.this-token-does-not-exist");
  auto key = c.kms.describe_key("anything");
  REQUIRE_FALSE(key.ok());
  INFO(key.error().message);
  CHECK(key.error().kind == ErrorKind::Unauthenticated);
  auto who = c.kms.who_am_i();
  REQUIRE_FALSE(who.ok());
  CHECK(who.error().kind == ErrorKind::Unauthenticated);
  CHECK(c.transport.sent == 2);  // neither retried
}

TEST_CASE("transit: an unreachable server is Unavailable after the retries", "[kms][transit]") {
  Client c(vault()["BYOK_TRANSIT_TOKEN"],
           "https://127.0.0.1:" + std::to_string(byok::testing::free_loopback_port()));
  auto key = c.kms.describe_key("k");
  REQUIRE_FALSE(key.ok());
  CHECK(key.error().kind == ErrorKind::Unavailable);
  CHECK(key.error().message.find("gave up after 3 attempts") != std::string::npos);
  CHECK(c.transport.sent == 3);
}

TEST_CASE("transit: a server whose CA is not trusted is refused", "[kms][transit]") {
  Client c(vault()["BYOK_TRANSIT_TOKEN"], "", /*trust_ca=*/false);
  auto who = c.kms.who_am_i();
  REQUIRE_FALSE(who.ok());
  INFO(who.error().message);
  CHECK(who.error().kind == ErrorKind::Unavailable);
}

TEST_CASE("transit: from_config builds a working client", "[kms][transit]") {
  auto transport =
      make_http_transport({std::chrono::seconds(10), vault().file("BYOK_TRANSIT_CA_FILE")});
  RealClock clock;
  ProviderConfig config;
  config.type = "transit";
  config.endpoint = vault()["BYOK_TRANSIT_ENDPOINT"];
  config.settings = {{"mountPath", vault()["BYOK_TRANSIT_MOUNT"]}};
  config.credentials = {{"token", vault()["BYOK_TRANSIT_TOKEN"]}};
  auto client = TransitClient::from_config(config, *transport, clock);
  REQUIRE(client.ok());
  auto who = (*client)->who_am_i();
  REQUIRE(who.ok());
  CHECK(who->id == vault()["BYOK_TRANSIT_TOKEN_ACCESSOR"]);
}
