#include "reconcilers/customer_managed_key/cmk_reconciler.h"

#include <stdexcept>

#include <algorithm>
#include <set>

#include "controller/runtime/finalizer.h"
#include "controller/runtime/status_writer.h"
#include "reconcilers/customer_managed_key/cmk_plan.h"
#include "reconcilers/customer_managed_key/cmk_types.h"

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
  return {c->meta.namespace_, c->spec.provider, c->spec.replaces,
          c->spec.is_default, c->meta.deleting, true};
}

}  // namespace

std::vector<std::string> peer_index_values(const runtime::Json& object) {
  if (!object.is_object() || !object.contains("metadata")) return {};
  CmkPeer peer = peer_from_object(object);
  if (!peer_matters(peer, "")) return {};
  return {object["metadata"].value("namespace", "")};
}

std::vector<std::string> default_claimer_index_values(const runtime::Json& object) {
  if (!object.is_object() || !object.contains("metadata") || !object.contains("spec")) return {};
  const auto& spec = object["spec"];
  auto d = spec.is_object() ? spec.find("default") : spec.end();
  if (d == spec.end() || !d->is_boolean() || !d->get<bool>()) return {};
  return {object["metadata"].value("namespace", "")};
}

std::vector<std::string> related_cmk_keys(const runtime::Json* old, const runtime::Json* now,
                                          const runtime::Store& store) {
  Relevance before = relevance_of(old), after = relevance_of(now);
  if (before == after) return {};
  std::set<std::string> keys;
  const std::string& ns = after.exists ? after.ns : before.ns;
  for (const auto& r : {before, after})
    if (!r.replaces.empty()) keys.insert(ns + "/" + r.replaces);
  if (before.claims_default || after.claims_default) {
    // Keys only: nothing is parsed, however many claimers a tenant makes.
    for (auto& key : store.keys_by_index(kDefaultClaimerIndex, ns)) keys.insert(std::move(key));
  }
  const runtime::Json* self = now ? now : old;
  keys.erase(runtime::object_key(*self));
  return {keys.begin(), keys.end()};
}

CmkReconciler::CmkReconciler(kube::KubeClient& client, const runtime::Store& store,
                             kmsprovider::ProviderRegistry& providers,
                             runtime::EventRecorder& events, const Clock& clock, Logger& log,
                             std::function<std::string()> new_id)
    : client_(client),
      providers_(providers),
      store_(store),
      events_(events),
      clock_(clock),
      log_(log),
      new_id_(std::move(new_id)) {
  // Without the index a reconcile would see no peers and settle `default` wrongly: a wiring
  // mistake, refused at start rather than found later in a status.
  for (const char* index : {kPeerIndex, kDefaultClaimerIndex})
    if (!store_.has_index(index))
      throw std::logic_error(std::string("the CustomerManagedKey cache lacks the index ") + index);
}

runtime::ReconcileResult CmkReconciler::reconcile(const std::string& key) {
  auto result = execute(key);
  if (!result) return runtime::result_for(result.error());
  return *result;
}

namespace {

// Admission refuses a ClusterKmsProvider for CustomerManagedKeys; an object from before that
// rule still never has the admin's credentials describe (or delete) a key it only references.
const Error kNoClusterProvider{
    ErrorKind::InvalidArgument,
    "spec.providerRef names a ClusterKmsProvider, which acts with the cluster admin's credentials: "
    "a CustomerManagedKey is verified through a KmsProvider of its own namespace; point "
    "spec.providerRef at one"};

KeyCheck check_key(kmsprovider::ProviderRegistry& providers, const Cmk& cmk) {
  KeyCheck check;
  if (cmk.spec.provider_ref.cluster()) {
    check.provider_problem = kmsprovider::ProviderProblem::Misconfigured;
    check.error = kNoClusterProvider;
    return check;
  }
  auto lookup = providers.get(cmk.meta.namespace_, cmk.spec.provider_ref);
  if (!lookup.client) {
    check.provider_problem = lookup.problem;
    check.error = lookup.error;
    return check;
  }
  if (lookup.type != cmk.spec.provider) {
    check.provider_problem = kmsprovider::ProviderProblem::Misconfigured;
    check.error = Error{ErrorKind::InvalidArgument,
                        "spec.providerRef names " + cmk.spec.provider_ref.describe() + " of type " +
                            lookup.type + ", but spec.provider is " + cmk.spec.provider +
                            ": point providerRef at a " + cmk.spec.provider + " KmsProvider"};
    return check;
  }
  auto key = lookup.client->describe_key(cmk.spec.resource);
  if (key)
    check.key = std::move(*key);
  else
    check.error = key.error();
  // The KmsProvider's own check already asked the KMS who its credentials are; ask here only
  // before it has (its failure only leaves the field as it was).
  check.accessor = lookup.accessor;
  if (check.accessor.empty())
    if (auto who = lookup.client->who_am_i()) check.accessor = who->principal;
  return check;
}

DeletionOutcome delete_key(kmsprovider::ProviderRegistry& providers, const Cmk& cmk) {
  DeletionOutcome out;
  if (cmk.spec.provider_ref.cluster()) {
    out.error = kNoClusterProvider;
    return out;
  }
  auto lookup = providers.get(cmk.meta.namespace_, cmk.spec.provider_ref);
  if (!lookup.client) {
    out.error = lookup.error;
    return out;
  }
  // Look first: a second attempt after a crash (or someone else) may have scheduled it already,
  // and the provider's own key id is what every provider's deletion call takes.
  auto key = lookup.client->describe_key(cmk.spec.resource);
  if (!key && key.error().kind == ErrorKind::NotFound) {
    out.done = true;  // nothing left to delete
    out.state = "gone";
    return out;
  }
  if (!key) {
    out.error = key.error();
    return out;
  }
  if (key->status == kms::CmkStatus::Deleted) {
    out.done = true;
    out.state = key->state;
    return out;
  }
  auto scheduled = lookup.client->schedule_key_deletion(
      key->key_id.empty() ? cmk.spec.resource : key->key_id, cmk.spec.deletion_window_days);
  if (!scheduled) {
    out.error = scheduled.error();
    return out;
  }
  out.done = true;
  out.state = scheduled->state;
  return out;
}

}  // namespace

Result<runtime::ReconcileResult> CmkReconciler::execute(const std::string& key) {
  auto object = store_.get_shared(key);
  if (!object) return runtime::done();  // deleted; nothing holds it any more
  auto parsed = parse_cmk(*object);
  if (!parsed) return parsed.error();

  CmkInputs in;
  in.cmk = std::move(*parsed);
  const SystemTime now = clock_.now();
  const VerifyInterval interval = verify_interval(in.cmk.meta, min_verify_interval_);
  in.interval_problem = interval.problem;
  if (deletion_due(in.cmk)) {
    in.deletion = delete_key(providers_, in.cmk);
  } else if (!in.cmk.meta.deleting && in.cmk.meta.has_finalizer(kFinalizer) &&
             verification_due(in.cmk, now, interval.every)) {
    in.check = check_key(providers_, in.cmk);
  }
  const std::string& ns = in.cmk.meta.namespace_;
  for (const auto& o : store_.by_index(kPeerIndex, ns)) in.peers.push_back(peer_from_object(*o));
  // The CMK it replaces matters even when it claims nothing (it may already be in the index).
  if (!in.cmk.spec.replaces.empty())
    if (auto target = store_.get_shared(ns + "/" + in.cmk.spec.replaces);
        target && !peer_matters(peer_from_object(*target), ""))
      in.peers.push_back(peer_from_object(*target));
  in.now = format_rfc3339(now);
  if (in.cmk.status.id.empty()) in.fresh_id = new_id_();
  CmkPlan plan = plan_cmk(in);

  const auto type = customer_managed_keys();
  const auto& meta = in.cmk.meta;
  std::string rv = meta.resource_version;

  // The pure plan decides when the finalizer comes and goes (added first, released once the
  // deletionPolicy is carried out); the guarded patches are the runtime's.
  if (plan.add_finalizer) {
    if (auto added = runtime::add_finalizer(client_, type, meta, kFinalizer); !added)
      return added.error();
    return runtime::done();  // the update comes back through the watch: next step
  }

  if (plan.status) {
    auto written = runtime::apply_status(client_, type, meta, rv, cmk_status_to_json(*plan.status));
    if (!written) return written.error();
    rv = *written;
  }
  for (const auto& e : plan.events) events_.record(*object, e);

  if (plan.remove_finalizer) {
    if (auto removed = runtime::remove_finalizer(client_, type, meta, kFinalizer, rv); !removed)
      return removed.error();
    return runtime::done();
  }
  if (plan.transient_failure) {
    const Error* e = in.deletion ? &in.deletion->error : (in.check ? &in.check->error : nullptr);
    return runtime::retry_with_backoff(
        e ? e->message : std::string("KMS unavailable"),
        runtime::honoured_retry_after(e ? e->retry_after : std::nullopt));
  }
  if (in.cmk.meta.deleting) return runtime::done();
  // Come back when the next verification is due. After a lasting failure (a missing key, bad
  // credentials) within a minute at most: the fix may be in a Secret, which is not watched.
  auto next = std::min<std::chrono::seconds>(interval.every, runtime::kLastingFailureMin);
  const auto& st = plan.status ? *plan.status : in.cmk.status;
  const auto* verified = runtime::find_condition(st.conditions, conditions::kKeyVerified);
  SystemTime last;
  if (verified && verified->status == "True" && !st.last_verified_at.empty() &&
      parse_rfc3339(st.last_verified_at, last)) {
    auto left = std::chrono::duration_cast<std::chrono::seconds>(last + interval.every - now);
    next = std::max(std::chrono::seconds(1), std::min(left, interval.every));
  }
  return runtime::requeue_after(next);
}

}  // namespace byok::cmk
