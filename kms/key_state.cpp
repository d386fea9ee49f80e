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
