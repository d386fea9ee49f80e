#pragma once
// Everything a KMS client needs to be built, taken from a KmsProvider object and its Secrets by
// the reconcilers (this layer never reads Kubernetes). Keys follow crds/byok.dev_kmsproviders.yaml
// so a message can name the field the user must fix.

#include <map>
#include <string>

#include "kms/endpoint_policy.h"

namespace byok::kms {

struct ProviderConfig {
  std::string type;      // aws | gcp | azure | oci | transit | thalassa
  std::string region;    // spec.region
  std::string endpoint;  // spec.endpoint; empty: the provider's public endpoint
  // spec.<type>.* as flat strings, e.g. {"vaultUrl": ...} for azure, {"project", "location",
  // "keyRing"} for gcp, {"compartmentId", "vaultId", "managementEndpoint", ...} for oci,
  // {"mountPath"} for transit, {"organisation"} for thalassa.
  std::map<std::string, std::string> settings;
  // The credentials Secret's data, decoded; keys as the CRD lists them per type (aws:
  // accessKeyId, secretAccessKey, sessionToken; gcp: serviceAccountKey; azure: tenantId,
  // clientId, clientSecret | tokenFile, authorityHost; oci: tenancy, user, fingerprint,
  // privateKey, passphrase; transit: token; thalassa: personalAccessToken or token).
  std::map<std::string, std::string> credentials;
  std::string extra_ca_pem;  // spec.caSecretRef's PEM; empty: system trust store only
  // Every URL the client reaches is checked against this (a tenant's KmsProvider: the
  // operator's allow-list; a ClusterKmsProvider: anything).
  EndpointPolicy endpoint_policy = EndpointPolicy::allow_all();
  // PEM roots that wrapping-key attestations must chain to: the HSM manufacturer's and the
  // cloud's (the operator's --gcp-attestation-*-roots); empty: none can be verified.
  std::string attestation_manufacturer_roots_pem;
  std::string attestation_owner_roots_pem;
};

}  // namespace byok::kms
