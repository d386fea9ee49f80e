#include "controller/runtime/finalizer.h"

namespace byok::runtime {

Status add_finalizer(kube::KubeClient& client, const kube::ResourceType& type,
                     const ObjectMeta& meta, const std::string& finalizer) {
  auto r = client.patch(type, meta.namespace_, meta.name, kube::PatchType::Merge,
                        finalizers_patch(meta, with_finalizer(meta.finalizers, finalizer)));
  if (!r) return r.error().context("adding finalizer");
  return {};
}

Status remove_finalizer(kube::KubeClient& client, const kube::ResourceType& type,
                        const ObjectMeta& meta, const std::string& finalizer,
                        const std::string& resource_version) {
  ObjectMeta guarded = meta;
  if (!resource_version.empty()) guarded.resource_version = resource_version;
  auto r = client.patch(type, meta.namespace_, meta.name, kube::PatchType::Merge,
                        finalizers_patch(guarded, without_finalizer(meta.finalizers, finalizer)));
  // Gone already: whoever removed the last finalizer did what this patch was for.
  if (!r && r.error().kind != ErrorKind::NotFound) return r.error().context("removing finalizer");
  return {};
}

Result<ReconcileResult> with_finalizer(kube::KubeClient& client, const kube::ResourceType& type,
                                       const ObjectMeta& meta, const std::string& finalizer,
                                       const ApplyFn& apply, const CleanupFn& cleanup) {
  if (meta.deleting) {
    if (!meta.has_finalizer(finalizer)) return done();
    auto cleaned = cleanup();
    if (!cleaned) return cleaned.error();
    if (!cleaned->done) return cleaned->then;
    if (auto removed = remove_finalizer(client, type, meta, finalizer, cleaned->resource_version);
        !removed)
      return removed.error();
    return done();
  }
  if (!meta.has_finalizer(finalizer)) {
    if (auto added = add_finalizer(client, type, meta, finalizer); !added) return added.error();
    return done();  // the update comes back through the watch: apply runs then
  }
  return apply();
}

}  // namespace byok::runtime
