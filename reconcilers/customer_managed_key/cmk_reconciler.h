#pragma once
// Runs the plan for one CustomerManagedKey: asks the KMS about the key when a verification is
// due (and to schedule its deletion under deletionPolicy Delete), then finalizer patches
// (guarded by resourceVersion), a server-side apply of the status (also guarded, so a stale cache
// can never overwrite a newer status such as an id already assigned), and Events. Comes back
// when the next verification is due; transient failures back off per item.

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/log.h"
#include "controller/kube/client.h"
#include "controller/runtime/controller.h"
#include "controller/runtime/events.h"
#include "controller/runtime/store.h"
#include "reconcilers/customer_managed_key/cmk_verification.h"
#include "reconcilers/kms_provider/provider_registry.h"

namespace byok::cmk {

class CmkReconciler {
 public:
  CmkReconciler(kube::KubeClient& client, const runtime::Store& store,
                kmsprovider::ProviderRegistry& providers, runtime::EventRecorder& events,
                const Clock& clock, Logger& log, std::function<std::string()> new_id);

  runtime::ReconcileResult reconcile(const std::string& key);
  // The shortest verify interval a byok.dev/verify-interval annotation may ask for.
  void set_min_verify_interval(std::chrono::seconds floor) { min_verify_interval_ = floor; }

 private:
  std::chrono::seconds min_verify_interval_{kDefaultMinVerifyInterval};
  Result<runtime::ReconcileResult> execute(const std::string& key);

  kube::KubeClient& client_;
  kmsprovider::ProviderRegistry& providers_;
  const runtime::Store& store_;
  runtime::EventRecorder& events_;
  const Clock& clock_;
  Logger& log_;
  std::function<std::string()> new_id_;
};

// The CMK cache's index of the peers that can change another CMK's plan (peer_matters: default
// claimers and replacers), by namespace; main adds it to the cache, and the reconciler refuses
// a cache without it. A reconcile reads these and
// the CMK its spec.replaces names, not the whole namespace, so it costs O(peers that matter).
inline constexpr char kPeerIndex[] = "cmk-peers-by-namespace";
std::vector<std::string> peer_index_values(const runtime::Json& object);
// The CMKs that claim `default`, by namespace: whom a change of a claimer wakes
// (related_cmk_keys). Also added by main and required by the reconciler.
inline constexpr char kDefaultClaimerIndex[] = "cmk-default-claimers-by-namespace";
std::vector<std::string> default_claimer_index_values(const runtime::Json& object);

// Which other CMKs must be reconciled again after a change from `old` to `now` (either may be
// null): a CMK's default and status depend on its namespace's default claimers and replacers.
// Status-only updates touch nobody else, which keeps a large namespace linear.
std::vector<std::string> related_cmk_keys(const runtime::Json* old, const runtime::Json* now,
                                          const runtime::Store& store);

}  // namespace byok::cmk
