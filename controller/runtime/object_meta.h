#pragma once
// The parts of metadata every reconciler reads, and the finalizer list edits it makes.

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.h"

namespace byok::runtime {

struct ObjectMeta {
  std::string name;
  std::string namespace_;
  std::string uid;
  std::string resource_version;
  int64_t generation = 0;
  std::string creation_timestamp;  // RFC 3339 as the apiserver wrote it
  bool deleting = false;           // deletionTimestamp is set
  std::vector<std::string> finalizers;
  nlohmann::json annotations = nlohmann::json::object();

  static ObjectMeta from_json(const nlohmann::json& object);
  bool has_finalizer(const std::string& f) const;
};

// A merge patch that sets the finalizer list to `finalizers`, guarded by resourceVersion: if
// anyone changed the object (another finalizer added or removed) the apiserver answers 409 and
// the reconcile runs again on the fresh object, so nobody else's finalizer is ever dropped.
nlohmann::json finalizers_patch(const ObjectMeta& meta, const std::vector<std::string>& finalizers);
std::vector<std::string> with_finalizer(std::vector<std::string> list, const std::string& f);
std::vector<std::string> without_finalizer(std::vector<std::string> list, const std::string& f);

}  // namespace byok::runtime
