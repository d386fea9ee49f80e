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

// Kubernetes' own kinds the runtime uses; each byok kind names itself in its reconciler's folder.
namespace resources {
ResourceType secrets();
ResourceType namespaces();
ResourceType events();
ResourceType leases();
}  // namespace resources

}  // namespace byok::kube
