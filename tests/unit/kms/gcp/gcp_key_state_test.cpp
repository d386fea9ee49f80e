#include <catch2/catch.hpp>

#include "kms/gcp/gcp_traits.h"

using namespace byok::kms;

TEST_CASE("every Cloud KMS CryptoKeyVersion state maps to a CMK status word", "[kms][gcp]") {
  const std::pair<const char*, CmkStatus> table[] = {
      {"ENABLED", CmkStatus::Current},
      {"DISABLED", CmkStatus::Old},
      {"PENDING_GENERATION", CmkStatus::Old},
      {"PENDING_IMPORT", CmkStatus::Old},
      {"IMPORT_FAILED", CmkStatus::Old},
      {"GENERATION_FAILED", CmkStatus::Old},
      {"DESTROY_SCHEDULED", CmkStatus::Deleted},
      {"DESTROYED", CmkStatus::Deleted},
      {"PENDING_EXTERNAL_DESTRUCTION", CmkStatus::Deleted},
      {"EXTERNAL_DESTRUCTION_FAILED", CmkStatus::Deleted},
  };
  for (auto [state, status] : table) {
    INFO(state);
    auto got = gcp_cmk_status(state);
    REQUIRE(got.has_value());
    CHECK(*got == status);
  }
}

TEST_CASE("an unknown or differently cased Cloud KMS state maps to nothing", "[kms][gcp]") {
  CHECK_FALSE(gcp_cmk_status("").has_value());
  CHECK_FALSE(gcp_cmk_status("enabled").has_value());
  CHECK_FALSE(gcp_cmk_status("CRYPTO_KEY_VERSION_STATE_UNSPECIFIED").has_value());
  CHECK_FALSE(gcp_cmk_status("Enabled").has_value());
}
