#pragma once
// Where the HSM is: module path, token label and where the PIN comes from. byokctl and the
// controller use the same names:
//   environment: BYOK_PKCS11_MODULE, BYOK_HSM_TOKEN, BYOK_HSM_PIN (the PIN itself) or
//                BYOK_HSM_PIN_FILE (a file holding it)
//   YAML file:   module: ..., token: ..., pinFile: ... (maxSessions: N optional)
// A PIN is never taken from a command line (it would show in `ps` and shell history).

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "common/result.h"
#include "hsm/secure_buffer.h"

namespace byok::hsm {

inline constexpr const char* kEnvModule = "BYOK_PKCS11_MODULE";
inline constexpr const char* kEnvToken = "BYOK_HSM_TOKEN";
inline constexpr const char* kEnvPin = "BYOK_HSM_PIN";
inline constexpr const char* kEnvPinFile = "BYOK_HSM_PIN_FILE";

struct HsmConfig {
  std::string module;
  std::string token;
  std::string pin_file;          // a file holding the PIN (one trailing newline is ignored)
  std::string pin_env;           // or: the name of an environment variable holding it
  std::size_t max_sessions = 0;  // 0: not set here
};

// Injected so tests and callers decide what "the environment" is; std::getenv by default.
using EnvLookup = std::function<const char*(const char*)>;
EnvLookup process_env();

HsmConfig hsm_config_from_env(const EnvLookup& env);
// InvalidArgument if the file cannot be read or is not a YAML mapping; unknown keys are refused
// so a typo ("pinfile") is not silently ignored.
Result<HsmConfig> load_hsm_config_yaml(const std::string& path);
// Field by field, the first source that sets it wins (e.g. {flags, env, file}). The PIN source
// is taken as a whole from the first config that names one.
HsmConfig merge_hsm_configs(const std::vector<HsmConfig>& by_priority);
// InvalidArgument naming what is missing (module, token or PIN source).
Status validate(const HsmConfig& config);

// Reads the PIN from config.pin_file or config.pin_env into a SecureBuffer.
Result<SecureBuffer> read_pin(const HsmConfig& config, const EnvLookup& env);
// Reads a whole file holding one secret (a PIN, a software key) unbuffered into a SecureBuffer;
// refused when it is larger than kMaxSecretFileBytes.
inline constexpr std::size_t kMaxSecretFileBytes = 64 * 1024;
Result<SecureBuffer> read_secret_file(const std::string& path);

}  // namespace byok::hsm
