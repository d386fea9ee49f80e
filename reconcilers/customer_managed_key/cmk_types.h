#pragma once
// A typed view of a CustomerManagedKey (byok.dev/v1alpha1) over the apiserver's JSON.
// Field names follow crds/byok.dev_customermanagedkeys.yaml.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "controller/kube/resource.h"
#include "controller/runtime/conditions.h"
#include "controller/runtime/object_meta.h"
#include "reconcilers/kms_provider/kms_provider_types.h"

namespace byok::cmk {

// The kind on the apiserver.
kube::ResourceType customer_managed_keys();

inline constexpr char kFinalizer[] = "byok.dev/customermanagedkey";

struct CmkSpec {
  std::string provider;  // aws | gcp | azure | oci
  std::string resource;
  bool is_default = false;
  kmsprovider::ProviderRef provider_ref;
  std::string replaces;
  std::string deletion_policy = "Retain";
  int deletion_window_days = 30;
};

// status.status words, as the Aiven CMK API has them.
inline constexpr char kCurrent[] = "current";
inline constexpr char kOld[] = "old";
inline constexpr char kDeleted[] = "deleted";

struct CmkStatus {
  std::string id;
  std::string status;
  bool is_default = false;
  std::string key_state;
  std::string accessor;
  std::string created_at;
  std::string updated_at;
  std::string last_verified_at;
  int64_t observed_generation = 0;
  std::vector<runtime::Condition> conditions;

  bool operator==(const CmkStatus&) const = default;
};

struct Cmk {
  runtime::ObjectMeta meta;
  CmkSpec spec;
  CmkStatus status;
};

Result<Cmk> parse_cmk(const nlohmann::json& object);
CmkStatus parse_cmk_status(const nlohmann::json& status);
nlohmann::json cmk_status_to_json(const CmkStatus& status);

}  // namespace byok::cmk
