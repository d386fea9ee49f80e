#include "hsm/wrap_spec.h"

namespace byok::hsm {

std::string_view oaep_hash_name(OaepHash hash) {
  return hash == OaepHash::Sha1 ? "SHA-1" : "SHA-256";
}

std::string describe(const WrapSpec& spec) {
  std::string out = spec.method == WrapMethod::RsaOaep ? "RSA-OAEP" : "RSA-AES-KEY-WRAP";
  out += "(OAEP ";
  out += oaep_hash_name(spec.hash);
  if (spec.kek_bits != 0) out += ", KEK " + std::to_string(spec.kek_bits) + " bits";
  out += ")";
  return out;
}

Status check_wrap_target(const WrapSpec& spec, KeyType target) {
  if (spec.method == WrapMethod::RsaOaep && !is_symmetric(target)) {
    return make_error(ErrorKind::InvalidArgument,
                      "direct RSA-OAEP can only carry symmetric keys, not " +
                          std::string(key_type_name(target)) +
                          "; use the RSA-AES key wrap (CKM_RSA_AES_KEY_WRAP) for private keys");
  }
  return {};
}

WrapSpec azure_byok_spec() { return WrapSpec{WrapMethod::RsaAesKeyWrap, OaepHash::Sha1, 0}; }

Result<WrapSpec> aws_wrapping_algorithm(std::string_view name) {
  if (name == "RSAES_OAEP_SHA_1") return WrapSpec{WrapMethod::RsaOaep, OaepHash::Sha1, 0};
  if (name == "RSAES_OAEP_SHA_256") return WrapSpec{WrapMethod::RsaOaep, OaepHash::Sha256, 0};
  if (name == "RSA_AES_KEY_WRAP_SHA_1")
    return WrapSpec{WrapMethod::RsaAesKeyWrap, OaepHash::Sha1, 0};
  if (name == "RSA_AES_KEY_WRAP_SHA_256")
    return WrapSpec{WrapMethod::RsaAesKeyWrap, OaepHash::Sha256, 0};
  if (name == "RSAES_PKCS1_V1_5")
    return make_error(ErrorKind::Unsupported, "AWS KMS no longer accepts RSAES_PKCS1_V1_5");
  return make_error(ErrorKind::InvalidArgument,
                    "unknown AWS wrapping algorithm \"" + std::string(name) +
                        "\" (RSAES_OAEP_SHA_1, RSAES_OAEP_SHA_256, RSA_AES_KEY_WRAP_SHA_1, "
                        "RSA_AES_KEY_WRAP_SHA_256)");
}

Result<WrapSpec> gcp_import_method(std::string_view name) {
  struct Row {
    std::string_view name;
    WrapSpec spec;
  };
  static constexpr Row kRows[] = {
      {"RSA_OAEP_3072_SHA1_AES_256", {WrapMethod::RsaAesKeyWrap, OaepHash::Sha1, 3072}},
      {"RSA_OAEP_4096_SHA1_AES_256", {WrapMethod::RsaAesKeyWrap, OaepHash::Sha1, 4096}},
      {"RSA_OAEP_3072_SHA256_AES_256", {WrapMethod::RsaAesKeyWrap, OaepHash::Sha256, 3072}},
      {"RSA_OAEP_4096_SHA256_AES_256", {WrapMethod::RsaAesKeyWrap, OaepHash::Sha256, 4096}},
      {"RSA_OAEP_3072_SHA256", {WrapMethod::RsaOaep, OaepHash::Sha256, 3072}},
      {"RSA_OAEP_4096_SHA256", {WrapMethod::RsaOaep, OaepHash::Sha256, 4096}},
  };
  for (const Row& r : kRows)
    if (r.name == name) return r.spec;
  return make_error(ErrorKind::InvalidArgument,
                    "unknown Google Cloud KMS import method \"" + std::string(name) +
                        "\" (RSA_OAEP_{3072,4096}_{SHA1,SHA256}_AES_256, "
                        "RSA_OAEP_{3072,4096}_SHA256)");
}

Result<WrapSpec> oci_wrapping_algorithm(std::string_view name) {
  if (name == "RSA_OAEP_AES_SHA256")
    return WrapSpec{WrapMethod::RsaAesKeyWrap, OaepHash::Sha256, 0};
  if (name == "RSA_OAEP_SHA256") return WrapSpec{WrapMethod::RsaOaep, OaepHash::Sha256, 0};
  return make_error(ErrorKind::InvalidArgument,
                    "unknown OCI wrapping algorithm \"" + std::string(name) +
                        "\" (RSA_OAEP_AES_SHA256, RSA_OAEP_SHA256)");
}

Result<WrapSpec> transit_hash_function(std::string_view name) {
  if (name == "SHA1") return WrapSpec{WrapMethod::RsaAesKeyWrap, OaepHash::Sha1, 0};
  if (name == "SHA256" || name.empty())
    return WrapSpec{WrapMethod::RsaAesKeyWrap, OaepHash::Sha256, 0};
  if (name == "SHA224" || name == "SHA384" || name == "SHA512")
    return make_error(ErrorKind::Unsupported,
                      "transit hash_function " + std::string(name) +
                          " is not supported here; use SHA1 or SHA256");
  return make_error(ErrorKind::InvalidArgument,
                    "unknown transit hash_function \"" + std::string(name) + "\" (SHA1, SHA256)");
}

Result<WrapSpec> thalassa_hash_function(std::string_view name) {
  if (name == "sha1") return WrapSpec{WrapMethod::RsaAesKeyWrap, OaepHash::Sha1, 0};
  if (name == "sha256") return WrapSpec{WrapMethod::RsaAesKeyWrap, OaepHash::Sha256, 0};
  return make_error(ErrorKind::InvalidArgument,
                    "unknown thalassa hashFunction \"" + std::string(name) + "\" (sha256, sha1)");
}

Result<WrapSpec> wrap_spec_for(std::string_view provider, std::string_view algorithm) {
  if (provider == "aws") return aws_wrapping_algorithm(algorithm);
  if (provider == "gcp") return gcp_import_method(algorithm);
  if (provider == "oci") return oci_wrapping_algorithm(algorithm);
  if (provider == "transit") return transit_hash_function(algorithm);
  if (provider == "thalassa") return thalassa_hash_function(algorithm);
  if (provider == "azure") {
    if (algorithm == "CKM_RSA_AES_KEY_WRAP" || algorithm.empty()) return azure_byok_spec();
    return make_error(ErrorKind::InvalidArgument, "Azure Key Vault imports only CKM_RSA_AES_KEY_WRAP "
                                                  "wraps, not \"" + std::string(algorithm) + "\"");
  }
  return make_error(ErrorKind::InvalidArgument,
                    "no wrap is known for provider \"" + std::string(provider) + "\"");
}

}  // namespace byok::hsm
