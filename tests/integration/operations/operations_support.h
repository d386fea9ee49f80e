#pragma once
// What the operations tests share: the operator with its endpoints on loopback ports, its JSON
// log read back as records, and a scrape of its /metrics.

#include <filesystem>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/harness/http_get.h"
#include "tests/harness/operator_process.h"
#include "tests/harness/server_env.h"

namespace byok::testing {

// A CMK whose KmsProvider "aws" does not exist: it reconciles to Ready=False ProviderNotFound
// without any KMS.
inline nlohmann::json cmk_without_provider(const std::string& name) {
  return {
      {"apiVersion", "byok.dev/v1alpha1"},
      {"kind", "CustomerManagedKey"},
      {"metadata", {{"name", name}}},
      {"spec",
       {{"provider", "aws"},
        {"resource", "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"},
        {"providerRef", {{"name", "aws"}}}}}};
}

struct RunningOperator {
  std::string log_path;
  int metrics_port = 0;
  int probe_port = 0;
  std::unique_ptr<ChildProcess> process;

  // Starts the operator on namespace `ns` with debug JSON logs and /metrics, /healthz, /readyz
  // on free 127.0.0.1 ports; `extra` flags are appended.
  RunningOperator(const std::string& ns, const std::string& name,
                  std::vector<std::string> extra = {})
      : log_path((std::filesystem::temp_directory_path() / (ns + "-" + name + ".log")).string()),
        metrics_port(free_loopback_port()),
        probe_port(free_loopback_port()) {
    std::vector<std::string> flags{"--metrics-bind-address",
                                   "127.0.0.1:" + std::to_string(metrics_port),
                                   "--health-probe-bind-address",
                                   "127.0.0.1:" + std::to_string(probe_port),
                                   "--log-level",
                                   "debug"};
    flags.insert(flags.end(), extra.begin(), extra.end());
    process = start_operator(ns, log_path, flags);
  }

  std::string scrape() const { return http_get(metrics_port, "/metrics").body; }

  // Every JSON record of the log so far (lines that are not JSON are skipped).
  std::vector<nlohmann::json> records() const {
    std::vector<nlohmann::json> out;
    std::istringstream in(read_file(log_path));
    for (std::string line; std::getline(in, line);) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_object()) out.push_back(std::move(j));
    }
    return out;
  }

  // Records with message `msg`, optionally about object `name`.
  std::vector<nlohmann::json> records(const std::string& msg, const std::string& name = "") const {
    std::vector<nlohmann::json> out;
    for (auto& r : records())
      if (r.value("msg", "") == msg && (name.empty() || r.value("name", "") == name))
        out.push_back(r);
    return out;
  }
};

}  // namespace byok::testing
