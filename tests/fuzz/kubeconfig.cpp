// The kubeconfig the operator and byokctl start from (YAML, inline base64 data).
#include <string>

#include "controller/kube/cluster_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  // A path that does not exist: relative file references resolve to nothing readable.
  (void)byok::kube::parse_kubeconfig(text, "/nonexistent/kubeconfig");
  return 0;
}
