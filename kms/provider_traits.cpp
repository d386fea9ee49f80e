#include "kms/provider_traits.h"

#include "kms/provider_list.h"

namespace byok::kms {

std::vector<const ProviderTraits*> all_provider_traits() {
  std::vector<const ProviderTraits*> out;
  for_each_provider([&](const ProviderTraits& traits, auto /*client*/) { out.push_back(&traits); });
  return out;
}

const ProviderTraits* provider_traits(std::string_view name) {
  for (const ProviderTraits* traits : all_provider_traits())
    if (traits->name == name) return traits;
  return nullptr;
}

std::optional<CmkStatus> cmk_status_for(std::string_view provider, std::string_view state) {
  const ProviderTraits* traits = provider_traits(provider);
  if (!traits) return std::nullopt;
  return traits->cmk_status(state);
}

Result<WrapSpec> wrap_spec_for(std::string_view provider, std::string_view algorithm) {
  const ProviderTraits* traits = provider_traits(provider);
  if (!traits)
    return make_error(ErrorKind::InvalidArgument,
                      "no wrap is known for provider \"" + std::string(provider) + "\"");
  return traits->wrap_spec(algorithm);
}

}  // namespace byok::kms
