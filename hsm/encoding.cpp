#include "hsm/encoding.h"

#include <openssl/evp.h>

#include "common/base64.h"

namespace byok::hsm {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string to_hex(std::span<const std::uint8_t> data) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(data.size() * 2);
  for (std::uint8_t b : data) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

std::optional<std::vector<std::uint8_t>> from_hex(std::string_view text) {
  if (text.starts_with("0x") || text.starts_with("0X")) text.remove_prefix(2);
  if (text.size() % 2 != 0) return std::nullopt;
  std::vector<std::uint8_t> out;
  out.reserve(text.size() / 2);
  for (std::size_t i = 0; i < text.size(); i += 2) {
    int hi = hex_value(text[i]), lo = hex_value(text[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<std::uint8_t>((hi << 4) | lo));
  }
  return out;
}

// Byte-vector views over common/base64, the project's one base64 implementation.
namespace {
std::string_view as_chars(std::span<const std::uint8_t> data) {
  return {reinterpret_cast<const char*>(data.data()), data.size()};
}
}  // namespace

std::string base64_encode(std::span<const std::uint8_t> data) {
  return byok::base64_encode(as_chars(data));
}
std::string base64url_encode(std::span<const std::uint8_t> data) {
  return byok::base64url_encode(as_chars(data));
}

std::optional<std::vector<std::uint8_t>> base64_decode(std::string_view text) {
  auto decoded = byok::base64_decode(text);
  if (!decoded) return std::nullopt;
  return std::vector<std::uint8_t>(decoded->begin(), decoded->end());
}

std::vector<std::uint8_t> sha256(std::span<const std::uint8_t> data) {
  std::vector<std::uint8_t> out(32);
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr);
  out.resize(len);
  return out;
}

std::string spki_fingerprint_sha256(std::span<const std::uint8_t> spki_der) {
  return to_hex(sha256(spki_der));
}

}  // namespace byok::hsm
