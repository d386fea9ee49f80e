#include "reconcilers/kms_provider/provider_users.h"

#include "reconcilers/kms_provider/kms_provider_types.h"

namespace byok::kmsprovider {

std::vector<std::string> objects_using_provider(const runtime::Store& store, const std::string& ns,
                                                const std::string& provider) {
  std::vector<std::string> keys;
  store.visit_namespace(ns, [&](const runtime::Json& o) {
    if (!o.contains("spec")) return;
    auto ref = parse_provider_ref(o["spec"]);
    if (!ref.cluster() && ref.name == provider)
      keys.push_back(runtime::object_key(o));
  });
  return keys;
}

}  // namespace byok::kmsprovider
