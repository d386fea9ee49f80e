#pragma once
// Asks the cluster, at the moment of asking, whether an HSM key may be exported, and applies
// hsm_key_policy.h's rules. The namespace's labels and the granting policy are read fresh (no
// cache, so a policy removed or narrowed, or a namespace relabelled, stops the very next wrap);
// the early checks of one reconcile may share one fresh read of the Namespace (`the_namespace`),
// the check right before the wrap reads it anew;
// for the early checks the candidates come from the apiserver's watch cache, while the check
// right before the wrap (`found` set), which picks the grant and its account and attestation
// terms, and any refusal are decided on a consistent list.
//
// The refusal is one error, PermissionDenied, with one message built only from what the
// ImportedKey itself says: whether the key exists, has another type, or another policy exists
// is never told, and the HSM is not asked before a grant (no enumeration, no timing signal).

#include <optional>
#include <string>

#include "common/result.h"
#include "controller/kube/client.h"
#include "controller/runtime/read_once.h"
#include "reconcilers/hsm_key_policy/hsm_key_policy.h"
#include "reconcilers/kms_provider/kms_provider_types.h"

namespace byok::hsmpolicy {

struct ExportAsk {
  std::string ns;  // the ImportedKey's namespace
  bool by_label = true;
  std::string key;  // source.hsm.label or .id
  kmsprovider::ProviderRef destination;
};

struct Grant {
  std::string policy;                // the HsmKeyPolicy's name
  std::string account;               // the account its destination requires; empty: none
  bool require_attestation = false;  // the KMS must attest its wrapping key
};

class ExportAuthorizer {
 public:
  explicit ExportAuthorizer(kube::KubeClient& client) : client_(client) {}

  // The granting policy; PermissionDenied (reason NotAuthorized) when none grants; Unavailable
  // when the apiserver could not be read. `the_namespace` (ask.ns, read earlier in the same
  // reconcile) serves the checks that only gate what comes next; null reads the Namespace now,
  // which the check right before a wrap must.
  Result<Grant> authorize(const ExportAsk& ask, const std::optional<FoundKey>& found = std::nullopt,
                          runtime::ReadOnce* the_namespace = nullptr);

 private:
  kube::KubeClient& client_;
};

}  // namespace byok::hsmpolicy
