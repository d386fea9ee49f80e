#pragma once
// The finalizer protocol in one place (DESIGN.md): add the finalizer and return, since the patch
// wakes the next reconcile; remove it only after cleanup finished; guard every patch by
// resourceVersion so nobody else's finalizer is dropped (finalizers_patch, object_meta.h).

#include <functional>
#include <string>

#include "common/result.h"
#include "controller/kube/client.h"
#include "controller/runtime/error_policy.h"
#include "controller/runtime/object_meta.h"

namespace byok::runtime {

// What a cleanup made of a deletion.
struct Cleanup {
  // Everything outside the cluster is cleaned up: the finalizer may go. `resource_version` is
  // the object's after cleanup's own writes (a status, an Event needs none), "" for the one
  // read; it guards the removal.
  static Cleanup finished(std::string resource_version = "") {
    return {true, std::move(resource_version), {}};
  }
  // Not yet (a KMS that did not answer, already shown in the status): the finalizer stays and
  // the reconcile comes back as `then` says.
  static Cleanup pending(ReconcileResult then) { return {false, "", std::move(then)}; }

  bool done = false;
  std::string resource_version;
  ReconcileResult then;
};

// A cleanup step that failed and said so in the status: the finalizer stays; `reported` (an
// error from writing that status included) decides when to look again.
inline Result<Cleanup> cleanup_pending(Result<ReconcileResult> reported) {
  if (!reported) return reported.error();
  return Cleanup::pending(*reported);
}

using ApplyFn = std::function<Result<ReconcileResult>()>;
using CleanupFn = std::function<Result<Cleanup>()>;

// Holds `finalizer` on the object `meta` describes, of kind `type`:
// - alive, without it: adds it and returns Done; apply runs on the next reconcile, which the
//   patch wakes (so nothing outside the cluster is touched before the finalizer is there);
// - alive, with it: apply;
// - deleting, with it: cleanup; once finished, removes the finalizer (gone meanwhile: fine);
//   pending or failed: keeps it;
// - deleting, without it: nothing is ours any more: Done.
// An error from a patch comes back with what was being done ("adding finalizer: ...").
Result<ReconcileResult> with_finalizer(kube::KubeClient& client, const kube::ResourceType& type,
                                       const ObjectMeta& meta, const std::string& finalizer,
                                       const ApplyFn& apply, const CleanupFn& cleanup);

// The two guarded patches on their own, for a reconciler whose pure plan decides when (the
// CustomerManagedKey's). remove_finalizer guards with `resource_version` ("" = meta's) and
// takes a 404 as done.
Status add_finalizer(kube::KubeClient& client, const kube::ResourceType& type,
                     const ObjectMeta& meta, const std::string& finalizer);
Status remove_finalizer(kube::KubeClient& client, const kube::ResourceType& type,
                        const ObjectMeta& meta, const std::string& finalizer,
                        const std::string& resource_version = "");

}  // namespace byok::runtime
