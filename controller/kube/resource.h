#pragma once
// Names a kind of resource on the apiserver and builds its REST paths.

#include <string>

namespace byok::kube {

struct ResourceType {
  std::string group;    // "" for the core group
  std::string version;  // "v1", "v1alpha1"
  std::string plural;   // "customermanagedkeys"
  std::string kind;     // "CustomerManagedKey"
  bool namespaced = true;

  std::string api_version() const { return group.empty() ? version : group + "/" + version; }
  // /apis/<group>/<version>[/namespaces/<ns>]/<plural>[/<name>[/<subresource>]]; an empty
  // namespace on a namespaced type means all namespaces.
  std::string path(const std::string& ns = "", const std::string& name = "",
                   const std::string& subresource = "") const;
};

namespace resources {
ResourceType customer_managed_keys();
ResourceType imported_keys();
ResourceType kms_providers();
ResourceType cluster_kms_providers();
ResourceType hsm_key_policies();
ResourceType secrets();
ResourceType namespaces();
ResourceType events();
ResourceType leases();
}  // namespace resources

}  // namespace byok::kube
