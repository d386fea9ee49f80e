#include "hsm/kek.h"

#include <memory>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "hsm/encoding.h"
#include "hsm/openssl_key.h"

namespace byok::hsm {
namespace {

struct BnFree {
  void operator()(BIGNUM* b) const { BN_free(b); }
};

PkeyPtr read_public(std::span<const std::uint8_t> in) {
  return decode_pkey(in, EVP_PKEY_PUBLIC_KEY);
}

std::vector<std::uint8_t> bn_bytes(const EVP_PKEY* key, const char* name) {
  BIGNUM* raw = nullptr;
  if (!EVP_PKEY_get_bn_param(key, name, &raw)) return {};
  std::unique_ptr<BIGNUM, BnFree> bn(raw);
  std::vector<std::uint8_t> out(BN_num_bytes(bn.get()));
  BN_bn2bin(bn.get(), out.data());
  return out;
}

}  // namespace

Result<Kek> parse_kek(std::span<const std::uint8_t> der_or_pem) {
  if (der_or_pem.empty()) return make_error(ErrorKind::InvalidArgument, "the KEK is empty");
  PkeyPtr key = read_public(der_or_pem);
  if (!key) {
    return make_error(ErrorKind::InvalidArgument,
                      "the KEK is not a public key (expected a DER or PEM SubjectPublicKeyInfo)");
  }
  if (EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_RSA) {
    std::string type =
        EVP_PKEY_get0_type_name(key.get()) ? EVP_PKEY_get0_type_name(key.get()) : "unknown";
    return make_error(ErrorKind::InvalidArgument,
                      "the KEK is a " + type + " key; only RSA wrapping keys are supported");
  }
  Kek kek;
  kek.bits = static_cast<unsigned>(EVP_PKEY_get_bits(key.get()));
  // Every KMS documents RSA-2048/3072/4096 with e = 65537. A small or odd exponent (e = 1 makes
  // the "encryption" the identity) or an odd size is not a wrapping key any KMS would serve: it
  // is refused, whoever sent it.
  if (!is_kek_size(kek.bits))
    return make_error(ErrorKind::InvalidArgument,
                      "the KEK is RSA-" + std::to_string(kek.bits) +
                          "; at least 2048 bits are required, and KMS wrapping keys are RSA-2048, "
                          "3072 or 4096 (WeakWrappingKey)");
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(key.get(), &der);
  if (len <= 0) return make_error(ErrorKind::Internal, "cannot encode the KEK as DER");
  kek.spki_der.assign(der, der + len);
  OPENSSL_free(der);
  kek.modulus = bn_bytes(key.get(), OSSL_PKEY_PARAM_RSA_N);
  kek.public_exponent = bn_bytes(key.get(), OSSL_PKEY_PARAM_RSA_E);
  if (kek.modulus.empty() || kek.public_exponent.empty())
    return make_error(ErrorKind::Internal, "cannot read the KEK's modulus/exponent");
  const std::vector<std::uint8_t> f4 = {0x01, 0x00, 0x01};
  if (kek.public_exponent != f4)
    return make_error(ErrorKind::InvalidArgument,
                      "the KEK's public exponent is not 65537 (WeakWrappingKey): refusing to wrap "
                      "for it; a KMS's wrapping key always uses e = 65537");
  kek.fingerprint_sha256 = spki_fingerprint_sha256(kek.spki_der);
  return kek;
}

}  // namespace byok::hsm
