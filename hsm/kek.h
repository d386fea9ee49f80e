#pragma once
// The KMS's wrapping public key (key-encryption key).
//
// Guarantees: parse_kek() accepts a SubjectPublicKeyInfo as DER or PEM ("PUBLIC KEY"; a PKCS#1
// "RSA PUBLIC KEY" PEM is accepted too), and returns it only if it is RSA-2048, 3072 or 4096
// with e = 65537 (what every KMS serves); anything else, e = 1 or 3 in particular, is
// InvalidArgument with a message that says why (WeakWrappingKey). The result
// holds only public data.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"

namespace byok::hsm {

struct Kek {
  std::vector<std::uint8_t> spki_der;  // normalised SubjectPublicKeyInfo DER
  std::vector<std::uint8_t> modulus;   // big-endian, no leading zero
  std::vector<std::uint8_t> public_exponent;
  unsigned bits = 0;
  std::string fingerprint_sha256;  // hex SHA-256 of spki_der
};

// The RSA sizes KMSs serve wrapping keys in; any other is refused.
constexpr bool is_kek_size(unsigned bits) { return bits == 2048 || bits == 3072 || bits == 4096; }

Result<Kek> parse_kek(std::span<const std::uint8_t> der_or_pem);

}  // namespace byok::hsm
