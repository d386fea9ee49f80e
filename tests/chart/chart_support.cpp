#include "tests/chart/chart_support.h"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <sys/wait.h>
#include <unistd.h>

namespace byok::testing {

CommandResult run_command(const std::string& command) {
  CommandResult result;
  char err_path[] = "/tmp/byok-cmd-stderr-XXXXXX";
  int fd = ::mkstemp(err_path);
  if (fd < 0) throw std::runtime_error("mkstemp failed");
  ::close(fd);
  FILE* pipe = ::popen(("{ " + command + " ; } 2>" + shell_quote(err_path)).c_str(), "r");
  if (!pipe) throw std::runtime_error("cannot run: " + command);
  std::array<char, 4096> buffer{};
  size_t n = 0;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0)
    result.out.append(buffer.data(), n);
  int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream err(err_path);
  result.err.assign(std::istreambuf_iterator<char>(err), std::istreambuf_iterator<char>());
  std::filesystem::remove(err_path);
  return result;
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string chart_dir() { return std::string(BYOK_SOURCE_DIR) + "/charts/byok-operator"; }

namespace {

std::string helm_binary() {
  if (const char* given = std::getenv("BYOK_HELM"); given && *given) return given;
  auto built = run_command(shell_quote(std::string(BYOK_SOURCE_DIR) + "/scripts/build-helm.sh"));
  std::string path = built.out.substr(0, built.out.find('\n'));
  if (built.exit_code != 0 || path.empty() || !std::filesystem::exists(path))
    throw std::runtime_error(
        "scripts/build-helm.sh found no helm (run it once: it builds helm "
        "from the Go module proxy): " +
        built.all());
  return path;
}

// One folder for every test process of this user: helm only reads its config here (local charts,
// no repositories), so they can share it.
std::string helm_home() {
  auto dir =
      std::filesystem::temp_directory_path() / ("byok-helm-home-" + std::to_string(::getuid()));
  std::filesystem::create_directories(dir);
  return dir.string();
}

}  // namespace

CommandResult helm(const std::string& args) {
  static const std::string binary = helm_binary();
  static const std::string home = helm_home();
  return run_command("HELM_CONFIG_HOME=" + shell_quote(home + "/config") +
                     " HELM_CACHE_HOME=" + shell_quote(home + "/cache") + " HELM_DATA_HOME=" +
                     shell_quote(home + "/data") + " " + shell_quote(binary) + " " + args);
}

std::vector<YAML::Node> yaml_documents(const std::string& text) {
  std::vector<YAML::Node> out;
  for (auto& doc : YAML::LoadAll(text))
    if (doc.IsMap()) out.push_back(doc);
  return out;
}

}  // namespace byok::testing
