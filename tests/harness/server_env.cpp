#include "tests/harness/server_env.h"

#include <cctype>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace byok::testing {
namespace {

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

ServerEnv ServerEnv::for_provider(const std::string& provider) {
  std::string variable = "BYOK_";
  for (char c : provider)
    variable += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  variable += "_KMS_ENV";
  const char* given = std::getenv(variable.c_str());
  std::string path =
      given && *given ? given : std::string(BYOK_TEST_SERVERS_DIR) + "/" + provider + "/env";
  std::ifstream probe(path);
  if (!probe)
    throw std::runtime_error("no " + path + ": run the test under ctest (its kms_" + provider +
                             " fixture starts the server), or run tests/harness/<script> start "
                             "DIR yourself and export " +
                             variable + "=DIR/env");
  ServerEnv env;
  env.source_ = path;
  std::istringstream lines(read_all(path));
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("export ", 0) == 0) line = line.substr(7);
    auto eq = line.find('=');
    if (eq == std::string::npos || line.empty() || line[0] == '#') continue;
    std::string value = line.substr(eq + 1);
    if (value.size() >= 2 && (value.front() == '\'' || value.front() == '"') &&
        value.back() == value.front())
      value = value.substr(1, value.size() - 2);
    env.values_[line.substr(0, eq)] = value;
  }
  return env;
}

int free_loopback_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
            ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  ::close(fd);
  if (!ok) throw std::runtime_error("no free loopback port");
  return ntohs(addr.sin_port);
}

const std::string& ServerEnv::operator[](const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) throw std::runtime_error(source_ + " does not set " + name);
  return it->second;
}

std::string ServerEnv::file(const std::string& name) const { return read_all((*this)[name]); }

}  // namespace byok::testing
