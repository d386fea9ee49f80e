#include "cli/commands.h"

#include <fcntl.h>
#include <unistd.h>

#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>
#include <openssl/opensslv.h>

#include "cli/args.h"
#include "hsm/encoding.h"
#include "hsm/kek.h"
#include "hsm/pkcs11_hsm.h"
#include "hsm/software_wrap.h"
#include "hsm/trusted_kek.h"
#include "kms/provider_traits.h"

#ifndef BYOKCTL_VERSION
#define BYOKCTL_VERSION "0.0.0"
#endif

namespace byok::cli {
namespace {

using hsm::KeyFamily;
using hsm::KeyType;
using hsm::WrapMethod;
using hsm::WrapSpec;
using Bytes = std::vector<std::uint8_t>;

int exit_code(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::InvalidArgument:
    case ErrorKind::FailedPrecondition:
    case ErrorKind::AlreadyExists:
      return 2;
    case ErrorKind::NotFound:
      return 3;
    case ErrorKind::Unauthenticated:
    case ErrorKind::PermissionDenied:
      return 4;
    case ErrorKind::Unsupported:
      return 5;
    case ErrorKind::Unavailable:
    case ErrorKind::Throttled:
    case ErrorKind::DeadlineExceeded:
      return 6;
    default:
      return 1;
  }
}

int fail(Io& io, const Error& e) {
  io.err << "byokctl: error (" << to_string(e.kind) << "): " << e.message << "\n";
  return exit_code(e.kind);
}

// --- shared flags --------------------------------------------------------------------------

std::vector<FlagSpec> hsm_flags() {
  return {
      {"module", true, "PKCS#11 module path (else BYOK_PKCS11_MODULE, else config)", "PATH"},
      {"token", true, "token label (else BYOK_HSM_TOKEN, else config)", "LABEL"},
      {"pin-file", true, "file holding the user PIN (else BYOK_HSM_PIN / BYOK_HSM_PIN_FILE)",
       "FILE"},
      {"config", true, "YAML file with module, token, pinFile", "FILE"},
  };
}

std::vector<FlagSpec> kek_flags(bool with_data) {
  std::vector<FlagSpec> f = {
      {"kek-file", true, "the KMS's wrapping public key, DER or PEM", "FILE"}};
  if (with_data)
    f.push_back({"kek-data", true, "the wrapping public key as base64 DER (AWS PublicKey)", "B64"});
  return f;
}

FlagSpec help_flag() { return {"help", false, "show this help"}; }
FlagSpec json_flag() { return {"json", false, "print JSON"}; }

std::vector<FlagSpec> join(std::vector<std::vector<FlagSpec>> parts) {
  std::vector<FlagSpec> out;
  for (auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

Result<std::unique_ptr<hsm::Pkcs11Hsm>> open_hsm(const Args& args, Io& io) {
  hsm::HsmConfig flags;
  flags.module = args.get("module");
  flags.token = args.get("token");
  flags.pin_file = args.get("pin-file");
  hsm::HsmConfig file;
  if (args.has("config")) {
    auto loaded = hsm::load_hsm_config_yaml(args.get("config"));
    if (!loaded.ok()) return loaded.error();
    file = loaded.value();
  }
  auto config = hsm::merge_hsm_configs({flags, hsm::hsm_config_from_env(io.env), file});
  auto opened = hsm::Pkcs11Hsm::open(config, io.env, nullptr);
  if (!opened.ok()) return opened.error().context("opening the HSM");
  return opened;
}

Result<Bytes> read_kek(const Args& args) {
  if (args.has("kek-file") && args.has("kek-data"))
    return make_error(ErrorKind::InvalidArgument, "give --kek-file or --kek-data, not both");
  if (args.has("kek-data")) {
    auto der = hsm::base64_decode(args.get("kek-data"));
    if (!der) return make_error(ErrorKind::InvalidArgument, "--kek-data is not base64");
    return *der;
  }
  if (!args.has("kek-file"))
    return make_error(ErrorKind::InvalidArgument, "the KEK is required (--kek-file)");
  auto buf = hsm::read_secret_file(args.get("kek-file"));  // public, but the reader is handy
  if (!buf.ok()) return buf.error();
  return Bytes(buf.value().data(), buf.value().data() + buf.value().size());
}

Status write_output(const std::string& path, std::span<const std::uint8_t> data) {
  // 0600: a wrapped key is only useful to the KMS, but there is no reason to share it.
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return make_error(ErrorKind::InvalidArgument, "cannot write " + path);
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n <= 0) {
      ::close(fd);
      return make_error(ErrorKind::Internal, "write to " + path + " failed");
    }
    done += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0) return make_error(ErrorKind::Internal, "closing " + path + " failed");
  return {};
}

// --- the key to export: an HSM key by label/id, or a software key file ------------------------

struct Source {
  std::unique_ptr<hsm::Pkcs11Hsm> hsm;
  hsm::KeyRef ref;
  std::optional<hsm::SoftwareKey> software;
  KeyType type = KeyType::Aes256Gcm96;
  std::string origin;  // for the .byok generator field: HSM manufacturer/model, or "software"

  Result<Bytes> wrap(const WrapSpec& spec, std::span<const std::uint8_t> kek) {
    if (software) return hsm::software_wrap(*software, spec, kek);
    return hsm->wrap_key(ref, spec, kek);
  }
};

std::optional<KeyFamily> family_of_flag(const std::string& flag) {
  if (flag == "rsa-key") return KeyFamily::Rsa;
  if (flag == "ec-key") return KeyFamily::Ec;
  if (flag == "aes-key") return KeyFamily::Aes;
  return std::nullopt;
}

std::string family_name(KeyFamily f) {
  switch (f) {
    case KeyFamily::Rsa:
      return "RSA";
    case KeyFamily::Ec:
      return "EC";
    case KeyFamily::Aes:
      return "AES";
    case KeyFamily::Chacha20:
      return "ChaCha20";
    case KeyFamily::Ed25519:
      return "Ed25519";
  }
  return "?";
}

// key_flags: the flags that name an HSM key ("rsa-key", "key", "key-id", ...); --software-key is
// always the alternative.
Result<Source> open_source(const Args& args, Io& io, const std::vector<std::string>& key_flags) {
  std::vector<std::string> all = key_flags;
  all.emplace_back("software-key");
  auto which = args.exactly_one(all);
  if (!which.ok()) return which.error();
  Source src;
  if (which.value() == "software-key") {
    if (args.has("module") || args.has("token") || args.has("pin-file"))
      return make_error(ErrorKind::InvalidArgument,
                        "--software-key does not use an HSM; drop --module/--token/--pin-file");
    std::optional<KeyType> hint;
    if (args.has("software-key-type")) {
      hint = hsm::parse_key_type(args.get("software-key-type"));
      if (!hint)
        return make_error(ErrorKind::InvalidArgument,
                          "unknown --software-key-type (" + hsm::key_type_names() + ")");
    }
    auto key = hsm::load_software_key(args.get("software-key"), hint);
    if (!key.ok()) return key.error();
    src.type = key.value().type;
    src.software = std::move(key.value());
    src.origin = std::string("software (") + OPENSSL_VERSION_TEXT + ")";
    return src;
  }
  auto opened = open_hsm(args, io);
  if (!opened.ok()) return opened.error();
  src.hsm = std::move(opened.value());
  src.ref = which.value() == "key-id" ? hsm::KeyRef::id_hex(args.get("key-id"))
                                      : hsm::KeyRef::label(args.get(which.value()));
  auto info = src.hsm->find_key(src.ref);
  if (!info.ok()) return info.error();
  if (!info.value().type)
    return make_error(ErrorKind::Unsupported, "key " + src.ref.describe() + " is a " +
                                                  info.value().pkcs11_key_type +
                                                  " key, which no KMS import here takes");
  src.type = *info.value().type;
  auto want = family_of_flag(which.value());
  if (want && hsm::key_family(src.type) != *want)
    return make_error(ErrorKind::InvalidArgument, "--" + which.value() + " names " +
                                                      src.ref.describe() + ", which is " +
                                                      std::string(hsm::key_type_name(src.type)) +
                                                      ", not an " + family_name(*want) + " key");
  auto hi = src.hsm->info();
  if (!hi.ok()) return hi.error();
  src.origin = hi.value().token_manufacturer + " " + hi.value().token_model + " (firmware " +
               hi.value().firmware_version + ")";
  return src;
}

// --- commands ------------------------------------------------------------------------------

struct Command {
  std::string name;
  std::string summary;
  std::string usage;
  std::vector<FlagSpec> flags;
  std::function<int(const Args&, Io&)> run;
};

std::vector<FlagSpec> software_flags() {
  return {{"software-key", true,
           "export this key file instead of an HSM key (PEM/DER private key or raw AES bytes); "
           "the material is then in this process's memory",
           "FILE"},
          {"software-key-type", true, "key type of a raw --software-key (e.g. chacha20-poly1305)",
           "TYPE"}};
}

// The KMSes `byokctl wrap --format NAME` serves: those whose traits describe its --algorithm
// (AWS and Azure have ceremony commands of their own).
std::vector<const kms::ProviderTraits*> wrap_formats() {
  std::vector<const kms::ProviderTraits*> out;
  for (const auto* traits : kms::all_provider_traits())
    if (!traits->byokctl_algorithm_help.empty()) out.push_back(traits);
  return out;
}

// What `what` says of each wrap format, joined by `sep`: the format list in messages and help.
template <typename What>
std::string join_wrap_formats(const std::string& sep, What what) {
  std::string out;
  for (const auto* traits : wrap_formats())
    out += (out.empty() ? "" : sep) + std::string(what(*traits));
  return out;
}

std::string_view name_of(const kms::ProviderTraits& traits) { return traits.name; }
std::string_view title_of(const kms::ProviderTraits& traits) { return traits.title; }
std::string algorithm_help_of(const kms::ProviderTraits& traits) {
  return std::string(traits.name) + ": " + std::string(traits.byokctl_algorithm_help);
}

int cmd_azure(const Args& args, Io& io) {
  if (!args.has("kek-identifier"))
    return fail(io, make_error(ErrorKind::InvalidArgument, "--kek-identifier is required"));
  auto kek = read_kek(args);
  if (!kek.ok()) return fail(io, kek.error());
  auto src = open_source(args, io, {"rsa-key", "ec-key", "aes-key"});
  if (!src.ok()) return fail(io, src.error());
  if (hsm::key_family(src.value().type) == KeyFamily::Ed25519 ||
      hsm::key_family(src.value().type) == KeyFamily::Chacha20)
    return fail(io, make_error(ErrorKind::Unsupported,
                               "Azure Key Vault does not import " +
                                   std::string(hsm::key_type_name(src.value().type)) + " keys"));
  const kms::ProviderTraits& azure = *kms::provider_traits("azure");
  auto spec = azure.wrap_spec(azure.default_wrapping_algorithm);
  if (!spec.ok()) return fail(io, spec.error());
  auto blob = src.value().wrap(spec.value(), kek.value());
  if (!blob.ok()) return fail(io, blob.error());
  const auto& wrap = blob.value();
  std::string text = azure.wrap_file(
      args.get("kek-identifier"), {reinterpret_cast<const char*>(wrap.data()), wrap.size()},
      std::string("byokctl ") + BYOKCTL_VERSION + "; " + src.value().origin);
  if (!args.has("out") || args.get("out") == "-") {
    io.out << text;
    return 0;
  }
  auto st = write_output(args.get("out"),
                         {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
  if (!st.ok()) return fail(io, st.error());
  io.err << "wrote " << args.get("out") << " (" << hsm::key_type_name(src.value().type)
         << ", CKM_RSA_AES_KEY_WRAP, OAEP SHA-1)\n";
  return 0;
}

int cmd_aws(const Args& args, Io& io) {
  if (!args.has("out"))
    return fail(io, make_error(ErrorKind::InvalidArgument, "--out is required"));
  auto kek = read_kek(args);
  if (!kek.ok()) return fail(io, kek.error());
  auto src = open_source(args, io, {"aes-key", "rsa-key", "ec-key"});
  if (!src.ok()) return fail(io, src.error());
  bool symmetric = hsm::is_symmetric(src.value().type);
  // AWS's recommended algorithms; SHA-1 variants remain available for HSMs without OAEP-SHA-256.
  std::string algorithm =
      args.get("algorithm", symmetric ? "RSAES_OAEP_SHA_256" : "RSA_AES_KEY_WRAP_SHA_256");
  auto spec = kms::wrap_spec_for("aws", algorithm);
  if (!spec.ok()) return fail(io, spec.error());
  if (!symmetric && spec.value().method == WrapMethod::RsaOaep)
    return fail(io, make_error(ErrorKind::InvalidArgument,
                               "AWS KMS needs RSA_AES_KEY_WRAP_SHA_1 or RSA_AES_KEY_WRAP_SHA_256 "
                               "for asymmetric key material"));
  auto blob = src.value().wrap(spec.value(), kek.value());
  if (!blob.ok()) return fail(io, blob.error());
  auto st = write_output(args.get("out"), blob.value());
  if (!st.ok()) return fail(io, st.error());
  io.err << "wrote " << args.get("out") << " (" << blob.value().size() << " bytes, " << algorithm
         << ")\n";
  return 0;
}

int cmd_wrap(const Args& args, Io& io) {
  std::string format = args.get("format");
  std::string algorithm = args.get("algorithm");
  Result<WrapSpec> spec = make_error(ErrorKind::InvalidArgument, "");
  auto hash_of = [&](const std::string& h) -> Result<hsm::OaepHash> {
    if (h == "sha1") return hsm::OaepHash::Sha1;
    if (h == "sha256" || h.empty()) return hsm::OaepHash::Sha256;
    return make_error(ErrorKind::InvalidArgument, "--hash must be sha1 or sha256");
  };
  // A provider's own words for the wrap, as the operator reads them (its traits).
  const kms::ProviderTraits* kms_format = kms::provider_traits(format);
  if (kms_format && kms_format->byokctl_algorithm_help.empty()) kms_format = nullptr;
  if (kms_format) {
    if (algorithm.empty() && kms_format->default_wrapping_algorithm.empty())
      return fail(io, make_error(ErrorKind::InvalidArgument,
                                 "--algorithm (" + std::string(kms_format->byokctl_algorithm_name) +
                                     ") is required for " + format));
    spec = kms_format->wrap_spec(algorithm.empty() ? kms_format->default_wrapping_algorithm
                                                   : std::string_view(algorithm));
  } else if (format == "raw-rsa-aes" || format == "rsa-oaep") {
    if (!algorithm.empty())
      return fail(io, make_error(ErrorKind::InvalidArgument, "--algorithm is for " +
                                                                 join_wrap_formats("/", name_of) +
                                                                 "; use --hash here"));
    auto h = hash_of(args.get("hash"));
    if (!h.ok()) return fail(io, h.error());
    spec = WrapSpec{format == "rsa-oaep" ? WrapMethod::RsaOaep : WrapMethod::RsaAesKeyWrap,
                    h.value(), 0};
  } else {
    return fail(io, make_error(ErrorKind::InvalidArgument, "--format must be " +
                                                               join_wrap_formats(", ", name_of) +
                                                               ", raw-rsa-aes or rsa-oaep"));
  }
  if (!spec.ok()) return fail(io, spec.error());
  if (args.has("hash") && format != "raw-rsa-aes" && format != "rsa-oaep")
    return fail(io, make_error(ErrorKind::InvalidArgument, "--hash is for raw-rsa-aes/rsa-oaep; " +
                                                               format + " takes --algorithm"));
  auto kek = read_kek(args);
  if (!kek.ok()) return fail(io, kek.error());
  auto src = open_source(args, io, {"key", "key-id"});
  if (!src.ok()) return fail(io, src.error());
  auto blob = src.value().wrap(spec.value(), kek.value());
  if (!blob.ok()) return fail(io, blob.error());
  std::string b64 = hsm::base64_encode(blob.value());
  std::string out = args.get("out", "-");
  if (out == "-") {
    io.out << b64 << "\n";  // binary on a terminal helps no one
  } else {
    Status st =
        args.has("base64")
            ? write_output(out, {reinterpret_cast<const std::uint8_t*>(b64.data()), b64.size()})
            : write_output(out, blob.value());
    if (!st.ok()) return fail(io, st.error());
  }
  if (args.has("json")) {
    auto parsed = hsm::parse_kek(kek.value());
    nlohmann::ordered_json j = {
        {"format", format},
        {"method", hsm::describe(spec.value())},
        {"keyType", std::string(hsm::key_type_name(src.value().type))},
        {"kekBits", parsed.ok() ? parsed.value().bits : 0},
        {"kekFingerprintSha256", parsed.ok() ? parsed.value().fingerprint_sha256 : ""},
        {"bytes", blob.value().size()},
        {"out", out}};
    (out == "-" ? io.err : io.out) << j.dump(2) << "\n";
  }
  return 0;
}

nlohmann::ordered_json key_json(const hsm::KeyInfo& k) {
  return {{"label", k.label},
          {"id", k.id_hex},
          {"type", k.type ? std::string(hsm::key_type_name(*k.type)) : std::string()},
          {"pkcs11KeyType", k.pkcs11_key_type},
          {"class", k.is_private ? "private" : "secret"},
          {"sensitive", k.sensitive},
          {"extractable", k.extractable}};
}

int cmd_keys(const Args& args, Io& io) {
  auto h = open_hsm(args, io);
  if (!h.ok()) return fail(io, h.error());
  auto keys = h.value()->list_keys();
  if (!keys.ok()) return fail(io, keys.error());
  if (args.has("json")) {
    nlohmann::ordered_json arr = nlohmann::ordered_json::array();
    for (const auto& k : keys.value()) arr.push_back(key_json(k));
    io.out << arr.dump(2) << "\n";
    return 0;
  }
  io.out << "LABEL\tID\tTYPE\tCLASS\tEXTRACTABLE\n";
  for (const auto& k : keys.value()) {
    io.out << k.label << "\t" << k.id_hex << "\t"
           << (k.type ? std::string(hsm::key_type_name(*k.type)) : k.pkcs11_key_type) << "\t"
           << (k.is_private ? "private" : "secret") << "\t" << (k.extractable ? "yes" : "no")
           << "\n";
  }
  return 0;
}

int cmd_generate(const Args& args, Io& io) {
  if (!args.has("type") || !args.has("label"))
    return fail(io, make_error(ErrorKind::InvalidArgument, "--type and --label are required"));
  auto type = hsm::parse_key_type(args.get("type"));
  if (!type)
    return fail(
        io, make_error(ErrorKind::InvalidArgument, "unknown --type \"" + args.get("type") + "\" (" +
                                                       hsm::key_type_names() + ")"));
  auto h = open_hsm(args, io);
  if (!h.ok()) return fail(io, h.error());
  auto info = h.value()->generate_key(
      {*type, args.get("label"), args.get("id"), args.has("wrap-with-trusted")});
  if (!info.ok()) return fail(io, info.error());
  if (args.has("json")) {
    io.out << key_json(info.value()).dump(2) << "\n";
  } else {
    io.out << "generated " << hsm::key_type_name(*type) << " key \"" << info.value().label
           << "\" id " << info.value().id_hex << "\n";
  }
  return 0;
}

int cmd_info(const Args& args, Io& io) {
  auto h = open_hsm(args, io);
  if (!h.ok()) return fail(io, h.error());
  auto info = h.value()->info();
  if (!info.ok()) return fail(io, info.error());
  auto caps = h.value()->capabilities();
  if (!caps.ok()) return fail(io, caps.error());
  nlohmann::ordered_json gen = nlohmann::ordered_json::array();
  for (KeyType t : caps.value().can_generate) gen.push_back(std::string(hsm::key_type_name(t)));
  const auto& i = info.value();
  nlohmann::ordered_json j = {{"module", i.module_path},
                              {"manufacturer", i.manufacturer},
                              {"library", i.library_description + " " + i.library_version},
                              {"token",
                               {{"label", i.token_label},
                                {"manufacturer", i.token_manufacturer},
                                {"model", i.token_model},
                                {"serial", i.token_serial},
                                {"firmware", i.firmware_version}}},
                              {"canGenerate", gen},
                              {"rsaOaep", caps.value().rsa_oaep},
                              {"aesKeyWrapPad", caps.value().aes_key_wrap_pad},
                              {"nativeRsaAesKeyWrap", caps.value().native_rsa_aes_key_wrap}};
  if (args.has("json")) {
    io.out << j.dump(2) << "\n";
  } else {
    io.out << "module:        " << i.module_path << " (" << i.manufacturer << ", "
           << i.library_description << " " << i.library_version << ")\n"
           << "token:         " << i.token_label << " (" << i.token_manufacturer << " "
           << i.token_model << ", serial " << i.token_serial << ")\n"
           << "can generate:  ";
    for (std::size_t n = 0; n < gen.size(); ++n)
      io.out << (n ? ", " : "") << gen[n].get<std::string>();
    io.out << "\nRSA-AES wrap:  "
           << (caps.value().native_rsa_aes_key_wrap ? "native CKM_RSA_AES_KEY_WRAP"
               : caps.value().aes_key_wrap_pad && caps.value().rsa_oaep
                   ? "composed (CKM_AES_KEY_WRAP_PAD + CKM_RSA_PKCS_OAEP)"
                   : "not available")
           << "\n";
  }
  return 0;
}

int cmd_kek_info(const Args& args, Io& io) {
  auto kek = read_kek(args);
  if (!kek.ok()) return fail(io, kek.error());
  auto parsed = hsm::parse_kek(kek.value());
  if (!parsed.ok()) return fail(io, parsed.error());
  if (args.has("json")) {
    io.out << nlohmann::ordered_json{{"type", "RSA"},
                                     {"bits", parsed.value().bits},
                                     {"fingerprintSha256", parsed.value().fingerprint_sha256}}
                  .dump(2)
           << "\n";
  } else {
    io.out << "RSA-" << parsed.value().bits << " SHA-256 " << parsed.value().fingerprint_sha256
           << "\n";
  }
  return 0;
}

// The security officer's ceremony (hsm/trusted_kek.h): the module and token as for every
// command, the SO PIN from its own file; the user PIN is not used.
int cmd_trust_kek(const Args& args, Io& io) {
  if (!args.has("label") || !args.has("so-pin-file"))
    return fail(io,
                make_error(ErrorKind::InvalidArgument, "--label and --so-pin-file are required"));
  auto kek = read_kek(args);
  if (!kek.ok()) return fail(io, kek.error());
  hsm::HsmConfig flags;
  flags.module = args.get("module");
  flags.token = args.get("token");
  hsm::HsmConfig file;
  if (args.has("config")) {
    auto loaded = hsm::load_hsm_config_yaml(args.get("config"));
    if (!loaded.ok()) return fail(io, loaded.error());
    file = loaded.value();
  }
  auto config = hsm::merge_hsm_configs({flags, hsm::hsm_config_from_env(io.env), file});
  auto trusted =
      hsm::install_trusted_kek(config, args.get("so-pin-file"), kek.value(), args.get("label"));
  if (!trusted.ok()) return fail(io, trusted.error());
  if (args.has("json")) {
    io.out << nlohmann::ordered_json{{"label", trusted.value().label},
                                     {"bits", trusted.value().bits},
                                     {"fingerprintSha256", trusted.value().fingerprint_sha256}}
                  .dump(2)
           << "\n";
  } else {
    io.out << "installed trusted wrapping key \"" << trusted.value().label << "\" RSA-"
           << trusted.value().bits << " SHA-256 " << trusted.value().fingerprint_sha256 << "\n";
  }
  return 0;
}

std::vector<Command> commands() {
  auto key_label = [](const char* name, const char* what) {
    return FlagSpec{name, true, what, "LABEL"};
  };
  return {
      {"azure-byok-export",
       "write an Azure Key Vault .byok file (CKM_RSA_AES_KEY_WRAP, OAEP SHA-1)",
       "byokctl azure-byok-export --kek-identifier KID --kek-file FILE [--out FILE.byok]\n"
       "                          (--rsa-key L | --ec-key L | --aes-key L | --software-key F)",
       join({{{"kek-identifier", true, "the Azure KEK's kid, with version", "KID"},
              {"out", true, "where to write the .byok JSON (default: stdout)", "FILE"},
              key_label("rsa-key", "label of the RSA key to export"),
              key_label("ec-key", "label of the EC key to export"),
              key_label("aes-key", "label of the AES key to export (Managed HSM oct-HSM)")},
             kek_flags(false),
             software_flags(),
             hsm_flags(),
             {help_flag()}}),
       cmd_azure},
      {"aws-kms-export", "write AWS KMS EncryptedKeyMaterial for ImportKeyMaterial",
       "byokctl aws-kms-export (--aes-key L | --rsa-key L | --ec-key L | --software-key F)\n"
       "                       (--kek-file F | --kek-data B64) --out FILE [--algorithm ALG]",
       join({{{"out", true, "where to write the EncryptedKeyMaterial bytes", "FILE"},
              {"algorithm", true,
               "RSAES_OAEP_SHA_1 | RSAES_OAEP_SHA_256 (default for AES) | RSA_AES_KEY_WRAP_SHA_1 | "
               "RSA_AES_KEY_WRAP_SHA_256 (default for RSA/EC)",
               "ALG"},
              key_label("aes-key", "label of the AES key to export"),
              key_label("rsa-key", "label of the RSA key to export"),
              key_label("ec-key", "label of the EC key to export")},
             kek_flags(true),
             software_flags(),
             hsm_flags(),
             {help_flag()}}),
       cmd_aws},
      {"wrap", "wrap a key for " + join_wrap_formats(", ", title_of) + ", or raw",
       "byokctl wrap --format " + join_wrap_formats("|", name_of) +
           "|raw-rsa-aes|rsa-oaep\n"
           "             (--key L | --key-id HEX | --software-key F) (--kek-file F | --kek-data "
           "B64)\n"
           "             [--algorithm A | --hash sha1|sha256] [--out FILE [--base64]] [--json]",
       join({{{"format", true, join_wrap_formats(" | ", name_of) + " | raw-rsa-aes | rsa-oaep",
               "FORMAT"},
              {"algorithm", true, join_wrap_formats("; ", algorithm_help_of), "ALG"},
              {"hash", true, "OAEP hash for raw-rsa-aes / rsa-oaep: sha256 (default) | sha1",
               "HASH"},
              {"out", true, "output file (default: base64 on stdout)", "FILE"},
              {"base64", false, "write base64 text to --out instead of bytes"},
              key_label("key", "label of the key to wrap"),
              {"key-id", true, "CKA_ID (hex) of the key to wrap", "HEX"},
              json_flag()},
             kek_flags(true),
             software_flags(),
             hsm_flags(),
             {help_flag()}}),
       cmd_wrap},
      {"keys", "list the token's secret and private keys", "byokctl keys [--json]",
       join({{json_flag()}, hsm_flags(), {help_flag()}}), cmd_keys},
      {"generate", "generate a token key (sensitive; extractable only by wrapping)",
       "byokctl generate --type TYPE --label LABEL [--id HEX] [--wrap-with-trusted] [--json]",
       join({{{"type", true, hsm::key_type_names(), "TYPE"},
              {"label", true, "CKA_LABEL of the new key", "LABEL"},
              {"id", true, "CKA_ID in hex (default: 16 random bytes)", "HEX"},
              {"wrap-with-trusted", false,
               "set CKA_WRAP_WITH_TRUSTED: the token wraps the key only under wrapping keys a "
               "security officer installed (byokctl trust-kek)"},
              json_flag()},
             hsm_flags(),
             {help_flag()}}),
       cmd_generate},
      {"info", "show the module, the token and what it can generate and wrap",
       "byokctl info [--json]", join({{json_flag()}, hsm_flags(), {help_flag()}}), cmd_info},
      {"trust-kek",
       "security officer: install a KMS wrapping key on the token as trusted (CKA_TRUSTED)",
       "byokctl trust-kek (--kek-file F | --kek-data B64) --label LABEL --so-pin-file FILE "
       "[--json]",
       join(
           {kek_flags(true),
            {{"label", true, "CKA_LABEL of the trusted public key", "LABEL"},
             {"so-pin-file", true, "file holding the security officer's PIN", "FILE"},
             {"module", true, "PKCS#11 module path (else BYOK_PKCS11_MODULE, else config)", "PATH"},
             {"token", true, "token label (else BYOK_HSM_TOKEN, else config)", "LABEL"},
             {"config", true, "YAML file with module, token", "FILE"},
             json_flag(),
             help_flag()}}),
       cmd_trust_kek},
      {"kek-info", "show a wrapping key's size and SHA-256 fingerprint (to compare with the KMS)",
       "byokctl kek-info (--kek-file F | --kek-data B64) [--json]",
       join({kek_flags(true), {json_flag(), help_flag()}}), cmd_kek_info},
  };
}

void print_usage(std::ostream& os) {
  os << "byokctl " << BYOKCTL_VERSION
     << ": key ceremonies for bring-your-own-key imports, wrapping inside a PKCS#11 HSM.\n\n"
        "usage: byokctl COMMAND [flags]    (byokctl COMMAND --help for its flags)\n\ncommands:\n";
  for (const auto& c : commands()) {
    std::string name = "  " + c.name;
    name.resize(22, ' ');
    os << name << c.summary << "\n";
  }
  os << "\nHSM connection: --module/--token/--pin-file, or BYOK_PKCS11_MODULE, BYOK_HSM_TOKEN,\n"
        "BYOK_HSM_PIN / BYOK_HSM_PIN_FILE, or --config FILE (YAML: module, token, pinFile).\n"
        "A PIN is never accepted on the command line.\n"
        "exit codes: 0 ok, 1 internal, 2 usage/input, 3 not found, 4 authentication/permission,\n"
        "            5 unsupported by the HSM or method, 6 HSM unavailable\n";
}

}  // namespace

int run(std::span<const std::string> args, Io& io) {
  if (args.empty()) {
    print_usage(io.err);
    return 2;
  }
  const std::string& name = args[0];
  if (name == "--help" || name == "-h" || name == "help") {
    print_usage(io.out);
    return 0;
  }
  if (name == "--version" || name == "version") {
    io.out << "byokctl " << BYOKCTL_VERSION << "\n";
    return 0;
  }
  for (const auto& c : commands()) {
    if (c.name != name) continue;
    auto rest = args.subspan(1);
    for (const auto& a : rest) {
      if (a == "--help" || a == "-h") {
        io.out << "usage: " << c.usage << "\n\n"
               << c.summary << "\n\nflags:\n"
               << format_flags(c.flags);
        return 0;
      }
    }
    auto parsed = Args::parse(rest, c.flags);
    if (!parsed.ok()) {
      io.err << "byokctl " << c.name << ": " << parsed.error().message << "\nusage: " << c.usage
             << "\n";
      return 2;
    }
    return c.run(parsed.value(), io);
  }
  io.err << "byokctl: unknown command \"" << name << "\"\n";
  print_usage(io.err);
  return 2;
}

}  // namespace byok::cli
