#include "tests/harness/kms_provider_env.h"

#include <stdexcept>

#include "tests/harness/server_env.h"
#include "reconcilers/hsm_key_policy/hsm_key_policy.h"
#include "reconcilers/kms_provider/kms_provider_types.h"

namespace byok::testing {

kms::ProviderConfig provider_config_from_env(const std::string& provider) {
  // A Managed HSM is served by the Azure fixture beside its vault.
  const auto env = ServerEnv::for_provider(provider == "azurehsm" ? "azure" : provider);
  kms::ProviderConfig c;
  c.type = provider;
  if (provider == "aws") {
    c.region = env["BYOK_AWS_REGION"];
    c.endpoint = env["BYOK_AWS_ENDPOINT"];
    c.settings = {{"stsEndpoint", env["BYOK_AWS_ENDPOINT"]}};  // moto serves STS too
    c.credentials = {{"accessKeyId", env["BYOK_AWS_ACCESS_KEY_ID"]},
                     {"secretAccessKey", env["BYOK_AWS_SECRET_ACCESS_KEY"]}};
    c.extra_ca_pem = env.file("BYOK_AWS_CA_FILE");
  } else if (provider == "localkms") {
    // local-kms (tests/harness/local-kms.sh) speaks AWS KMS: an aws provider. It checks no
    // signature and has no STS; STS goes to local-kms too, so a test sends nothing elsewhere
    // (who_am_i fails there, which only a KmsProvider's Ready and an account check ask).
    c.type = "aws";
    c.region = env["BYOK_LOCALKMS_REGION"];
    c.endpoint = env["BYOK_LOCALKMS_ENDPOINT"];
    c.settings = {{"stsEndpoint", env["BYOK_LOCALKMS_ENDPOINT"]}};
    c.credentials = {{"accessKeyId", "AKIALOCALKMSTEST0000"}, {"secretAccessKey", "local-kms"}};
  } else if (provider == "azure" || provider == "azurehsm") {
    c.type = "azure";
    const bool hsm = provider == "azurehsm";
    c.endpoint = env[hsm ? "BYOK_AZURE_HSM_ENDPOINT" : "BYOK_AZURE_ENDPOINT"];
    c.settings = {{"vaultUrl", env[hsm ? "BYOK_AZURE_HSM_URL" : "BYOK_AZURE_VAULT_URL"]}};
    c.credentials = {{"tenantId", env["BYOK_AZURE_TENANT_ID"]},
                     {"clientId", env["BYOK_AZURE_CLIENT_ID"]},
                     {"clientSecret", env["BYOK_AZURE_CLIENT_SECRET"]},
                     {"authorityHost", env["BYOK_AZURE_AUTHORITY_HOST"]}};
    c.extra_ca_pem = env.file("BYOK_AZURE_CA_FILE");
  } else if (provider == "gcp") {
    c.endpoint = env["BYOK_GCP_ENDPOINT"];
    c.settings = {{"project", env["BYOK_GCP_PROJECT"]},
                  {"location", env["BYOK_GCP_LOCATION"]},
                  {"keyRing", env["BYOK_GCP_KEY_RING"]}};
    c.credentials = {{"serviceAccountKey", env.file("BYOK_GCP_SA_KEY_FILE")}};
    c.extra_ca_pem = env.file("BYOK_GCP_CA_FILE");
  } else if (provider == "oci") {
    c.region = "us-ashburn-1";
    c.settings = {{"managementEndpoint", env["BYOK_OCI_ENDPOINT"]},
                  {"compartmentId", env["BYOK_OCI_COMPARTMENT_ID"]},
                  {"vaultId", env["BYOK_OCI_VAULT_ID"]}};
    c.credentials = {{"tenancy", env["BYOK_OCI_TENANCY"]},
                     {"user", env["BYOK_OCI_USER"]},
                     {"fingerprint", env["BYOK_OCI_FINGERPRINT"]},
                     {"privateKey", env.file("BYOK_OCI_PRIVATE_KEY_FILE")}};
    c.extra_ca_pem = env.file("BYOK_OCI_CA_FILE");
  } else if (provider == "transit") {
    c.endpoint = env["BYOK_TRANSIT_ENDPOINT"];
    c.settings = {{"mountPath", env["BYOK_TRANSIT_MOUNT"]}};
    c.credentials = {{"token", env["BYOK_TRANSIT_TOKEN"]}};
    c.extra_ca_pem = env.file("BYOK_TRANSIT_CA_FILE");
  } else if (provider == "thalassa") {
    c.endpoint = env["BYOK_THALASSA_ENDPOINT"];
    c.region = env["BYOK_THALASSA_REGION"];
    c.settings = {{"organisation", env["BYOK_THALASSA_ORGANISATION"]}};
    c.credentials = {{"personalAccessToken", env["BYOK_THALASSA_PERSONAL_TOKEN"]}};
    c.extra_ca_pem = env.file("BYOK_THALASSA_CA_FILE");
  } else {
    throw std::runtime_error("no KMS server for provider " + provider);
  }
  return c;
}

namespace {

// The provider's spec as its CRD spells it, creating the Secrets it names in `secrets_ns`.
nlohmann::json provider_spec(kube::KubeClient& client, const std::string& secrets_ns,
                             const std::string& name, const kms::ProviderConfig& config) {
  auto create = [&](const kube::ResourceType& type, const nlohmann::json& object) {
    auto r = client.create(type, secrets_ns, object);
    if (!r) throw std::runtime_error("creating " + type.kind + ": " + r.error().message);
  };
  nlohmann::json credentials = nlohmann::json::object();
  for (const auto& [k, v] : config.credentials) credentials[k] = v;
  create(kube::resources::secrets(),
         {{"apiVersion", "v1"},
          {"kind", "Secret"},
          {"metadata", {{"name", name + "-credentials"}, {"namespace", secrets_ns}}},
          {"stringData", credentials}});
  nlohmann::json spec = {{"type", config.type},
                         {"credentialsSecretRef", {{"name", name + "-credentials"}}}};
  if (!config.region.empty()) spec["region"] = config.region;
  if (!config.endpoint.empty()) spec["endpoint"] = config.endpoint;
  if (!config.settings.empty()) {
    nlohmann::json settings = nlohmann::json::object();
    for (const auto& [k, v] : config.settings) settings[k] = v;
    spec[config.type] = settings;
  }
  if (!config.extra_ca_pem.empty()) {
    create(kube::resources::secrets(),
           {{"apiVersion", "v1"},
            {"kind", "Secret"},
            {"metadata", {{"name", name + "-ca"}, {"namespace", secrets_ns}}},
            {"stringData", {{"ca.crt", config.extra_ca_pem}}}});
    spec["caSecretRef"] = {{"name", name + "-ca"}};
  }
  return spec;
}

}  // namespace

nlohmann::json namespace_selector(const std::string& ns) {
  return {{"matchLabels", {{"kubernetes.io/metadata.name", ns}}}};
}

void apply_kms_provider(kube::KubeClient& client, const std::string& ns, const std::string& name,
                        const kms::ProviderConfig& config) {
  auto spec = provider_spec(client, ns, name, config);
  auto r = client.create(byok::kmsprovider::kms_providers(), ns,
                         {{"apiVersion", "byok.dev/v1alpha1"},
                          {"kind", "KmsProvider"},
                          {"metadata", {{"name", name}, {"namespace", ns}}},
                          {"spec", spec}});
  if (!r) throw std::runtime_error("creating KmsProvider: " + r.error().message);
}

std::string apply_cluster_kms_provider(kube::KubeClient& client, const std::string& secrets_ns,
                                       const std::string& name, const kms::ProviderConfig& config,
                                       const std::string& serves,
                                       const std::vector<std::string>& pinned_fingerprints) {
  auto spec = provider_spec(client, secrets_ns, name, config);
  spec["namespaceSelector"] =
      serves.empty() ? nlohmann::json::object() : namespace_selector(serves);
  if (!pinned_fingerprints.empty()) spec["wrappingKeyFingerprints"] = pinned_fingerprints;
  auto r = client.create(byok::kmsprovider::cluster_kms_providers(), "",
                         {{"apiVersion", "byok.dev/v1alpha1"},
                          {"kind", "ClusterKmsProvider"},
                          {"metadata", {{"name", name}}},
                          {"spec", spec}});
  if (!r) throw std::runtime_error("creating ClusterKmsProvider: " + r.error().message);
  return name;
}

void apply_hsm_key_policy(kube::KubeClient& client, const std::string& name, const std::string& ns,
                          const std::string& label_pattern, const std::string& destination,
                          const std::string& account) {
  nlohmann::json dest = {{"clusterKmsProvider", destination}};
  if (!account.empty()) dest["account"] = account;
  auto r = client.create(byok::hsmpolicy::hsm_key_policies(), "",
                         {{"apiVersion", "byok.dev/v1alpha1"},
                          {"kind", "HsmKeyPolicy"},
                          {"metadata", {{"name", name}}},
                          {"spec",
                           {{"namespaceSelector", namespace_selector(ns)},
                            {"keys", {{{"label", label_pattern}}}},
                            {"destinations", nlohmann::json::array({dest})}}}});
  if (!r) throw std::runtime_error("creating HsmKeyPolicy: " + r.error().message);
}

}  // namespace byok::testing
