#include "tests/hsm/test_token.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <vector>

namespace byok::hsm::test {

RawSession::RawSession(std::shared_ptr<Module> module, CK_SLOT_ID slot, const std::string& pin)
    : module_(std::move(module)) {
  CK_RV rv = module_->fn()->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr,
                                          nullptr, &handle_);
  if (rv != CKR_OK) throw std::runtime_error("C_OpenSession failed");
  rv = module_->fn()->C_Login(
      handle_, CKU_USER, reinterpret_cast<CK_UTF8CHAR*>(const_cast<char*>(pin.data())), pin.size());
  if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) throw std::runtime_error("C_Login failed");
}

RawSession::~RawSession() { module_->fn()->C_CloseSession(handle_); }

std::string TestToken::module_path() {
  const char* env = std::getenv("BYOK_TEST_PKCS11_MODULE");
  return env && *env ? env : BYOK_TEST_PKCS11_MODULE;
}

TokenKind TestToken::kind() {
  const char* env = std::getenv("BYOK_TEST_TOKEN");
  const std::string name = env ? env : "";
  if (name.empty() || name == "softhsm") return TokenKind::SoftHsm;
  if (name == "kryoptic") return TokenKind::Kryoptic;
  throw std::runtime_error("BYOK_TEST_TOKEN=" + name + ": expected softhsm or kryoptic");
}

std::string TestToken::manufacturer() {
  return kind() == TokenKind::Kryoptic ? "Kryoptic" : "SoftHSM";
}

TestToken::TestToken(std::string label, UserPin user_pin) : label_(std::move(label)) {
  char tmpl[] = "/tmp/byok-hsm-test-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  conf_env_ = kind() == TokenKind::Kryoptic ? "KRYOPTIC_CONF" : "SOFTHSM2_CONF";
  if (const char* old = std::getenv(conf_env_.c_str())) {
    had_old_conf_ = true;
    old_conf_ = old;
  }
  if (kind() == TokenKind::Kryoptic)
    init_kryoptic(user_pin);
  else
    init_softhsm(user_pin);
  pin_file_ = write_file("pin", pin_ + "\n");
}

void TestToken::init_softhsm(UserPin user_pin) {
  std::filesystem::create_directory(dir_ + "/tokens");
  conf_ = write_file("softhsm2.conf", "directories.tokendir = " + dir_ +
                                          "/tokens\n"
                                          "objectstore.backend = file\n"
                                          "log.level = ERROR\n"
                                          "slots.removable = false\n");
  setenv(conf_env_.c_str(), conf_.c_str(), 1);
  if (user_pin == UserPin::NotYet) {
    // softhsm2-util sets both PINs at once: the token without a user PIN is made through
    // PKCS#11, in the slot SoftHSM2 offers for a new token.
    CK_ULONG count = 0;
    std::vector<CK_SLOT_ID> slots;
    if (module()->fn()->C_GetSlotList(CK_TRUE, nullptr, &count) == CKR_OK) {
      slots.resize(count);
      module()->fn()->C_GetSlotList(CK_TRUE, slots.data(), &count);
      slots.resize(count);
    }
    for (CK_SLOT_ID slot : slots) {
      CK_TOKEN_INFO ti{};
      if (module()->fn()->C_GetTokenInfo(slot, &ti) == CKR_OK &&
          !(ti.flags & CKF_TOKEN_INITIALIZED))
        return init_through_pkcs11(slot, user_pin);
    }
    throw std::runtime_error("SoftHSM2 offered no slot for a new token");
  }
  std::string cmd = "softhsm2-util --init-token --free --label '" + label_ + "' --so-pin '" +
                    so_pin_ + "' --pin '" + pin_ + "' >" + dir_ + "/init.log 2>&1";
  if (std::system(cmd.c_str()) != 0)
    throw std::runtime_error("softhsm2-util --init-token failed; see " + dir_ + "/init.log");
}

// kryoptic has no init tool: the token is made as a PKCS#11 application would make it.
void TestToken::init_kryoptic(UserPin user_pin) {
  constexpr CK_SLOT_ID kSlot = 42;
  conf_ = write_file("kryoptic.conf", "[[slots]]\nslot = " + std::to_string(kSlot) +
                                          "\ndbtype = \"sqlite\"\ndbargs = \"" + dir_ +
                                          "/token.sql\"\n");
  setenv(conf_env_.c_str(), conf_.c_str(), 1);
  init_through_pkcs11(kSlot, user_pin);
}

namespace {
CK_UTF8CHAR* utf8(const std::string& s) {
  return reinterpret_cast<CK_UTF8CHAR*>(const_cast<char*>(s.data()));
}
void check_rv(CK_RV rv, const std::string& what) {
  if (rv == CKR_OK) return;
  char code[24];
  std::snprintf(code, sizeof code, "0x%lx", static_cast<unsigned long>(rv));
  throw std::runtime_error("test token: " + what + " failed with CK_RV " + code);
}
}  // namespace

void TestToken::init_through_pkcs11(CK_SLOT_ID slot, UserPin user_pin) {
  std::string padded = label_;
  padded.resize(32, ' ');
  check_rv(module()->fn()->C_InitToken(slot, utf8(so_pin_), so_pin_.size(), utf8(padded)),
           "C_InitToken");
  if (user_pin == UserPin::Set) set_user_pin();
}

void TestToken::set_user_pin() {
  auto* fn = module()->fn();
  CK_SESSION_HANDLE session = CK_INVALID_HANDLE;
  check_rv(
      fn->C_OpenSession(slot(), CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &session),
      "C_OpenSession");
  CK_RV rv = fn->C_Login(session, CKU_SO, utf8(so_pin_), so_pin_.size());
  if (rv == CKR_OK) rv = fn->C_InitPIN(session, utf8(pin_), pin_.size());
  fn->C_Logout(session);
  fn->C_CloseSession(session);
  check_rv(rv, "C_Login as SO and C_InitPIN");
}

TestToken::~TestToken() {
  module_.reset();  // C_Finalize before the token directory goes
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
  if (had_old_conf_)
    setenv(conf_env_.c_str(), old_conf_.c_str(), 1);
  else
    unsetenv(conf_env_.c_str());
}

std::shared_ptr<Module> TestToken::module() {
  if (!module_) {
    auto m = Module::load(module_path());
    if (!m.ok()) throw std::runtime_error(m.error().message);
    module_ = m.value();
  }
  return module_;
}

CK_SLOT_ID TestToken::slot() {
  auto t = module()->find_token(label_);
  if (!t.ok()) throw std::runtime_error(t.error().message);
  return t.value().slot;
}

std::unique_ptr<Pkcs11Hsm> TestToken::open_hsm(std::size_t max_sessions) {
  Pkcs11Hsm::Options o;
  o.pool.max_sessions = max_sessions;
  auto pin = SecureBuffer(reinterpret_cast<const std::uint8_t*>(pin_.data()), pin_.size());
  auto h = Pkcs11Hsm::open(module(), label_, std::move(pin), o);
  if (!h.ok()) throw std::runtime_error(h.error().message);
  return std::move(h.value());
}

std::unique_ptr<RawSession> TestToken::raw_session() {
  return std::make_unique<RawSession>(module(), slot(), pin_);
}

std::string TestToken::write_file(const std::string& name, const std::string& content) const {
  std::string path = dir_ + "/" + name;
  std::ofstream f(path, std::ios::binary);
  f << content;
  return path;
}

void TestToken::export_to_environment(const std::string& pin_file) const {
  setenv("BYOK_PKCS11_MODULE", module_path().c_str(), 1);
  setenv("BYOK_HSM_TOKEN", label_.c_str(), 1);
  setenv("BYOK_HSM_PIN_FILE", (pin_file.empty() ? pin_file_ : pin_file).c_str(), 1);
  unsetenv("BYOK_HSM_PIN");
}

}  // namespace byok::hsm::test
