#include "hsm/trusted_kek.h"

#include "hsm/kek.h"
#include "hsm/pkcs11_error.h"
#include "hsm/pkcs11_module.h"
#include "hsm/pkcs11_objects.h"

namespace byok::hsm {

Result<TrustedKek> install_trusted_kek(const HsmConfig& config, const std::string& so_pin_file,
                                       std::span<const std::uint8_t> kek_input,
                                       const std::string& label) {
  if (label.empty()) return make_error(ErrorKind::InvalidArgument, "the trusted KEK needs a label");
  auto kek = parse_kek(kek_input);
  if (!kek.ok()) return kek.error();
  HsmConfig so;
  so.pin_file = so_pin_file;
  auto so_pin = read_pin(so, process_env());  // the file only: pin_env is empty
  if (!so_pin.ok()) return so_pin.error().context("the SO PIN");
  auto module = Module::load(config.module);
  if (!module.ok()) return module.error();
  auto token = module.value()->find_token(config.token);
  if (!token.ok()) return token.error();
  CK_FUNCTION_LIST* fn = module.value()->fn();
  CK_SESSION_HANDLE h = CK_INVALID_HANDLE;
  CK_RV rv = fn->C_OpenSession(token.value().slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr,
                               nullptr, &h);
  if (rv != CKR_OK) return rv_error(rv, "C_OpenSession(token \"" + config.token + "\")");
  struct Close {
    CK_FUNCTION_LIST* fn;
    CK_SESSION_HANDLE h;
    bool logged_in = false;
    ~Close() {
      if (logged_in) fn->C_Logout(h);
      fn->C_CloseSession(h);
    }
  } close{fn, h};
  rv = fn->C_Login(h, CKU_SO, const_cast<CK_UTF8CHAR*>(so_pin.value().data()),
                   so_pin.value().size());
  if (rv != CKR_OK)
    return rv_error(rv, "C_Login as security officer (token \"" + config.token + "\")");
  close.logged_in = true;

  Template existing;
  existing.ulong(CKA_CLASS, CKO_PUBLIC_KEY).text(CKA_LABEL, label);
  auto found = find_objects(fn, h, existing, &rv);
  if (!found.ok()) return rv_error(rv, "checking the label");
  if (!found.value().empty())
    return make_error(
        ErrorKind::FailedPrecondition,
        "a public key labelled \"" + label + "\" already exists on token \"" + config.token + "\"");
  Template t = rsa_wrapping_key_template(kek.value().modulus, kek.value().public_exponent,
                                         /*token=*/true, /*trusted=*/true);
  t.text(CKA_LABEL, label);
  CK_OBJECT_HANDLE obj = CK_INVALID_HANDLE;
  rv = fn->C_CreateObject(h, t.data(), t.size(), &obj);
  if (rv != CKR_OK)
    return rv_error(rv, "storing the trusted KEK (C_CreateObject with CKA_TRUSTED)");
  return TrustedKek{label, kek.value().fingerprint_sha256, kek.value().bits};
}

}  // namespace byok::hsm
