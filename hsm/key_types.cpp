#include "hsm/key_types.h"

#include <array>

namespace byok::hsm {
namespace {

struct Row {
  KeyType type;
  std::string_view name;
  KeyFamily family;
  unsigned size;
};

constexpr std::array<Row, 10> kRows{{
    {KeyType::Aes128Gcm96, "aes128-gcm96", KeyFamily::Aes, 16},
    {KeyType::Aes256Gcm96, "aes256-gcm96", KeyFamily::Aes, 32},
    {KeyType::Chacha20Poly1305, "chacha20-poly1305", KeyFamily::Chacha20, 32},
    {KeyType::Rsa2048, "rsa-2048", KeyFamily::Rsa, 2048},
    {KeyType::Rsa3072, "rsa-3072", KeyFamily::Rsa, 3072},
    {KeyType::Rsa4096, "rsa-4096", KeyFamily::Rsa, 4096},
    {KeyType::EcdsaP256, "ecdsa-p256", KeyFamily::Ec, 256},
    {KeyType::EcdsaP384, "ecdsa-p384", KeyFamily::Ec, 384},
    {KeyType::EcdsaP521, "ecdsa-p521", KeyFamily::Ec, 521},
    {KeyType::Ed25519, "ed25519", KeyFamily::Ed25519, 255},
}};

constexpr std::array<KeyType, 10> kAll{
    KeyType::Aes128Gcm96, KeyType::Aes256Gcm96, KeyType::Chacha20Poly1305, KeyType::Rsa2048,
    KeyType::Rsa3072,     KeyType::Rsa4096,     KeyType::EcdsaP256,        KeyType::EcdsaP384,
    KeyType::EcdsaP521,   KeyType::Ed25519};

const Row& row(KeyType type) {
  for (const Row& r : kRows)
    if (r.type == type) return r;
  return kRows[0];
}

}  // namespace

std::string_view key_type_name(KeyType type) { return row(type).name; }

std::optional<KeyType> parse_key_type(std::string_view name) {
  for (const Row& r : kRows)
    if (r.name == name) return r.type;
  return std::nullopt;
}

std::string key_type_names() {
  std::string out;
  for (const Row& r : kRows) {
    if (!out.empty()) out += ", ";
    out += r.name;
  }
  return out;
}

std::span<const KeyType> all_key_types() { return kAll; }
KeyFamily key_family(KeyType type) { return row(type).family; }
bool is_symmetric(KeyType type) {
  return row(type).family == KeyFamily::Aes || row(type).family == KeyFamily::Chacha20;
}
unsigned key_size(KeyType type) { return row(type).size; }

}  // namespace byok::hsm
