#pragma once
// A KmsProvider for the KMS server a ctest fixture started (tests/harness/<provider>-kms.sh):
// the client config the server's env file describes, and the same config as objects in the
// cluster (a credentials Secret, a CA Secret and the KmsProvider), as a user would apply them.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "controller/kube/client.h"
#include "kms/provider_config.h"

namespace byok::testing {

// "aws", "azure", "gcp", "oci", "transit", "thalassa", "localkms" (an aws provider on
// local-kms) or "azurehsm" (an azure provider on the Azure fixture's Managed HSM).
kms::ProviderConfig provider_config_from_env(const std::string& provider);

// Creates Secrets <name>-credentials and <name>-ca and KmsProvider <name> in `ns`.
void apply_kms_provider(kube::KubeClient& client, const std::string& ns, const std::string& name,
                        const kms::ProviderConfig& config);

// As a cluster admin sets one up: Secrets <name>-credentials and <name>-ca in `secrets_ns` (the
// operator's --cluster-resource-namespace) and ClusterKmsProvider <name> serving namespace
// `serves` (empty: none). Returns the provider's name.
std::string apply_cluster_kms_provider(kube::KubeClient& client, const std::string& secrets_ns,
                                       const std::string& name, const kms::ProviderConfig& config,
                                       const std::string& serves,
                                       const std::vector<std::string>& pinned_fingerprints = {});

// HsmKeyPolicy <name>: namespace `ns` may import HSM keys whose label matches `label_pattern`
// into ClusterKmsProvider `destination`.
// With `account`, the destination requires the KMS to say its credentials act in that account.
void apply_hsm_key_policy(kube::KubeClient& client, const std::string& name, const std::string& ns,
                          const std::string& label_pattern, const std::string& destination,
                          const std::string& account = "");

// The label selector that selects exactly namespace `ns`.
nlohmann::json namespace_selector(const std::string& ns);

}  // namespace byok::testing
