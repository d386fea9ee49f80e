#pragma once
// A typed view of an ImportedKey (byok.dev/v1alpha1). Field names follow
// crds/byok.dev_importedkeys.yaml.

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "controller/kube/resource.h"
#include "controller/runtime/conditions.h"
#include "controller/runtime/object_meta.h"
#include "reconcilers/kms_provider/kms_provider_types.h"

namespace byok::importedkey {

// The kind on the apiserver.
kube::ResourceType imported_keys();

struct HsmSource {
  std::string label;
  std::string id;  // hex CKA_ID
};

struct WrappedSecretSource {
  std::string name;
  std::string key = "wrapped";
  std::string wrapping_key_fingerprint;  // hex SHA-256 of the SubjectPublicKeyInfo
  std::string wrapping_algorithm;
};

struct ImportedKeySpec {
  kmsprovider::ProviderRef provider_ref;
  std::string key_type;
  std::string description;
  std::string kms_key_name;  // empty: metadata.name
  bool allow_rotation = false;
  int64_t rotate = 0;
  std::string valid_to;
  std::string deletion_policy = "Retain";
  int deletion_window_days = 30;  // the schema has no default (it would clash with Retain)
  std::optional<HsmSource> hsm;
  std::optional<WrappedSecretSource> wrapped_secret;
};

struct ImportedKeyStatus {
  bool imported = false;
  std::string key_id;
  std::string key_version;
  std::string imported_at;
  std::string wrapping_key_fingerprint;
  std::string wrapping_algorithm;
  std::string key_state;  // the KMS's own state word at the last look
  std::string phase;
  int64_t rotation = 0;
  std::string reimport;       // the byok.dev/reimport annotation's value the last import honoured
  std::string authorized_by;  // the HsmKeyPolicy that allowed the last export from the HSM
  int64_t observed_generation = 0;
  std::vector<runtime::Condition> conditions;
};

struct ImportedKey {
  runtime::ObjectMeta meta;
  ImportedKeySpec spec;
  ImportedKeyStatus status;
};

Result<ImportedKey> parse_imported_key(const nlohmann::json& object);
nlohmann::json imported_key_status_to_json(const ImportedKeyStatus& status);

// The key's name in the KMS: spec.kmsKeyName, else metadata.name.
std::string kms_key_name(const ImportedKey& key);
// The name in a ClusterKmsProvider's KMS, which many namespaces share (and which may hold no
// owner marks: transit keys have no tags): kms_key_name (dots made
// dashes, cut to 50 characters) and 12 hex digits of SHA-256(namespace/UID), at most 63
// characters (Google's limit). Two tenants can never name, adopt or delete each other's key,
// even in a KMS without tags (transit), and a recreated object gets a fresh key.
std::string shared_kms_key_name(const ImportedKey& key);

}  // namespace byok::importedkey
