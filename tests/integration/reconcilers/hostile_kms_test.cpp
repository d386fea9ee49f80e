// Hostile KMS answers, against the operator binary: a tenant points its own KmsProviders (within
// --kms-endpoint-allow) at servers on 127.0.0.1 that answer with 400 MiB bodies, a byte per
// second, or endless pages. Each object must end with a condition that names the limit, the
// operator's peak memory must stay under a stated bound, and keys on the real Vault must import
// while the hostile ones are at work: one of the same namespace, and another tenant's (a second
// namespace the same operator serves), which the hostile namespace may not starve of workers.

#include <chrono>
#include <filesystem>
#include <iostream>

#include "tests/integration/reconcilers/attacker.h"
#include "tests/integration/reconcilers/ik_test_support.h"
#include "reconcilers/kms_provider/kms_provider_types.h"

using namespace byok;
using namespace byok::iktest;

namespace {

// The operator's peak resident memory (VmHWM), in MiB.
long peak_rss_mib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6)) / 1024;
  return -1;
}

}  // namespace

TEST_CASE(
    "hostile KMS answers: a huge body, a slow drip and endless pages end in conditions that "
    "name the limit, memory stays bounded, and other tenants' keys still import",
    "[transit][hostile-input]") {
  IkFixture f("hostile");
  f.provider("transit");
  f.add_key("healthy", "aes256-gcm96");
  const std::string calm = f.add_tenant("calm", "transit");
  constexpr int kCalmKeys = 4;  // more than the operator's two workers
  for (int i = 0; i < kCalmKeys; ++i) f.add_key("calm-" + std::to_string(i), "aes256-gcm96");
  Attacker huge(f.ns, "huge", true, "65537", "huge"), drip(f.ns, "drip", true, "65537", "drip"),
      pages(f.ns, "pages", true, "65537", "pages");
  auto must = [&](const kube::ResourceType& type, const Json& object) {
    auto r = f.c.create(type, f.ns, object);
    INFO(object.dump() << ": " << (r.ok() ? "" : r.error().message));
    REQUIRE(r.ok());
  };
  for (const auto& [mode, server] :
       {std::pair{"huge", &huge}, std::pair{"drip", &drip}, std::pair{"pages", &pages}})
    must(kube::resources::secrets(),
         secret(std::string(mode) + "-ca", {{"ca.crt", testing::read_file(server->cert)}}));
  must(kube::resources::secrets(), secret("token", {{"token", "t"}}));
  must(kube::resources::secrets(),
       secret("aws", {{"accessKeyId", "AKID"}, {"secretAccessKey", "s"}}));
  must(kube::resources::secrets(), secret("wrapped", {{"wrapped", std::string(552, 'w')}}));
  for (const auto& [name, server] : {std::pair{"huge", &huge}, std::pair{"drip", &drip}})
    must(byok::kmsprovider::kms_providers(),
         kms_provider(name, {{"type", "transit"},
                             {"endpoint", "https" + server->url()},
                             {"caSecretRef", {{"name", std::string(name) + "-ca"}}},
                             {"credentialsSecretRef", {{"name", "token"}}}}));
  must(byok::kmsprovider::kms_providers(),
       kms_provider("pages", {{"type", "aws"},
                              {"region", "eu-west-1"},
                              {"endpoint", "https" + pages.url()},
                              {"aws", {{"stsEndpoint", "https" + pages.url()}}},
                              {"caSecretRef", {{"name", "pages-ca"}}},
                              {"credentialsSecretRef", {{"name", "aws"}}}}));
  // Requests are cut at 20 s in all here (60 s by default) so the drip ends within the test.
  constexpr auto kRequestTimeout = 20s;
  f.start(std::vector<std::string>{"--kms-request-timeout", "20s"});

  // Keys of material wrapped offline behind each hostile provider, more than the operator has
  // workers: each reconcile asks the KMS for the key first.
  auto offline = [&](const std::string& name, const std::string& provider) {
    Json o = imported_key(name, provider, "aes256-gcm96", "");
    o["spec"]["source"] = {
        {"wrappedSecretRef",
         {{"name", "wrapped"}, {"wrappingKeyFingerprint", std::string(64, 'a')}}}};
    must(kIk, o);
  };
  for (int i = 0; i < 3; ++i) {
    offline("huge-" + std::to_string(i), "huge");
    offline("drip-" + std::to_string(i), "drip");
  }
  offline("endless", "pages");
  f.create(imported_key("healthy", "transit", "aes256-gcm96", "healthy"));

  // The honest key imports while the hostile ones are at work.
  auto healthy = f.try_wait("healthy", "", 120s);
  REQUIRE(healthy);

  auto ends_with = [&](const kube::ResourceType& type, const std::string& name,
                       const std::string& word) {
    Json st;
    bool ok = testing::wait_until(
        [&] {
          st = testing::status_of(f.c, type, f.ns, name);
          return testing::condition_field(st, "Ready", "message").find(word) != std::string::npos;
        },
        150s);
    INFO(name << " status " << st.dump());
    CHECK(ok);
  };

  // Once the first drips have run into the deadline, the hostile namespace is known slow: it may
  // hold one of the two workers, so the other tenant's keys import on the other while the next
  // drips hang, each of them well within one request's deadline.
  ends_with(kIk, "drip-0", "KmsRequestTimeout");
  auto calm_started = std::chrono::steady_clock::now();
  for (int i = 0; i < kCalmKeys; ++i)
    f.create(imported_key("calm-" + std::to_string(i), "transit", "aes256-gcm96",
                          "calm-" + std::to_string(i)),
             calm);
  for (int i = 0; i < kCalmKeys; ++i)
    REQUIRE(f.try_wait("calm-" + std::to_string(i), "", 60s, calm));
  auto calm_took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - calm_started);
  std::cout << "hostile-input: another tenant's " << kCalmKeys << " keys imported in "
            << calm_took.count()
            << " ms while the hostile namespace's drips hang (one request's deadline: "
            << std::chrono::milliseconds(kRequestTimeout).count() << " ms)\n";
  CHECK(calm_took < kRequestTimeout);
  for (int i = 0; i < 3; ++i) {
    ends_with(kIk, "huge-" + std::to_string(i), "KmsResponseTooLarge");
    ends_with(kIk, "drip-" + std::to_string(i), "KmsRequestTimeout");
    // One deadline per reconcile: a request that ran out of time is not sent again at once.
    CHECK(testing::condition_field(testing::status_of(f.c, kIk, f.ns, "drip-" + std::to_string(i)),
                                   "Ready", "message")
              .find("attempts") == std::string::npos);
  }
  ends_with(kIk, "endless", "KmsTooManyPages");

  // 400 MiB answers and endless pages: the operator reads at most 1 MiB per answer and 100 pages.
  long peak = peak_rss_mib(f.op->pid());
  std::cout << "hostile-input: operator peak RSS " << peak << " MiB (bound 150 MiB)\n";
  INFO("operator peak RSS " << peak << " MiB");
  CHECK(peak > 0);
  CHECK(peak < 150);
  REQUIRE(f.op->running());
}
