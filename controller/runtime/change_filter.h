#pragma once
// Which watch events should wake an object's own reconcile (controller-runtime's predicates, in
// one function): a reconciler that writes status would otherwise wake itself with every write,
// and a status that differs each time (a KMS error message carrying a request id) becomes a
// loop that calls the KMS as fast as the queue allows.

#include "controller/runtime/store.h"

namespace byok::runtime {

// True for a new object, and for an update that changed anything but status,
// metadata.resourceVersion and metadata.managedFields: spec (generation), labels, annotations,
// finalizers, deletionTimestamp. False for a deletion (now == nullptr) and for status-only
// updates, the reconciler's own writes included.
bool wakes_reconcile(const Json* old, const Json* now);

}  // namespace byok::runtime
