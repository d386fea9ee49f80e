#include "reconcilers/customer_managed_key/cmk_verification.h"

#include "kms/provider_traits.h"

namespace byok::cmk {

std::optional<std::string> wrong_key_type(const std::string& provider,
                                          const kms::KeyDescription& key) {
  const kms::ProviderTraits* traits = kms::provider_traits(provider);
  if (!traits || !traits->cmk_key_problem) return std::nullopt;
  return traits->cmk_key_problem(key);
}

}  // namespace byok::cmk
