#include "controller/runtime/change_filter.h"

namespace byok::runtime {
namespace {

// Whether objects a and b have the same members, those named in `skip` aside. Compares in place:
// this runs for every watch event.
bool same_except(const Json& a, const Json& b, std::initializer_list<const char*> skip) {
  auto skipped = [&](const std::string& key) {
    for (const char* s : skip)
      if (key == s) return true;
    return false;
  };
  auto covered = [&](const Json& x, const Json& y) {
    for (auto it = x.begin(); it != x.end(); ++it) {
      if (skipped(it.key())) continue;
      auto other = y.find(it.key());
      if (other == y.end()) return false;
      if (it.key() == "metadata" && it->is_object() && other->is_object()) {
        if (!same_except(*it, *other, {"resourceVersion", "managedFields"})) return false;
      } else if (*it != *other) {
        return false;
      }
    }
    return true;
  };
  return a.is_object() && b.is_object() && covered(a, b) && covered(b, a);
}

}  // namespace

bool wakes_reconcile(const Json* old, const Json* now) {
  if (!now) return false;
  if (!old) return true;
  return !same_except(*old, *now, {"status"});
}

}  // namespace byok::runtime
