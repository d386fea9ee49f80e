#include "kms/provider_factory.h"

#include "kms/aws/aws_kms_client.h"
#include "kms/azure/key_vault_client.h"
#include "kms/gcp/gcp_kms_client.h"
#include "kms/oci/oci_kms_client.h"

namespace byok::kms {
namespace {

template <typename Client>
Result<ProviderHandle> build(const ProviderConfig& config, const Clock& clock) {
  ProviderHandle handle;
  HttpTransportOptions options;
  options.extra_ca_pem = config.extra_ca_pem;
  handle.transport = make_cpprest_transport(options);
  auto client = Client::from_config(config, *handle.transport, clock);
  if (!client) return client.error();
  handle.client = std::move(*client);
  return handle;
}

}  // namespace

Result<ProviderHandle> make_provider(const ProviderConfig& config, const Clock& clock) {
  if (config.type == "aws") return build<aws::AwsKmsClient>(config, clock);
  if (config.type == "azure") return build<azure::KeyVaultClient>(config, clock);
  if (config.type == "gcp") return build<gcp::GcpKmsClient>(config, clock);
  if (config.type == "oci") return build<oci::OciKmsClient>(config, clock);
  return make_error(ErrorKind::Unsupported,
                    "spec.type " + config.type + " has no client in this build");
}

}  // namespace byok::kms
