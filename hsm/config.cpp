#include "hsm/config.h"

#include <cstdio>
#include <cstdlib>
#include <memory>

#include <yaml-cpp/yaml.h>

namespace byok::hsm {

EnvLookup process_env() {
  return [](const char* name) -> const char* { return std::getenv(name); };
}

HsmConfig hsm_config_from_env(const EnvLookup& env) {
  HsmConfig c;
  auto get = [&](const char* name) -> std::string {
    const char* v = env(name);
    return v ? std::string(v) : std::string();
  };
  c.module = get(kEnvModule);
  c.token = get(kEnvToken);
  // The PIN itself in the environment beats a PIN file named there: it is the more specific.
  if (const char* pin = env(kEnvPin); pin != nullptr && *pin != '\0') {
    c.pin_env = kEnvPin;
  } else {
    c.pin_file = get(kEnvPinFile);
  }
  return c;
}

Result<HsmConfig> load_hsm_config_yaml(const std::string& path) {
  // yaml-cpp reports errors by throwing; they stop here.
  try {
    YAML::Node root = YAML::LoadFile(path);
    if (!root.IsMap())
      return make_error(ErrorKind::InvalidArgument, path + ": expected a YAML mapping");
    HsmConfig c;
    for (const auto& kv : root) {
      std::string key = kv.first.as<std::string>();
      if (key == "module")
        c.module = kv.second.as<std::string>();
      else if (key == "token")
        c.token = kv.second.as<std::string>();
      else if (key == "pinFile")
        c.pin_file = kv.second.as<std::string>();
      else if (key == "maxSessions")
        c.max_sessions = kv.second.as<std::size_t>();
      else if (key == "pin")
        return make_error(ErrorKind::InvalidArgument,
                          path + ": a PIN is not accepted in the config file; use pinFile");
      else
        return make_error(
            ErrorKind::InvalidArgument,
            path + ": unknown key \"" + key + "\" (known: module, token, pinFile, maxSessions)");
    }
    return c;
  } catch (const YAML::Exception& e) {
    return make_error(ErrorKind::InvalidArgument, path + ": " + e.what());
  }
}

HsmConfig merge_hsm_configs(const std::vector<HsmConfig>& by_priority) {
  HsmConfig out;
  bool pin_set = false;
  for (const HsmConfig& c : by_priority) {
    if (out.module.empty()) out.module = c.module;
    if (out.token.empty()) out.token = c.token;
    if (out.max_sessions == 0) out.max_sessions = c.max_sessions;
    if (!pin_set && (!c.pin_file.empty() || !c.pin_env.empty())) {
      out.pin_file = c.pin_file;
      out.pin_env = c.pin_env;
      pin_set = true;
    }
  }
  return out;
}

Status validate(const HsmConfig& c) {
  std::string missing;
  auto add = [&](const std::string& what) { missing += (missing.empty() ? "" : "; ") + what; };
  if (c.module.empty())
    add("no PKCS#11 module (--module, " + std::string(kEnvModule) + " or `module:` in --config)");
  if (c.token.empty())
    add("no token label (--token, " + std::string(kEnvToken) + " or `token:` in --config)");
  if (c.pin_file.empty() && c.pin_env.empty())
    add("no PIN (--pin-file, " + std::string(kEnvPin) + ", " + kEnvPinFile +
        " or `pinFile:` in --config)");
  if (!missing.empty()) return make_error(ErrorKind::InvalidArgument, missing);
  return {};
}

Result<SecureBuffer> read_secret_file(const std::string& path) {
  struct FileClose {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  std::unique_ptr<std::FILE, FileClose> f(std::fopen(path.c_str(), "rb"));
  if (!f) return make_error(ErrorKind::InvalidArgument, "cannot open " + path);
  if (std::fseek(f.get(), 0, SEEK_END) != 0)
    return make_error(ErrorKind::InvalidArgument, "cannot read " + path);
  long size = std::ftell(f.get());
  if (size < 0) return make_error(ErrorKind::InvalidArgument, "cannot read " + path);
  if (static_cast<unsigned long>(size) > kMaxSecretFileBytes)
    return make_error(ErrorKind::InvalidArgument,
                      path + " is larger than " + std::to_string(kMaxSecretFileBytes) +
                          " bytes (SecretFileTooLarge): a PIN or key file is a few hundred bytes");
  std::rewind(f.get());
  // stdio buffers are not wiped; reading unbuffered keeps the only copy in the SecureBuffer.
  std::setvbuf(f.get(), nullptr, _IONBF, 0);
  SecureBuffer buf(static_cast<std::size_t>(size));
  std::size_t n = size == 0 ? 0 : std::fread(buf.data(), 1, buf.size(), f.get());
  if (n != buf.size()) return make_error(ErrorKind::InvalidArgument, "short read on " + path);
  return buf;
}

Result<SecureBuffer> read_pin(const HsmConfig& config, const EnvLookup& env) {
  if (!config.pin_file.empty()) {
    auto buf = read_secret_file(config.pin_file);
    if (!buf.ok()) return buf.error().context("reading the PIN file");
    SecureBuffer pin = std::move(buf.value());
    std::size_t n = pin.size();
    while (n > 0 && (pin.data()[n - 1] == '\n' || pin.data()[n - 1] == '\r')) --n;
    pin.shrink(n);
    if (pin.empty())
      return make_error(ErrorKind::InvalidArgument,
                        "the PIN file " + config.pin_file + " is empty");
    return pin;
  }
  if (!config.pin_env.empty()) {
    const char* v = env(config.pin_env.c_str());
    if (v == nullptr || *v == '\0')
      return make_error(ErrorKind::InvalidArgument, config.pin_env + " is not set");
    return SecureBuffer(reinterpret_cast<const std::uint8_t*>(v),
                        std::char_traits<char>::length(v));
  }
  return make_error(ErrorKind::InvalidArgument, "no PIN source configured");
}

}  // namespace byok::hsm
