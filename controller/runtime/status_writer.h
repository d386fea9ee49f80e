#pragma once
// How every reconciler writes its status: a server-side apply of the whole status to the status
// subresource under one field manager, guarded by the resourceVersion the reconcile read, so a
// status computed from a stale object is refused (409 Conflict) and the reconcile runs again.

#include <string>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "controller/kube/client.h"
#include "controller/runtime/object_meta.h"

namespace byok::runtime {

inline constexpr char kFieldManager[] = "byok-operator";

// Applies `status` to the object `meta` names, as of `resource_version`; returns the object's
// new resourceVersion.
Result<std::string> apply_status(kube::KubeClient& client, const kube::ResourceType& type,
                                 const ObjectMeta& meta, const std::string& resource_version,
                                 nlohmann::json status);

}  // namespace byok::runtime
