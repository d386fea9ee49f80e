// AwsKmsClient against a real AWS KMS emulator over TLS: moto's server (see
// tests/harness/moto-kms.sh for why moto and not local-kms, and what moto lacks). moto runs with
// IAM authentication on, so every request below is accepted only if moto's own SigV4 computation
// (botocore's) agrees with ours.
//
// The server is started once per ctest run by the kms_aws fixture (tests/integration/
// CMakeLists.txt); BYOK_AWS_KMS_ENV names its env file.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>

#include <unistd.h>

#include "common/clock.h"
#include "kms/aws/aws_kms_client.h"
#include "kms/http_transport.h"
#include "tests/harness/server_env.h"
#include "tests/integration/kms/kms_test_support.h"

using namespace byok;
using namespace byok::kms;
using namespace byok::kms::aws;

namespace {

namespace fs = std::filesystem;

// The moto server the kms_aws ctest fixture started (tests/harness/moto-kms.sh).
const byok::testing::ServerEnv& moto() {
  static const auto env = byok::testing::ServerEnv::for_provider("aws");
  return env;
}

using byok::testing::CountingTransport;

struct Client {
  RealClock clock;
  CountingTransport transport;
  AwsKmsClient kms;

  static AwsKmsConfig config(const Credentials& creds, const std::string& endpoint) {
    auto& m = moto();
    AwsKmsConfig c;
    c.region = m["BYOK_AWS_REGION"];
    c.kms_endpoint = endpoint.empty() ? m["BYOK_AWS_ENDPOINT"] : endpoint;
    c.sts_endpoint = c.kms_endpoint;
    c.credentials = creds;
    c.retry.base_delay = std::chrono::milliseconds(20);
    return c;
  }
  static Credentials good() {
    auto& m = moto();
    return {m["BYOK_AWS_ACCESS_KEY_ID"], m["BYOK_AWS_SECRET_ACCESS_KEY"], ""};
  }
  explicit Client(Credentials creds = good(), std::string endpoint = "", bool trust_ca = true)
      : transport(
            make_http_transport({std::chrono::seconds(10),
                                 trust_ca ? moto().file("BYOK_AWS_CA_FILE") : std::string()})),
        kms(config(creds, endpoint), transport, clock) {}
};

std::string new_key(AwsKmsClient& kms, const std::string& origin = "AWS_KMS") {
  CreateKeyRequest req;
  req.description = "byok-operator integration test";
  req.origin = origin;
  req.tags = {{"byok.dev/test", "aws_kms_test"}};
  auto key = kms.create_key(req);
  if (!key) FAIL("CreateKey: " << key.error().message);
  REQUIRE_FALSE(key->key_id.empty());
  return key->key_id;
}

}  // namespace

TEST_CASE("aws: a new symmetric key describes as Enabled and current", "[kms][aws][moto]") {
  Client c;
  auto id = new_key(c.kms);
  auto key = c.kms.describe_key(id);
  REQUIRE(key.ok());
  CHECK(key->key_id == id);
  CHECK(key->resource == "arn:aws:kms:" + moto()["BYOK_AWS_REGION"] + ":" +
                             moto()["BYOK_AWS_ACCOUNT_ID"] + ":key/" + id);
  CHECK(key->state == "Enabled");
  REQUIRE(key->status.has_value());
  CHECK(*key->status == CmkStatus::Current);
  CHECK(key->enabled);
  CHECK(key->key_spec == "SYMMETRIC_DEFAULT");
  CHECK(key->key_usage == "ENCRYPT_DECRYPT");
  REQUIRE(key->created.has_value());
  auto age = std::chrono::system_clock::now() - *key->created;
  CHECK(age < std::chrono::minutes(5));
  CHECK(age > -std::chrono::minutes(5));
  // Describing by ARN finds the same key.
  auto by_arn = c.kms.describe_key(key->resource);
  REQUIRE(by_arn.ok());
  CHECK(by_arn->key_id == id);
}

TEST_CASE("aws: a disabled key is Disabled (old) and enabling brings it back", "[kms][aws][moto]") {
  Client c;
  auto id = new_key(c.kms);
  REQUIRE(c.kms.disable_key(id).ok());
  auto key = c.kms.describe_key(id);
  REQUIRE(key.ok());
  CHECK(key->state == "Disabled");
  CHECK(*key->status == CmkStatus::Old);
  CHECK_FALSE(key->enabled);
  REQUIRE(c.kms.enable_key(id).ok());
  CHECK(c.kms.describe_key(id)->state == "Enabled");
}

TEST_CASE(
    "aws: scheduling deletion makes the key PendingDeletion (deleted) and cancelling leaves it "
    "Disabled",
    "[kms][aws][moto]") {
  Client c;
  auto id = new_key(c.kms);
  auto scheduled = c.kms.schedule_key_deletion(id, 7);
  REQUIRE(scheduled.ok());
  // AWS answers KeyState too; moto 5.2 answers only KeyId and DeletionDate.
  CHECK((scheduled->state.empty() || scheduled->state == "PendingDeletion"));
  REQUIRE(scheduled->deletion_date.has_value());
  auto days = std::chrono::duration_cast<std::chrono::hours>(*scheduled->deletion_date -
                                                             std::chrono::system_clock::now());
  CHECK(days > std::chrono::hours(6 * 24));
  CHECK(days <= std::chrono::hours(7 * 24 + 1));
  auto key = c.kms.describe_key(id);
  REQUIRE(key.ok());
  CHECK(key->state == "PendingDeletion");
  CHECK(*key->status == CmkStatus::Deleted);
  CHECK(key->deletion_date.has_value());

  // (AWS refuses EnableKey here with KMSInvalidStateException; moto 5.2 accepts it, so that
  // mapping is pinned by the unit tests only.)
  REQUIRE(c.kms.cancel_key_deletion(id).ok());
  auto back = c.kms.describe_key(id);
  REQUIRE(back.ok());
  CHECK(back->state == "Disabled");  // as in AWS: cancelling leaves the key disabled
  CHECK(*back->status == CmkStatus::Old);
}

TEST_CASE("aws: a missing key is NotFound with a message naming the call and the key",
          "[kms][aws][moto]") {
  Client c;
  const std::string missing = "00000000-1111-2222-3333-444444444444";
  auto key = c.kms.describe_key(missing);
  REQUIRE_FALSE(key.ok());
  CHECK(key.error().kind == ErrorKind::NotFound);
  CHECK(key.error().message.find("KMS DescribeKey: NotFoundException: ") == 0);
  CHECK(key.error().message.find(missing) != std::string::npos);
  CHECK(c.transport.sent == 1);  // not retried
}

TEST_CASE("aws: a wrong secret is refused by the server's signature check", "[kms][aws][moto]") {
  auto creds = Client::good();
  creds.secret_access_key[0] = creds.secret_access_key[0] == 'A' ? 'B' : 'A';
  Client c(creds);
  auto key = c.kms.describe_key("alias/anything");
  REQUIRE_FALSE(key.ok());
  CHECK(key.error().kind == ErrorKind::Unauthenticated);
  CHECK(key.error().message.find("KMS DescribeKey: InvalidSignatureException") == 0);
  CHECK(c.transport.sent == 1);
}

TEST_CASE("aws: an unknown access key is refused", "[kms][aws][moto]") {
  Client c(Credentials{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""});
  auto key = c.kms.describe_key("alias/anything");
  REQUIRE_FALSE(key.ok());
  CHECK(key.error().kind == ErrorKind::Unauthenticated);
  CHECK(key.error().message.find("KMS DescribeKey: UnrecognizedClientException") == 0);
  auto who = c.kms.who_am_i();
  REQUIRE_FALSE(who.ok());
  CHECK(who.error().kind == ErrorKind::Unauthenticated);
  CHECK(who.error().message.find("STS GetCallerIdentity: InvalidClientTokenId") == 0);
}

TEST_CASE("aws: GetCallerIdentity names the accessor to grant", "[kms][aws][moto]") {
  Client c;
  auto who = c.kms.who_am_i();
  REQUIRE(who.ok());
  CHECK(who->principal == moto()["BYOK_AWS_USER_ARN"]);
  CHECK(who->account == moto()["BYOK_AWS_ACCOUNT_ID"]);
  CHECK_FALSE(who->id.empty());
}

TEST_CASE("aws: a key created with Origin EXTERNAL keeps its origin", "[kms][aws][moto]") {
  // Real AWS creates it PendingImport; moto 5.2 creates it Enabled and has no import calls
  // (GetParametersForImport answers HTTP 500), so only the origin is checked here. The import
  // path is pinned by tests/unit/kms/aws_kms_client_test.cpp with a fake that really unwraps.
  Client c;
  auto id = new_key(c.kms, "EXTERNAL");
  auto key = c.kms.describe_key(id);
  REQUIRE(key.ok());
  CHECK(key->origin == "EXTERNAL");
  CHECK(key->status.has_value());

  auto wrapping = c.kms.get_parameters_for_import({id, "RSAES_OAEP_SHA_256", "RSA_2048"});
  if (!wrapping.ok()) {
    CHECK(wrapping.error().message.find("KMS GetParametersForImport: ") == 0);
    CHECK(c.transport.sent == 3);  // create, describe, one GetParametersForImport: never retried
  }
}

TEST_CASE("aws: TLS verification stays on: a server whose CA is not trusted is refused",
          "[kms][aws][moto]") {
  Client c(Client::good(), "", /*trust_ca=*/false);
  auto key = c.kms.describe_key("alias/anything");
  REQUIRE_FALSE(key.ok());
  CHECK(key.error().kind == ErrorKind::Unavailable);
  CHECK(key.error().message.find("KMS DescribeKey: POST https://127.0.0.1:") == 0);
}

TEST_CASE("aws: an unreachable endpoint is Unavailable after a few quick attempts",
          "[kms][aws][moto]") {
  Client c(Client::good(),
           "https://127.0.0.1:" + std::to_string(byok::testing::free_loopback_port()));
  auto key = c.kms.describe_key("alias/anything");
  REQUIRE_FALSE(key.ok());
  CHECK(key.error().kind == ErrorKind::Unavailable);
  CHECK(key.error().message.find("KMS DescribeKey: POST https://127.0.0.1:") == 0);
  CHECK(key.error().message.find("gave up after 3 attempts") != std::string::npos);
  CHECK(c.transport.sent == 3);
}

// --- finding the key an ImportedKey made, after a crash at any point of prepare_import ---

namespace {

std::string unique_name(const std::string& prefix) {
  static int counter = 0;
  return prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
}

ImportTarget target_named(const std::string& name, const std::string& owner) {
  ImportTarget t;
  t.name = name;
  t.key_type = "aes256-gcm96";
  t.owner = owner;
  t.wrapping_algorithm = "RSAES_OAEP_SHA_256";
  return t;
}

}  // namespace

TEST_CASE(
    "aws: find_key finds nothing for a fresh target, and a key created but never aliased "
    "by its owner tag",
    "[kms][aws][moto]") {
  Client c;
  auto target = target_named(unique_name("ik"), "uid-" + unique_name("owner"));
  auto none = c.kms.find_key(target);
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());

  // What a controller that died right after CreateKey leaves behind: a tagged key, no alias.
  CreateKeyRequest create;
  create.origin = "EXTERNAL";
  create.tags = {{"byok.dev/owner", target.owner}};
  auto orphan = c.kms.create_key(create);
  REQUIRE(orphan.ok());
  auto found = c.kms.find_key(target);
  REQUIRE(found.ok());
  REQUIRE(found->has_value());
  CHECK((*found)->key_id == orphan->key_id);

  // Another owner's target does not claim it.
  auto other = c.kms.find_key(target_named(target.name, "uid-someone-else"));
  REQUIRE(other.ok());
  CHECK_FALSE(other->has_value());
}

TEST_CASE(
    "aws: prepare_import aliases the key, so find_key then finds it by alias, an alias "
    "that belongs to another owner is refused",
    "[kms][aws][moto]") {
  Client c;
  auto target = target_named(unique_name("ik"), "uid-" + unique_name("owner"));
  // CreateKey, CreateAlias, then GetParametersForImport (moto's, with the import extension of
  // tests/fakes/aws).
  auto prepared = c.kms.prepare_import(target, "");
  REQUIRE(prepared.ok());
  auto found = c.kms.find_key(target);
  REQUIRE(found.ok());
  REQUIRE(found->has_value());
  CHECK((*found)->origin == "EXTERNAL");
  CHECK((*found)->name == "alias/" + target.name);
  CHECK((*found)->state == "PendingImport");
  // prepare_import names the key by ARN, find_key by id: the same key.
  CHECK(prepared->key_id == (*found)->resource);

  // A second attempt reuses the key: no second key, same alias.
  auto again = c.kms.prepare_import(target, (*found)->key_id);
  auto still = c.kms.find_key(target);
  REQUIRE(still.ok());
  REQUIRE(still->has_value());
  CHECK((*still)->key_id == (*found)->key_id);
  (void)again;

  auto stranger = c.kms.find_key(target_named(target.name, "uid-someone-else"));
  REQUIRE_FALSE(stranger.ok());
  CHECK(stranger.error().kind == ErrorKind::AlreadyExists);
  CHECK(stranger.error().message.find("alias/" + target.name + " already names key") == 0);
}

TEST_CASE("aws: key types AWS cannot import are refused before any call", "[kms][aws][moto]") {
  Client c;
  for (const char* type : {"aes128-gcm96", "chacha20-poly1305", "ed25519"}) {
    auto algorithms = c.kms.wrapping_algorithms(type);
    REQUIRE_FALSE(algorithms.ok());
    CHECK(algorithms.error().kind == ErrorKind::Unsupported);
  }
  auto rsa = c.kms.wrapping_algorithms("rsa-3072");
  REQUIRE(rsa.ok());
  CHECK(rsa->front() == "RSA_AES_KEY_WRAP_SHA_256");
  CHECK(c.transport.sent == 0);
}
