#pragma once
// What KMS integration tests share, header-only:
// - a transport that counts requests (to tell a retried call from a single one) and a loopback
//   port nothing listens on;
// - test-side key material and the common RSA-AES wrap done with OpenSSL directly, so the tests
//   do not depend on the product's hsm/ wrap code: fresh material of each ImportedKey type,
//   RSA-OAEP(KEK, ephemeral AES-256 key) || AES-KWP(ephemeral key, material) (RFC 5649,
//   EVP_aes_256_wrap_pad), and the checks that prove a KMS really holds the material (AES-GCM
//   decryption, signature verification). OpenSSL failures throw std::runtime_error.

#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "kms/http_transport.h"
#include "tests/harness/server_env.h"

namespace byok::testing {

// Counts what goes through.
class CountingTransport final : public kms::HttpTransport {
 public:
  explicit CountingTransport(std::unique_ptr<kms::HttpTransport> inner)
      : inner_(std::move(inner)) {}
  Result<kms::HttpResponse> send(const kms::HttpRequest& r) override {
    ++sent;
    return inner_->send(r);
  }
  std::atomic<int> sent{0};

 private:
  std::unique_ptr<kms::HttpTransport> inner_;
};

using Pkey = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

inline void ossl_check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("OpenSSL: ") + what + " failed");
}

inline std::string random_bytes(size_t n) {
  std::string out(n, '\0');
  ossl_check(RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) == 1,
             "RAND_bytes");
  return out;
}

// A name no earlier run used: `stem`, a dash and 10 random hex digits (the servers outlive a run).
inline std::string unique_name(const std::string& stem) {
  static const char* hex = "0123456789abcdef";
  std::string s = stem + "-";
  for (unsigned char c : random_bytes(5)) {
    s += hex[c >> 4];
    s += hex[c & 15];
  }
  return s;
}

// Material in the wrap's target encoding: raw bytes for symmetric types, PKCS#8 DER for private
// keys; `pkey` holds the private key for asymmetric types (null for symmetric ones).
struct TestMaterial {
  std::string bytes;
  Pkey pkey{nullptr, &EVP_PKEY_free};
};

inline TestMaterial make_material(const std::string& key_type) {
  TestMaterial m;
  if (key_type == "aes128-gcm96") {
    m.bytes = random_bytes(16);
    return m;
  }
  if (key_type == "aes256-gcm96" || key_type == "chacha20-poly1305") {
    m.bytes = random_bytes(32);
    return m;
  }
  EVP_PKEY* key = nullptr;
  if (key_type.rfind("rsa-", 0) == 0)
    key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA",
                            static_cast<size_t>(std::stoi(key_type.substr(4))));
  else if (key_type == "ecdsa-p256")
    key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  else if (key_type == "ecdsa-p384")
    key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384");
  else if (key_type == "ecdsa-p521")
    key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-521");
  else if (key_type == "ed25519")
    key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  else
    throw std::runtime_error("make_material: unknown key type " + key_type);
  ossl_check(key != nullptr, "EVP_PKEY_Q_keygen");
  m.pkey.reset(key);
  std::unique_ptr<PKCS8_PRIV_KEY_INFO, decltype(&PKCS8_PRIV_KEY_INFO_free)> p8(
      EVP_PKEY2PKCS8(key), &PKCS8_PRIV_KEY_INFO_free);
  ossl_check(p8 != nullptr, "EVP_PKEY2PKCS8");
  unsigned char* der = nullptr;
  int len = i2d_PKCS8_PRIV_KEY_INFO(p8.get(), &der);
  ossl_check(len > 0, "i2d_PKCS8_PRIV_KEY_INFO");
  m.bytes.assign(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return m;
}

inline Pkey public_key_from_spki(const std::string& der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  Pkey key(d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size())), &EVP_PKEY_free);
  ossl_check(key != nullptr, "d2i_PUBKEY");
  return key;
}

inline std::string rsa_oaep_encrypt(EVP_PKEY* pub, const EVP_MD* md, const std::string& in) {
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(EVP_PKEY_CTX_new(pub, nullptr),
                                                                  &EVP_PKEY_CTX_free);
  ossl_check(ctx && EVP_PKEY_encrypt_init(ctx.get()) == 1, "EVP_PKEY_encrypt_init");
  ossl_check(EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING) == 1, "OAEP padding");
  ossl_check(EVP_PKEY_CTX_set_rsa_oaep_md(ctx.get(), md) == 1, "OAEP md");
  ossl_check(EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), md) == 1, "MGF1 md");
  size_t len = 0;
  const auto* inp = reinterpret_cast<const unsigned char*>(in.data());
  ossl_check(EVP_PKEY_encrypt(ctx.get(), nullptr, &len, inp, in.size()) == 1, "OAEP size");
  std::string out(len, '\0');
  ossl_check(EVP_PKEY_encrypt(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len, inp,
                              in.size()) == 1,
             "OAEP encrypt");
  out.resize(len);
  return out;
}

inline std::string aes_kwp_wrap(const std::string& kek, const std::string& in) {
  std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(),
                                                                      &EVP_CIPHER_CTX_free);
  ossl_check(ctx != nullptr, "EVP_CIPHER_CTX_new");
  EVP_CIPHER_CTX_set_flags(ctx.get(), EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
  ossl_check(EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_wrap_pad(), nullptr,
                                reinterpret_cast<const unsigned char*>(kek.data()), nullptr) == 1,
             "AES-KWP init");
  std::string out(in.size() + 16, '\0');
  int len = 0, fin = 0;
  ossl_check(EVP_EncryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len,
                               reinterpret_cast<const unsigned char*>(in.data()),
                               static_cast<int>(in.size())) == 1,
             "AES-KWP wrap");
  ossl_check(
      EVP_EncryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()) + len, &fin) == 1,
      "AES-KWP final");
  out.resize(static_cast<size_t>(len + fin));
  return out;
}

// The common wrap: RSA-OAEP(public key, fresh AES-256 key) || AES-KWP(that key, material).
inline std::string rsa_aes_wrap(const std::string& spki_der, const EVP_MD* oaep_md,
                                const std::string& material) {
  Pkey pub = public_key_from_spki(spki_der);
  const std::string ephemeral = random_bytes(32);
  return rsa_oaep_encrypt(pub.get(), oaep_md, ephemeral) + aes_kwp_wrap(ephemeral, material);
}

// AES-GCM decryption with a 16-byte tag at the end of `ciphertext_and_tag`; throws when the tag
// does not verify (the key is not the one that encrypted).
inline std::string aes_gcm_decrypt(const std::string& key, const std::string& nonce,
                                   const std::string& ciphertext_and_tag) {
  if (ciphertext_and_tag.size() < 16) throw std::runtime_error("aes_gcm_decrypt: too short");
  const EVP_CIPHER* cipher = key.size() == 16 ? EVP_aes_128_gcm() : EVP_aes_256_gcm();
  std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(),
                                                                      &EVP_CIPHER_CTX_free);
  const size_t n = ciphertext_and_tag.size() - 16;
  ossl_check(EVP_DecryptInit_ex(ctx.get(), cipher, nullptr, nullptr, nullptr) == 1, "GCM init");
  ossl_check(EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(nonce.size()),
                                 nullptr) == 1,
             "GCM iv length");
  ossl_check(EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr,
                                reinterpret_cast<const unsigned char*>(key.data()),
                                reinterpret_cast<const unsigned char*>(nonce.data())) == 1,
             "GCM key");
  std::string out(n, '\0');
  int len = 0, fin = 0;
  ossl_check(EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len,
                               reinterpret_cast<const unsigned char*>(ciphertext_and_tag.data()),
                               static_cast<int>(n)) == 1,
             "GCM decrypt");
  std::string tag = ciphertext_and_tag.substr(n);
  ossl_check(EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, 16, tag.data()) == 1, "GCM tag");
  ossl_check(
      EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()) + len, &fin) == 1,
      "GCM tag check");
  out.resize(static_cast<size_t>(len + fin));
  return out;
}

// True when `signature` verifies over `data` with `key` (md null for Ed25519; RSA: PKCS#1 v1.5).
inline bool verify_signature(EVP_PKEY* key, const EVP_MD* md, const std::string& data,
                             const std::string& signature) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, key) != 1) return false;
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(), reinterpret_cast<const unsigned char*>(data.data()),
                          data.size()) == 1;
}

}  // namespace byok::testing
