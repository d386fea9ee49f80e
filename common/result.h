#pragma once
// Value-or-error for every I/O call. The error kind decides what the caller does next
// (retry, requeue, give up), so it is part of every error rather than a string to parse.

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace byok {

enum class ErrorKind {
  Unavailable,  // network down, 5xx, timeout: retry with backoff
  Throttled,    // 429 or provider throttling: retry with backoff
  // A whole request ran out of its time (a slow drip, a black hole): retry with backoff, but
  // never again inside the same call, which already spent its whole budget on one attempt.
  DeadlineExceeded,
  Conflict,         // 409 / stale resourceVersion: requeue at once
  NotFound,         // 404
  Gone,             // 410: a watch's resourceVersion is too old; relist
  InvalidArgument,  // bad input: terminal until the object changes
  // The world is not in a state that allows this (yet): the runtime's default is Terminal; a
  // reconciler that expects it to clear requeues after its own delay (ImportedKey: KmsNotReady).
  FailedPrecondition,
  // A KMS key by that name exists and is not the caller's (another owner, or unusable for this
  // key): terminal until the name changes.
  AlreadyExists,
  Unauthenticated,   // 401
  PermissionDenied,  // 403
  Unsupported,       // the module/provider cannot do this at all
  Internal,          // a bug or an unexpected answer
};

const char* to_string(ErrorKind kind);

struct Error {
  Error() = default;
  Error(ErrorKind k, std::string m, std::optional<std::chrono::seconds> after = std::nullopt)
      : kind(k), message(std::move(m)), retry_after(after) {}

  ErrorKind kind = ErrorKind::Internal;
  std::string message;
  // How long the server asked the caller to stay away (an HTTP Retry-After on a throttling or
  // unavailable answer). The work queue waits at least this long before the next attempt.
  std::optional<std::chrono::seconds> retry_after;

  // Prefixes the message with what was being done, so an error read in a log or a condition
  // says which call failed ("GET /apis/...: connection refused").
  Error context(const std::string& what) const {
    return Error{kind, what + ": " + message, retry_after};
  }
};

// The one table from an error's kind to what comes next. Every "is this transient?" in the tree
// reads it: the reconcile's result (controller/runtime/error_policy.h), the conditions' Unknown
// versus False, a KMS client deciding whether a failed fallback hides the first answer. Only a
// KMS client's quick in-call retry (kms/rest_call.cpp) is narrower, for reasons given there.
enum class Recovery {
  Backoff,  // the world may heal on its own: try again with per-item exponential backoff
  Refetch,  // the object (or the watch) moved under us: read it again at once
  Lasting,  // someone must change something: report it; look again after a change or a delay
};
Recovery recovery_for(ErrorKind kind);
inline bool transient(ErrorKind kind) { return recovery_for(kind) == Recovery::Backoff; }

inline Error make_error(ErrorKind kind, std::string message) {
  return Error{kind, std::move(message)};
}

// A minimal std::expected stand-in (GCC 12 ships C++20 without <expected>).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(Error error) : v_(std::move(error)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)) {}
  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Error& error() const { return *error_; }

 private:
  std::optional<Error> error_;
};

using Status = Result<void>;

}  // namespace byok
