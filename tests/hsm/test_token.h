#pragma once
// A fresh PKCS#11 software token for one test, in its own temp directory, removed afterwards.
// Which implementation: BYOK_TEST_TOKEN, "softhsm" (the default: SoftHSM2, softhsm2.conf there,
// SOFTHSM2_CONF pointing at it while the fixture lives, initialised with softhsm2-util) or
// "kryoptic" (kryoptic.conf with one SQLite token there, KRYOPTIC_CONF pointing at it,
// initialised through PKCS#11 itself: C_InitToken, C_InitPIN). The module path is
// BYOK_TEST_PKCS11_MODULE if set, else the CMake-configured SoftHSM2 path (BYOK_PKCS11_MODULE is
// the operator's and byokctl's own setting, which tests set and unset). The tests that depend on
// one implementation's limits ask kind().

#include <memory>
#include <string>

#include "hsm/pkcs11_hsm.h"
#include "hsm/pkcs11_module.h"

namespace byok::hsm::test {

// RAII raw session (opened and logged in) for test-side operations: signing and encrypting with
// the token's keys, importing known keys with C_CreateObject.
class RawSession {
 public:
  RawSession(std::shared_ptr<Module> module, CK_SLOT_ID slot, const std::string& pin);
  ~RawSession();
  RawSession(const RawSession&) = delete;
  RawSession& operator=(const RawSession&) = delete;
  CK_FUNCTION_LIST* fn() const { return module_->fn(); }
  CK_SESSION_HANDLE handle() const { return handle_; }

 private:
  std::shared_ptr<Module> module_;
  CK_SESSION_HANDLE handle_ = CK_INVALID_HANDLE;
};

enum class TokenKind { SoftHsm, Kryoptic };

// Whether the token is made with its user PIN (as an HSM is handed over) or with the security
// officer's only (as between C_InitToken and C_InitPIN in a ceremony).
enum class UserPin { Set, NotYet };

class TestToken {
 public:
  // BYOK_TEST_TOKEN's choice; throws on an unknown name.
  static TokenKind kind();
  // What the implementation writes in CK_INFO.manufacturerID ("SoftHSM", "Kryoptic").
  static std::string manufacturer();

  explicit TestToken(std::string label = "byok-test", UserPin user_pin = UserPin::Set);
  ~TestToken();
  TestToken(const TestToken&) = delete;
  TestToken& operator=(const TestToken&) = delete;

  const std::string& dir() const { return dir_; }
  const std::string& label() const { return label_; }
  const std::string& pin() const { return pin_; }
  const std::string& pin_file() const { return pin_file_; }  // holds pin() plus a newline
  const std::string& so_pin() const { return so_pin_; }
  const std::string& conf_path() const { return conf_; }
  static std::string module_path();

  // Loaded on first use and shared by everything the test opens.
  std::shared_ptr<Module> module();
  CK_SLOT_ID slot();
  std::unique_ptr<Pkcs11Hsm> open_hsm(std::size_t max_sessions = 4);
  std::unique_ptr<RawSession> raw_session();
  // Points this process's environment at the token as the operator reads it (the module,
  // BYOK_HSM_TOKEN, BYOK_HSM_PIN_FILE: `pin_file`, else pin_file()), with no BYOK_HSM_PIN.
  void export_to_environment(const std::string& pin_file = "") const;
  // Sets the user PIN to pin() as the security officer (C_InitPIN), for a token made with
  // UserPin::NotYet.
  void set_user_pin();
  // Writes a file in dir() and returns its path.
  std::string write_file(const std::string& name, const std::string& content) const;

 private:
  std::string dir_, conf_, label_, pin_ = "8642-user", so_pin_ = "1357-so", pin_file_;
  std::string conf_env_;  // SOFTHSM2_CONF or KRYOPTIC_CONF
  std::string old_conf_;
  bool had_old_conf_ = false;
  void init_softhsm(UserPin user_pin);
  void init_kryoptic(UserPin user_pin);
  void init_through_pkcs11(CK_SLOT_ID slot, UserPin user_pin);
  std::shared_ptr<Module> module_;
};

}  // namespace byok::hsm::test
