#pragma once
// The KMS client for a KmsProvider, built from its object and its Secrets and reused while none
// of them changes (clients cache access tokens; rebuilding one per call would fetch a token per
// call). A change of the KmsProvider or of a Secret it names (resourceVersion) builds a new
// client; callers still holding the old one finish with it.
//
// Reads go to the apiserver (GET), not a cache: the operator needs no watch on Secrets, and a
// registry call happens once per verification, not per reconcile.

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "common/clock.h"
#include "common/result.h"
#include "controller/kube/client.h"
#include "kms/kms_provider.h"
#include "kms/provider_factory.h"
#include "reconcilers/kms_provider/kms_provider_types.h"

namespace byok::kmsprovider {

// Where a failure to get a client came from, so conditions can say what to fix.
enum class ProviderProblem {
  None,
  ProviderNotFound,    // no KmsProvider of that name in the namespace
  SecretNotFound,      // a Secret it names is missing
  Misconfigured,       // the object or Secret lacks a field the client needs
  Unreachable,         // the apiserver could not be read (transient)
};

struct ProviderLookup {
  std::shared_ptr<kms::KmsProvider> client;  // set on success
  std::string type;                          // spec.type, when the object was read
  std::string accessor;                      // status.accessor, as the KmsProvider's check left it
  ProviderProblem problem = ProviderProblem::None;
  Error error;                               // set when client is null
};

// Reads the KmsProvider's Secrets and assembles the client's config. NotFound names the Secret
// and the field that points at it; InvalidArgument names a missing Secret key.
Result<kms::ProviderConfig> load_provider_config(kube::KubeClient& client, const KmsProvider& provider);

class ProviderRegistry {
 public:
  using Factory = std::function<Result<kms::ProviderHandle>(const kms::ProviderConfig&)>;
  ProviderRegistry(kube::KubeClient& client, Factory factory);

  ProviderLookup get(const std::string& ns, const std::string& name);

 private:
  struct Entry {
    std::string fingerprint;
    std::string type;
    std::shared_ptr<kms::KmsProvider> client;
  };

  kube::KubeClient& client_;
  Factory factory_;
  std::mutex mu_;
  std::map<std::string, Entry> entries_;  // by namespace/name
};

}  // namespace byok::kmsprovider
