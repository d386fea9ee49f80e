#include "reconcilers/kms_provider/provider_users.h"

#include "reconcilers/kms_provider/kms_provider_types.h"

namespace byok::kmsprovider {

std::vector<std::string> objects_using_provider(const runtime::Store& store, const std::string& ns,
                                                const std::string& provider) {
  std::vector<std::string> keys;
  store.visit_namespace(ns, [&](const runtime::Json& o) {
    if (!o.contains("spec")) return;
    auto ref = parse_provider_ref(o["spec"]);
    if (!ref.cluster() && ref.name == provider) keys.push_back(runtime::object_key(o));
  });
  return keys;
}

runtime::MapFn users_of_provider(const runtime::Store& users) {
  return [&users](const runtime::Json* old, const runtime::Json* now) -> std::vector<std::string> {
    if (old && now &&
        old->at("metadata").value("generation", 0) == now->at("metadata").value("generation", 0))
      return {};
    const auto& md = (now ? now : old)->at("metadata");
    return objects_using_provider(users, md.value("namespace", ""), md.value("name", ""));
  };
}

}  // namespace byok::kmsprovider
