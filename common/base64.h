#pragma once
// Base64 (RFC 4648 section 4) and base64url (section 5, no padding) for wire formats.

#include <string>
#include <string_view>

#include "common/result.h"

namespace byok {

std::string base64_encode(std::string_view bytes);
std::string base64url_encode(std::string_view bytes);  // unpadded, as JOSE and .byok use
// Accepts either alphabet, with or without padding; white space is ignored.
Result<std::string> base64_decode(std::string_view text);

}  // namespace byok
