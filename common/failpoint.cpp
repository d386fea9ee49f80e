#include "common/failpoint.h"

#include <cstdlib>
#include <string>
#include <unistd.h>

namespace byok {
namespace {

// Read once: the environment does not change under a running process.
const std::string& armed() {
  static const std::string list = [] {
    const char* v = std::getenv("BYOK_FAILPOINTS");
    return std::string(v ? v : "");
  }();
  return list;
}

}  // namespace

void failpoint(std::string_view name) {
  const std::string& list = armed();
  if (list.empty()) return;
  std::string_view rest = list;
  while (!rest.empty()) {
    auto comma = rest.find(',');
    if (rest.substr(0, comma) == name) {
      std::string line = "failpoint " + std::string(name) + ": exiting\n";
      (void)!write(2, line.data(), line.size());
      _exit(kFailpointExitCode);
    }
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
}

}  // namespace byok
