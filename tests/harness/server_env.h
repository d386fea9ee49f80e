#pragma once
// The test's view of a KMS server (real or a strict fake) that a ctest fixture started once per
// run: the provider's script in tests/harness/ (start DIR) writes DIR/env ("export NAME=value"
// lines) with DIR = <build>/servers/<provider> (tests/integration/CMakeLists.txt). Running a test
// binary by hand against a server started elsewhere: export BYOK_<PROVIDER>_KMS_ENV=DIR/env.

#include <map>
#include <string>

namespace byok::testing {

class ServerEnv {
 public:
  // Reads the env file of `provider` ("aws", "gcp", ...); throws (failing the test) with a
  // message saying how to start the server when there is none.
  static ServerEnv for_provider(const std::string& provider);

  // The value of NAME; throws when the env file does not set it.
  const std::string& operator[](const std::string& name) const;
  // The contents of the file NAME points at (a CA bundle, a key file).
  std::string file(const std::string& name) const;

 private:
  std::string source_;
  std::map<std::string, std::string> values_;
};

// A loopback TCP port nothing listens on now: the kernel picks a free one, then it is closed
// again (a server may take it later; the tiny race is acceptable in tests).
int free_loopback_port();

}  // namespace byok::testing
