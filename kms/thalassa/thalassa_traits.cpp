#include "kms/thalassa/thalassa_traits.h"

namespace byok::kms {

std::optional<CmkStatus> thalassa_cmk_status(std::string_view s) {
  if (s == "active") return CmkStatus::Current;
  if (s == "disabled") return CmkStatus::Old;
  if (s == "pending_deletion") return CmkStatus::Deleted;
  return std::nullopt;
}

Result<WrapSpec> thalassa_hash_function(std::string_view name) {
  if (name == "sha1") return WrapSpec{WrapMethod::RsaAesKeyWrap, OaepHash::Sha1, 0};
  if (name == "sha256") return WrapSpec{WrapMethod::RsaAesKeyWrap, OaepHash::Sha256, 0};
  return make_error(ErrorKind::InvalidArgument,
                    "unknown thalassa hashFunction \"" + std::string(name) + "\" (sha256, sha1)");
}

const ProviderTraits kThalassaTraits{
    .name = "thalassa",
    .title = "a Thalassa KMS",
    .wrap_spec = thalassa_hash_function,
    .default_wrapping_algorithm = "sha256",
    .prewrapped_import_refusal = "",
    .byokctl_algorithm_help = "hashFunction sha256 (default) | sha1",
    .byokctl_algorithm_name = "hashFunction",
    .cmk_status = thalassa_cmk_status,
};

}  // namespace byok::kms
