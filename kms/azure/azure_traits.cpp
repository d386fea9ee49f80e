#include "kms/azure/azure_traits.h"

#include "kms/azure/byok_file.h"

namespace byok::kms {
namespace {

std::optional<std::string> azure_cmk_key_problem(const KeyDescription& key) {
  if (key.key_spec.rfind("EC", 0) == 0)
    return "the key's kty is " + key.key_spec +
           "; a customer-managed key must be RSA, RSA-HSM or oct-HSM (EC keys cannot wrap keys)";
  return std::nullopt;
}

}  // namespace

std::optional<CmkStatus> azure_cmk_status(std::string_view s) {
  if (s == "Enabled") return CmkStatus::Current;
  if (s == "Disabled" || s == "NotYetValid" || s == "Expired") return CmkStatus::Old;
  if (s == "Deleted") return CmkStatus::Deleted;
  return std::nullopt;
}

Result<WrapSpec> azure_wrap_spec(std::string_view algorithm) {
  if (algorithm == azure::kByokEncryption || algorithm.empty())
    return WrapSpec{WrapMethod::RsaAesKeyWrap, OaepHash::Sha1, 0};
  return make_error(ErrorKind::InvalidArgument,
                    "Azure Key Vault imports only CKM_RSA_AES_KEY_WRAP "
                    "wraps, not \"" +
                        std::string(algorithm) + "\"");
}

const ProviderTraits kAzureTraits{
    .name = "azure",
    .title = "Azure Key Vault",
    .wrap_spec = azure_wrap_spec,
    .default_wrapping_algorithm = azure::kByokEncryption,
    .prewrapped_import_refusal = "",
    .wrap_file = azure::make_byok_file,
    .cmk_status = azure_cmk_status,
    .cmk_key_problem = azure_cmk_key_problem,
};

}  // namespace byok::kms
