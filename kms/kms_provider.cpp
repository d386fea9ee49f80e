#include "kms/kms_provider.h"

namespace byok::kms {

const char* to_string(CmkStatus status) {
  switch (status) {
    case CmkStatus::Current:
      return "current";
    case CmkStatus::Old:
      return "old";
    case CmkStatus::Deleted:
      return "deleted";
  }
  return "unknown";
}

}  // namespace byok::kms
