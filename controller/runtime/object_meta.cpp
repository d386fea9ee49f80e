#include "controller/runtime/object_meta.h"

#include <algorithm>

namespace byok::runtime {

ObjectMeta ObjectMeta::from_json(const nlohmann::json& object) {
  ObjectMeta m;
  const auto& md = object.at("metadata");
  m.name = md.value("name", "");
  m.namespace_ = md.value("namespace", "");
  m.uid = md.value("uid", "");
  m.resource_version = md.value("resourceVersion", "");
  m.generation = md.value("generation", int64_t{0});
  m.creation_timestamp = md.value("creationTimestamp", "");
  m.deleting = md.contains("deletionTimestamp") && !md["deletionTimestamp"].is_null();
  if (md.contains("finalizers"))
    for (const auto& f : md["finalizers"]) m.finalizers.push_back(f.get<std::string>());
  if (md.contains("annotations") && md["annotations"].is_object()) m.annotations = md["annotations"];
  return m;
}

bool ObjectMeta::has_finalizer(const std::string& f) const {
  return std::find(finalizers.begin(), finalizers.end(), f) != finalizers.end();
}

nlohmann::json finalizers_patch(const ObjectMeta& meta, const std::vector<std::string>& finalizers) {
  return {{"metadata", {{"resourceVersion", meta.resource_version}, {"finalizers", finalizers}}}};
}

std::vector<std::string> with_finalizer(std::vector<std::string> list, const std::string& f) {
  if (std::find(list.begin(), list.end(), f) == list.end()) list.push_back(f);
  return list;
}

std::vector<std::string> without_finalizer(std::vector<std::string> list, const std::string& f) {
  list.erase(std::remove(list.begin(), list.end(), f), list.end());
  return list;
}

}  // namespace byok::runtime
