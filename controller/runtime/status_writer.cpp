#include "controller/runtime/status_writer.h"

namespace byok::runtime {

Result<std::string> apply_status(kube::KubeClient& client, const kube::ResourceType& type,
                                 const ObjectMeta& meta, const std::string& resource_version,
                                 nlohmann::json status) {
  nlohmann::json apply = {{"apiVersion", type.api_version()},
                          {"kind", type.kind},
                          {"metadata",
                           {{"name", meta.name},
                            {"namespace", meta.namespace_},
                            {"resourceVersion", resource_version}}},
                          {"status", std::move(status)}};
  auto r = client.patch(type, meta.namespace_, meta.name, kube::PatchType::Apply, apply,
                        {"status", kFieldManager, true});
  if (!r) return r.error().context("writing status");
  return (*r)["metadata"].value("resourceVersion", resource_version);
}

}  // namespace byok::runtime
