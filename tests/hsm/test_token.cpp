#include "tests/hsm/softhsm_fixture.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace byok::hsm::test {

RawSession::RawSession(std::shared_ptr<Module> module, CK_SLOT_ID slot, const std::string& pin)
    : module_(std::move(module)) {
  CK_RV rv = module_->fn()->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr,
                                          nullptr, &handle_);
  if (rv != CKR_OK) throw std::runtime_error("C_OpenSession failed");
  rv = module_->fn()->C_Login(handle_, CKU_USER,
                              reinterpret_cast<CK_UTF8CHAR*>(const_cast<char*>(pin.data())),
                              pin.size());
  if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN)
    throw std::runtime_error("C_Login failed");
}

RawSession::~RawSession() { module_->fn()->C_CloseSession(handle_); }

std::string SoftHsmToken::module_path() {
  const char* env = std::getenv("BYOK_PKCS11_MODULE");
  return env && *env ? env : BYOK_TEST_PKCS11_MODULE;
}

SoftHsmToken::SoftHsmToken(std::string label) : label_(std::move(label)) {
  char tmpl[] = "/tmp/byok-hsm-test-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  std::filesystem::create_directory(dir_ + "/tokens");
  conf_ = dir_ + "/softhsm2.conf";
  {
    std::ofstream c(conf_);
    c << "directories.tokendir = " << dir_ << "/tokens\n"
      << "objectstore.backend = file\n"
      << "log.level = ERROR\n"
      << "slots.removable = false\n";
  }
  if (const char* old = std::getenv("SOFTHSM2_CONF")) {
    had_old_conf_ = true;
    old_conf_ = old;
  }
  setenv("SOFTHSM2_CONF", conf_.c_str(), 1);
  std::string cmd = "softhsm2-util --init-token --free --label '" + label_ + "' --so-pin '" +
                    so_pin_ + "' --pin '" + pin_ + "' >" + dir_ + "/init.log 2>&1";
  if (std::system(cmd.c_str()) != 0)
    throw std::runtime_error("softhsm2-util --init-token failed; see " + dir_ + "/init.log");
  pin_file_ = write_file("pin", pin_ + "\n");
}

SoftHsmToken::~SoftHsmToken() {
  module_.reset();  // C_Finalize before the token directory goes
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
  if (had_old_conf_) setenv("SOFTHSM2_CONF", old_conf_.c_str(), 1);
  else unsetenv("SOFTHSM2_CONF");
}

std::shared_ptr<Module> SoftHsmToken::module() {
  if (!module_) {
    auto m = Module::load(module_path());
    if (!m.ok()) throw std::runtime_error(m.error().message);
    module_ = m.value();
  }
  return module_;
}

CK_SLOT_ID SoftHsmToken::slot() {
  auto t = module()->find_token(label_);
  if (!t.ok()) throw std::runtime_error(t.error().message);
  return t.value().slot;
}

std::unique_ptr<Pkcs11Hsm> SoftHsmToken::open_hsm(std::size_t max_sessions) {
  Pkcs11Hsm::Options o;
  o.pool.max_sessions = max_sessions;
  auto pin = SecureBuffer(reinterpret_cast<const std::uint8_t*>(pin_.data()), pin_.size());
  auto h = Pkcs11Hsm::open(module(), label_, std::move(pin), o);
  if (!h.ok()) throw std::runtime_error(h.error().message);
  return std::move(h.value());
}

std::unique_ptr<RawSession> SoftHsmToken::raw_session() {
  return std::make_unique<RawSession>(module(), slot(), pin_);
}

std::string SoftHsmToken::write_file(const std::string& name, const std::string& content) const {
  std::string path = dir_ + "/" + name;
  std::ofstream f(path, std::ios::binary);
  f << content;
  return path;
}

void SoftHsmToken::export_to_environment(const std::string& pin_file) const {
  setenv("BYOK_PKCS11_MODULE", module_path().c_str(), 1);
  setenv("BYOK_HSM_TOKEN", label_.c_str(), 1);
  setenv("BYOK_HSM_PIN_FILE", (pin_file.empty() ? pin_file_ : pin_file).c_str(), 1);
  unsetenv("BYOK_HSM_PIN");
}

}  // namespace byok::hsm::test
