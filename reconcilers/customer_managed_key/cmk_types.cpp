#include "reconcilers/customer_managed_key/cmk_types.h"

namespace byok::cmk {

kube::ResourceType customer_managed_keys() {
  return {"byok.dev", "v1alpha1", "customermanagedkeys", "CustomerManagedKey", true};
}

CmkStatus parse_cmk_status(const nlohmann::json& s) {
  CmkStatus st;
  if (!s.is_object()) return st;
  st.id = s.value("id", "");
  st.status = s.value("status", "");
  st.is_default = s.value("default", false);
  st.key_state = s.value("keyState", "");
  st.accessor = s.value("accessor", "");
  st.created_at = s.value("createdAt", "");
  st.updated_at = s.value("updatedAt", "");
  st.last_verified_at = s.value("lastVerifiedAt", "");
  st.observed_generation = s.value("observedGeneration", int64_t{0});
  if (s.contains("conditions")) st.conditions = runtime::conditions_from_json(s["conditions"]);
  return st;
}

Result<Cmk> parse_cmk(const nlohmann::json& object) {
  try {
    Cmk c;
    c.meta = runtime::ObjectMeta::from_json(object);
    const auto& spec = object.at("spec");
    c.spec.provider = spec.value("provider", "");
    c.spec.resource = spec.value("resource", "");
    c.spec.is_default = spec.value("default", false);
    c.spec.provider_ref = kmsprovider::parse_provider_ref(spec);
    c.spec.replaces = spec.value("replaces", "");
    c.spec.deletion_policy = spec.value("deletionPolicy", "Retain");
    c.spec.deletion_window_days = spec.value("deletionWindowDays", 30);
    if (object.contains("status")) c.status = parse_cmk_status(object["status"]);
    return c;
  } catch (const nlohmann::json::exception& e) {
    return make_error(ErrorKind::InvalidArgument,
                      std::string("CustomerManagedKey does not match its schema: ") + e.what());
  }
}

nlohmann::json cmk_status_to_json(const CmkStatus& st) {
  nlohmann::json j = {{"status", st.status},
                      {"default", st.is_default},
                      {"observedGeneration", st.observed_generation},
                      {"conditions", runtime::conditions_to_json(st.conditions)}};
  auto put = [&j](const char* k, const std::string& v) {
    if (!v.empty()) j[k] = v;
  };
  put("id", st.id);
  put("keyState", st.key_state);
  put("accessor", st.accessor);
  put("createdAt", st.created_at);
  put("updatedAt", st.updated_at);
  put("lastVerifiedAt", st.last_verified_at);
  return j;
}

}  // namespace byok::cmk
