// CustomerManagedKey verified against a real AWS KMS emulator (moto, SigV4 checked by the
// server) by the real operator binary, through a KmsProvider and its Secrets in the real
// apiserver: current / old / deleted follow the key's state in the KMS (drift), each failure has
// its own reason, an outage converges once the KMS is back, and deletionPolicy decides whether
// the key is scheduled for deletion.

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>

#include "common/clock.h"
#include "controller/kube/resource.h"
#include "kms/aws/aws_kms_client.h"
#include "kms/http_transport.h"
#include "tests/harness/cluster.h"
#include "tests/harness/operator_process.h"
#include "tests/harness/server_env.h"
#include "reconcilers/customer_managed_key/cmk_types.h"
#include "reconcilers/kms_provider/kms_provider_types.h"

using namespace byok;
using byok::kube::Json;
using namespace std::chrono_literals;

namespace {

const auto kCmk = byok::cmk::customer_managed_keys();

const testing::ServerEnv& moto() {
  static const auto env = testing::ServerEnv::for_provider("aws");
  return env;
}

// The test's own door to moto, to create keys and change them "from the console".
struct Console {
  RealClock clock;
  std::unique_ptr<kms::HttpTransport> transport =
      kms::make_http_transport({10s, moto().file("BYOK_AWS_CA_FILE")});
  kms::aws::AwsKmsClient kms{config(), *transport, clock};

  static kms::aws::AwsKmsConfig config() {
    kms::aws::AwsKmsConfig c;
    c.region = moto()["BYOK_AWS_REGION"];
    c.kms_endpoint = c.sts_endpoint = moto()["BYOK_AWS_ENDPOINT"];
    c.credentials = {moto()["BYOK_AWS_ACCESS_KEY_ID"], moto()["BYOK_AWS_SECRET_ACCESS_KEY"], ""};
    return c;
  }
  // The key's ARN (what a user registers) and id (what the console calls take; moto resolves
  // an ARN only in some calls).
  struct Key {
    std::string arn, id;
  };
  Key new_key(const std::string& usage = "ENCRYPT_DECRYPT",
              const std::string& spec = "SYMMETRIC_DEFAULT") {
    kms::aws::CreateKeyRequest r;
    r.key_usage = usage;
    r.key_spec = spec;
    auto key = kms.create_key(r);
    REQUIRE(key.ok());
    return {key->resource, key->key_id};
  }
};

// A Secret, a CA Secret and a KmsProvider named `name` pointing at `endpoint`.
void create_provider(kube::KubeClient& c, const std::string& ns, const std::string& name,
                     const std::string& endpoint, const std::string& secret_key) {
  Json creds = {
      {"apiVersion", "v1"},
      {"kind", "Secret"},
      {"metadata", {{"name", name + "-credentials"}}},
      {"stringData",
       {{"accessKeyId", moto()["BYOK_AWS_ACCESS_KEY_ID"]}, {"secretAccessKey", secret_key}}}};
  REQUIRE(c.create(kube::resources::secrets(), ns, creds).ok());
  Json ca = {{"apiVersion", "v1"},
             {"kind", "Secret"},
             {"metadata", {{"name", name + "-ca"}}},
             {"stringData", {{"ca.crt", moto().file("BYOK_AWS_CA_FILE")}}}};
  REQUIRE(c.create(kube::resources::secrets(), ns, ca).ok());
  Json provider = {{"apiVersion", "byok.dev/v1alpha1"},
                   {"kind", "KmsProvider"},
                   {"metadata", {{"name", name}}},
                   {"spec",
                    {{"type", "aws"},
                     {"region", moto()["BYOK_AWS_REGION"]},
                     {"endpoint", endpoint},
                     {"aws", {{"stsEndpoint", endpoint}}},  // moto serves STS too
                     {"credentialsSecretRef", {{"name", name + "-credentials"}}},
                     {"caSecretRef", {{"name", name + "-ca"}}}}}};
  REQUIRE(c.create(byok::kmsprovider::kms_providers(), ns, provider).ok());
}

Json cmk_object(const std::string& name, const std::string& arn,
                const std::string& provider = "aws", const std::string& interval = "1s") {
  return {
      {"apiVersion", "byok.dev/v1alpha1"},
      {"kind", "CustomerManagedKey"},
      {"metadata", {{"name", name}, {"annotations", {{"byok.dev/verify-interval", interval}}}}},
      {"spec", {{"provider", "aws"}, {"resource", arn}, {"providerRef", {{"name", provider}}}}}};
}

struct Fixture {
  std::unique_ptr<kube::RestKubeClient> client = testing::connect_from_env();
  kube::KubeClient& c = *client;
  std::string ns;
  Console console;
  std::string log_path;
  std::unique_ptr<testing::ChildProcess> op;

  explicit Fixture(const std::string& prefix) {
    ns = testing::create_namespace(c, prefix);
    log_path = "/tmp/byok-" + ns + ".log";
    create_provider(c, ns, "aws", moto()["BYOK_AWS_ENDPOINT"],
                    moto()["BYOK_AWS_SECRET_ACCESS_KEY"]);
  }
  void start() { op = testing::start_operator(ns, log_path); }
  Json status(const std::string& name) { return testing::status_of(c, kCmk, ns, name); }
  bool has(const std::string& name, const std::string& word, const std::string& ready_reason) {
    auto s = status(name);
    return s.value("status", "") == word && testing::condition_field(s, "Ready") == ready_reason;
  }
  std::string reason(const std::string& name, const std::string& type = "KeyVerified") {
    return testing::condition_field(status(name), type);
  }
};

}  // namespace

TEST_CASE(
    "cmk/aws: a registered key is verified in the KMS and its status follows the key's "
    "state there",
    "[aws][cmk]") {
  Fixture f("cmk-aws-drift");
  auto key = f.console.new_key();
  f.start();
  REQUIRE(f.c.create(kCmk, f.ns, cmk_object("k", key.arn)).ok());

  REQUIRE(testing::wait_until([&] { return f.has("k", "current", "KeyUsable"); }));
  auto s = f.status("k");
  CHECK(s.value("keyState", "") == "Enabled");
  CHECK(testing::condition_field(s, "KeyVerified", "status") == "True");
  CHECK(testing::condition_field(s, "KeyVerified") == "KeyFound");
  CHECK(s.value("accessor", "") == moto()["BYOK_AWS_USER_ARN"]);
  CHECK_FALSE(s.value("lastVerifiedAt", "").empty());

  // Disabled in the console: the next verification (1 s interval) sees it.
  REQUIRE(f.console.kms.disable_key(key.id).ok());
  REQUIRE(testing::wait_until([&] { return f.has("k", "old", "KeyNotUsable"); }));
  CHECK(f.status("k").value("keyState", "") == "Disabled");
  REQUIRE(testing::wait_until(
      [&] { return testing::count_events(f.c, f.ns, "k", "KeyStateChanged") >= 1; }));

  REQUIRE(f.console.kms.enable_key(key.id).ok());
  REQUIRE(testing::wait_until([&] { return f.has("k", "current", "KeyUsable"); }));

  REQUIRE(f.console.kms.schedule_key_deletion(key.id, 7).ok());
  REQUIRE(testing::wait_until([&] { return f.has("k", "deleted", "KeyDeleted"); }));
  CHECK(f.status("k").value("keyState", "") == "PendingDeletion");
}

TEST_CASE(
    "cmk/aws: a missing key, bad credentials, a signing key and a missing KmsProvider "
    "each get their own reason",
    "[aws][cmk]") {
  Fixture f("cmk-aws-errors");
  create_provider(f.c, f.ns, "aws-bad-secret", moto()["BYOK_AWS_ENDPOINT"], "not-the-secret");
  std::string region = moto()["BYOK_AWS_REGION"], account = moto()["BYOK_AWS_ACCOUNT_ID"];
  std::string missing =
      "arn:aws:kms:" + region + ":" + account + ":key/00000000-0000-4000-8000-000000000000";
  std::string good = f.console.new_key().arn;
  std::string signing = f.console.new_key("SIGN_VERIFY", "RSA_2048").arn;
  f.start();
  REQUIRE(f.c.create(kCmk, f.ns, cmk_object("missing", missing, "aws", "10m")).ok());
  REQUIRE(f.c.create(kCmk, f.ns, cmk_object("bad-creds", good, "aws-bad-secret", "2s")).ok());
  REQUIRE(f.c.create(kCmk, f.ns, cmk_object("signing", signing, "aws", "10m")).ok());
  REQUIRE(f.c.create(kCmk, f.ns, cmk_object("no-provider", good, "nowhere", "10m")).ok());

  REQUIRE(testing::wait_until([&] { return f.reason("missing") == "KeyNotFound"; }));
  CHECK(f.status("missing").value("status", "") == "deleted");
  CHECK(testing::condition_field(f.status("missing"), "KeyVerified", "message")
            .find("check spec.resource") != std::string::npos);
  REQUIRE(testing::wait_until([&] { return f.reason("bad-creds") == "InvalidCredentials"; }));
  CHECK(testing::condition_field(f.status("bad-creds"), "Ready", "status") == "False");
  REQUIRE(testing::wait_until([&] { return f.reason("signing") == "WrongKeyType"; }));
  CHECK(
      testing::condition_field(f.status("signing"), "KeyVerified", "message").find("SIGN_VERIFY") !=
      std::string::npos);
  REQUIRE(testing::wait_until([&] { return f.reason("no-provider") == "ProviderNotFound"; }));
  REQUIRE(testing::wait_until(
      [&] { return testing::count_events(f.c, f.ns, "missing", "KeyVerificationFailed") >= 1; }));

  // Fixing the Secret is picked up by the next check: a failed verification is retried every
  // min(interval, 1 min), here 2 s.
  REQUIRE(f.c.patch(kube::resources::secrets(), f.ns, "aws-bad-secret-credentials",
                    kube::PatchType::Merge,
                    {{"stringData", {{"secretAccessKey", moto()["BYOK_AWS_SECRET_ACCESS_KEY"]}}}})
              .ok());
  REQUIRE(testing::wait_until([&] { return f.has("bad-creds", "current", "KeyUsable"); }, 60s));
}

TEST_CASE(
    "cmk/aws: while the KMS is unreachable the key is Unknown, and it converges once the "
    "KMS is back",
    "[aws][cmk]") {
  Fixture f("cmk-aws-outage");
  int port = testing::free_loopback_port();
  create_provider(f.c, f.ns, "flaky", "https://127.0.0.1:" + std::to_string(port),
                  moto()["BYOK_AWS_SECRET_ACCESS_KEY"]);
  std::string arn = f.console.new_key().arn;
  f.start();
  REQUIRE(f.c.create(kCmk, f.ns, cmk_object("k", arn, "flaky", "10m")).ok());
  REQUIRE(testing::wait_until([&] { return f.reason("k") == "KmsUnavailable"; }));
  CHECK(testing::condition_field(f.status("k"), "KeyVerified", "status") == "Unknown");

  // The outage ends: a forwarder to moto appears on the provider's port.
  std::string moto_port =
      moto()["BYOK_AWS_ENDPOINT"].substr(moto()["BYOK_AWS_ENDPOINT"].rfind(':') + 1);
  testing::ChildProcess forwarder(
      "/usr/bin/env",
      {"python3", std::string(BYOK_SOURCE_DIR) + "/tests/harness/tcp_forward.py",
       std::to_string(port), moto_port},
      "/tmp/byok-" + f.ns + "-forward.log");
  REQUIRE(testing::wait_until([&] { return f.has("k", "current", "KeyUsable"); }, 60s));
}

TEST_CASE(
    "cmk/aws: deletionPolicy Delete schedules the key's deletion with the window, Retain "
    "leaves the key alone",
    "[aws][cmk]") {
  Fixture f("cmk-aws-delete");
  auto doomed_key = f.console.new_key(), kept_key = f.console.new_key();
  const std::string doomed = doomed_key.arn, kept = kept_key.arn;
  f.start();
  Json d = cmk_object("doomed", doomed, "aws", "10m");
  d["spec"]["deletionPolicy"] = "Delete";
  d["spec"]["deletionWindowDays"] = 7;
  REQUIRE(f.c.create(kCmk, f.ns, d).ok());
  REQUIRE(f.c.create(kCmk, f.ns, cmk_object("kept", kept, "aws", "10m")).ok());
  REQUIRE(testing::wait_until([&] {
    return f.has("doomed", "current", "KeyUsable") && f.has("kept", "current", "KeyUsable");
  }));

  REQUIRE(f.c.remove(kCmk, f.ns, "doomed").ok());
  REQUIRE(f.c.remove(kCmk, f.ns, "kept").ok());
  REQUIRE(testing::wait_until(
      [&] { return !f.c.get(kCmk, f.ns, "doomed").ok() && !f.c.get(kCmk, f.ns, "kept").ok(); }));
  auto gone = f.console.kms.describe_key(doomed_key.id);
  REQUIRE(gone.ok());
  CHECK(gone->state == "PendingDeletion");
  REQUIRE(gone->deletion_date.has_value());
  auto days = std::chrono::duration_cast<std::chrono::hours>(*gone->deletion_date -
                                                             std::chrono::system_clock::now());
  CHECK(days > std::chrono::hours(6 * 24));
  CHECK(days <= std::chrono::hours(7 * 24 + 1));
  auto still = f.console.kms.describe_key(kept_key.id);
  REQUIRE(still.ok());
  CHECK(still->state == "Enabled");
}
