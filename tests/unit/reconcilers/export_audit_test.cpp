#include <catch2/catch.hpp>

#include <sstream>
#include <vector>

#include "reconcilers/imported_key/export_audit.h"
#include "tests/unit/support/recorded_events.h"

using namespace byok;

namespace {
using testing::RecordedEvents;
const nlohmann::json kKey = {
    {"metadata", {{"namespace", "team-a"}, {"name", "db"}, {"uid", "u-1"}}}};
const char* kAdminWords =
    "AccessDeniedException: arn:aws:iam::111122223333:role/kms-admin is not allowed";
}  // namespace

TEST_CASE(
    "audit: the KMS's words about the admin's credentials reach the admin's Event and the "
    "log, not the tenant's Event",
    "[importedkey][audit][tenancy]") {
  std::ostringstream log;
  Logger logger(log, Logger::Format::Json);
  RecordedEvents events;
  importedkey::ExportAudit audit(logger, events, "byok-system");
  audit.record(kKey, "aws-prod",
               {.stage = "outcome",
                .action = "import",
                .outcome = "failed",
                .hsm_key = "label team-a-db",
                .destination = "ClusterKmsProvider aws-prod",
                .message = kAdminWords});
  REQUIRE(events.events.size() == 2);
  const auto& tenant = events.events[0];
  const auto& admin = events.events[1];
  CHECK(tenant.first["metadata"]["namespace"] == "team-a");
  CHECK(tenant.second.reason == "ExportFailed");
  CHECK(tenant.second.note.find("111122223333") == std::string::npos);
  CHECK(admin.first["kind"] == "ClusterKmsProvider");
  CHECK(admin.second.note.find(kAdminWords) != std::string::npos);
  CHECK(log.str().find("111122223333") != std::string::npos);

  // A tenant's own KmsProvider: its own KMS's words are the tenant's to read.
  RecordedEvents own;
  importedkey::ExportAudit tenant_audit(logger, own, "byok-system");
  tenant_audit.record(
      kKey, "",
      {.stage = "outcome", .action = "import", .outcome = "failed", .message = kAdminWords});
  REQUIRE(own.events.size() == 1);
  CHECK(own.events[0].second.note.find(kAdminWords) != std::string::npos);
}
