#pragma once
// Time is injected so decisions and queues can be tested without sleeping.

#include <chrono>
#include <optional>
#include <string>

namespace byok {

using SystemTime = std::chrono::system_clock::time_point;
using SteadyTime = std::chrono::steady_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual SystemTime now() const = 0;         // wall time, for timestamps written to objects
  virtual SteadyTime steady_now() const = 0;  // monotonic, for backoff and deadlines
};

class RealClock final : public Clock {
 public:
  SystemTime now() const override { return std::chrono::system_clock::now(); }
  SteadyTime steady_now() const override { return std::chrono::steady_clock::now(); }
};

// `t` in UTC through strftime's `format` (second precision), e.g. "%Y%m%dT%H%M%SZ".
std::string format_utc(SystemTime t, const char* format);
// RFC 3339 in UTC with second precision, as Kubernetes writes metav1.Time ("2026-11-23T15:38:00Z").
std::string format_rfc3339(SystemTime t);
// Parses an RFC 3339 time: YYYY-MM-DDTHH:MM:SS, optional fraction (to the nanosecond), then Z or
// an offset (+01:00); no zone is taken as UTC. False on anything else: out-of-range fields
// (month 13, February 30), trailing bytes, or a year the clock cannot hold (outside
// kMinRfc3339Year..kMaxRfc3339Year, where 64-bit nanoseconds since 1970 overflow). A leap
// second (:60) reads as :59.
inline constexpr int kMinRfc3339Year = 1678;
inline constexpr int kMaxRfc3339Year = 2261;
bool parse_rfc3339(const std::string& text, SystemTime& out);
// Seconds since 1970 as KMS answers give them (AWS fractional, Azure and Vault integer), in the
// same range; nullopt for anything outside it (or NaN), never an overflowed time.
std::optional<SystemTime> from_unix_seconds(double seconds);

}  // namespace byok
