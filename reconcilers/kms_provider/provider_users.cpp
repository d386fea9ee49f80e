#include "reconcilers/kms_provider/provider_users.h"

#include <stdexcept>

#include "reconcilers/kms_provider/kms_provider_types.h"

namespace byok::kmsprovider {

std::vector<std::string> provider_ref_index_values(const runtime::Json& object) {
  if (!object.is_object() || !object.contains("spec") || !object.contains("metadata")) return {};
  auto ref = parse_provider_ref(object["spec"]);
  if (ref.cluster() || ref.name.empty()) return {};
  return {object["metadata"].value("namespace", "") + "/" + ref.name};
}

std::vector<std::string> objects_using_provider(const runtime::Store& store, const std::string& ns,
                                                const std::string& provider) {
  return store.keys_by_index(kProviderRefIndex, ns + "/" + provider);
}

runtime::MapFn users_of_provider(const runtime::Store& users) {
  if (!users.has_index(kProviderRefIndex))
    throw std::logic_error(std::string("a KmsProvider's users' cache lacks the index ") +
                           kProviderRefIndex);
  return [&users](const runtime::Json* old, const runtime::Json* now) -> std::vector<std::string> {
    if (old && now &&
        old->at("metadata").value("generation", 0) == now->at("metadata").value("generation", 0))
      return {};
    const auto& md = (now ? now : old)->at("metadata");
    return objects_using_provider(users, md.value("namespace", ""), md.value("name", ""));
  };
}

}  // namespace byok::kmsprovider
