#pragma once
// A KmsProvider for the KMS server a ctest fixture started (tests/harness/<provider>-kms.sh):
// the client config the server's env file describes, and the same config as objects in the
// cluster (a credentials Secret, a CA Secret and the KmsProvider), as a user would apply them.

#include <string>

#include "controller/kube/client.h"
#include "kms/provider_config.h"

namespace byok::testing {

// "aws", "azure", "gcp", "oci", "transit" or "thalassa".
kms::ProviderConfig provider_config_from_env(const std::string& provider);

// Creates Secrets <name>-credentials and <name>-ca and KmsProvider <name> in `ns`.
void apply_kms_provider(kube::KubeClient& client, const std::string& ns, const std::string& name,
                        const kms::ProviderConfig& config);

}  // namespace byok::testing
