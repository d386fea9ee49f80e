#pragma once
// What an ImportedKey's key type becomes in Cloud KMS, and which ImportJob methods can carry it.
// Pure functions, no I/O.
//
// | keyType      | CryptoKey purpose   | CryptoKeyVersion algorithm  | material (after unwrap) |
// |--------------|---------------------|-----------------------------|-------------------------|
// | aes256-gcm96 | ENCRYPT_DECRYPT     | GOOGLE_SYMMETRIC_ENCRYPTION | 32 raw bytes            |
// | aes128-gcm96 | RAW_ENCRYPT_DECRYPT | AES_128_GCM                 | 16 raw bytes            |
// | rsa-2048     | ASYMMETRIC_DECRYPT  | RSA_DECRYPT_OAEP_2048_SHA256 | PKCS#8 DER             |
// | rsa-3072     | ASYMMETRIC_DECRYPT  | RSA_DECRYPT_OAEP_3072_SHA256 | PKCS#8 DER             |
// | rsa-4096     | ASYMMETRIC_DECRYPT  | RSA_DECRYPT_OAEP_4096_SHA256 | PKCS#8 DER             |
// | ecdsa-p256   | ASYMMETRIC_SIGN     | EC_SIGN_P256_SHA256         | PKCS#8 DER (RFC 5915)   |
// | ecdsa-p384   | ASYMMETRIC_SIGN     | EC_SIGN_P384_SHA384         | PKCS#8 DER (RFC 5915)   |
// | ed25519      | ASYMMETRIC_SIGN     | EC_SIGN_ED25519             | PKCS#8 DER              |
// | ecdsa-p521, chacha20-poly1305 | Unsupported: Cloud KMS has no such algorithm         |
//
// Why these: GOOGLE_SYMMETRIC_ENCRYPTION is the AES-256-GCM key Google services accept as a CMEK;
// AES-128 exists only as a raw-encryption algorithm (AES_128_GCM), which Cloud KMS imports but
// Google services do not take as a CMEK. RSA keys are encryption keys here (ASYMMETRIC_DECRYPT,
// OAEP with SHA-256), as Aiven's GCP CMKs are; EC keys can only sign in Cloud KMS.

#include <string>
#include <vector>

#include "common/result.h"

namespace byok::kms::gcp {

struct ImportSpec {
  std::string purpose;    // CryptoKey.purpose
  std::string algorithm;  // CryptoKeyVersion algorithm (versionTemplate and import request)
  bool rsa = false;       // RSA material: the direct RSA_OAEP_*_SHA256 methods cannot carry it
  // ENCRYPT_DECRYPT keys have a primary version; Cloud KMS omits it for every other purpose.
  bool has_primary() const { return purpose == "ENCRYPT_DECRYPT"; }
};

// InvalidArgument for a word that is not a key type, Unsupported (saying why) for a type Cloud
// KMS cannot hold.
Result<ImportSpec> gcp_import_spec(const std::string& key_type);

// ImportJob importMethods that can carry `key_type`, best first: the CKM_RSA_AES_KEY_WRAP
// methods with SHA-256 before SHA-1 and 4096-bit before 3072-bit, then (not for RSA material)
// the direct RSA-OAEP SHA-256 methods. The caller picks the first its HSM can do.
Result<std::vector<std::string>> gcp_wrapping_algorithms(const std::string& key_type);

// The label value marking the owner: Google label values allow lower-case letters, digits, '_'
// and '-', at most 63 characters. Lower-cases, maps anything else to '_', truncates.
std::string owner_label_value(const std::string& owner);
inline constexpr const char* kOwnerLabel = "byok-dev-owner";

// True for a valid CryptoKey or ImportJob id: [a-zA-Z0-9_-]{1,63}.
bool valid_resource_id(const std::string& id);

}  // namespace byok::kms::gcp
