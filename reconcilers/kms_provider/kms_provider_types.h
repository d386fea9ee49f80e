#pragma once
// A typed view of a KmsProvider (byok.dev/v1alpha1): how to reach one KMS. Field names follow
// crds/byok.dev_kmsproviders.yaml.

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "controller/runtime/conditions.h"
#include "controller/runtime/object_meta.h"

namespace byok::kmsprovider {

struct KmsProviderSpec {
  std::string type;  // aws | gcp | azure | oci | transit | thalassa
  std::string region;
  std::string endpoint;                // empty: the provider's public endpoint for the region
  std::string credentials_secret;      // a Secret in the same namespace
  std::string ca_secret;               // optional extra CA for the endpoint
  std::string ca_secret_key = "ca.crt";
  // The per-type settings object (spec.azure, spec.gcp, ...) as flat strings, e.g. "vaultUrl".
  std::map<std::string, std::string> settings;
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
