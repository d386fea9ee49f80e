#include "reconcilers/imported_key/wrap_choice.h"

#include <algorithm>

#include "kms/provider_traits.h"

namespace byok::importedkey {
namespace {

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out;
}

}  // namespace

Result<WrapChoice> choose_hsm_wrapping(const std::string& provider, hsm::KeyType type,
                                       const std::vector<std::string>& algorithms,
                                       const hsm::Capabilities& caps) {
  std::vector<std::string> why;
  for (const auto& algorithm : algorithms) {
    auto spec = kms::wrap_spec_for(provider, algorithm);
    if (!spec) {
      why.push_back(algorithm + ": " + spec.error().message);
      continue;
    }
    if (!hsm::check_wrap_target(*spec, type)) {
      why.push_back(algorithm + ": cannot carry a private key");
      continue;
    }
    if (spec->hash == hsm::OaepHash::Sha256 && caps.oaep_sha256 == false) {
      why.push_back(algorithm + ": needs RSA-OAEP with SHA-256, which this HSM refuses");
      continue;
    }
    bool composed = caps.rsa_oaep && caps.aes_key_wrap_pad;
    if (spec->method == hsm::WrapMethod::RsaAesKeyWrap && !caps.native_rsa_aes_key_wrap &&
        !composed) {
      why.push_back(algorithm +
                    ": needs CKM_RSA_AES_KEY_WRAP (or CKM_RSA_PKCS_OAEP with "
                    "CKM_AES_KEY_WRAP_PAD), which this HSM lacks");
      continue;
    }
    if (spec->method == hsm::WrapMethod::RsaOaep && !caps.rsa_oaep) {
      why.push_back(algorithm + ": needs CKM_RSA_PKCS_OAEP, which this HSM lacks");
      continue;
    }
    return WrapChoice{algorithm, *spec};
  }
  std::string list;
  for (const auto& w : why) list += (list.empty() ? "" : "; ") + w;
  return make_error(ErrorKind::Unsupported,
                    "the HSM cannot make any wrap " + provider + " accepts for " +
                        std::string(hsm::key_type_name(type)) + " keys (" + list +
                        "): wrap the key offline with byokctl and use source.wrappedSecretRef, "
                        "or use an HSM with these mechanisms");
}

Result<std::string> choose_offline_algorithm(const std::string& provider,
                                             const std::string& requested,
                                             const std::vector<std::string>& algorithms) {
  if (const kms::ProviderTraits* traits = kms::provider_traits(provider);
      traits && !traits->prewrapped_import_refusal.empty())
    return make_error(ErrorKind::Unsupported, std::string(traits->prewrapped_import_refusal));
  if (algorithms.empty())
    return make_error(ErrorKind::Unsupported, provider + " offers no wrapping algorithm");
  if (requested.empty()) return algorithms.front();
  if (std::find(algorithms.begin(), algorithms.end(), requested) == algorithms.end())
    return make_error(ErrorKind::InvalidArgument,
                      "spec.source.wrappedSecretRef.wrappingAlgorithm " + requested +
                          " is not one " + provider + " accepts for this key type (" +
                          join(algorithms) + ")");
  return requested;
}

}  // namespace byok::importedkey
