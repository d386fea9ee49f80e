#pragma once
// Where the apiserver is and how to authenticate to it, from a kubeconfig file or from the
// in-cluster service account. PEM material is held in memory, never written anywhere.

#include <string>

#include "common/result.h"

namespace byok::kube {

struct ClusterConfig {
  std::string server;           // https://host:port, no trailing slash
  std::string ca_pem;           // trusted CA bundle for the apiserver; empty: system roots
  std::string client_cert_pem;  // client certificate auth (kubeconfig)
  std::string client_key_pem;
  std::string bearer_token;  // a static token
  std::string token_file;    // re-read on every request: projected tokens rotate
  std::string namespace_;    // the context's (or the pod's) namespace, "" if none
};

// Reads the kubeconfig at `path` and picks `context` (the current-context when empty).
Result<ClusterConfig> load_kubeconfig(const std::string& path, const std::string& context = "");
// The same from the kubeconfig's text; `path` names it in messages, and files it names by a
// relative path are read from beside it.
Result<ClusterConfig> parse_kubeconfig(const std::string& text, const std::string& path,
                                       const std::string& context = "");

// The pod's service account: KUBERNETES_SERVICE_HOST/PORT and /var/run/secrets/kubernetes.io/...
Result<ClusterConfig> load_in_cluster_config(
    const std::string& sa_dir = "/var/run/secrets/kubernetes.io/serviceaccount");

// $KUBECONFIG (first path), else ~/.kube/config, else in-cluster.
Result<ClusterConfig> load_default_config();

}  // namespace byok::kube
