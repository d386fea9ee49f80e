#pragma once
// The key types an imported key can have, named as the transit engine and the CRDs name them
// ("aes256-gcm96", "rsa-3072", "ecdsa-p256", ...).

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace byok::hsm {

enum class KeyType {
  Aes128Gcm96,
  Aes256Gcm96,
  Chacha20Poly1305,
  Rsa2048,
  Rsa3072,
  Rsa4096,
  EcdsaP256,
  EcdsaP384,
  EcdsaP521,
  Ed25519,
};

enum class KeyFamily { Aes, Chacha20, Rsa, Ec, Ed25519 };

std::string_view key_type_name(KeyType type);
std::optional<KeyType> parse_key_type(std::string_view name);
// "aes128-gcm96, aes256-gcm96, ..." for help texts and error messages.
std::string key_type_names();
std::span<const KeyType> all_key_types();

KeyFamily key_family(KeyType type);
bool is_symmetric(KeyType type);
// AES/ChaCha20: key length in bytes; RSA: modulus bits; EC: field bits; Ed25519: 255.
unsigned key_size(KeyType type);

}  // namespace byok::hsm
