#pragma once
// Small text helpers shared by the protocol code (header names, hosts, error words are ASCII).

#include <cctype>
#include <string>
#include <string_view>

namespace byok {

// ASCII lowercase; other bytes (UTF-8 included) are left as they are.
inline std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace byok
