#include "kms/aws/aws_traits.h"

namespace byok::kms {
namespace {

std::optional<std::string> aws_cmk_key_problem(const KeyDescription& key) {
  if (!key.key_usage.empty() && key.key_usage != "ENCRYPT_DECRYPT")
    return "the key's KeyUsage is " + key.key_usage +
           "; a customer-managed key must be ENCRYPT_DECRYPT (a symmetric or RSA key)";
  return std::nullopt;
}

}  // namespace

std::optional<CmkStatus> aws_cmk_status(std::string_view key_state) {
  const std::string_view s = key_state;
  if (s == "Enabled" || s == "Updating") return CmkStatus::Current;
  if (s == "Disabled" || s == "Creating" || s == "PendingImport" || s == "Unavailable")
    return CmkStatus::Old;
  if (s == "PendingDeletion" || s == "PendingReplicaDeletion") return CmkStatus::Deleted;
  return std::nullopt;
}

Result<WrapSpec> aws_wrapping_algorithm(std::string_view name) {
  if (name == "RSAES_OAEP_SHA_1") return WrapSpec{WrapMethod::RsaOaep, OaepHash::Sha1, 0};
  if (name == "RSAES_OAEP_SHA_256") return WrapSpec{WrapMethod::RsaOaep, OaepHash::Sha256, 0};
  if (name == "RSA_AES_KEY_WRAP_SHA_1")
    return WrapSpec{WrapMethod::RsaAesKeyWrap, OaepHash::Sha1, 0};
  if (name == "RSA_AES_KEY_WRAP_SHA_256")
    return WrapSpec{WrapMethod::RsaAesKeyWrap, OaepHash::Sha256, 0};
  if (name == "RSAES_PKCS1_V1_5")
    return make_error(ErrorKind::Unsupported, "AWS KMS no longer accepts RSAES_PKCS1_V1_5");
  return make_error(ErrorKind::InvalidArgument,
                    "unknown AWS wrapping algorithm \"" + std::string(name) +
                        "\" (RSAES_OAEP_SHA_1, RSAES_OAEP_SHA_256, RSA_AES_KEY_WRAP_SHA_1, "
                        "RSA_AES_KEY_WRAP_SHA_256)");
}

const ProviderTraits kAwsTraits{
    .name = "aws",
    .title = "AWS KMS",
    .wrap_spec = aws_wrapping_algorithm,
    // The default depends on the key (byokctl aws-kms-export picks it).
    .default_wrapping_algorithm = "",
    .prewrapped_import_refusal =
        "AWS KMS issues a new wrapping key and import token with every GetParametersForImport, "
        "so material wrapped beforehand cannot be imported here: use source.hsm, or byokctl's "
        "offline AWS ceremony",
    .cmk_status = aws_cmk_status,
    .cmk_key_problem = aws_cmk_key_problem,
};

}  // namespace byok::kms
