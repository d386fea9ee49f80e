#include <catch2/catch.hpp>

#include <fstream>
#include <map>

#include "hsm/config.h"
#include "hsm/wrap_spec.h"
#include "tests/hsm/test_token.h"
#include "tests/harness/sanitizers.h"

using namespace byok::hsm;

namespace {
using byok::testing::kAddressSanitizer;
EnvLookup fake_env(std::map<std::string, std::string> vars) {
  auto shared = std::make_shared<std::map<std::string, std::string>>(std::move(vars));
  return [shared](const char* name) -> const char* {
    auto it = shared->find(name);
    return it == shared->end() ? nullptr : it->second.c_str();
  };
}
std::string write_temp(const std::string& name, const std::string& content) {
  std::string path = "/tmp/byok-hsm-config-test-" + name;
  std::ofstream(path) << content;
  return path;
}
}  // namespace

TEST_CASE("config: flags beat the environment, which beats the YAML file") {
  HsmConfig flags;
  flags.token = "from-flag";
  auto env = hsm_config_from_env(fake_env({{"BYOK_PKCS11_MODULE", "/env/module.so"},
                                           {"BYOK_HSM_TOKEN", "from-env"},
                                           {"BYOK_HSM_PIN_FILE", "/env/pin"}}));
  auto yaml_path =
      write_temp("a.yaml", "module: /yaml/module.so\ntoken: from-yaml\npinFile: /yaml/pin\n");
  auto yaml = load_hsm_config_yaml(yaml_path);
  REQUIRE(yaml.ok());
  CHECK(yaml->module == "/yaml/module.so");
  auto merged = merge_hsm_configs({flags, env, yaml.value()});
  CHECK(merged.module == "/env/module.so");
  CHECK(merged.token == "from-flag");
  CHECK(merged.pin_file == "/env/pin");
  CHECK(validate(merged).ok());
}

TEST_CASE("config: the PIN comes from BYOK_HSM_PIN or a file, never from the YAML itself") {
  auto env = fake_env({{"BYOK_HSM_PIN", "1234"}});
  auto c = hsm_config_from_env(env);
  CHECK(c.pin_env == "BYOK_HSM_PIN");
  auto pin = read_pin(c, env);
  REQUIRE(pin.ok());
  CHECK(pin->view() == "1234");

  HsmConfig f;
  f.pin_file = write_temp("pin", "5678\n");
  auto from_file = read_pin(f, env);
  REQUIRE(from_file.ok());
  CHECK(from_file->view() == "5678");  // trailing newline dropped

  auto bad = load_hsm_config_yaml(write_temp("b.yaml", "module: x\npin: 1234\n"));
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find("pinFile") != std::string::npos);
  auto typo = load_hsm_config_yaml(write_temp("c.yaml", "pinfile: /x\n"));
  REQUIRE_FALSE(typo.ok());
  CHECK(typo.error().kind == byok::ErrorKind::InvalidArgument);
}

TEST_CASE("config: validate names every missing setting") {
  auto st = validate(HsmConfig{});
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().message.find("BYOK_PKCS11_MODULE") != std::string::npos);
  CHECK(st.error().message.find("BYOK_HSM_TOKEN") != std::string::npos);
  CHECK(st.error().message.find("BYOK_HSM_PIN") != std::string::npos);
}

// Which spec each KMS's words mean is the providers' (tests/unit/kms/provider_traits_test.cpp).
TEST_CASE("wrap specs: direct RSA-OAEP cannot carry a private key") {
  CHECK_FALSE(
      check_wrap_target(WrapSpec{WrapMethod::RsaOaep, OaepHash::Sha1, 0}, KeyType::Rsa2048).ok());
}

TEST_CASE("config: a secret file larger than the cap is refused by name") {
  auto path = write_temp("huge-pin", std::string(kMaxSecretFileBytes + 1, '1'));
  auto r = read_secret_file(path);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("SecretFileTooLarge") != std::string::npos);
  CHECK(read_secret_file(write_temp("pin", "1234\n")).ok());
}

TEST_CASE("config: secret buffers are locked in memory while they hold bytes") {
  // Locked kB as the kernel counts them for this process.
  auto vm_locked_kb = [] {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
      if (line.rfind("VmLck:", 0) == 0) return std::stol(line.substr(6));
    return -1L;
  };
  long before = vm_locked_kb();
  {
    SecureBuffer pin(64 * 1024);
    REQUIRE(pin.locked());
    // AddressSanitizer intercepts mlock and does nothing (it would lock the shadow too); the
    // kernel's count is checked in the plain build.
    if (!kAddressSanitizer) CHECK(vm_locked_kb() >= before + 60);
    SecureBuffer moved = std::move(pin);
    CHECK(moved.locked());
    CHECK_FALSE(pin.locked());
  }
  CHECK(vm_locked_kb() == before);
}
