#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace byok {

// Formats 16 random bytes as an RFC 4122 version-4 UUID (sets the version and variant bits).
std::string uuid_v4_from_bytes(std::array<uint8_t, 16> bytes);
// A fresh version-4 UUID from OpenSSL's CSPRNG.
std::string random_uuid();

}  // namespace byok
