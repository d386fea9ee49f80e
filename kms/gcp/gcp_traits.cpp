#include "kms/gcp/gcp_traits.h"

namespace byok::kms {
namespace {

std::optional<std::string> gcp_cmk_key_problem(const KeyDescription& key) {
  if (!key.key_usage.empty() && key.key_usage != "ENCRYPT_DECRYPT" &&
      key.key_usage != "ASYMMETRIC_DECRYPT")
    return "the CryptoKey's purpose is " + key.key_usage +
           "; a customer-managed key must be ENCRYPT_DECRYPT or ASYMMETRIC_DECRYPT";
  return std::nullopt;
}

}  // namespace

std::optional<CmkStatus> gcp_cmk_status(std::string_view version_state) {
  const std::string_view s = version_state;
  if (s == "ENABLED") return CmkStatus::Current;
  if (s == "DISABLED" || s == "PENDING_GENERATION" || s == "PENDING_IMPORT" ||
      s == "IMPORT_FAILED" || s == "GENERATION_FAILED")
    return CmkStatus::Old;
  if (s == "DESTROY_SCHEDULED" || s == "DESTROYED" || s == "PENDING_EXTERNAL_DESTRUCTION" ||
      s == "EXTERNAL_DESTRUCTION_FAILED")
    return CmkStatus::Deleted;
  return std::nullopt;
}

Result<WrapSpec> gcp_import_method(std::string_view name) {
  struct Row {
    std::string_view name;
    WrapSpec spec;
  };
  static constexpr Row kRows[] = {
      {"RSA_OAEP_3072_SHA1_AES_256", {WrapMethod::RsaAesKeyWrap, OaepHash::Sha1, 3072}},
      {"RSA_OAEP_4096_SHA1_AES_256", {WrapMethod::RsaAesKeyWrap, OaepHash::Sha1, 4096}},
      {"RSA_OAEP_3072_SHA256_AES_256", {WrapMethod::RsaAesKeyWrap, OaepHash::Sha256, 3072}},
      {"RSA_OAEP_4096_SHA256_AES_256", {WrapMethod::RsaAesKeyWrap, OaepHash::Sha256, 4096}},
      {"RSA_OAEP_3072_SHA256", {WrapMethod::RsaOaep, OaepHash::Sha256, 3072}},
      {"RSA_OAEP_4096_SHA256", {WrapMethod::RsaOaep, OaepHash::Sha256, 4096}},
  };
  for (const Row& r : kRows)
    if (r.name == name) return r.spec;
  return make_error(ErrorKind::InvalidArgument,
                    "unknown Google Cloud KMS import method \"" + std::string(name) +
                        "\" (RSA_OAEP_{3072,4096}_{SHA1,SHA256}_AES_256, "
                        "RSA_OAEP_{3072,4096}_SHA256)");
}

const ProviderTraits kGcpTraits{
    .name = "gcp",
    .title = "Google Cloud KMS",
    .wrap_spec = gcp_import_method,
    // The ImportJob fixes the method (and the KEK's size): the ceremony must name it.
    .default_wrapping_algorithm = "",
    .prewrapped_import_refusal =
        "Google Cloud KMS issues a new wrapping key with every ImportJob, so material wrapped "
        "beforehand cannot be imported here: use source.hsm",
    .byokctl_algorithm_help = "importMethod (e.g. RSA_OAEP_3072_SHA1_AES_256)",
    .byokctl_algorithm_name = "the ImportJob's importMethod",
    .cmk_status = gcp_cmk_status,
    .cmk_key_problem = gcp_cmk_key_problem,
};

}  // namespace byok::kms
