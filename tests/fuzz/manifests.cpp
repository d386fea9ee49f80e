// What a tenant (or an admin) applies: every kind's typed view, from any JSON, and the
// annotations the reconcilers read (verify interval, reimport).
#include <string>

#include <nlohmann/json.hpp>

#include "controller/runtime/object_meta.h"
#include "reconcilers/customer_managed_key/cmk_types.h"
#include "reconcilers/customer_managed_key/cmk_verification.h"
#include "reconcilers/hsm_key_policy/hsm_key_policy.h"
#include "reconcilers/imported_key/imported_key_types.h"
#include "reconcilers/kms_provider/kms_provider_types.h"

using namespace byok;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto object = nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (object.is_discarded()) return 0;
  (void)cmk::parse_cmk(object);
  (void)importedkey::parse_imported_key(object);
  (void)kmsprovider::parse_kms_provider(object);
  (void)hsmpolicy::parse_hsm_key_policy(object);
  auto meta = runtime::ObjectMeta::from_json(object);
  (void)cmk::verify_interval(meta, std::chrono::seconds(60));
  return 0;
}
