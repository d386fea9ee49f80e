#pragma once
// Reports whether the operator can use a KmsProvider: builds its client (reading its Secrets)
// and asks the KMS who the credentials are (who_am_i). status.accessor is the principal to grant
// keys to; Ready=True means the KMS accepted the credentials. Checked again every 10 minutes
// and on every change; transient failures back off per item.

#include <chrono>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/log.h"
#include "controller/kube/client.h"
#include "controller/runtime/controller.h"
#include "controller/runtime/events.h"
#include "controller/runtime/store.h"
#include "reconcilers/kms_provider/kms_provider_types.h"
#include "reconcilers/kms_provider/provider_registry.h"

namespace byok::kmsprovider {

inline constexpr std::chrono::seconds kRecheckInterval{600};

// What the check found: the accessor, or why there is none.
struct ProviderCheck {
  std::optional<kms::Accessor> accessor;
  ProviderProblem problem = ProviderProblem::None;
  Error error;
};

struct ProviderPlan {
  std::optional<KmsProviderStatus> status;  // set when it differs from the object's
  std::vector<runtime::EventSpec> events;
  bool transient_failure = false;
};

// Pure: the status a check leads to.
ProviderPlan plan_kms_provider(const KmsProvider& provider, const ProviderCheck& check,
                               const std::string& now);

class KmsProviderReconciler {
 public:
  KmsProviderReconciler(kube::KubeClient& client, const runtime::Store& store,
                        ProviderRegistry& providers, runtime::EventRecorder& events,
                        const Clock& clock);
  runtime::ReconcileResult reconcile(const std::string& key);

 private:
  kube::KubeClient& client_;
  const runtime::Store& store_;
  ProviderRegistry& providers_;
  runtime::EventRecorder& events_;
  const Clock& clock_;
};

}  // namespace byok::kmsprovider
