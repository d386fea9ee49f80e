#pragma once
// The KMS client for a KmsProvider, built from its object and its Secrets and reused while none
// of them changes (clients cache access tokens; rebuilding one per call would fetch a token per
// call). A change of the KmsProvider or of a Secret it names (resourceVersion) builds a new
// client; callers still holding the old one finish with it.
//
// Reads go to the apiserver (GET), not a cache: the operator needs no watch on Secrets, and a
// registry call happens once per verification, not per reconcile.
//
// Trust (see DESIGN.md, trust boundaries): a namespaced KmsProvider is written by the
// namespace's users. Its endpoint and every URL the client reaches are held to the operator's
// allow-list (ProviderTrust::tenant_endpoints), and it may not name a file (Azure tokenFile).
// A ClusterKmsProvider is the cluster admin's: its Secrets come from the operator's namespace,
// it serves only the namespaces its namespaceSelector selects, and what identifies the admin's
// account (the accessor) is never handed to a tenant's object.

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "controller/kube/client.h"
#include "controller/runtime/read_once.h"
#include "controller/runtime/store.h"
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
  EndpointNotAllowed,  // a tenant's KmsProvider names a URL outside the operator's allow-list
};

// What the cluster admin configured about providers (operator flags).
struct ProviderTrust {
  kms::EndpointPolicy tenant_endpoints = kms::EndpointPolicy::allow_all();
  std::string cluster_namespace;  // where ClusterKmsProviders' Secrets are; "": none usable
  std::string attestation_manufacturer_roots_pem;  // --gcp-attestation-manufacturer-roots
  std::string attestation_owner_roots_pem;         // --gcp-attestation-owner-roots
};

struct ProviderLookup {
  std::shared_ptr<kms::KmsProvider> client;  // set on success
  std::string type;                          // spec.type, when the object was read
  std::string accessor;                      // status.accessor, as the KmsProvider's check left it
                                             // (never set for a ClusterKmsProvider)
  bool cluster = false;                      // a ClusterKmsProvider (admin-owned)
  std::vector<std::string> pinned_fingerprints;  // ClusterKmsProvider wrappingKeyFingerprints
  bool allow_wrapped_imports =
      true;  // a ClusterKmsProvider takes offline-wrapped material only if it says so
  ProviderProblem problem = ProviderProblem::None;
  Error error;  // set when client is null
};

// A tenant's KmsProvider config: every URL it declares (spec.endpoint, URLs in spec.<type> and
// in the credentials Secret) within `policy`, and no file paths (tokenFile). PermissionDenied
// (EndpointNotAllowed) or InvalidArgument naming the field, never a credential's value.
Status check_tenant_config(const kms::ProviderConfig& config, const kms::EndpointPolicy& policy);

class ProviderRegistry {
 public:
  using Factory = std::function<Result<kms::ProviderHandle>(const kms::ProviderConfig&)>;
  ProviderRegistry(kube::KubeClient& client, Factory factory, ProviderTrust trust);

  // The client for `ref` as used by an object in namespace `ns`. A ClusterKmsProvider that does
  // not exist and one that does not select `ns` give the same answer (ProviderNotFound). Any
  // answer but a transient one drops the cached client (a deleted provider's credentials do not
  // stay in memory). `the_namespace` (`ns`, as the caller's reconcile read it) serves the
  // ClusterKmsProvider's namespaceSelector; null reads the Namespace here.
  ProviderLookup get(const std::string& ns, const ProviderRef& ref,
                     runtime::ReadOnce* the_namespace = nullptr);
  std::size_t cached() const;  // how many clients are held (tests, metrics)
  // Reads namespaced KmsProviders from this informer cache instead of a GET per lookup (a CMK's
  // verification asks once per object; 10,000 CMKs made 10,000 GETs). A KmsProvider created
  // after the lookup wakes its users through the watch (provider_users.h), so a miss is only as
  // stale as the watch. ClusterKmsProviders and Secrets are still read from the apiserver.
  void use_cache(const runtime::Store& kms_providers) { provider_cache_ = &kms_providers; }

 private:
  struct Entry {
    std::string fingerprint;
    std::string type;
    std::shared_ptr<kms::KmsProvider> client;
  };

  kube::KubeClient& client_;
  const runtime::Store* provider_cache_ = nullptr;
  Factory factory_;
  ProviderTrust trust_;
  mutable std::mutex mu_;
  std::map<std::string, Entry> entries_;  // by namespace/name
};

}  // namespace byok::kmsprovider
