#pragma once
// What a wrap must produce, and how each KMS's import option maps onto it.
//
//  RsaOaep:        RSA-OAEP(KEK, target)                                 symmetric targets only
//  RsaAesKeyWrap:  RSA-OAEP(KEK, ephemeral AES-256) || AES-KWP(eph, target)   (CKM_RSA_AES_KEY_WRAP)
// In both, the OAEP hash and the MGF1 hash are the same (SHA-1 or SHA-256) and the label is empty.
// Targets are encoded as raw key bytes (symmetric) or PKCS#8 DER (private keys).

#include <string>
#include <string_view>

#include "common/result.h"
#include "hsm/key_types.h"

namespace byok::hsm {

enum class WrapMethod { RsaOaep, RsaAesKeyWrap };
enum class OaepHash { Sha1, Sha256 };

struct WrapSpec {
  WrapMethod method = WrapMethod::RsaAesKeyWrap;
  OaepHash hash = OaepHash::Sha1;
  // If non-zero, the KEK must have exactly this many bits (Google's import methods name the size).
  unsigned kek_bits = 0;

  bool operator==(const WrapSpec&) const = default;
};

std::string describe(const WrapSpec& spec);  // "RSA-AES-KEY-WRAP(OAEP SHA-1)"
std::string_view oaep_hash_name(OaepHash hash);  // "SHA-1" / "SHA-256"

// InvalidArgument when the method cannot carry this key type (direct OAEP with a private key).
Status check_wrap_target(const WrapSpec& spec, KeyType target);

// Azure Key Vault .byok: always CKM_RSA_AES_KEY_WRAP with OAEP SHA-1.
WrapSpec azure_byok_spec();
// AWS KMS WrappingAlgorithm: RSAES_OAEP_SHA_1, RSAES_OAEP_SHA_256, RSA_AES_KEY_WRAP_SHA_1,
// RSA_AES_KEY_WRAP_SHA_256.
Result<WrapSpec> aws_wrapping_algorithm(std::string_view name);
// Google Cloud KMS ImportJob importMethod, e.g. RSA_OAEP_3072_SHA1_AES_256, RSA_OAEP_4096_SHA256.
Result<WrapSpec> gcp_import_method(std::string_view name);
// OCI Vault wrappingAlgorithm: RSA_OAEP_AES_SHA256, RSA_OAEP_SHA256.
Result<WrapSpec> oci_wrapping_algorithm(std::string_view name);
// Transit hash_function for the common wrap: SHA1 or SHA256 (the engine's default).
Result<WrapSpec> transit_hash_function(std::string_view name);
// Thalassa hashFunction for the common wrap: sha1 or sha256.
Result<WrapSpec> thalassa_hash_function(std::string_view name);
// The wrap a KMS provider ("aws", "azure", "gcp", "oci", "transit", "thalassa") means by its own
// algorithm word (as kms::KmsProvider::wrapping_algorithms() lists them).
Result<WrapSpec> wrap_spec_for(std::string_view provider, std::string_view algorithm);

}  // namespace byok::hsm
