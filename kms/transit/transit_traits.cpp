#include "kms/transit/transit_traits.h"

namespace byok::kms {

std::optional<CmkStatus> transit_cmk_status(std::string_view key_state) {
  const std::string_view s = key_state;
  if (s == "enabled" || s == "deletion_allowed") return CmkStatus::Current;
  if (s == "deleted") return CmkStatus::Deleted;
  return std::nullopt;
}

Result<WrapSpec> transit_hash_function(std::string_view name) {
  if (name == "SHA1") return WrapSpec{WrapMethod::RsaAesKeyWrap, OaepHash::Sha1, 0};
  if (name == "SHA256" || name.empty())
    return WrapSpec{WrapMethod::RsaAesKeyWrap, OaepHash::Sha256, 0};
  if (name == "SHA224" || name == "SHA384" || name == "SHA512")
    return make_error(ErrorKind::Unsupported, "transit hash_function " + std::string(name) +
                                                  " is not supported here; use SHA1 or SHA256");
  return make_error(ErrorKind::InvalidArgument,
                    "unknown transit hash_function \"" + std::string(name) + "\" (SHA1, SHA256)");
}

const ProviderTraits kTransitTraits{
    .name = "transit",
    .title = "the transit engine",
    .wrap_spec = transit_hash_function,
    .default_wrapping_algorithm = "SHA256",
    .prewrapped_import_refusal = "",
    .byokctl_algorithm_help = "hash_function SHA256 (default) | SHA1",
    .byokctl_algorithm_name = "hash_function",
    .cmk_status = transit_cmk_status,
};

}  // namespace byok::kms
