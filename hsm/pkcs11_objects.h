#pragma once
// Small PKCS#11 object helpers shared by Pkcs11Hsm, the tests and the benchmark: attribute
// templates that own their values, RAII destruction of session objects, object search and
// attribute reads. All take a live session handle; none of them keep handles across calls.

#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "hsm/pkcs11_types.h"

namespace byok::hsm {

// A CK_ATTRIBUTE array whose values live as long as the Template (deque: stable addresses).
class Template {
 public:
  Template() = default;
  Template(Template&&) = default;  // the attributes point into storage a move keeps in place
  Template& operator=(Template&&) = default;
  Template(const Template&) = delete;
  Template& operator=(const Template&) = delete;
  Template& ulong(CK_ATTRIBUTE_TYPE type, CK_ULONG value);
  Template& flag(CK_ATTRIBUTE_TYPE type, bool value);
  Template& bytes(CK_ATTRIBUTE_TYPE type, std::span<const std::uint8_t> value);
  Template& text(CK_ATTRIBUTE_TYPE type, std::string_view value);

  CK_ATTRIBUTE* data() { return attrs_.data(); }
  CK_ULONG size() const { return static_cast<CK_ULONG>(attrs_.size()); }

 private:
  std::deque<CK_ULONG> ulongs_;
  std::deque<CK_BBOOL> bools_;
  std::deque<std::vector<std::uint8_t>> blobs_;
  std::vector<CK_ATTRIBUTE> attrs_;
};

// The template of an RSA wrapping public key (CKA_WRAP, CKA_ENCRYPT) with this modulus and
// exponent: a session object for one wrap (token false), or the security officer's trusted
// token copy (token and trusted true). (A Template may be moved, never copied: its attributes
// point into its own storage.)
Template rsa_wrapping_key_template(std::span<const std::uint8_t> modulus,
                                   std::span<const std::uint8_t> public_exponent, bool token,
                                   bool trusted);

// Destroys a (session) object when it goes out of scope; errors on destroy are ignored because
// the object dies with its session anyway.
class ObjectGuard {
 public:
  ObjectGuard(CK_FUNCTION_LIST* fn, CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object)
      : fn_(fn), session_(session), object_(object) {}
  ~ObjectGuard() {
    if (object_ != CK_INVALID_HANDLE) fn_->C_DestroyObject(session_, object_);
  }
  ObjectGuard(const ObjectGuard&) = delete;
  ObjectGuard& operator=(const ObjectGuard&) = delete;
  CK_OBJECT_HANDLE get() const { return object_; }

 private:
  CK_FUNCTION_LIST* fn_;
  CK_SESSION_HANDLE session_;
  CK_OBJECT_HANDLE object_;
};

// All objects matching the template; the error carries the failing CK_RV in *rv_out.
Result<std::vector<CK_OBJECT_HANDLE>> find_objects(CK_FUNCTION_LIST* fn, CK_SESSION_HANDLE s,
                                                   Template& match, CK_RV* rv_out = nullptr);
// An attribute's value; nullopt when the module reports it unavailable or sensitive.
Result<std::optional<std::vector<std::uint8_t>>> get_attribute(CK_FUNCTION_LIST* fn,
                                                               CK_SESSION_HANDLE s,
                                                               CK_OBJECT_HANDLE obj,
                                                               CK_ATTRIBUTE_TYPE type,
                                                               CK_RV* rv_out = nullptr);

// DER of the named curves' OIDs, as CKA_EC_PARAMS wants them.
std::span<const std::uint8_t> ec_params_p256();
std::span<const std::uint8_t> ec_params_p384();
std::span<const std::uint8_t> ec_params_p521();
std::span<const std::uint8_t> ec_params_ed25519();

}  // namespace byok::hsm
