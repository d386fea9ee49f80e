#pragma once
// The one reader of the operator's durations (flags, the verify-interval annotation).

#include <chrono>
#include <optional>
#include <string>

namespace byok {

// Parses "<n>s", "<n>m", "<n>h" (also combined: "1h30m"). Nothing for anything else.
std::optional<std::chrono::seconds> parse_duration(const std::string& text);

}  // namespace byok
