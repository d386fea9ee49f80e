#include "controller/kube/resource.h"

namespace byok::kube {

std::string ResourceType::path(const std::string& ns, const std::string& name,
                               const std::string& subresource) const {
  std::string p = group.empty() ? "/api/" + version : "/apis/" + group + "/" + version;
  if (namespaced && !ns.empty()) p += "/namespaces/" + ns;
  p += "/" + plural;
  if (!name.empty()) p += "/" + name;
  if (!name.empty() && !subresource.empty()) p += "/" + subresource;
  return p;
}

namespace resources {
ResourceType secrets() { return {"", "v1", "secrets", "Secret", true}; }
ResourceType namespaces() { return {"", "v1", "namespaces", "Namespace", false}; }
ResourceType events() { return {"events.k8s.io", "v1", "events", "Event", true}; }
ResourceType leases() { return {"coordination.k8s.io", "v1", "leases", "Lease", true}; }
}  // namespace resources

}  // namespace byok::kube
