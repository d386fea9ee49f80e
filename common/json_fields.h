#pragma once
// Reading fields of a KMS's JSON answer without trusting its shape: a field of the wrong type
// reads as absent, so a hostile or broken answer becomes an error the client words ("no KeyId in
// the answer"), never an exception out of nlohmann::json (whose value() and get<>() throw on a
// type mismatch) and never an overflowed number. Every KMS client reads answers through these,
// and so does everything else that reads JSON it did not make.

#include <climits>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/clock.h"

namespace byok {

// The field as a string; "" when absent or not a string (also when `j` is not an object).
inline std::string str(const nlohmann::json& j, const char* field) {
  auto it = j.find(field);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

// The field as a boolean; `fallback` when absent or not a boolean.
inline bool flag(const nlohmann::json& j, const char* field, bool fallback = false) {
  auto it = j.find(field);
  return it != j.end() && it->is_boolean() ? it->get<bool>() : fallback;
}

// The field as an integer; nullopt when absent or not an integer.
inline std::optional<long long> integer(const nlohmann::json& j, const char* field) {
  auto it = j.find(field);
  if (it == j.end()) return std::nullopt;
  if (it->is_number_unsigned()) {
    auto u = it->get<unsigned long long>();
    if (u > static_cast<unsigned long long>(LLONG_MAX)) return std::nullopt;
    return static_cast<long long>(u);
  }
  if (it->is_number_integer()) return it->get<long long>();
  return std::nullopt;
}

// The field as an object (or array), or an empty one of that kind: safe to look into.
inline const nlohmann::json& object_field(const nlohmann::json& j, const char* field) {
  static const nlohmann::json empty = nlohmann::json::object();
  auto it = j.find(field);
  return it != j.end() && it->is_object() ? *it : empty;
}
inline const nlohmann::json& array_field(const nlohmann::json& j, const char* field) {
  static const nlohmann::json empty = nlohmann::json::array();
  auto it = j.find(field);
  return it != j.end() && it->is_array() ? *it : empty;
}

// An access token is kept at most this long, whatever lifetime the answer claims (a hostile one
// could claim centuries, and overflow the clock arithmetic).
inline constexpr long long kMaxTokenLifetimeSeconds = 24 * 3600;

// A time given as seconds since 1970 (a number; fractional where AWS sends it), within the range
// the clock holds; nullopt otherwise.
inline std::optional<SystemTime> unix_time(const nlohmann::json& j, const char* field) {
  auto it = j.find(field);
  if (it == j.end() || !it->is_number()) return std::nullopt;
  return from_unix_seconds(it->get<double>());
}

}  // namespace byok
