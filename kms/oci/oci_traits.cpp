#include "kms/oci/oci_traits.h"

namespace byok::kms {
namespace {

std::optional<std::string> oci_cmk_key_problem(const KeyDescription& key) {
  if (key.key_spec == "ECDSA")
    return "the key's algorithm is ECDSA; a customer-managed key must be AES or RSA";
  return std::nullopt;
}

}  // namespace

std::optional<CmkStatus> oci_cmk_status(std::string_view lifecycle_state) {
  const std::string_view s = lifecycle_state;
  if (s == "ENABLED" || s == "UPDATING" || s == "BACKUP_IN_PROGRESS") return CmkStatus::Current;
  if (s == "DISABLED" || s == "DISABLING" || s == "ENABLING" || s == "CREATING" ||
      s == "RESTORING" || s == "CANCELLING_DELETION")
    return CmkStatus::Old;
  if (s == "SCHEDULING_DELETION" || s == "PENDING_DELETION" || s == "DELETING" || s == "DELETED")
    return CmkStatus::Deleted;
  return std::nullopt;
}

Result<WrapSpec> oci_wrapping_algorithm(std::string_view name) {
  if (name == "RSA_OAEP_AES_SHA256")
    return WrapSpec{WrapMethod::RsaAesKeyWrap, OaepHash::Sha256, 0};
  if (name == "RSA_OAEP_SHA256") return WrapSpec{WrapMethod::RsaOaep, OaepHash::Sha256, 0};
  return make_error(ErrorKind::InvalidArgument, "unknown OCI wrapping algorithm \"" +
                                                    std::string(name) +
                                                    "\" (RSA_OAEP_AES_SHA256, RSA_OAEP_SHA256)");
}

const ProviderTraits kOciTraits{
    .name = "oci",
    .title = "OCI Vault",
    .wrap_spec = oci_wrapping_algorithm,
    .default_wrapping_algorithm = "RSA_OAEP_AES_SHA256",
    .prewrapped_import_refusal = "",
    .byokctl_algorithm_help = "RSA_OAEP_AES_SHA256 (default) | RSA_OAEP_SHA256",
    .byokctl_algorithm_name = "wrappingAlgorithm",
    .cmk_status = oci_cmk_status,
    .cmk_key_problem = oci_cmk_key_problem,
};

}  // namespace byok::kms
