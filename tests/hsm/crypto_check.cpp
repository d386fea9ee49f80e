#include "tests/hsm/crypto_check.h"

#include <cstring>
#include <stdexcept>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/encoder.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "hsm/pkcs11_objects.h"

namespace byok::hsm::test {
namespace {

struct CtxFree {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
  void operator()(EVP_CIPHER_CTX* p) const { EVP_CIPHER_CTX_free(p); }
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
  void operator()(BIGNUM* p) const { BN_free(p); }
  void operator()(ECDSA_SIG* p) const { ECDSA_SIG_free(p); }
};

void require(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(what);
}

Bytes bn_param(EVP_PKEY* key, const char* name) {
  BIGNUM* raw = nullptr;
  require(EVP_PKEY_get_bn_param(key, name, &raw) == 1, "EVP_PKEY_get_bn_param");
  std::unique_ptr<BIGNUM, CtxFree> bn(raw);
  Bytes out(BN_num_bytes(bn.get()));
  BN_bn2bin(bn.get(), out.data());
  return out;
}

std::string encode(EVP_PKEY* key, int selection, const char* type, const char* structure) {
  OSSL_ENCODER_CTX* ctx = OSSL_ENCODER_CTX_new_for_pkey(key, selection, type, structure, nullptr);
  unsigned char* data = nullptr;
  std::size_t len = 0;
  require(ctx && OSSL_ENCODER_to_data(ctx, &data, &len) == 1, "OSSL_ENCODER_to_data");
  OSSL_ENCODER_CTX_free(ctx);
  std::string out(reinterpret_cast<char*>(data), len);
  OPENSSL_free(data);
  return out;
}

}  // namespace

Pkey generate_rsa(unsigned bits) {
  return Pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(bits)));
}
Pkey generate_ec(const char* group) {
  return Pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", group));
}
Pkey generate_ed25519() { return Pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519")); }

Pkey generate_for(KeyType type) {
  switch (type) {
    case KeyType::Rsa2048:
      return generate_rsa(2048);
    case KeyType::Rsa3072:
      return generate_rsa(3072);
    case KeyType::Rsa4096:
      return generate_rsa(4096);
    case KeyType::EcdsaP256:
      return generate_ec("P-256");
    case KeyType::EcdsaP384:
      return generate_ec("P-384");
    case KeyType::EcdsaP521:
      return generate_ec("P-521");
    case KeyType::Ed25519:
      return generate_ed25519();
    default:
      throw std::runtime_error("generate_for: not an asymmetric type");
  }
}

Bytes public_der(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(key, &der);
  require(len > 0, "i2d_PUBKEY");
  Bytes out(der, der + len);
  OPENSSL_free(der);
  return out;
}

std::string public_pem(EVP_PKEY* key) {
  return encode(key, EVP_PKEY_PUBLIC_KEY, "PEM", "SubjectPublicKeyInfo");
}
Bytes private_pkcs8(EVP_PKEY* key) {
  std::string der = encode(key, EVP_PKEY_KEYPAIR, "DER", "PrivateKeyInfo");
  return Bytes(der.begin(), der.end());
}
std::string private_pem(EVP_PKEY* key) {
  return encode(key, EVP_PKEY_KEYPAIR, "PEM", "PrivateKeyInfo");
}

Bytes random_bytes(std::size_t n) {
  Bytes out(n);
  require(RAND_bytes(out.data(), static_cast<int>(n)) == 1, "RAND_bytes");
  return out;
}

std::optional<Bytes> oaep_decrypt(EVP_PKEY* kek, OaepHash hash, std::span<const std::uint8_t> ct) {
  std::unique_ptr<EVP_PKEY_CTX, CtxFree> ctx(EVP_PKEY_CTX_new(kek, nullptr));
  const EVP_MD* md = hash == OaepHash::Sha1 ? EVP_sha1() : EVP_sha256();
  if (EVP_PKEY_decrypt_init(ctx.get()) <= 0 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING) <= 0 ||
      EVP_PKEY_CTX_set_rsa_oaep_md(ctx.get(), md) <= 0 ||
      EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), md) <= 0)
    return std::nullopt;
  std::size_t len = 0;
  if (EVP_PKEY_decrypt(ctx.get(), nullptr, &len, ct.data(), ct.size()) <= 0) return std::nullopt;
  Bytes out(len);
  if (EVP_PKEY_decrypt(ctx.get(), out.data(), &len, ct.data(), ct.size()) <= 0) return std::nullopt;
  out.resize(len);
  return out;
}

std::optional<Bytes> kwp_unwrap(std::span<const std::uint8_t> aes_key,
                                std::span<const std::uint8_t> ct) {
  const EVP_CIPHER* c = aes_key.size() == 32   ? EVP_aes_256_wrap_pad()
                        : aes_key.size() == 16 ? EVP_aes_128_wrap_pad()
                                               : nullptr;
  if (c == nullptr) return std::nullopt;
  std::unique_ptr<EVP_CIPHER_CTX, CtxFree> ctx(EVP_CIPHER_CTX_new());
  EVP_CIPHER_CTX_set_flags(ctx.get(), EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
  if (EVP_DecryptInit_ex(ctx.get(), c, nullptr, aes_key.data(), nullptr) != 1) return std::nullopt;
  Bytes out(ct.size() + 16);
  int len = 0, fin = 0;
  if (EVP_DecryptUpdate(ctx.get(), out.data(), &len, ct.data(), static_cast<int>(ct.size())) != 1)
    return std::nullopt;
  if (EVP_DecryptFinal_ex(ctx.get(), out.data() + len, &fin) != 1) return std::nullopt;
  out.resize(static_cast<std::size_t>(len + fin));
  return out;
}

std::optional<Bytes> unwrap_rsa_aes(EVP_PKEY* kek, OaepHash hash,
                                    std::span<const std::uint8_t> blob) {
  std::size_t head = static_cast<std::size_t>(EVP_PKEY_get_size(kek));
  if (blob.size() <= head) return std::nullopt;
  auto eph = oaep_decrypt(kek, hash, blob.first(head));
  if (!eph || eph->size() != 32) return std::nullopt;
  return kwp_unwrap(*eph, blob.subspan(head));
}

Pkey parse_pkcs8(std::span<const std::uint8_t> der, std::size_t* trailing) {
  const unsigned char* p = der.data();
  PKCS8_PRIV_KEY_INFO* info = d2i_PKCS8_PRIV_KEY_INFO(nullptr, &p, static_cast<long>(der.size()));
  if (info == nullptr) return nullptr;
  if (trailing) *trailing = der.size() - static_cast<std::size_t>(p - der.data());
  Pkey key(EVP_PKCS82PKEY(info));
  PKCS8_PRIV_KEY_INFO_free(info);
  return key;
}

bool same_private_key(EVP_PKEY* a, EVP_PKEY* b) { return EVP_PKEY_eq(a, b) == 1; }

CK_OBJECT_HANDLE find_object(RawSession& s, CK_OBJECT_CLASS cls, const std::string& label) {
  Template t;
  t.ulong(CKA_CLASS, cls).text(CKA_LABEL, label);
  auto found = find_objects(s.fn(), s.handle(), t);
  require(found.ok() && found.value().size() == 1, "find_object: not exactly one match");
  return found.value().front();
}

Bytes token_gcm_encrypt(RawSession& s, CK_OBJECT_HANDLE key, std::span<const std::uint8_t> iv,
                        std::span<const std::uint8_t> plaintext) {
  CK_GCM_PARAMS gcm{};
  gcm.pIv = const_cast<CK_BYTE*>(iv.data());
  gcm.ulIvLen = iv.size();
  gcm.ulIvBits = iv.size() * 8;
  gcm.ulTagBits = 128;
  CK_MECHANISM mech{CKM_AES_GCM, &gcm, sizeof gcm};
  require(s.fn()->C_EncryptInit(s.handle(), &mech, key) == CKR_OK, "C_EncryptInit(AES-GCM)");
  Bytes out(plaintext.size() + 16);
  CK_ULONG len = out.size();
  require(s.fn()->C_Encrypt(s.handle(), const_cast<CK_BYTE*>(plaintext.data()), plaintext.size(),
                            out.data(), &len) == CKR_OK,
          "C_Encrypt(AES-GCM)");
  out.resize(len);
  return out;
}

std::optional<Bytes> gcm_decrypt(std::span<const std::uint8_t> key,
                                 std::span<const std::uint8_t> iv,
                                 std::span<const std::uint8_t> ct_and_tag) {
  const EVP_CIPHER* c = key.size() == 32   ? EVP_aes_256_gcm()
                        : key.size() == 16 ? EVP_aes_128_gcm()
                                           : nullptr;
  if (c == nullptr || ct_and_tag.size() < 16) return std::nullopt;
  std::unique_ptr<EVP_CIPHER_CTX, CtxFree> ctx(EVP_CIPHER_CTX_new());
  std::size_t n = ct_and_tag.size() - 16;
  Bytes out(n + 16);
  int len = 0, fin = 0;
  if (EVP_DecryptInit_ex(ctx.get(), c, nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(iv.size()),
                          nullptr) != 1 ||
      EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, key.data(), iv.data()) != 1 ||
      EVP_DecryptUpdate(ctx.get(), out.data(), &len, ct_and_tag.data(), static_cast<int>(n)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, 16,
                          const_cast<std::uint8_t*>(ct_and_tag.data() + n)) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), out.data() + len, &fin) != 1)
    return std::nullopt;
  out.resize(static_cast<std::size_t>(len + fin));
  return out;
}

Bytes token_sign(RawSession& s, CK_OBJECT_HANDLE key, KeyType type,
                 std::span<const std::uint8_t> msg) {
  if (key_family(type) == KeyFamily::Rsa) {
    CK_MECHANISM mech{CKM_SHA256_RSA_PKCS, nullptr, 0};
    require(s.fn()->C_SignInit(s.handle(), &mech, key) == CKR_OK, "C_SignInit(RSA)");
    Bytes sig(1024);
    CK_ULONG len = sig.size();
    require(s.fn()->C_Sign(s.handle(), const_cast<CK_BYTE*>(msg.data()), msg.size(), sig.data(),
                           &len) == CKR_OK,
            "C_Sign(RSA)");
    sig.resize(len);
    return sig;
  }
  if (type == KeyType::Ed25519) {  // pure EdDSA over the message (a token that has CKM_EDDSA)
    CK_MECHANISM mech{CKM_EDDSA, nullptr, 0};
    require(s.fn()->C_SignInit(s.handle(), &mech, key) == CKR_OK, "C_SignInit(EDDSA)");
    Bytes sig(64);
    CK_ULONG len = sig.size();
    require(s.fn()->C_Sign(s.handle(), const_cast<CK_BYTE*>(msg.data()), msg.size(), sig.data(),
                           &len) == CKR_OK,
            "C_Sign(EDDSA)");
    sig.resize(len);
    return sig;
  }
  // SoftHSM offers CKM_ECDSA (over a digest) but not CKM_ECDSA_SHA256.
  unsigned char digest[32];
  unsigned int dlen = 0;
  EVP_Digest(msg.data(), msg.size(), digest, &dlen, EVP_sha256(), nullptr);
  CK_MECHANISM mech{CKM_ECDSA, nullptr, 0};
  require(s.fn()->C_SignInit(s.handle(), &mech, key) == CKR_OK, "C_SignInit(ECDSA)");
  Bytes raw(256);
  CK_ULONG len = raw.size();
  require(s.fn()->C_Sign(s.handle(), digest, dlen, raw.data(), &len) == CKR_OK, "C_Sign(ECDSA)");
  raw.resize(len);
  // PKCS#11 gives r || s; OpenSSL verifies a DER ECDSA-Sig-Value.
  std::size_t half = raw.size() / 2;
  std::unique_ptr<ECDSA_SIG, CtxFree> sig(ECDSA_SIG_new());
  ECDSA_SIG_set0(sig.get(), BN_bin2bn(raw.data(), static_cast<int>(half), nullptr),
                 BN_bin2bn(raw.data() + half, static_cast<int>(half), nullptr));
  unsigned char* der = nullptr;
  int dl = i2d_ECDSA_SIG(sig.get(), &der);
  Bytes out(der, der + dl);
  OPENSSL_free(der);
  return out;
}

bool verify(EVP_PKEY* key, KeyType type, std::span<const std::uint8_t> msg,
            std::span<const std::uint8_t> sig) {
  if (key_family(type) == KeyFamily::Rsa || type == KeyType::Ed25519) {
    std::unique_ptr<EVP_MD_CTX, CtxFree> ctx(EVP_MD_CTX_new());
    const EVP_MD* md = type == KeyType::Ed25519 ? nullptr : EVP_sha256();  // EdDSA hashes itself
    if (EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, key) != 1) return false;
    return EVP_DigestVerify(ctx.get(), sig.data(), sig.size(), msg.data(), msg.size()) == 1;
  }
  unsigned char digest[32];
  unsigned int dlen = 0;
  EVP_Digest(msg.data(), msg.size(), digest, &dlen, EVP_sha256(), nullptr);
  std::unique_ptr<EVP_PKEY_CTX, CtxFree> ctx(EVP_PKEY_CTX_new(key, nullptr));
  if (EVP_PKEY_verify_init(ctx.get()) != 1) return false;
  return EVP_PKEY_verify(ctx.get(), sig.data(), sig.size(), digest, dlen) == 1;
}

CK_OBJECT_HANDLE import_secret(RawSession& s, const std::string& label,
                               std::span<const std::uint8_t> value, CK_KEY_TYPE key_type) {
  Template t;
  t.ulong(CKA_CLASS, CKO_SECRET_KEY)
      .ulong(CKA_KEY_TYPE, key_type)
      .flag(CKA_TOKEN, true)
      .flag(CKA_PRIVATE, true)
      .flag(CKA_SENSITIVE, true)
      .flag(CKA_EXTRACTABLE, true)
      .flag(CKA_ENCRYPT, true)
      .flag(CKA_DECRYPT, true)
      .text(CKA_LABEL, label)
      .bytes(CKA_ID, std::vector<std::uint8_t>{0x0b, 0x0c})
      .bytes(CKA_VALUE, value);
  CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
  require(s.fn()->C_CreateObject(s.handle(), t.data(), t.size(), &h) == CKR_OK,
          "C_CreateObject(secret key)");
  return h;
}

CK_OBJECT_HANDLE import_private(RawSession& s, const std::string& label, EVP_PKEY* key) {
  Template t;
  t.ulong(CKA_CLASS, CKO_PRIVATE_KEY)
      .flag(CKA_TOKEN, true)
      .flag(CKA_PRIVATE, true)
      .flag(CKA_SENSITIVE, true)
      .flag(CKA_EXTRACTABLE, true)
      .flag(CKA_SIGN, true)
      .text(CKA_LABEL, label)
      .bytes(CKA_ID, std::vector<std::uint8_t>{0x0d, 0x0e});
  if (EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA) {
    t.ulong(CKA_KEY_TYPE, CKK_RSA)
        .bytes(CKA_MODULUS, bn_param(key, OSSL_PKEY_PARAM_RSA_N))
        .bytes(CKA_PUBLIC_EXPONENT, bn_param(key, OSSL_PKEY_PARAM_RSA_E))
        .bytes(CKA_PRIVATE_EXPONENT, bn_param(key, OSSL_PKEY_PARAM_RSA_D))
        .bytes(CKA_PRIME_1, bn_param(key, OSSL_PKEY_PARAM_RSA_FACTOR1))
        .bytes(CKA_PRIME_2, bn_param(key, OSSL_PKEY_PARAM_RSA_FACTOR2))
        .bytes(CKA_EXPONENT_1, bn_param(key, OSSL_PKEY_PARAM_RSA_EXPONENT1))
        .bytes(CKA_EXPONENT_2, bn_param(key, OSSL_PKEY_PARAM_RSA_EXPONENT2))
        .bytes(CKA_COEFFICIENT, bn_param(key, OSSL_PKEY_PARAM_RSA_COEFFICIENT1));
  } else if (EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519) {
    std::vector<std::uint8_t> seed(32);
    std::size_t len = seed.size();
    require(EVP_PKEY_get_raw_private_key(key, seed.data(), &len) == 1 && len == 32,
            "EVP_PKEY_get_raw_private_key(Ed25519)");
    t.ulong(CKA_KEY_TYPE, CKK_EC_EDWARDS)
        .bytes(CKA_EC_PARAMS, ec_params_ed25519())
        .bytes(CKA_VALUE, seed);
  } else {
    char group[32] = {};
    std::size_t len = 0;
    EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &len);
    std::string g(group, len);
    auto params = g == "secp384r1"   ? ec_params_p384()
                  : g == "secp521r1" ? ec_params_p521()
                                     : ec_params_p256();
    // The private value at the curve's full size (RFC 5915's fixed-length privateKey): kryoptic
    // keeps CKA_VALUE as given and wraps a short one into a PKCS#8 that AWS and the fakes refuse
    // (a P-521 scalar is one byte short about half the time).
    Bytes d = bn_param(key, OSSL_PKEY_PARAM_PRIV_KEY);
    const std::size_t size = (static_cast<std::size_t>(EVP_PKEY_get_bits(key)) + 7) / 8;
    if (d.size() < size) d.insert(d.begin(), size - d.size(), 0);
    t.ulong(CKA_KEY_TYPE, CKK_EC).bytes(CKA_EC_PARAMS, params).bytes(CKA_VALUE, d);
  }
  CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
  CK_RV rv = s.fn()->C_CreateObject(s.handle(), t.data(), t.size(), &h);
  require(rv == CKR_OK, "C_CreateObject(private key)");
  return h;
}

std::string check_wrapped(TestToken& token, const std::string& label, KeyType type,
                          const WrapSpec& spec, EVP_PKEY* kek, std::span<const std::uint8_t> blob) {
  std::optional<Bytes> material = spec.method == WrapMethod::RsaOaep
                                      ? oaep_decrypt(kek, spec.hash, blob)
                                      : unwrap_rsa_aes(kek, spec.hash, blob);
  if (!material) return "unwrap failed";
  auto session = token.raw_session();
  const Bytes msg = {'b', 'y', 'o', 'k', '-', 'c', 'h', 'e', 'c', 'k'};
  if (is_symmetric(type)) {
    if (material->size() != key_size(type))
      return "unwrapped " + std::to_string(material->size()) + " bytes, expected " +
             std::to_string(key_size(type));
    CK_OBJECT_HANDLE key = find_object(*session, CKO_SECRET_KEY, label);
    Bytes iv = random_bytes(12);
    Bytes ct = token_gcm_encrypt(*session, key, iv, msg);
    auto pt = gcm_decrypt(*material, iv, ct);
    if (!pt) return "AES-GCM decryption with the unwrapped key failed";
    if (*pt != msg) return "AES-GCM decryption gave different bytes";
    return "";
  }
  Pkey priv = parse_pkcs8(*material);
  if (!priv) return "the unwrapped material is not PKCS#8";
  // Verify with the public half derived from the unwrapped private key, as a KMS would use it.
  Bytes spki = public_der(priv.get());
  const unsigned char* p = spki.data();
  Pkey pub(d2i_PUBKEY(nullptr, &p, static_cast<long>(spki.size())));
  if (!pub) return "cannot derive the public key";
  CK_OBJECT_HANDLE key = find_object(*session, CKO_PRIVATE_KEY, label);
  Bytes sig = token_sign(*session, key, type, msg);
  if (!verify(pub.get(), type, msg, sig)) return "the token's signature does not verify";
  return "";
}

}  // namespace byok::hsm::test
