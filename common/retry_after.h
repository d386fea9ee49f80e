#pragma once
// The one reader of an HTTP Retry-After header, for the KMS clients and the apiserver client.

#include <chrono>
#include <optional>
#include <string_view>

namespace byok {

// A Retry-After value's delay: delta-seconds only (at most 9 digits). Absent, an HTTP-date or
// anything else unreadable: nullopt, and the caller's own backoff stands. The caller caps what
// it honours (controller/runtime/error_policy.h), so a hostile server cannot park work.
std::optional<std::chrono::seconds> parse_retry_after(std::string_view value);

}  // namespace byok
