#include "common/result.h"

namespace byok {

const char* to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::Unavailable:
      return "Unavailable";
    case ErrorKind::Throttled:
      return "Throttled";
    case ErrorKind::DeadlineExceeded:
      return "DeadlineExceeded";
    case ErrorKind::Conflict:
      return "Conflict";
    case ErrorKind::NotFound:
      return "NotFound";
    case ErrorKind::Gone:
      return "Gone";
    case ErrorKind::InvalidArgument:
      return "InvalidArgument";
    case ErrorKind::FailedPrecondition:
      return "FailedPrecondition";
    case ErrorKind::AlreadyExists:
      return "AlreadyExists";
    case ErrorKind::Unauthenticated:
      return "Unauthenticated";
    case ErrorKind::PermissionDenied:
      return "PermissionDenied";
    case ErrorKind::Unsupported:
      return "Unsupported";
    case ErrorKind::Internal:
      return "Internal";
  }
  return "Internal";
}

Recovery recovery_for(ErrorKind kind) {
  switch (kind) {
    // Internal is a bug or an answer nobody expected: often a server's bad moment, and a
    // reconcile that gives up on it would wait for a change that never comes.
    case ErrorKind::Unavailable:
    case ErrorKind::Throttled:
    case ErrorKind::DeadlineExceeded:
    case ErrorKind::Internal:
      return Recovery::Backoff;
    case ErrorKind::Conflict:
    case ErrorKind::Gone:
      return Recovery::Refetch;
    case ErrorKind::NotFound:
    case ErrorKind::InvalidArgument:
    case ErrorKind::FailedPrecondition:
    case ErrorKind::AlreadyExists:
    case ErrorKind::Unauthenticated:
    case ErrorKind::PermissionDenied:
    case ErrorKind::Unsupported:
      return Recovery::Lasting;
  }
  return Recovery::Lasting;
}

}  // namespace byok
