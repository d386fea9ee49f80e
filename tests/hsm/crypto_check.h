#pragma once
// The tests' own view of the crypto: OpenSSL does what a KMS does on import (unwrap with the KEK
// private key), and the token proves the unwrapped key is the right one (it encrypts or signs,
// OpenSSL decrypts or verifies with the unwrapped material).

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <openssl/evp.h>

#include "hsm/key_types.h"
#include "hsm/openssl_key.h"
#include "hsm/wrap_spec.h"
#include "tests/hsm/test_token.h"

namespace byok::hsm::test {

using Bytes = std::vector<std::uint8_t>;
using Pkey = PkeyPtr;  // hsm/openssl_key.h

Pkey generate_rsa(unsigned bits);
Pkey generate_ec(const char* group);  // "P-256", "P-384", "P-521"
Pkey generate_ed25519();
Pkey generate_for(KeyType type);  // asymmetric types only
Bytes public_der(EVP_PKEY* key);  // SubjectPublicKeyInfo
std::string public_pem(EVP_PKEY* key);
Bytes private_pkcs8(EVP_PKEY* key);
std::string private_pem(EVP_PKEY* key);
Bytes random_bytes(std::size_t n);

// The KMS side.
std::optional<Bytes> oaep_decrypt(EVP_PKEY* kek, OaepHash hash, std::span<const std::uint8_t> ct);
std::optional<Bytes> kwp_unwrap(std::span<const std::uint8_t> aes_key,
                                std::span<const std::uint8_t> ct);
// Splits the blob at the KEK's modulus size: OAEP part, then KWP part.
std::optional<Bytes> unwrap_rsa_aes(EVP_PKEY* kek, OaepHash hash,
                                    std::span<const std::uint8_t> blob);
// PKCS#8 by its DER length (tolerates SoftHSM's trailing zero padding); *trailing gets the rest.
Pkey parse_pkcs8(std::span<const std::uint8_t> der, std::size_t* trailing = nullptr);
bool same_private_key(EVP_PKEY* a, EVP_PKEY* b);

// The token side.
CK_OBJECT_HANDLE find_object(RawSession& s, CK_OBJECT_CLASS cls, const std::string& label);
Bytes token_gcm_encrypt(RawSession& s, CK_OBJECT_HANDLE key, std::span<const std::uint8_t> iv,
                        std::span<const std::uint8_t> plaintext);
std::optional<Bytes> gcm_decrypt(std::span<const std::uint8_t> key,
                                 std::span<const std::uint8_t> iv,
                                 std::span<const std::uint8_t> ct_and_tag);
// RSA: CKM_SHA256_RSA_PKCS; EC: CKM_ECDSA over SHA-256(msg), returned as a DER ECDSA-Sig-Value.
Bytes token_sign(RawSession& s, CK_OBJECT_HANDLE key, KeyType type,
                 std::span<const std::uint8_t> msg);
bool verify(EVP_PKEY* key, KeyType type, std::span<const std::uint8_t> msg,
            std::span<const std::uint8_t> sig);
// Imports known material as a token key (sensitive, extractable), as a ceremony would.
// Known material onto the token with C_CreateObject: a secret key of `key_type` (CKK_AES,
// CKK_CHACHA20), or an RSA, EC or Ed25519 private key (Ed25519: CKK_EC_EDWARDS, a token with
// PKCS#11 3.0 keys such as kryoptic; SoftHSM2 2.6.1 cannot take one).
CK_OBJECT_HANDLE import_secret(RawSession& s, const std::string& label,
                               std::span<const std::uint8_t> value, CK_KEY_TYPE key_type = CKK_AES);
CK_OBJECT_HANDLE import_private(RawSession& s, const std::string& label, EVP_PKEY* key);

// Proves wrapped material is this token key: unwraps it like the KMS would and checks it
// against the token (encrypt/sign in the token, decrypt/verify with the unwrapped key).
// Returns "" on success, else what failed.
std::string check_wrapped(TestToken& token, const std::string& label, KeyType type,
                          const WrapSpec& spec, EVP_PKEY* kek, std::span<const std::uint8_t> blob);

}  // namespace byok::hsm::test
