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

// RFC 3986 percent-encoding of everything but the unreserved characters (A-Z a-z 0-9 - . _ ~),
// for path segments, query values and form bodies; `keep_slash` leaves '/' as it is (AWS's
// canonical URI).
inline std::string percent_encode(std::string_view s, bool keep_slash = false) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    bool unreserved = std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved || (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

}  // namespace byok
