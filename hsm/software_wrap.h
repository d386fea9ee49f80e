#pragma once
// The software path: the same wraps as Pkcs11Hsm::wrap_key, done with OpenSSL 3 for key material
// that is already outside an HSM (a PEM/DER private key file or a raw symmetric key file).
//
// Guarantees: every buffer that holds key material (the file contents, the PKCS#8 encoding, the
// ephemeral AES key) is a SecureBuffer, wiped when freed; OpenSSL's own copies live in EVP_PKEY
// objects, which OpenSSL clears on free. The output has exactly the layout of the HSM path, with
// the one difference that KWP pads per RFC 5649 only (no extra zero padding of the PKCS#8).
// Assumes: the caller accepts that the material is in this process's memory; that is the point
// of this path, and why the HSM path exists for everything else.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "hsm/kek.h"
#include "hsm/key_types.h"
#include "hsm/secure_buffer.h"
#include "hsm/wrap_spec.h"

namespace byok::hsm {

struct SoftwareKey {
  KeyType type = KeyType::Aes256Gcm96;
  SecureBuffer material;  // raw bytes (symmetric) or PKCS#8 PrivateKeyInfo DER (asymmetric)
};

// Private keys: PEM or DER, PKCS#8 / PKCS#1 / SEC1 (unencrypted). Otherwise raw symmetric bytes:
// 16 bytes -> aes128-gcm96, 32 bytes -> aes256-gcm96 unless `hint` says chacha20-poly1305.
Result<SoftwareKey> software_key_from_bytes(std::span<const std::uint8_t> data,
                                            std::optional<KeyType> hint = std::nullopt);
Result<SoftwareKey> load_software_key(const std::string& path,
                                      std::optional<KeyType> hint = std::nullopt);

Result<std::vector<std::uint8_t>> software_wrap(const SoftwareKey& key, const WrapSpec& spec,
                                                std::span<const std::uint8_t> kek);

// The two halves, for tests and for callers that build their own layouts.
Result<std::vector<std::uint8_t>> rsa_oaep_encrypt(const Kek& kek, OaepHash hash,
                                                   std::span<const std::uint8_t> plaintext);
// RFC 5649 AES key wrap with padding (OpenSSL id-aes{128,192,256}-wrap-pad).
Result<std::vector<std::uint8_t>> aes_kwp_wrap(std::span<const std::uint8_t> aes_key,
                                               std::span<const std::uint8_t> plaintext);

}  // namespace byok::hsm
