#include "reconcilers/kms_provider/provider_users.h"

namespace byok::kmsprovider {

std::vector<std::string> objects_using_provider(const runtime::Store& store, const std::string& ns,
                                                const std::string& provider) {
  std::vector<std::string> keys;
  store.visit_namespace(ns, [&](const runtime::Json& o) {
    if (o.contains("spec") && o["spec"].contains("providerRef") &&
        o["spec"]["providerRef"].value("name", "") == provider)
      keys.push_back(runtime::object_key(o));
  });
  return keys;
}

}  // namespace byok::kmsprovider
