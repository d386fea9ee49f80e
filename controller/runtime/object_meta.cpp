#include "controller/runtime/object_meta.h"

#include <algorithm>

#include "common/json_fields.h"

namespace byok::runtime {

ObjectMeta ObjectMeta::from_json(const nlohmann::json& object) {
  ObjectMeta m;
  // Total on any JSON: the apiserver's schema makes these fields well-typed, but a field of the
  // wrong type reads as absent rather than throwing out of a reconcile.
  const auto& md = object_field(object, "metadata");
  m.name = str(md, "name");
  m.namespace_ = str(md, "namespace");
  m.uid = str(md, "uid");
  m.resource_version = str(md, "resourceVersion");
  m.generation = integer(md, "generation").value_or(0);
  m.creation_timestamp = str(md, "creationTimestamp");
  m.deleting = md.contains("deletionTimestamp") && !md["deletionTimestamp"].is_null();
  for (const auto& f : array_field(md, "finalizers"))
    if (f.is_string()) m.finalizers.push_back(f.get<std::string>());
  m.annotations = object_field(md, "annotations");
  return m;
}

bool ObjectMeta::has_finalizer(const std::string& f) const {
  return std::find(finalizers.begin(), finalizers.end(), f) != finalizers.end();
}

nlohmann::json finalizers_patch(const ObjectMeta& meta,
                                const std::vector<std::string>& finalizers) {
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
