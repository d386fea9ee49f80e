// Hostile KMS answers, against the operator binary: a tenant points its own KmsProviders (within
// --kms-endpoint-allow) at servers on 127.0.0.1 that answer with 400 MiB bodies, a byte per
// second, or endless pages. Each object must end with a condition that names the limit, the
// operator's peak memory must stay under a stated bound, and a key of the same namespace on the
// real Vault must import while the hostile ones are at work.

#include <filesystem>
#include <iostream>

#include "tests/chart/chart_support.h"
#include "tests/integration/reconcilers/ik_test_support.h"

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

struct HostileServer {
  std::string dir, cert, key;
  int port = testing::free_loopback_port();
  std::unique_ptr<testing::ChildProcess> proc;

  HostileServer(const std::string& ns, const std::string& mode) {
    dir = "/tmp/byok-" + ns + "-" + mode;
    std::filesystem::create_directories(dir);
    cert = dir + "/cert.pem";
    key = dir + "/key.pem";
    auto made = testing::run_command(
        "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
        "-addext subjectAltName=IP:127.0.0.1 -keyout " + key + " -out " + cert + " 2>&1");
    REQUIRE(made.exit_code == 0);
    proc = std::make_unique<testing::ChildProcess>(
        "/usr/bin/python3",
        std::vector<std::string>{std::string(BYOK_SOURCE_DIR) + "/tests/fakes/attacker/attacker_server.py",
                                 "--port", std::to_string(port), "--log", dir + "/requests.jsonl",
                                 "--cert", cert, "--key", key, "--mode", mode, "--max-seconds", "120"},
        dir + "/server.log");
    REQUIRE(testing::wait_until(
        [&] { return testing::read_file(dir + "/server.log").find("ready") != std::string::npos; }, 10s));
  }
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port); }
};

Json secret(const std::string& name, const Json& string_data) {
  return {{"apiVersion", "v1"}, {"kind", "Secret"}, {"metadata", {{"name", name}}}, {"stringData", string_data}};
}

Json kms_provider(const std::string& name, Json spec) {
  return {{"apiVersion", "byok.dev/v1alpha1"}, {"kind", "KmsProvider"}, {"metadata", {{"name", name}}}, {"spec", spec}};
}

}  // namespace

TEST_CASE("hostile KMS answers: a huge body, a slow drip and endless pages end in conditions that "
          "name the limit, memory stays bounded, and other keys still import",
          "[transit][hostile-input]") {
  IkFixture f("hostile");
  f.provider("transit");
  f.add_key("healthy", "aes256-gcm96");
  HostileServer huge(f.ns, "huge"), drip(f.ns, "drip"), pages(f.ns, "pages");
  auto must = [&](const kube::ResourceType& type, const Json& object) {
    auto r = f.c.create(type, f.ns, object);
    INFO(object.dump() << ": " << (r.ok() ? "" : r.error().message));
    REQUIRE(r.ok());
  };
  for (const HostileServer* s : {&huge, &drip, &pages}) {
    std::string mode = s->dir.substr(s->dir.rfind('-') + 1);
    must(kube::resources::secrets(), secret(mode + "-ca", {{"ca.crt", testing::read_file(s->cert)}}));
  }
  must(kube::resources::secrets(), secret("token", {{"token", "t"}}));
  must(kube::resources::secrets(), secret("aws", {{"accessKeyId", "AKID"}, {"secretAccessKey", "s"}}));
  must(kube::resources::secrets(), secret("wrapped", {{"wrapped", std::string(552, 'w')}}));
  for (const auto& [name, server] : {std::pair{"huge", &huge}, std::pair{"drip", &drip}})
    must(kube::resources::kms_providers(),
         kms_provider(name, {{"type", "transit"}, {"endpoint", server->url()},
                             {"caSecretRef", {{"name", std::string(name) + "-ca"}}},
                             {"credentialsSecretRef", {{"name", "token"}}}}));
  must(kube::resources::kms_providers(),
       kms_provider("pages", {{"type", "aws"}, {"region", "eu-west-1"}, {"endpoint", pages.url()},
                              {"caSecretRef", {{"name", "pages-ca"}}},
                              {"credentialsSecretRef", {{"name", "aws"}}}}));
  // Requests are cut at 5 s in all here (60 s by default) so the drip ends within the test.
  f.start(std::vector<std::string>{"--kms-request-timeout", "5s"});

  // Keys of material wrapped offline behind each hostile provider, more than the operator has
  // workers: each reconcile asks the KMS for the key first.
  auto offline = [&](const std::string& name, const std::string& provider) {
    Json o = imported_key(name, provider, "aes256-gcm96", "");
    o["spec"]["source"] = {{"wrappedSecretRef", {{"name", "wrapped"}, {"wrappingKeyFingerprint", std::string(64, 'a')}}}};
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

  auto ends_with = [&](const kube::ResourceType& type, const std::string& name, const std::string& word) {
    Json st;
    bool ok = testing::wait_until([&] {
      st = testing::status_of(f.c, type, f.ns, name);
      return testing::condition_field(st, "Ready", "message").find(word) != std::string::npos;
    }, 120s);
    INFO(name << " status " << st.dump());
    CHECK(ok);
  };
  for (int i = 0; i < 3; ++i) {
    ends_with(kIk, "huge-" + std::to_string(i), "KmsResponseTooLarge");
    ends_with(kIk, "drip-" + std::to_string(i), "KmsRequestTimeout");
  }
  ends_with(kIk, "endless", "KmsTooManyPages");

  // 400 MiB answers and endless pages: the operator reads at most 4 MiB per answer and 100 pages.
  long peak = peak_rss_mib(f.op->pid());
  std::cout << "hostile-input: operator peak RSS " << peak << " MiB (bound 150 MiB)\n";
  INFO("operator peak RSS " << peak << " MiB");
  CHECK(peak > 0);
  CHECK(peak < 150);
  REQUIRE(f.op->running());
}
