// The apiserver is trusted through the kubeconfig's CA alone. cpprestsdk loads the system's
// roots into every connection before the client's own CA is added; the client must drop them,
// or a certificate from any CA the machine trusts would pass for the apiserver. The system's
// roots are pointed at the apiserver's real CA here (SSL_CERT_FILE, which OpenSSL's default paths
// read), so the test fails if they are still consulted.

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>

#include <unistd.h>

#include "common/file_read.h"
#include "controller/kube/cluster_config.h"
#include "controller/kube/rest_client.h"
#include "tests/harness/cluster.h"

using namespace byok;

namespace {

// Sets an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_)
      setenv(name_, old_->c_str(), 1);
    else
      unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// A self-signed CA that signed nothing the apiserver presents.
std::string unrelated_ca_pem(const std::filesystem::path& dir) {
  const std::string cmd =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
      "-subj /CN=unrelated-test-ca -days 1 -keyout '" +
      (dir / "ca.key").string() + "' -out '" + (dir / "ca.crt").string() + "' 2>/dev/null";
  REQUIRE(std::system(cmd.c_str()) == 0);
  auto pem = read_file_capped((dir / "ca.crt").string(), 64 * 1024);
  REQUIRE(pem);
  return *pem;
}

}  // namespace

TEST_CASE("the apiserver client trusts the kubeconfig's CA, not the system's roots",
          "[integration][kube]") {
  auto config = kube::load_kubeconfig(testing::kubeconfig_path());
  REQUIRE(config);
  REQUIRE_FALSE(config->ca_pem.empty());
  auto dir = std::filesystem::temp_directory_path() / ("byok-trust-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  { std::ofstream(dir / "system-roots.pem") << config->ca_pem; }
  ScopedEnv roots("SSL_CERT_FILE", (dir / "system-roots.pem").string());

  SECTION("with the cluster's CA, a request succeeds") {
    kube::RestKubeClient client(*config);
    auto version = client.request("GET", "/version", nullptr);
    REQUIRE(version.ok());
    CHECK(version->contains("gitVersion"));
  }
  SECTION("with another CA in the kubeconfig, the system's roots do not rescue the connection") {
    kube::ClusterConfig other = *config;
    other.ca_pem = unrelated_ca_pem(dir);
    kube::RestKubeClient client(other);
    auto version = client.request("GET", "/version", nullptr);
    REQUIRE_FALSE(version.ok());
    CHECK(version.error().kind == ErrorKind::Unavailable);
    CHECK(version.error().message.find("SSL handshake") != std::string::npos);
  }
  std::filesystem::remove_all(dir);
}
