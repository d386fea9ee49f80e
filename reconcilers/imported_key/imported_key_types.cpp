#include "reconcilers/imported_key/imported_key_types.h"

#include "hsm/encoding.h"

namespace byok::importedkey {

kube::ResourceType imported_keys() {
  return {"byok.dev", "v1alpha1", "importedkeys", "ImportedKey", true};
}

Result<ImportedKey> parse_imported_key(const nlohmann::json& object) {
  try {
    ImportedKey k;
    k.meta = runtime::ObjectMeta::from_json(object);
    const auto& spec = object.at("spec");
    k.spec.provider_ref = kmsprovider::parse_provider_ref(spec);
    k.spec.key_type = spec.value("keyType", "");
    k.spec.description = spec.value("description", "");
    k.spec.kms_key_name = spec.value("kmsKeyName", "");
    k.spec.allow_rotation = spec.value("allowRotation", false);
    k.spec.rotate = spec.value("rotate", int64_t{0});
    k.spec.valid_to = spec.value("validTo", "");
    k.spec.deletion_policy = spec.value("deletionPolicy", "Retain");
    k.spec.deletion_window_days = spec.value("deletionWindowDays", 30);
    if (spec.contains("source")) {
      const auto& src = spec["source"];
      if (src.contains("hsm"))
        k.spec.hsm = HsmSource{src["hsm"].value("label", ""), src["hsm"].value("id", "")};
      if (src.contains("wrappedSecretRef")) {
        const auto& w = src["wrappedSecretRef"];
        k.spec.wrapped_secret = WrappedSecretSource{w.value("name", ""), w.value("key", "wrapped"),
                                                    w.value("wrappingKeyFingerprint", ""),
                                                    w.value("wrappingAlgorithm", "")};
      }
    }
    if (object.contains("status")) {
      const auto& st = object["status"];
      k.status.imported = st.value("imported", false);
      k.status.key_id = st.value("keyId", "");
      k.status.key_version = st.value("keyVersion", "");
      k.status.imported_at = st.value("importedAt", "");
      k.status.wrapping_key_fingerprint = st.value("wrappingKeyFingerprint", "");
      k.status.wrapping_algorithm = st.value("wrappingAlgorithm", "");
      k.status.key_state = st.value("keyState", "");
      k.status.phase = st.value("phase", "");
      k.status.rotation = st.value("rotation", int64_t{0});
      k.status.reimport = st.value("reimport", "");
      k.status.authorized_by = st.value("authorizedBy", "");
      k.status.observed_generation = st.value("observedGeneration", int64_t{0});
      if (st.contains("conditions"))
        k.status.conditions = runtime::conditions_from_json(st["conditions"]);
    }
    return k;
  } catch (const nlohmann::json::exception& e) {
    return make_error(ErrorKind::InvalidArgument,
                      std::string("ImportedKey does not match its schema: ") + e.what());
  }
}

nlohmann::json imported_key_status_to_json(const ImportedKeyStatus& st) {
  nlohmann::json j = {{"imported", st.imported},
                      {"rotation", st.rotation},
                      {"observedGeneration", st.observed_generation},
                      {"conditions", runtime::conditions_to_json(st.conditions)}};
  auto put = [&j](const char* k, const std::string& v) {
    if (!v.empty()) j[k] = v;
  };
  put("keyId", st.key_id);
  put("keyVersion", st.key_version);
  put("importedAt", st.imported_at);
  put("wrappingKeyFingerprint", st.wrapping_key_fingerprint);
  put("wrappingAlgorithm", st.wrapping_algorithm);
  put("keyState", st.key_state);
  put("phase", st.phase);
  put("reimport", st.reimport);
  put("authorizedBy", st.authorized_by);
  return j;
}

std::string shared_kms_key_name(const ImportedKey& key) {
  std::string base = kms_key_name(key);
  for (char& c : base)
    if (c == '.') c = '-';
  if (base.size() > 50) base.resize(50);
  const std::string who = key.meta.namespace_ + "/" + key.meta.uid;
  auto digest = hsm::sha256({reinterpret_cast<const std::uint8_t*>(who.data()), who.size()});
  const std::string suffix = hsm::to_hex(digest).substr(0, 12);
  return base + "-" + suffix;
}

std::string kms_key_name(const ImportedKey& key) {
  return key.spec.kms_key_name.empty() ? key.meta.name : key.spec.kms_key_name;
}

}  // namespace byok::importedkey
