#include "controller/runtime/change_filter.h"

namespace byok::runtime {
namespace {

Json without_status(const Json& object) {
  Json out = object;
  out.erase("status");
  if (out.contains("metadata") && out["metadata"].is_object()) {
    out["metadata"].erase("resourceVersion");
    out["metadata"].erase("managedFields");
  }
  return out;
}

}  // namespace

bool wakes_reconcile(const Json* old, const Json* now) {
  if (!now) return false;
  if (!old) return true;
  return without_status(*old) != without_status(*now);
}

}  // namespace byok::runtime
