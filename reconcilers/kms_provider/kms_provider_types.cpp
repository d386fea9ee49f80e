#include "reconcilers/kms_provider/kms_provider_types.h"

namespace byok::kmsprovider {

kube::ResourceType kms_providers() {
  return {"byok.dev", "v1alpha1", "kmsproviders", "KmsProvider", true};
}
kube::ResourceType cluster_kms_providers() {
  return {"byok.dev", "v1alpha1", "clusterkmsproviders", "ClusterKmsProvider", false};
}

ProviderRef parse_provider_ref(const nlohmann::json& spec) {
  ProviderRef ref;
  if (!spec.is_object() || !spec.contains("providerRef") || !spec["providerRef"].is_object())
    return ref;
  const auto& r = spec["providerRef"];
  ref.name = r.value("name", "");
  ref.kind = r.value("kind", "KmsProvider");
  return ref;
}

Result<KmsProvider> parse_kms_provider(const nlohmann::json& object) {
  try {
    KmsProvider p;
    p.meta = runtime::ObjectMeta::from_json(object);
    const auto& spec = object.at("spec");
    p.spec.type = spec.value("type", "");
    p.spec.region = spec.value("region", "");
    p.spec.endpoint = spec.value("endpoint", "");
    if (spec.contains("credentialsSecretRef"))
      p.spec.credentials_secret = spec["credentialsSecretRef"].value("name", "");
    if (spec.contains("caSecretRef")) {
      p.spec.ca_secret = spec["caSecretRef"].value("name", "");
      p.spec.ca_secret_key = spec["caSecretRef"].value("key", "ca.crt");
    }
    if (spec.contains(p.spec.type) && spec[p.spec.type].is_object())
      for (const auto& [k, v] : spec[p.spec.type].items())
        if (v.is_string()) p.spec.settings[k] = v.get<std::string>();
    p.spec.allow_wrapped_imports = spec.value("allowWrappedImports", false);
    if (spec.contains("wrappingKeyFingerprints") && spec["wrappingKeyFingerprints"].is_array())
      for (const auto& f : spec["wrappingKeyFingerprints"])
        if (f.is_string()) p.spec.wrapping_key_fingerprints.push_back(f.get<std::string>());
    if (object.contains("status")) {
      const auto& st = object["status"];
      p.status.observed_generation = st.value("observedGeneration", int64_t{0});
      p.status.accessor = st.value("accessor", "");
      if (st.contains("conditions"))
        p.status.conditions = runtime::conditions_from_json(st["conditions"]);
    }
    return p;
  } catch (const nlohmann::json::exception& e) {
    return make_error(ErrorKind::InvalidArgument,
                      std::string("KmsProvider does not match its schema: ") + e.what());
  }
}

}  // namespace byok::kmsprovider
