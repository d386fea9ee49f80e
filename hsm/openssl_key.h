#pragma once
// OpenSSL key ownership and decoding shared by the KEK reader and the software wrap path.

#include <cstdint>
#include <memory>
#include <span>

#include <openssl/evp.h>

namespace byok::hsm {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

// Decodes DER or PEM in any structure OpenSSL knows (SubjectPublicKeyInfo, PKCS#1, PKCS#8, ...)
// without the deprecated type-specific readers. `selection` is EVP_PKEY_PUBLIC_KEY or
// EVP_PKEY_KEYPAIR. Null when the bytes are not such a key.
PkeyPtr decode_pkey(std::span<const std::uint8_t> data, int selection);

}  // namespace byok::hsm
