#pragma once
// Servers and objects of a hostile tenant, for the tenancy and hostile-input tests.

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/chart/chart_support.h"
#include "tests/harness/cluster.h"
#include "tests/harness/operator_process.h"
#include "tests/harness/server_env.h"

namespace byok::iktest {

using Json = nlohmann::json;
using namespace std::chrono_literals;

// An attacker's server: HTTPS with its own CA (or plain HTTP), logging every request, serving an
// RSA-4096 wrapping key (what transit serves) with the given public exponent.
struct Attacker {
  std::string dir, log, cert, key, wrapping_key;
  int port = testing::free_loopback_port();
  std::unique_ptr<testing::ChildProcess> proc;

  // `mode` (huge, drip, pages: see attacker_server.py) makes it answer everything hostilely.
  Attacker(const std::string& ns, const std::string& name, bool tls,
           const std::string& exponent = "65537", const std::string& mode = "") {
    dir = "/tmp/byok-" + ns + "-" + name;
    std::filesystem::create_directories(dir);
    log = dir + "/requests.jsonl";
    cert = dir + "/cert.pem";
    key = dir + "/key.pem";
    wrapping_key = dir + "/wrapping.pem";
    std::ofstream(log).close();
    auto made = testing::run_command(
        "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 -addext "
        "subjectAltName=IP:127.0.0.1 -keyout " +
        key + " -out " + cert +
        " 2>&1 && openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:4096 -pkeyopt "
        "rsa_keygen_pubexp:" +
        exponent + " 2>/dev/null | openssl pkey -pubout -out " + wrapping_key);
    REQUIRE(made.exit_code == 0);
    std::vector<std::string> args = {
        std::string(BYOK_SOURCE_DIR) + "/tests/fakes/attacker/attacker_server.py",
        "--port",
        std::to_string(port),
        "--log",
        log,
        "--wrapping-key",
        wrapping_key};
    if (tls) args.insert(args.end(), {"--cert", cert, "--key", key});
    if (!mode.empty()) args.insert(args.end(), {"--mode", mode, "--max-seconds", "120"});
    proc = std::make_unique<testing::ChildProcess>("/usr/bin/python3", args, dir + "/server.log");
    REQUIRE(testing::wait_until(
        [&] { return testing::read_file(dir + "/server.log").find("ready") != std::string::npos; },
        10s));
  }
  // Without the scheme: "://127.0.0.1:PORT".
  std::string url() const { return "://127.0.0.1:" + std::to_string(port); }
  std::vector<Json> requests() const {
    std::vector<Json> out;
    std::istringstream in(testing::read_file(log));
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) out.push_back(Json::parse(line));
    return out;
  }
};

// A Secret (stringData) and a namespaced KmsProvider, as a tenant writes them.
inline Json secret(const std::string& name, const Json& string_data) {
  return {{"apiVersion", "v1"},
          {"kind", "Secret"},
          {"metadata", {{"name", name}}},
          {"stringData", string_data}};
}

inline Json kms_provider(const std::string& name, Json spec) {
  return {{"apiVersion", "byok.dev/v1alpha1"},
          {"kind", "KmsProvider"},
          {"metadata", {{"name", name}}},
          {"spec", spec}};
}

}  // namespace byok::iktest
