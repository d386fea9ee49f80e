#include "hsm/software_wrap.h"

#include <cstring>
#include <memory>

#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/encoder.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "hsm/config.h"
#include "hsm/openssl_key.h"

namespace byok::hsm {
namespace {

struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* p) const { EVP_CIPHER_CTX_free(p); }
};

PkeyPtr decode_private(std::span<const std::uint8_t> data) {
  return decode_pkey(data, EVP_PKEY_KEYPAIR);
}

Result<KeyType> private_key_type(EVP_PKEY* key) {
  int id = EVP_PKEY_get_base_id(key);
  if (id == EVP_PKEY_RSA) {
    switch (EVP_PKEY_get_bits(key)) {
      case 2048:
        return KeyType::Rsa2048;
      case 3072:
        return KeyType::Rsa3072;
      case 4096:
        return KeyType::Rsa4096;
      default:
        return make_error(ErrorKind::InvalidArgument,
                          "RSA-" + std::to_string(EVP_PKEY_get_bits(key)) +
                              " is not an importable size (2048, 3072, 4096)");
    }
  }
  if (id == EVP_PKEY_EC) {
    char group[64] = {};
    std::size_t len = 0;
    EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &len);
    std::string g(group, len);
    if (g == "prime256v1" || g == "P-256") return KeyType::EcdsaP256;
    if (g == "secp384r1" || g == "P-384") return KeyType::EcdsaP384;
    if (g == "secp521r1" || g == "P-521") return KeyType::EcdsaP521;
    return make_error(ErrorKind::InvalidArgument, "EC curve \"" + g + "\" is not supported");
  }
  if (id == EVP_PKEY_ED25519) return KeyType::Ed25519;
  return make_error(ErrorKind::InvalidArgument, "unsupported private key type");
}

Result<SecureBuffer> to_pkcs8(EVP_PKEY* key) {
  OSSL_ENCODER_CTX* ctx =
      OSSL_ENCODER_CTX_new_for_pkey(key, EVP_PKEY_KEYPAIR, "DER", "PrivateKeyInfo", nullptr);
  if (ctx == nullptr) return make_error(ErrorKind::Internal, "no PKCS#8 encoder");
  unsigned char* der = nullptr;
  std::size_t len = 0;
  int ok = OSSL_ENCODER_to_data(ctx, &der, &len);
  OSSL_ENCODER_CTX_free(ctx);
  if (!ok || der == nullptr) return make_error(ErrorKind::Internal, "PKCS#8 encoding failed");
  SecureBuffer out(der, len);
  OPENSSL_clear_free(der, len);
  return out;
}

}  // namespace

Result<SoftwareKey> software_key_from_bytes(std::span<const std::uint8_t> data,
                                            std::optional<KeyType> hint) {
  if (data.empty()) return make_error(ErrorKind::InvalidArgument, "the key file is empty");
  if (!hint || !is_symmetric(*hint)) {
    if (PkeyPtr key = decode_private(data)) {
      auto type = private_key_type(key.get());
      if (!type.ok()) return type.error();
      if (hint && *hint != type.value())
        return make_error(ErrorKind::InvalidArgument,
                          "the key file holds a " + std::string(key_type_name(type.value())) +
                              " key, not " + std::string(key_type_name(*hint)));
      auto der = to_pkcs8(key.get());
      if (!der.ok()) return der.error();
      return SoftwareKey{type.value(), std::move(der.value())};
    }
    if (hint)
      return make_error(ErrorKind::InvalidArgument,
                        "the key file is not an unencrypted PEM/DER private key");
  }
  KeyType type;
  if (hint) {
    type = *hint;
    if (data.size() != key_size(type))
      return make_error(ErrorKind::InvalidArgument, std::string(key_type_name(type)) + " needs " +
                                                        std::to_string(key_size(type)) +
                                                        " raw bytes, the file has " +
                                                        std::to_string(data.size()));
  } else if (data.size() == 16) {
    type = KeyType::Aes128Gcm96;
  } else if (data.size() == 32) {
    type = KeyType::Aes256Gcm96;
  } else {
    return make_error(ErrorKind::InvalidArgument,
                      "the key file is neither a private key (PEM/DER) nor a raw 16- or 32-byte "
                      "symmetric key (" +
                          std::to_string(data.size()) + " bytes)");
  }
  return SoftwareKey{type, SecureBuffer(data.data(), data.size())};
}

Result<SoftwareKey> load_software_key(const std::string& path, std::optional<KeyType> hint) {
  auto bytes = read_secret_file(path);
  if (!bytes.ok()) return bytes.error();
  auto key = software_key_from_bytes(bytes.value().span(), hint);
  if (!key.ok()) return key.error().context(path);
  return key;
}

Result<std::vector<std::uint8_t>> rsa_oaep_encrypt(const Kek& kek, OaepHash hash,
                                                   std::span<const std::uint8_t> plaintext) {
  const unsigned char* p = kek.spki_der.data();
  PkeyPtr pub(d2i_PUBKEY(nullptr, &p, static_cast<long>(kek.spki_der.size())));
  if (!pub) return make_error(ErrorKind::InvalidArgument, "cannot load the KEK");
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(EVP_PKEY_CTX_new(pub.get(), nullptr));
  const EVP_MD* md = hash == OaepHash::Sha1 ? EVP_sha1() : EVP_sha256();
  if (!ctx || EVP_PKEY_encrypt_init(ctx.get()) <= 0 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING) <= 0 ||
      EVP_PKEY_CTX_set_rsa_oaep_md(ctx.get(), md) <= 0 ||
      EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), md) <= 0) {
    return make_error(ErrorKind::Internal, "cannot set up RSA-OAEP");
  }
  std::size_t len = 0;
  if (EVP_PKEY_encrypt(ctx.get(), nullptr, &len, plaintext.data(), plaintext.size()) <= 0)
    return make_error(ErrorKind::Internal, "RSA-OAEP size query failed");
  std::vector<std::uint8_t> out(len);
  if (EVP_PKEY_encrypt(ctx.get(), out.data(), &len, plaintext.data(), plaintext.size()) <= 0)
    return make_error(ErrorKind::InvalidArgument,
                      "RSA-OAEP encryption failed (is the key too long for this KEK?)");
  out.resize(len);
  return out;
}

Result<std::vector<std::uint8_t>> aes_kwp_wrap(std::span<const std::uint8_t> aes_key,
                                               std::span<const std::uint8_t> plaintext) {
  const EVP_CIPHER* cipher = aes_key.size() == 16   ? EVP_aes_128_wrap_pad()
                             : aes_key.size() == 24 ? EVP_aes_192_wrap_pad()
                             : aes_key.size() == 32 ? EVP_aes_256_wrap_pad()
                                                    : nullptr;
  if (cipher == nullptr) return make_error(ErrorKind::InvalidArgument, "bad AES key length");
  if (plaintext.empty()) return make_error(ErrorKind::InvalidArgument, "nothing to wrap");
  std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree> ctx(EVP_CIPHER_CTX_new());
  // Wrap modes are refused by EVP unless asked for explicitly.
  EVP_CIPHER_CTX_set_flags(ctx.get(), EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
  if (EVP_EncryptInit_ex(ctx.get(), cipher, nullptr, aes_key.data(), nullptr) != 1)
    return make_error(ErrorKind::Internal, "AES-KWP init failed");
  std::vector<std::uint8_t> out(plaintext.size() + 16);
  int len = 0, fin = 0;
  if (EVP_EncryptUpdate(ctx.get(), out.data(), &len, plaintext.data(),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), out.data() + len, &fin) != 1)
    return make_error(ErrorKind::Internal, "AES-KWP wrap failed");
  out.resize(static_cast<std::size_t>(len) + static_cast<std::size_t>(fin));
  return out;
}

Result<std::vector<std::uint8_t>> software_wrap(const SoftwareKey& key, const WrapSpec& spec,
                                                std::span<const std::uint8_t> kek_input) {
  auto kek = parse_kek(kek_input);
  if (!kek.ok()) return kek.error();
  if (spec.kek_bits != 0 && kek.value().bits != spec.kek_bits)
    return make_error(ErrorKind::InvalidArgument,
                      "the import method wants an RSA-" + std::to_string(spec.kek_bits) +
                          " KEK, but this KEK is RSA-" + std::to_string(kek.value().bits));
  if (auto st = check_wrap_target(spec, key.type); !st.ok()) return st.error();
  if (spec.method == WrapMethod::RsaOaep)
    return rsa_oaep_encrypt(kek.value(), spec.hash, key.material.span());

  SecureBuffer eph(32);
  if (RAND_priv_bytes(eph.data(), static_cast<int>(eph.size())) != 1)
    return make_error(ErrorKind::Internal, "no randomness for the ephemeral AES key");
  auto head = rsa_oaep_encrypt(kek.value(), spec.hash, eph.span());
  if (!head.ok()) return head.error();
  auto tail = aes_kwp_wrap(eph.span(), key.material.span());
  if (!tail.ok()) return tail.error();
  std::vector<std::uint8_t> out = std::move(head.value());
  out.insert(out.end(), tail.value().begin(), tail.value().end());
  return out;
}

}  // namespace byok::hsm
