#include "hsm/pkcs11_objects.h"

#include "hsm/pkcs11_error.h"

namespace byok::hsm {

Template& Template::ulong(CK_ATTRIBUTE_TYPE type, CK_ULONG value) {
  ulongs_.push_back(value);
  attrs_.push_back(CK_ATTRIBUTE{type, &ulongs_.back(), sizeof(CK_ULONG)});
  return *this;
}

Template& Template::flag(CK_ATTRIBUTE_TYPE type, bool value) {
  bools_.push_back(value ? CK_TRUE : CK_FALSE);
  attrs_.push_back(CK_ATTRIBUTE{type, &bools_.back(), sizeof(CK_BBOOL)});
  return *this;
}

Template& Template::bytes(CK_ATTRIBUTE_TYPE type, std::span<const std::uint8_t> value) {
  blobs_.emplace_back(value.begin(), value.end());
  attrs_.push_back(CK_ATTRIBUTE{type, blobs_.back().data(), blobs_.back().size()});
  return *this;
}

Template& Template::text(CK_ATTRIBUTE_TYPE type, std::string_view value) {
  return bytes(type, {reinterpret_cast<const std::uint8_t*>(value.data()), value.size()});
}

Result<std::vector<CK_OBJECT_HANDLE>> find_objects(CK_FUNCTION_LIST* fn, CK_SESSION_HANDLE s,
                                                   Template& match, CK_RV* rv_out) {
  CK_RV rv = fn->C_FindObjectsInit(s, match.data(), match.size());
  if (rv != CKR_OK) {
    if (rv_out) *rv_out = rv;
    return rv_error(rv, "C_FindObjectsInit");
  }
  std::vector<CK_OBJECT_HANDLE> out;
  CK_OBJECT_HANDLE batch[32];
  for (;;) {
    CK_ULONG n = 0;
    rv = fn->C_FindObjects(s, batch, 32, &n);
    if (rv != CKR_OK || n == 0) break;
    out.insert(out.end(), batch, batch + n);
  }
  fn->C_FindObjectsFinal(s);
  if (rv != CKR_OK) {
    if (rv_out) *rv_out = rv;
    return rv_error(rv, "C_FindObjects");
  }
  return out;
}

Result<std::optional<std::vector<std::uint8_t>>> get_attribute(CK_FUNCTION_LIST* fn,
                                                               CK_SESSION_HANDLE s,
                                                               CK_OBJECT_HANDLE obj,
                                                               CK_ATTRIBUTE_TYPE type,
                                                               CK_RV* rv_out) {
  CK_ATTRIBUTE a{type, nullptr, 0};
  CK_RV rv = fn->C_GetAttributeValue(s, obj, &a, 1);
  if (rv == CKR_ATTRIBUTE_SENSITIVE || rv == CKR_ATTRIBUTE_TYPE_INVALID ||
      a.ulValueLen == CK_UNAVAILABLE_INFORMATION) {
    return std::optional<std::vector<std::uint8_t>>();
  }
  if (rv != CKR_OK) {
    if (rv_out) *rv_out = rv;
    return rv_error(rv, "C_GetAttributeValue");
  }
  std::vector<std::uint8_t> value(a.ulValueLen);
  a.pValue = value.data();
  rv = fn->C_GetAttributeValue(s, obj, &a, 1);
  if (rv != CKR_OK) {
    if (rv_out) *rv_out = rv;
    return rv_error(rv, "C_GetAttributeValue");
  }
  value.resize(a.ulValueLen);
  return std::optional<std::vector<std::uint8_t>>(std::move(value));
}

namespace {
constexpr std::uint8_t kP256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
constexpr std::uint8_t kP384[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22};
constexpr std::uint8_t kP521[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23};
constexpr std::uint8_t kEd25519[] = {0x06, 0x03, 0x2b, 0x65, 0x70};  // id-Ed25519, RFC 8410
}  // namespace

std::span<const std::uint8_t> ec_params_p256() { return kP256; }
std::span<const std::uint8_t> ec_params_p384() { return kP384; }
std::span<const std::uint8_t> ec_params_p521() { return kP521; }
std::span<const std::uint8_t> ec_params_ed25519() { return kEd25519; }

Template rsa_wrapping_key_template(std::span<const std::uint8_t> modulus,
                                   std::span<const std::uint8_t> public_exponent, bool token,
                                   bool trusted) {
  Template t;
  t.ulong(CKA_CLASS, CKO_PUBLIC_KEY)
      .ulong(CKA_KEY_TYPE, CKK_RSA)
      .flag(CKA_TOKEN, token)
      .flag(CKA_PRIVATE, false)
      .flag(CKA_WRAP, true)
      .flag(CKA_ENCRYPT, true)
      .bytes(CKA_MODULUS, modulus)
      .bytes(CKA_PUBLIC_EXPONENT, public_exponent);
  if (trusted) t.flag(CKA_TRUSTED, true);
  return t;
}

}  // namespace byok::hsm
