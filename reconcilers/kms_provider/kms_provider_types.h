#pragma once
// A typed view of a KmsProvider (byok.dev/v1alpha1): how to reach one KMS. Field names follow
// crds/byok.dev_kmsproviders.yaml.

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "controller/kube/resource.h"
#include "controller/runtime/conditions.h"
#include "controller/runtime/object_meta.h"

namespace byok::kmsprovider {

// The kinds on the apiserver: a namespace's own KmsProvider, and the admin's cluster-scoped one.
kube::ResourceType kms_providers();
kube::ResourceType cluster_kms_providers();

// What a CustomerManagedKey or ImportedKey names in spec.providerRef.
struct ProviderRef {
  std::string kind = "KmsProvider";  // or "ClusterKmsProvider"
  std::string name;
  bool cluster() const { return kind == "ClusterKmsProvider"; }
  std::string describe() const { return kind + " " + name; }
};
ProviderRef parse_provider_ref(const nlohmann::json& spec);  // spec.providerRef

// The spec of a KmsProvider, and of a ClusterKmsProvider (the same fields, plus who may use it).
struct KmsProviderSpec {
  std::string type;  // aws | gcp | azure | oci | transit | thalassa
  std::string region;
  std::string endpoint;            // empty: the provider's public endpoint for the region
  std::string credentials_secret;  // a Secret in the same namespace
  std::string ca_secret;           // optional extra CA for the endpoint
  std::string ca_secret_key = "ca.crt";
  // The per-type settings object (spec.azure, spec.gcp, ...) as flat strings, e.g. "vaultUrl".
  std::map<std::string, std::string> settings;
  // ClusterKmsProvider only: the wrapping keys it trusts. (Its namespaceSelector is read by the
  // registry from the object itself, before the object is parsed at all.)
  std::vector<std::string> wrapping_key_fingerprints;
  bool allow_wrapped_imports = false;
};

struct KmsProviderStatus {
  int64_t observed_generation = 0;
  std::string accessor;
  std::vector<runtime::Condition> conditions;
};

struct KmsProvider {
  runtime::ObjectMeta meta;
  KmsProviderSpec spec;
  KmsProviderStatus status;
};

Result<KmsProvider> parse_kms_provider(const nlohmann::json& object);

}  // namespace byok::kmsprovider
