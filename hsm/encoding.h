#pragma once
// Text encodings of public data (ciphertexts, ids, fingerprints). Not for secrets: the results
// are ordinary std::strings.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace byok::hsm {

std::string to_hex(std::span<const std::uint8_t> data);  // lowercase, no separators
// Accepts upper or lower case and an optional "0x" prefix; nullopt on odd length or a non-hex char.
std::optional<std::vector<std::uint8_t>> from_hex(std::string_view text);

std::string base64_encode(std::span<const std::uint8_t> data);     // RFC 4648 section 4, padded
std::string base64url_encode(std::span<const std::uint8_t> data);  // RFC 4648 section 5, unpadded
// Decodes either alphabet, with or without padding; whitespace (PEM-style line breaks) is skipped.
std::optional<std::vector<std::uint8_t>> base64_decode(std::string_view text);

std::vector<std::uint8_t> sha256(std::span<const std::uint8_t> data);
// SHA-256 of a SubjectPublicKeyInfo DER, hex; the fingerprint operators compare with the KMS's.
std::string spki_fingerprint_sha256(std::span<const std::uint8_t> spki_der);

}  // namespace byok::hsm
