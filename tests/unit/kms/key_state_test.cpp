#include <catch2/catch.hpp>

#include "kms/aws/aws_traits.h"

using namespace byok::kms;

TEST_CASE("every AWS KeyState maps to a CMK status word", "[kms][key_state]") {
  const std::pair<const char*, CmkStatus> table[] = {
      {"Enabled", CmkStatus::Current},
      {"Updating", CmkStatus::Current},
      {"Disabled", CmkStatus::Old},
      {"Creating", CmkStatus::Old},
      {"PendingImport", CmkStatus::Old},
      {"Unavailable", CmkStatus::Old},
      {"PendingDeletion", CmkStatus::Deleted},
      {"PendingReplicaDeletion", CmkStatus::Deleted},
  };
  for (auto [state, status] : table) {
    INFO(state);
    auto got = aws_cmk_status(state);
    REQUIRE(got.has_value());
    CHECK(*got == status);
  }
}

TEST_CASE("an unknown or differently cased AWS KeyState maps to nothing", "[kms][key_state]") {
  CHECK_FALSE(aws_cmk_status("").has_value());
  CHECK_FALSE(aws_cmk_status("enabled").has_value());
  CHECK_FALSE(aws_cmk_status("Destroyed").has_value());
}

TEST_CASE("CMK status words are the registry's", "[kms][key_state]") {
  CHECK(std::string(to_string(CmkStatus::Current)) == "current");
  CHECK(std::string(to_string(CmkStatus::Old)) == "old");
  CHECK(std::string(to_string(CmkStatus::Deleted)) == "deleted");
}
