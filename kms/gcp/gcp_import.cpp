#include "kms/gcp/gcp_import.h"

#include <cctype>
#include <map>

namespace byok::kms::gcp {

Result<ImportSpec> gcp_import_spec(const std::string& key_type) {
  static const std::map<std::string, ImportSpec> table = {
      {"aes256-gcm96", {"ENCRYPT_DECRYPT", "GOOGLE_SYMMETRIC_ENCRYPTION", false}},
      {"aes128-gcm96", {"RAW_ENCRYPT_DECRYPT", "AES_128_GCM", false}},
      {"rsa-2048", {"ASYMMETRIC_DECRYPT", "RSA_DECRYPT_OAEP_2048_SHA256", true}},
      {"rsa-3072", {"ASYMMETRIC_DECRYPT", "RSA_DECRYPT_OAEP_3072_SHA256", true}},
      {"rsa-4096", {"ASYMMETRIC_DECRYPT", "RSA_DECRYPT_OAEP_4096_SHA256", true}},
      {"ecdsa-p256", {"ASYMMETRIC_SIGN", "EC_SIGN_P256_SHA256", false}},
      {"ecdsa-p384", {"ASYMMETRIC_SIGN", "EC_SIGN_P384_SHA384", false}},
      {"ed25519", {"ASYMMETRIC_SIGN", "EC_SIGN_ED25519", false}},
  };
  if (auto it = table.find(key_type); it != table.end()) return it->second;
  if (key_type == "chacha20-poly1305")
    return make_error(ErrorKind::Unsupported,
                      "Google Cloud KMS does not import chacha20-poly1305 keys: it has no "
                      "ChaCha20 algorithm");
  if (key_type == "ecdsa-p521")
    return make_error(ErrorKind::Unsupported,
                      "Google Cloud KMS does not import ecdsa-p521 keys: it has no P-521 "
                      "algorithm (EC_SIGN_P256_SHA256, EC_SIGN_P384_SHA384, EC_SIGN_SECP256K1_"
                      "SHA256 and EC_SIGN_ED25519 only)");
  return make_error(ErrorKind::InvalidArgument, "unknown key type \"" + key_type + "\"");
}

Result<std::vector<std::string>> gcp_wrapping_algorithms(const std::string& key_type) {
  auto spec = gcp_import_spec(key_type);
  if (!spec) return spec.error();
  std::vector<std::string> out = {"RSA_OAEP_4096_SHA256_AES_256", "RSA_OAEP_3072_SHA256_AES_256",
                                  "RSA_OAEP_4096_SHA1_AES_256", "RSA_OAEP_3072_SHA1_AES_256"};
  // "Due to technical limitations of RSA wrapping, this method cannot be used to wrap RSA keys
  // for import" (ImportMethod reference).
  if (!spec->rsa) {
    out.emplace_back("RSA_OAEP_4096_SHA256");
    out.emplace_back("RSA_OAEP_3072_SHA256");
  }
  return out;
}

std::string owner_label_value(const std::string& owner) {
  std::string out;
  for (char c : owner) {
    if (out.size() == 63) break;
    auto u = static_cast<unsigned char>(c);
    char l = static_cast<char>(std::tolower(u));
    bool ok = (l >= 'a' && l <= 'z') || (l >= '0' && l <= '9') || l == '_' || l == '-';
    out += ok ? l : '_';
  }
  return out;
}

bool valid_resource_id(const std::string& id) {
  if (id.empty() || id.size() > 63) return false;
  for (char c : id)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return false;
  return true;
}

}  // namespace byok::kms::gcp
