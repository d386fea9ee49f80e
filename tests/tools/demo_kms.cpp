// The demo's stand-in for the cloud consoles and CLIs (scripts/demo.sh): it points KmsProviders
// at the local KMS servers tests/harness/<provider>-kms.sh started (as a platform team applies
// its real accounts' credentials), and fetches a wrapping public key the way a key ceremony
// does with `aws kms get-parameters-for-import`, `az keyvault key download`,
// `oci kms management wrapping-key get` or `vault read transit/wrapping_key`, so that byokctl
// can wrap key material for it offline.
//
//   byok-demo-kms providers NAMESPACE PROVIDER...
//       KmsProvider PROVIDER (+ Secrets PROVIDER-credentials, PROVIDER-ca) in NAMESPACE for each
//       server whose env file BYOK_<PROVIDER>_KMS_ENV names.
//   byok-demo-kms wrapping-key PROVIDER KMS_KEY_NAME KEY_TYPE OUT_DER
//       the wrapping key the ImportedKey for KMS_KEY_NAME will import under (Azure: creates
//       the KEK <name>-kek, as `az keyvault key create --ops import` would), DER to OUT_DER;
//       prints {"kid", "algorithm", "fingerprint"} as JSON.

#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/process_init.h"
#include "common/clock.h"
#include "hsm/encoding.h"
#include "kms/provider_factory.h"
#include "tests/harness/cluster.h"
#include "tests/harness/kms_provider_env.h"

namespace {

int usage() {
  std::cerr
      << "usage: byok-demo-kms providers NAMESPACE PROVIDER...\n"
         "       byok-demo-kms cluster-providers SECRETS_NAMESPACE SERVED_NAMESPACE PROVIDER...\n"
         "       byok-demo-kms wrapping-key PROVIDER KMS_KEY_NAME KEY_TYPE OUT_DER\n";
  return 2;
}

int providers(const std::string& ns, const std::vector<std::string>& names) {
  auto client = byok::testing::connect_from_env();
  for (const auto& p : names) {
    byok::testing::apply_kms_provider(*client, ns, p, byok::testing::provider_config_from_env(p));
    std::cout << "kmsprovider " << ns << "/" << p << " created\n";
  }
  return 0;
}

int wrapping_key(const std::string& provider, const std::string& name, const std::string& type,
                 const std::string& out) {
  byok::RealClock clock;
  auto handle = byok::kms::make_provider(byok::testing::provider_config_from_env(provider), clock);
  if (!handle) {
    std::cerr << provider << ": " << handle.error().message << "\n";
    return 1;
  }
  byok::kms::ImportTarget target;
  target.name = name;
  target.key_type = type;
  target.owner = "key-ceremony";
  auto algorithms = handle->client->wrapping_algorithms(type);
  if (!algorithms || algorithms->empty()) {
    std::cerr << provider << " imports no " << type << " keys\n";
    return 1;
  }
  target.wrapping_algorithm = algorithms->front();
  auto wrapping = handle->client->prepare_import(target, "");
  if (!wrapping) {
    std::cerr << "fetching the wrapping key: " << wrapping.error().message << "\n";
    return 1;
  }
  std::ofstream(out, std::ios::binary) << wrapping->public_key_der;
  const auto* der = reinterpret_cast<const std::uint8_t*>(wrapping->public_key_der.data());
  nlohmann::json j = {
      {"kid", provider == "azure" ? wrapping->import_token : ""},
      {"algorithm", wrapping->algorithm},
      {"fingerprint", byok::hsm::spki_fingerprint_sha256({der, wrapping->public_key_der.size()})}};
  std::cout << j.dump() << "\n";
  return 0;
}

}  // namespace

// As a cluster admin: ClusterKmsProvider PROVIDER serving one namespace, its Secrets in the
// operator's namespace.
int cluster_providers(const std::string& secrets_ns, const std::string& serves,
                      const std::vector<std::string>& names) {
  auto client = byok::testing::connect_from_env();
  for (const auto& p : names) {
    byok::testing::apply_cluster_kms_provider(*client, secrets_ns, p,
                                              byok::testing::provider_config_from_env(p), serves);
    std::cout << "clusterkmsprovider " << p << " created (serves " << serves << ")\n";
  }
  return 0;
}

int main(int argc, char** argv) {
  byok::skip_openssl_atexit_cleanup();  // before anything touches OpenSSL
  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    if (args.size() >= 3 && args[0] == "providers")
      return providers(args[1], {args.begin() + 2, args.end()});
    if (args.size() >= 4 && args[0] == "cluster-providers")
      return cluster_providers(args[1], args[2], {args.begin() + 3, args.end()});
    if (args.size() == 5 && args[0] == "wrapping-key")
      return wrapping_key(args[1], args[2], args[3], args[4]);
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
  return usage();
}
