#include "tests/harness/cluster.h"

#include <cstdlib>
#include <random>
#include <stdexcept>
#include <thread>

#include "controller/kube/cluster_config.h"

namespace byok::testing {

std::string kubeconfig_path() {
  // KUBECONFIG wins (a run by hand against another cluster); else the control_plane fixture's.
  const char* p = std::getenv("KUBECONFIG");
  return p && *p ? p : BYOK_TEST_KUBECONFIG;
}

std::unique_ptr<kube::RestKubeClient> connect_from_env() {
  auto cfg = kube::load_kubeconfig(kubeconfig_path());
  if (!cfg) throw std::runtime_error(cfg.error().message);
  return std::make_unique<kube::RestKubeClient>(*cfg);
}

std::string create_namespace(kube::KubeClient& client, const std::string& prefix) {
  static thread_local std::mt19937 rng{std::random_device{}()};
  std::string name = prefix + "-" + std::to_string(rng() % 1000000);
  auto r = client.create(kube::resources::namespaces(), "",
                         {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", name}}}});
  if (!r) throw std::runtime_error("creating namespace " + name + ": " + r.error().message);
  return name;
}

bool wait_until(const std::function<bool()>& check, std::chrono::milliseconds timeout,
                std::chrono::milliseconds poll) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (check()) return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(poll);
  }
}

}  // namespace byok::testing
