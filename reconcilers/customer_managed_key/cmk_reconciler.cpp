#include "reconcilers/customer_managed_key/cmk_reconciler.h"

#include <set>

#include "reconcilers/customer_managed_key/cmk_plan.h"

namespace byok::cmk {
namespace {

// What about a CMK the others' decisions read.
struct Relevance {
  std::string ns, provider, replaces;
  bool claims_default = false, deleting = false, exists = false;
  bool operator==(const Relevance&) const = default;
};

Relevance relevance_of(const runtime::Json* o) {
  Relevance r;
  if (!o) return r;
  auto c = parse_cmk(*o);
  if (!c) return r;
  return {c->meta.namespace_, c->spec.provider, c->spec.replaces, c->spec.is_default,
          c->meta.deleting, true};
}

}  // namespace

std::vector<std::string> related_cmk_keys(const runtime::Json* old, const runtime::Json* now,
                                          const runtime::Store& store) {
  Relevance before = relevance_of(old), after = relevance_of(now);
  if (before == after) return {};
  std::set<std::string> keys;
  const std::string& ns = after.exists ? after.ns : before.ns;
  for (const auto& r : {before, after})
    if (!r.replaces.empty()) keys.insert(ns + "/" + r.replaces);
  if (before.claims_default || after.claims_default) {
    store.visit_namespace(ns, [&keys](const runtime::Json& o) {
      if (o.contains("spec") && o["spec"].value("default", false)) keys.insert(runtime::object_key(o));
    });
  }
  const runtime::Json* self = now ? now : old;
  keys.erase(runtime::object_key(*self));
  return {keys.begin(), keys.end()};
}

CmkReconciler::CmkReconciler(kube::KubeClient& client, const runtime::Store& store,
                             runtime::EventRecorder& events, const Clock& clock, Logger& log,
                             std::function<std::string()> new_id)
    : client_(client), store_(store), events_(events), clock_(clock), log_(log),
      new_id_(std::move(new_id)) {}

runtime::ReconcileResult CmkReconciler::reconcile(const std::string& key) {
  return runtime::result_for(execute(key));
}

Status CmkReconciler::execute(const std::string& key) {
  auto object = store_.get(key);
  if (!object) return {};  // deleted; nothing holds it any more
  auto parsed = parse_cmk(*object);
  if (!parsed) return parsed.error();

  CmkInputs in;
  in.cmk = std::move(*parsed);
  store_.visit_namespace(in.cmk.meta.namespace_, [&](const runtime::Json& o) {
    CmkPeer peer = peer_from_object(o);
    if (peer_matters(peer, in.cmk.spec.replaces)) in.peers.push_back(std::move(peer));
  });
  in.now = format_rfc3339(clock_.now());
  if (in.cmk.status.id.empty()) in.fresh_id = new_id_();
  CmkPlan plan = plan_cmk(in);

  const auto type = kube::resources::customer_managed_keys();
  const auto& meta = in.cmk.meta;
  std::string rv = meta.resource_version;

  if (plan.add_finalizer) {
    auto r = client_.patch(type, meta.namespace_, meta.name, kube::PatchType::Merge,
                           runtime::finalizers_patch(meta, runtime::with_finalizer(meta.finalizers, kFinalizer)));
    if (!r) return r.error().context("adding finalizer");
    return {};  // the update comes back through the watch and runs the next step
  }

  if (plan.status) {
    runtime::Json apply = {
        {"apiVersion", type.api_version()},
        {"kind", type.kind},
        {"metadata", {{"name", meta.name}, {"namespace", meta.namespace_}, {"resourceVersion", rv}}},
        {"status", cmk_status_to_json(*plan.status)}};
    auto r = client_.patch(type, meta.namespace_, meta.name, kube::PatchType::Apply, apply,
                           {"status", kFieldManager, true});
    if (!r) return r.error().context("writing status");
    rv = (*r)["metadata"].value("resourceVersion", rv);
  }
  for (const auto& e : plan.events) events_.record(*object, e);

  if (plan.remove_finalizer) {
    runtime::ObjectMeta fresh = meta;
    fresh.resource_version = rv;
    auto r = client_.patch(type, meta.namespace_, meta.name, kube::PatchType::Merge,
                           runtime::finalizers_patch(fresh, runtime::without_finalizer(meta.finalizers, kFinalizer)));
    if (!r && r.error().kind != ErrorKind::NotFound) return r.error().context("removing finalizer");
  }
  return {};
}

}  // namespace byok::cmk
