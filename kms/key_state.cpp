#include "kms/key_state.h"

namespace byok::kms {

const char* to_string(CmkStatus status) {
  switch (status) {
    case CmkStatus::Current: return "current";
    case CmkStatus::Old: return "old";
    case CmkStatus::Deleted: return "deleted";
  }
  return "unknown";
}

std::optional<CmkStatus> aws_cmk_status(std::string_view s) {
  if (s == "Enabled" || s == "Updating") return CmkStatus::Current;
  if (s == "Disabled" || s == "Creating" || s == "PendingImport" || s == "Unavailable")
    return CmkStatus::Old;
  if (s == "PendingDeletion" || s == "PendingReplicaDeletion") return CmkStatus::Deleted;
  return std::nullopt;
}

}  // namespace byok::kms

namespace byok::kms {

std::optional<CmkStatus> transit_cmk_status(std::string_view s) {
  if (s == "enabled" || s == "deletion_allowed") return CmkStatus::Current;
  if (s == "deleted") return CmkStatus::Deleted;
  return std::nullopt;
}

}  // namespace byok::kms

namespace byok::kms {

std::optional<CmkStatus> oci_cmk_status(std::string_view s) {
  if (s == "ENABLED" || s == "UPDATING" || s == "BACKUP_IN_PROGRESS") return CmkStatus::Current;
  if (s == "DISABLED" || s == "DISABLING" || s == "ENABLING" || s == "CREATING" ||
      s == "RESTORING" || s == "CANCELLING_DELETION")
    return CmkStatus::Old;
  if (s == "SCHEDULING_DELETION" || s == "PENDING_DELETION" || s == "DELETING" || s == "DELETED")
    return CmkStatus::Deleted;
  return std::nullopt;
}

}  // namespace byok::kms

namespace byok::kms {

std::optional<CmkStatus> gcp_cmk_status(std::string_view s) {
  if (s == "ENABLED") return CmkStatus::Current;
  if (s == "DISABLED" || s == "PENDING_GENERATION" || s == "PENDING_IMPORT" ||
      s == "IMPORT_FAILED" || s == "GENERATION_FAILED")
    return CmkStatus::Old;
  if (s == "DESTROY_SCHEDULED" || s == "DESTROYED" || s == "PENDING_EXTERNAL_DESTRUCTION" ||
      s == "EXTERNAL_DESTRUCTION_FAILED")
    return CmkStatus::Deleted;
  return std::nullopt;
}

}  // namespace byok::kms

namespace byok::kms {

std::optional<CmkStatus> azure_cmk_status(std::string_view s) {
  if (s == "Enabled") return CmkStatus::Current;
  if (s == "Disabled" || s == "NotYetValid" || s == "Expired") return CmkStatus::Old;
  if (s == "Deleted") return CmkStatus::Deleted;
  return std::nullopt;
}

}  // namespace byok::kms

namespace byok::kms {

std::optional<CmkStatus> thalassa_cmk_status(std::string_view s) {
  if (s == "active") return CmkStatus::Current;
  if (s == "disabled") return CmkStatus::Old;
  if (s == "pending_deletion") return CmkStatus::Deleted;
  return std::nullopt;
}

}  // namespace byok::kms

namespace byok::kms {

std::optional<CmkStatus> cmk_status_for(std::string_view provider, std::string_view state) {
  if (provider == "aws") return aws_cmk_status(state);
  if (provider == "gcp") return gcp_cmk_status(state);
  if (provider == "azure") return azure_cmk_status(state);
  if (provider == "oci") return oci_cmk_status(state);
  if (provider == "transit") return transit_cmk_status(state);
  if (provider == "thalassa") return thalassa_cmk_status(state);
  return std::nullopt;
}

}  // namespace byok::kms
