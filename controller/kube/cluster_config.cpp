#include "controller/kube/cluster_config.h"

#include <cstdlib>
#include <filesystem>

#include <yaml-cpp/yaml.h>

#include "common/base64.h"
#include "common/file_read.h"

namespace byok::kube {
namespace {

// Certificates, keys and kubeconfigs are a few KiB; a path naming something larger is refused.
constexpr std::size_t kMaxConfigFileBytes = 4 * 1024 * 1024;

Result<std::string> read_file(const std::string& path) {
  return read_file_capped(path, kMaxConfigFileBytes);
}

// A kubeconfig field comes either inline (`<name>-data`, base64) or as a file path relative to
// the kubeconfig's folder.
Result<std::string> data_or_file(const YAML::Node& node, const std::string& name,
                                 const std::filesystem::path& base) {
  if (node[name + "-data"]) return base64_decode(node[name + "-data"].as<std::string>());
  if (node[name]) {
    std::filesystem::path p = node[name].as<std::string>();
    if (p.is_relative()) p = base / p;
    return read_file(p.string());
  }
  return std::string();
}

YAML::Node find_named(const YAML::Node& list, const std::string& name, const char* field) {
  if (list && list.IsSequence())
    for (const auto& item : list)
      if (item["name"] && item["name"].as<std::string>() == name) return item[field];
  return YAML::Node(YAML::NodeType::Undefined);
}

bool present(const YAML::Node& n) { return n.IsDefined() && !n.IsNull(); }

std::string trim_slash(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

}  // namespace

Result<ClusterConfig> load_kubeconfig(const std::string& path, const std::string& context_name) {
  auto text = read_file(path);
  if (!text) return text.error().context("kubeconfig");
  return parse_kubeconfig(*text, path, context_name);
}

Result<ClusterConfig> parse_kubeconfig(const std::string& text, const std::string& path,
                                       const std::string& context_name) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const std::exception& e) {
    return make_error(ErrorKind::InvalidArgument, "kubeconfig " + path + ": " + e.what());
  }
  try {
    std::string ctx_name = context_name.empty() && root["current-context"]
                               ? root["current-context"].as<std::string>()
                               : context_name;
    YAML::Node ctx = find_named(root["contexts"], ctx_name, "context");
    if (!present(ctx))
      return make_error(ErrorKind::InvalidArgument,
                        "kubeconfig " + path + ": no context named '" + ctx_name + "'");
    YAML::Node cluster =
        find_named(root["clusters"], ctx["cluster"].as<std::string>(""), "cluster");
    if (!present(cluster) || !cluster["server"])
      return make_error(
          ErrorKind::InvalidArgument,
          "kubeconfig " + path + ": context '" + ctx_name + "' names no cluster with a server");
    YAML::Node user = find_named(root["users"], ctx["user"].as<std::string>(""), "user");
    std::filesystem::path base = std::filesystem::path(path).parent_path();

    ClusterConfig cfg;
    cfg.server = trim_slash(cluster["server"].as<std::string>());
    cfg.namespace_ = ctx["namespace"].as<std::string>("");
    auto ca = data_or_file(cluster, "certificate-authority", base);
    if (!ca) return ca.error().context("kubeconfig " + path + " certificate-authority");
    cfg.ca_pem = *ca;
    if (present(user)) {
      auto cert = data_or_file(user, "client-certificate", base);
      auto key = data_or_file(user, "client-key", base);
      if (!cert) return cert.error().context("kubeconfig " + path + " client-certificate");
      if (!key) return key.error().context("kubeconfig " + path + " client-key");
      cfg.client_cert_pem = *cert;
      cfg.client_key_pem = *key;
      cfg.bearer_token = user["token"].as<std::string>("");
      if (user["tokenFile"]) cfg.token_file = user["tokenFile"].as<std::string>();
    }
    return cfg;
  } catch (const YAML::Exception& e) {
    return make_error(ErrorKind::InvalidArgument, "kubeconfig " + path + ": " + e.what());
  }
}

Result<ClusterConfig> load_in_cluster_config(const std::string& sa_dir) {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (!host || !port)
    return make_error(
        ErrorKind::FailedPrecondition,
        "not in a cluster: KUBERNETES_SERVICE_HOST/PORT are unset; pass --kubeconfig");
  ClusterConfig cfg;
  std::string h = host;
  if (h.find(':') != std::string::npos) h = "[" + h + "]";  // IPv6 literal
  cfg.server = "https://" + h + ":" + port;
  auto ca = read_file(sa_dir + "/ca.crt");
  if (!ca) return ca.error();
  cfg.ca_pem = *ca;
  cfg.token_file = sa_dir + "/token";
  if (auto ns = read_file(sa_dir + "/namespace")) cfg.namespace_ = *ns;
  return cfg;
}

Result<ClusterConfig> load_default_config() {
  if (const char* env = std::getenv("KUBECONFIG"); env && *env) {
    std::string first = env;
    first = first.substr(0, first.find(':'));
    return load_kubeconfig(first);
  }
  if (const char* home = std::getenv("HOME")) {
    std::string p = std::string(home) + "/.kube/config";
    if (std::filesystem::exists(p)) return load_kubeconfig(p);
  }
  return load_in_cluster_config();
}

}  // namespace byok::kube
