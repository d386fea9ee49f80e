// What a tenant writes into a KmsProvider and its credentials Secret, as the registry hands it to
// the clients: every provider's from_config and the endpoint check, on any settings and any
// Secret contents (service-account JSON, PEM keys, URLs).
#include <fuzzer/FuzzedDataProvider.h>

#include <memory>

#include "kms/provider_factory.h"
#include "reconcilers/kms_provider/provider_registry.h"
#include "tests/fuzz/fuzz_support.h"

using namespace byok;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  kms::ProviderConfig config;
  config.type = in.PickValueInArray({"aws", "gcp", "azure", "oci", "transit", "thalassa", "x"});
  config.region = in.ConsumeRandomLengthString(64);
  if (in.ConsumeBool()) config.endpoint = in.ConsumeRandomLengthString(256);
  static const char* kSettings[] = {
      "vaultUrl",           "project",   "location",  "keyRing",      "compartmentId", "vaultId",
      "managementEndpoint", "mountPath", "namespace", "organisation", "cryptoEndpoint"};
  static const char* kCredentials[] = {
      "accessKeyId", "secretAccessKey", "sessionToken", "serviceAccountKey", "tenantId",
      "clientId",    "clientSecret",    "tokenFile",    "authorityHost",     "tenancy",
      "user",        "fingerprint",     "privateKey",   "passphrase",        "token"};
  int n = in.ConsumeIntegralInRange(0, 8);
  for (int i = 0; i < n; ++i)
    config.settings[in.PickValueInArray(kSettings)] = in.ConsumeRandomLengthString(256);
  n = in.ConsumeIntegralInRange(0, 8);
  for (int i = 0; i < n; ++i)
    config.credentials[in.PickValueInArray(kCredentials)] = in.ConsumeRandomLengthString(4096);
  static const auto policy = *kms::EndpointPolicy::parse({"public", "https://127.0.0.1:*"});
  (void)kmsprovider::check_tenant_config(config, policy);
  fuzz::AdvancingClock clock;
  // Building a client reads no file and reaches no network; what it refuses it names.
  auto handle = kms::make_provider(config, std::make_unique<fuzz::PlayedTransport>(in), clock,
                                   fuzz::no_wait(clock));
  if (handle) (void)handle->client->who_am_i();
  return 0;
}
