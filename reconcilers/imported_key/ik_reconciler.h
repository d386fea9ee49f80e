#pragma once
// Runs the import for one ImportedKey, one external step at a time, recording progress in the
// status (guarded by resourceVersion) before each step with a side effect in the KMS:
//
//   find_key -> [phase CreatingKey] prepare_import -> [phase Importing, wrapping key fingerprint]
//   wrap in the HSM (or read the already-wrapped Secret) -> import_key -> [imported: true]
//
// A controller killed anywhere in between finds the key again through find_key (name and owner
// mark) on restart: it imports into the container it created, or adopts the key it imported,
// so the KMS ends up with exactly one key per ImportedKey. Plaintext key material never enters
// this process: the HSM returns only the wrapped blob, and a Secret only ever holds wrapped bytes.
// Deletion goes through the finalizer: Retain leaves the key, Delete schedules its deletion.
//
// Keys from the HSM are exported only as an HsmKeyPolicy allows (export_authorizer.h), asked
// three times: before the KMS or the HSM is touched (on what the spec says; a refusal then is
// NotAuthorized, the same whether the key exists or not), once the HSM found the key (on its
// real label and id), and right before C_WrapKey (so a policy revoked meanwhile stops it). The
// first two share one read of the Namespace with the ClusterKmsProvider's namespaceSelector;
// the last reads the Namespace anew. The wrapping key must be a sound RSA key (hsm/kek.h) and,
// when the ClusterKmsProvider pins them, one of its fingerprints. Every export leaves audit
// records (export_audit.h).

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "common/clock.h"
#include "common/log.h"
#include "controller/kube/client.h"
#include "controller/runtime/controller.h"
#include "controller/runtime/events.h"
#include "controller/runtime/store.h"
#include "hsm/hsm.h"
#include "reconcilers/kms_provider/verify_interval.h"
#include "reconcilers/hsm_key_policy/export_authorizer.h"
#include "reconcilers/imported_key/export_audit.h"
#include "reconcilers/imported_key/ik_plan.h"
#include "reconcilers/kms_provider/provider_registry.h"

namespace byok::importedkey {

// The operator's HSM, opened on first use: FailedPrecondition when none is configured,
// Unavailable while it cannot be opened (tried again on the next call).
using HsmAccess = std::function<Result<std::shared_ptr<hsm::Hsm>>()>;

class ImportedKeyReconciler {
 public:
  ImportedKeyReconciler(kube::KubeClient& client, const runtime::Store& store,
                        kmsprovider::ProviderRegistry& providers, HsmAccess hsm,
                        hsmpolicy::ExportAuthorizer& authorizer, ExportAudit& audit,
                        runtime::EventRecorder& events, const Clock& clock, Logger& log);

  runtime::ReconcileResult reconcile(const std::string& key);
  // The shortest verify interval a byok.dev/verify-interval annotation may ask for.
  void set_min_verify_interval(std::chrono::seconds floor) { min_verify_interval_ = floor; }

 private:
  std::chrono::seconds min_verify_interval_{kmsprovider::kDefaultMinVerifyInterval};
  class Pass;
  kube::KubeClient& client_;
  const runtime::Store& store_;
  kmsprovider::ProviderRegistry& providers_;
  HsmAccess hsm_;
  hsmpolicy::ExportAuthorizer& authorizer_;
  ExportAudit& audit_;
  runtime::EventRecorder& events_;
  const Clock& clock_;
  Logger& log_;
};

}  // namespace byok::importedkey
