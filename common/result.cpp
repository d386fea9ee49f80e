#include "common/result.h"

namespace byok {

const char* to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::Unavailable: return "Unavailable";
    case ErrorKind::Throttled: return "Throttled";
    case ErrorKind::DeadlineExceeded: return "DeadlineExceeded";
    case ErrorKind::Conflict: return "Conflict";
    case ErrorKind::NotFound: return "NotFound";
    case ErrorKind::Gone: return "Gone";
    case ErrorKind::InvalidArgument: return "InvalidArgument";
    case ErrorKind::FailedPrecondition: return "FailedPrecondition";
    case ErrorKind::AlreadyExists: return "AlreadyExists";
    case ErrorKind::Unauthenticated: return "Unauthenticated";
    case ErrorKind::PermissionDenied: return "PermissionDenied";
    case ErrorKind::Unsupported: return "Unsupported";
    case ErrorKind::Internal: return "Internal";
  }
  return "Internal";
}

}  // namespace byok
