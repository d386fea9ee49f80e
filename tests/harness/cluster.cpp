#include "tests/harness/cluster.h"
#include "common/base64.h"
#include <fstream>
#include <filesystem>

#include <cstdlib>
#include <random>
#include <stdexcept>
#include <thread>

#include "controller/kube/cluster_config.h"
#include "controller/kube/resource.h"

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
  auto r =
      client.create(kube::resources::namespaces(), "",
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

std::string condition_field(const nlohmann::json& status, const std::string& type,
                            const std::string& field) {
  for (const auto& c : status.value("conditions", nlohmann::json::array()))
    if (c.value("type", "") == type) return c.value(field, "");
  return "";
}

int count_events(kube::KubeClient& client, const std::string& ns, const std::string& name,
                 const std::string& reason) {
  auto list = kube::list_all(client, kube::resources::events(), ns);
  int n = 0;
  if (list)
    for (const auto& e : list->items)
      if (e["regarding"].value("name", "") == name && e.value("reason", "") == reason) n++;
  return n;
}

int count_arrived_events(kube::KubeClient& client, const std::string& ns, const std::string& name,
                         const std::string& reason, std::chrono::milliseconds timeout) {
  int n = 0;
  wait_until([&] { return (n = count_events(client, ns, name, reason)) >= 1; }, timeout);
  return n;
}

nlohmann::json status_of(kube::KubeClient& client, const kube::ResourceType& type,
                         const std::string& ns, const std::string& name) {
  auto r = client.get(type, ns, name);
  return r && r->contains("status") ? (*r)["status"] : nlohmann::json::object();
}

std::string service_account_kubeconfig(kube::KubeClient& admin, const std::string& ns,
                                       const std::string& service_account,
                                       const std::string& path) {
  const kube::ResourceType service_accounts{"", "v1", "serviceaccounts", "ServiceAccount", true};
  nlohmann::json request = {{"apiVersion", "authentication.k8s.io/v1"},
                            {"kind", "TokenRequest"},
                            {"spec", {{"expirationSeconds", 3600}}}};
  auto token = admin.create(service_accounts, ns, request, "token", service_account);
  if (!token)
    throw std::runtime_error("TokenRequest for " + ns + "/" + service_account + ": " +
                             token.error().message);
  const std::string jwt = (*token)["status"].value("token", "");
  auto admin_config = kube::load_kubeconfig(kubeconfig_path());
  if (!admin_config)
    throw std::runtime_error("reading the admin kubeconfig: " + admin_config.error().message);
  {
    std::ofstream out(path);
    out << "";
  }
  std::filesystem::permissions(
      path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  std::ofstream out(path);
  out << "apiVersion: v1\nkind: Config\n"
      << "clusters:\n- name: test\n  cluster:\n    server: " << admin_config->server
      << "\n    certificate-authority-data: " << base64_encode(admin_config->ca_pem) << "\n"
      << "users:\n- name: sa\n  user:\n    token: " << jwt << "\n"
      << "contexts:\n- name: sa\n  context:\n    cluster: test\n    user: sa\n"
      << "    namespace: " << ns << "\n"
      << "current-context: sa\n";
  return path;
}

}  // namespace byok::testing
