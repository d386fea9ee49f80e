#include "kms/transit/transit_client.h"

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

#include "common/base64.h"
#include "common/json_fields.h"
#include "kms/rest_call.h"
#include "kms/transit/transit_traits.h"
#include "kms/transit/vault_errors.h"

namespace byok::kms::transit {
namespace {

using Json = nlohmann::json;

// The RSA-OAEP block at the front of a transit wrap: the wrapping key is RSA-4096
// (builtin/logical/transit: EncryptedKeyBytes = 512).
constexpr size_t kOaepBlockBytes = 512;

const std::vector<std::string> kHashFunctions = {"SHA256", "SHA1"};

// The ImportedKey API's key types; transit's import takes each under the same word.
const std::vector<std::string> kKeyTypes = {
    "aes128-gcm96", "aes256-gcm96", "chacha20-poly1305", "rsa-2048",   "rsa-3072",
    "rsa-4096",     "ecdsa-p256",   "ecdsa-p384",        "ecdsa-p521", "ed25519"};

bool is_word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// transit's key names: framework.GenericNameRegex, \w(([\w-.]+)?\w)?
bool valid_key_name(const std::string& name) {
  if (name.empty() || !is_word_char(name.front()) || !is_word_char(name.back())) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return is_word_char(c) || c == '-' || c == '.'; });
}

Status check_name(const std::string& what, const std::string& name) {
  if (valid_key_name(name)) return {};
  return make_error(ErrorKind::InvalidArgument,
                    what + ": \"" + name +
                        "\" is not a transit key name (letters, digits, '_', and '-' or '.' "
                        "inside)");
}

long long num(const Json& j, const char* field) { return integer(j, field).value_or(0); }

// A version's creation time: symmetric keys list Unix seconds, asymmetric ones an object with an
// RFC 3339 creation_time (nanoseconds, which parse_rfc3339 ignores).
std::optional<SystemTime> version_time(const Json& v) {
  if (v.is_number()) return from_unix_seconds(v.get<double>());
  if (v.is_object()) {
    SystemTime t;
    if (parse_rfc3339(str(v, "creation_time"), t)) return t;
  }
  return std::nullopt;
}

std::string join(const std::vector<std::string>& parts, const char* sep) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : sep) + p;
  return out;
}

std::string trim_slashes(std::string s) {
  while (!s.empty() && s.front() == '/') s.erase(s.begin());
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

}  // namespace

std::string transit_key_state(const TransitKey& key) {
  return key.deletion_allowed ? "deletion_allowed" : "enabled";
}

Status check_transit_key_type(const std::string& key_type) {
  if (std::find(kKeyTypes.begin(), kKeyTypes.end(), key_type) != kKeyTypes.end()) return {};
  if (key_type.rfind("hmac", 0) == 0)
    return make_error(ErrorKind::Unsupported,
                      "HMAC keys are not imported through this operator (ImportedKey refuses "
                      "them)");
  return make_error(ErrorKind::InvalidArgument, "unknown key type " + key_type);
}

TransitClient::TransitClient(TransitConfig config, HttpTransport& transport, const Clock& clock,
                             RetryEnvironment env)
    : config_(std::move(config)), transport_(transport), clock_(clock), env_(std::move(env)) {
  while (config_.endpoint.size() > 8 && config_.endpoint.back() == '/') config_.endpoint.pop_back();
  config_.mount_path = trim_slashes(config_.mount_path);
  if (config_.mount_path.empty()) config_.mount_path = "transit";
}

std::string TransitClient::resource_of(const std::string& name) const {
  return config_.mount_path + "/keys/" + name;
}

Result<std::string> TransitClient::call(const std::string& method, const std::string& path,
                                        const std::string& body) {
  const std::string what = "transit " + method + " " + path;
  HttpRequest request;
  request.method = method;
  request.url = config_.endpoint + "/v1/" + path;
  request.headers = {{"X-Vault-Token", config_.token}};
  if (!config_.vault_namespace.empty())
    request.headers.emplace_back("X-Vault-Namespace", config_.vault_namespace);
  if (!body.empty()) {
    request.headers.emplace_back("Content-Type", "application/json");
    request.body = body;
  }
  // Reads are idempotent; every write is sent once (the caller looks before trying again).
  const std::string mount = config_.mount_path;
  return send_with_retry(
      transport_, request, what, method == "GET", config_.retry, env_,
      [&mount](const HttpResponse& resp) {
        auto parsed = parse_vault_errors(resp.body);
        std::vector<std::string> errors = parsed.value_or(std::vector<std::string>{});
        std::string text = parsed ? join(errors, "; ") : body_snippet(resp.body);
        if (text.empty()) text = resp.status == 404 ? "not found" : "no message";
        if (resp.status == 404 && text.find("no handler for route") != std::string::npos)
          text += " (is a transit engine mounted at " + mount + "/?)";
        return ErrorReading{vault_error_kind(resp.status, errors), text};
      });
}

Result<TransitKey> TransitClient::read_key(const std::string& name) {
  const std::string path = resource_of(name);
  if (auto st = check_name("transit GET " + path, name); !st) return st.error();
  auto body = call("GET", path, "");
  if (!body) return body.error();
  Json data;
  try {
    data = Json::parse(*body).at("data");
  } catch (const Json::exception& e) {
    return make_error(ErrorKind::Internal,
                      "transit GET " + path + ": answer has no data object: " + e.what());
  }
  TransitKey k;
  k.name = str(data, "name");
  if (k.name.empty()) k.name = name;
  k.type = str(data, "type");
  k.imported = flag(data, "imported_key");
  k.allow_rotation = flag(data, "imported_key_allow_rotation");
  k.deletion_allowed = flag(data, "deletion_allowed");
  k.exportable = flag(data, "exportable");
  k.latest_version = num(data, "latest_version");
  k.min_decryption_version = num(data, "min_decryption_version");
  k.min_encryption_version = num(data, "min_encryption_version");
  for (const char* s : {"encryption", "decryption", "signing", "derivation"})
    if (flag(data, ("supports_" + std::string(s)).c_str())) k.supports.emplace_back(s);
  if (auto keys = data.find("keys"); keys != data.end() && keys->is_object()) {
    for (const auto& [version, entry] : keys->items()) {
      auto t = version_time(entry);
      if (t && (!k.created || *t < *k.created)) k.created = t;
    }
  }
  if (k.type.empty() || k.latest_version < 1)
    return make_error(ErrorKind::Internal,
                      "transit GET " + path + ": answer lacks the key's type or latest_version");
  return k;
}

KeyDescription TransitClient::describe(const TransitKey& key) const {
  KeyDescription d;
  d.key_id = key.name;
  d.resource = resource_of(key.name);
  d.name = key.name;
  d.version = std::to_string(key.latest_version);
  d.state = transit_key_state(key);
  d.status = transit_cmk_status(d.state);
  d.holds_material = !d.state.empty();  // the import makes key and material in one call
  d.key_spec = key.type;
  d.key_usage = join(key.supports, ",");
  d.origin = key.imported ? "imported" : "transit";
  d.enabled = true;  // transit has no way to disable a key
  d.imported = key.imported;
  d.created = key.created;
  return d;
}

Result<KeyDescription> TransitClient::describe_key(const std::string& key_id) {
  auto key = read_key(key_id);
  if (!key) return key.error();
  return describe(*key);
}

Status TransitClient::delete_key(const std::string& name) {
  const std::string path = resource_of(name);
  if (auto st = check_name("transit DELETE " + path, name); !st) return st.error();
  auto allowed = call("POST", path + "/config", Json{{"deletion_allowed", true}}.dump());
  if (!allowed) return allowed.error();
  auto deleted = call("DELETE", path, "");
  if (!deleted) return deleted.error();
  return {};
}

Result<DeletionSchedule> TransitClient::schedule_key_deletion(const std::string& key_id,
                                                              int /*pending_window_days*/) {
  // Transit has no pending window. Looking first turns "no such key" into NotFound: the config
  // write would otherwise answer with a 400.
  auto key = read_key(key_id);
  if (!key) return key.error();
  if (auto st = delete_key(key_id); !st) return st.error();
  return DeletionSchedule{key_id, "deleted", clock_.now()};
}

Status TransitClient::cancel_key_deletion(const std::string& key_id) {
  return make_error(ErrorKind::Unsupported,
                    "transit: key " + key_id +
                        " cannot have its deletion cancelled: the transit engine has no deletion "
                        "window, a deleted key is gone at once (and a key not yet deleted needs "
                        "nothing cancelled)");
}

Result<Accessor> TransitClient::who_am_i() {
  auto body = call("GET", "auth/token/lookup-self", "");
  if (!body) return body.error();
  Json data;
  try {
    data = Json::parse(*body).at("data");
  } catch (const Json::exception& e) {
    return make_error(
        ErrorKind::Internal,
        std::string("transit GET auth/token/lookup-self: answer has no data: ") + e.what());
  }
  Accessor a;
  a.id = str(data, "accessor");
  a.principal = str(data, "display_name");
  if (a.principal.empty()) a.principal = a.id;
  a.account = str(data, "namespace_path");
  if (a.account.empty()) a.account = config_.vault_namespace;
  if (a.principal.empty())
    return make_error(ErrorKind::Internal,
                      "transit GET auth/token/lookup-self: answer has neither display_name nor "
                      "accessor");
  return a;
}

Result<std::vector<std::string>> TransitClient::wrapping_algorithms(const std::string& key_type) {
  if (auto st = check_transit_key_type(key_type); !st) return st.error();
  return kHashFunctions;
}

Result<std::optional<KeyDescription>> TransitClient::find_key(const ImportTarget& target) {
  auto key = read_key(target.name);
  if (!key) {
    if (key.error().kind == ErrorKind::NotFound) return std::optional<KeyDescription>();
    return key.error();
  }
  // No owner mark is possible (see the header): everything that can be compared must match.
  std::string mismatch;
  if (!key->imported)
    mismatch = "was generated by transit, not imported";
  else if (key->type != target.key_type)
    mismatch = "is of type " + key->type + ", not " + target.key_type;
  else if (key->allow_rotation != target.allow_rotation)
    mismatch =
        std::string("was imported with allow_rotation ") + (key->allow_rotation ? "true" : "false");
  if (!mismatch.empty())
    return make_error(ErrorKind::AlreadyExists,
                      "transit key " + resource_of(target.name) + " already exists and " +
                          mismatch + ": it is not this object's; choose another spec.kmsKeyName");
  return std::optional<KeyDescription>(describe(*key));
}

Result<std::string> TransitClient::wrapping_key_pem() {
  const std::string path = config_.mount_path + "/wrapping_key";
  auto body = call("GET", path, "");
  if (!body) return body.error();
  std::string pem;
  try {
    pem = Json::parse(*body).at("data").at("public_key").get<std::string>();
  } catch (const Json::exception& e) {
    return make_error(ErrorKind::Internal,
                      "transit GET " + path + ": answer has no data.public_key: " + e.what());
  }
  return pem;
}

Result<WrappingKey> TransitClient::prepare_import(const ImportTarget& target,
                                                  const std::string& existing_key_id) {
  if (auto st = check_transit_key_type(target.key_type); !st) return st.error();
  if (std::find(kHashFunctions.begin(), kHashFunctions.end(), target.wrapping_algorithm) ==
      kHashFunctions.end())
    return make_error(ErrorKind::InvalidArgument,
                      "transit: wrapping algorithm \"" + target.wrapping_algorithm +
                          "\" is not a hash_function this client sends (SHA256, SHA1)");
  if (auto st = check_name("transit import", target.name); !st) return st.error();
  auto pem = wrapping_key_pem();
  if (!pem) return pem.error();
  auto spki = public_key_der_from_pem(*pem);
  const std::string what = "transit GET " + config_.mount_path + "/wrapping_key";
  if (!spki) return spki.error().context(what);
  if (spki->rsa_bits != static_cast<int>(kOaepBlockBytes * 8))
    return make_error(ErrorKind::Internal, what + ": the wrapping key is not RSA-4096 (" +
                                               std::to_string(spki->rsa_bits) +
                                               " bits), which the transit wrap needs");
  WrappingKey w;
  w.key_id = existing_key_id;
  w.public_key_der = std::move(spki->der);
  w.algorithm = target.wrapping_algorithm;
  return w;
}

Result<ImportResult> TransitClient::import_key(const ImportTarget& target,
                                               const WrappingKey& wrapping,
                                               const std::string& wrapped, ImportKind kind) {
  const std::string path =
      resource_of(target.name) + (kind == ImportKind::First ? "/import" : "/import_version");
  const std::string what = "transit POST " + path;
  if (auto st = check_name(what, target.name); !st) return st.error();
  if (auto st = check_transit_key_type(target.key_type); !st) return st.error().context(what);
  if (wrapped.size() <= kOaepBlockBytes)
    return make_error(ErrorKind::InvalidArgument,
                      what + ": the wrap is " + std::to_string(wrapped.size()) +
                          " bytes; transit expects a 512-byte RSA-OAEP block (RSA-4096) followed "
                          "by the AES-KWP-wrapped material");
  const std::string& hash =
      wrapping.algorithm.empty() ? target.wrapping_algorithm : wrapping.algorithm;
  if (std::find(kHashFunctions.begin(), kHashFunctions.end(), hash) == kHashFunctions.end())
    return make_error(ErrorKind::InvalidArgument,
                      what + ": hash_function \"" + hash + "\" is not SHA256 or SHA1");
  Json req = {{"ciphertext", base64_encode(wrapped)}, {"hash_function", hash}};
  if (kind == ImportKind::First) {
    req["type"] = target.key_type;
    req["allow_rotation"] = target.allow_rotation;
    req["exportable"] = false;
  } else {
    // The server would take a new version for any imported key; the API promises rotation only
    // to keys imported with allow_rotation, so look first.
    auto key = read_key(target.name);
    if (!key) return key.error();
    if (!key->imported || !key->allow_rotation)
      return make_error(ErrorKind::FailedPrecondition,
                        what + ": key " + target.name +
                            (key->imported ? " was imported with allow_rotation false"
                                           : " was generated by transit, not imported") +
                            ", so it takes no new versions");
  }
  auto body = call("POST", path, req.dump());
  if (!body) return body.error();
  // Both calls answer 204 without a body: read the key for the version just made.
  auto key = read_key(target.name);
  if (!key) return key.error().context(what + " succeeded, but reading the key back failed");
  return ImportResult{target.name, resource_of(target.name), std::to_string(key->latest_version)};
}

Result<std::unique_ptr<TransitClient>> TransitClient::from_config(const ProviderConfig& config,
                                                                  HttpTransport& transport,
                                                                  const Clock& clock,
                                                                  RetryEnvironment env) {
  if (config.endpoint.empty())
    return make_error(ErrorKind::InvalidArgument,
                      "spec.endpoint is empty: transit needs the Vault/OpenBao address, e.g. "
                      "https://vault.example.com:8200");
  auto token = config.credentials.find("token");
  if (token == config.credentials.end() || token->second.empty())
    return make_error(ErrorKind::InvalidArgument,
                      "credentials Secret key token is missing: add the Vault/OpenBao token to "
                      "the Secret named by spec.credentialsSecretRef");
  TransitConfig c;
  c.endpoint = config.endpoint;
  c.token = token->second;
  if (auto it = config.settings.find("mountPath"); it != config.settings.end()) {
    c.mount_path = trim_slashes(it->second);
    if (c.mount_path.empty())
      return make_error(ErrorKind::InvalidArgument,
                        "spec.transit.mountPath is empty: leave it out for the default "
                        "\"transit\"");
  }
  if (auto it = config.settings.find("namespace"); it != config.settings.end())
    c.vault_namespace = trim_slashes(it->second);
  return std::make_unique<TransitClient>(std::move(c), transport, clock, std::move(env));
}

}  // namespace byok::kms::transit
