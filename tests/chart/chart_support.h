#pragma once
// What the chart tests share: running helm (built from source by scripts/build-helm.sh and
// cached) with its config, cache and data homes in a throwaway folder, and reading the
// manifests `helm template` prints.

#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace byok::testing {

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
  std::string all() const { return out + err; }
};

// Runs `command` with /bin/sh, stdout and stderr captured apart.
CommandResult run_command(const std::string& command);

// Quotes `s` for /bin/sh.
std::string shell_quote(const std::string& s);

// charts/byok-operator in the source tree.
std::string chart_dir();

// `helm <args>` (args already quoted for the shell). helm is $BYOK_HELM when set, else what
// scripts/build-helm.sh prints (it builds helm the first time: scripts/test.sh does so before
// ctest). helm's own files live in a temporary folder, never in $HOME.
CommandResult helm(const std::string& args);

// The documents of a multi-document YAML stream, empty ones left out.
std::vector<YAML::Node> yaml_documents(const std::string& text);

}  // namespace byok::testing
