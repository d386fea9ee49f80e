#include "kms/thalassa/thalassa_client.h"

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

#include "common/base64.h"
#include "common/json_fields.h"
#include "common/text.h"
#include "kms/rest_call.h"
#include "kms/thalassa/thalassa_traits.h"

namespace byok::kms::thalassa {
namespace {

using Json = nlohmann::json;

constexpr const char* kOwnerLabel = "byok.dev/owner";

const std::vector<std::string> kHashFunctions = {"sha256", "sha1"};

// The ImportedKey API's key types; Thalassa's keyType words are the same.
const std::vector<std::string> kKeyTypes = {
    "aes128-gcm96", "aes256-gcm96", "chacha20-poly1305", "rsa-2048",   "rsa-3072",
    "rsa-4096",     "ecdsa-p256",   "ecdsa-p384",        "ecdsa-p521", "ed25519"};

Result<Json> parse_answer(const std::string& what, const std::string& body) {
  try {
    return Json::parse(body);
  } catch (const Json::exception& e) {
    return make_error(ErrorKind::Internal, what + ": unparseable answer: " + e.what());
  }
}

Result<Json> parse_list(const std::string& what, const std::string& body) {
  auto j = parse_answer(what, body);
  if (j && !j->is_array()) return make_error(ErrorKind::Internal, what + ": answer is not a list");
  return j;
}

Result<ThalassaKey> key_from_json(const std::string& what, const Json& j) {
  if (!j.is_object() || str(j, "identity").empty())
    return make_error(ErrorKind::Internal, what + ": answer is not a key (no identity)");
  ThalassaKey k;
  k.identity = str(j, "identity");
  k.name = str(j, "name");
  k.description = str(j, "description");
  k.key_type = str(j, "keyType");
  k.status = str(j, "status");
  k.imported = flag(j, "imported");
  if (auto a = j.find("allowRotation"); a != j.end() && a->is_boolean())
    k.allow_rotation = a->get<bool>();
  if (auto v = j.find("latestVersion"); v != j.end() && v->is_number_integer())
    k.latest_version = v->get<long long>();
  if (auto l = j.find("labels"); l != j.end() && l->is_object())
    for (const auto& [key, value] : l->items())
      if (value.is_string()) k.labels[key] = value.get<std::string>();
  SystemTime t;
  if (parse_rfc3339(str(j, "createdAt"), t)) k.created = t;
  return k;
}

Status check_key_type(const std::string& key_type) {
  if (std::find(kKeyTypes.begin(), kKeyTypes.end(), key_type) != kKeyTypes.end()) return {};
  if (key_type.rfind("hmac", 0) == 0)
    return make_error(ErrorKind::Unsupported,
                      "Thalassa KMS cannot import HMAC keys (" + key_type + ")");
  return make_error(ErrorKind::InvalidArgument, "unknown key type " + key_type);
}

ErrorKind thalassa_error_kind(int status) {
  switch (status) {
    case 412:
      return ErrorKind::FailedPrecondition;
    case 422:
      return ErrorKind::InvalidArgument;
    default:
      return error_kind_for_http_status(status);
  }
}

ErrorReading read_error(const HttpResponse& resp) {
  std::string text;
  try {
    auto j = Json::parse(resp.body);
    if (j.is_object()) text = str(j, "message");
  } catch (const Json::exception&) {
  }
  if (text.empty()) text = body_snippet(resp.body);
  if (text.empty()) text = "no message";
  return ErrorReading{thalassa_error_kind(resp.status), text};
}

}  // namespace

ThalassaClient::ThalassaClient(ThalassaConfig config, HttpTransport& transport, const Clock& clock,
                               RetryEnvironment env)
    : config_(std::move(config)), transport_(transport), clock_(clock), env_(std::move(env)) {
  while (config_.endpoint.size() > 8 && config_.endpoint.back() == '/') config_.endpoint.pop_back();
}

std::string ThalassaClient::keys_path() const {
  return "kms/" + percent_encode(config_.region) + "/keys";
}

std::string ThalassaClient::identity_of(const std::string& key_id) const {
  const std::string prefix = "kms/" + config_.region + "/keys/";
  return key_id.rfind(prefix, 0) == 0 ? key_id.substr(prefix.size()) : key_id;
}

Result<std::string> ThalassaClient::call(const std::string& method, const std::string& path,
                                         const std::string& body) {
  HttpRequest request;
  request.method = method;
  request.url = config_.endpoint + "/v1/" + path;
  request.headers = {{"Authorization", config_.auth_scheme + " " + config_.token},
                     {"X-Organisation-Identity", config_.organisation},
                     {"Accept", "application/json"}};
  if (!body.empty()) {
    request.headers.emplace_back("Content-Type", "application/json");
    request.body = body;
  }
  // Reads are idempotent; every write is sent once (the caller looks before trying again).
  return send_with_retry(transport_, request, "thalassa " + method + " " + path, method == "GET",
                         config_.retry, env_, read_error);
}

KeyDescription ThalassaClient::describe(const ThalassaKey& key) const {
  KeyDescription d;
  d.key_id = key.identity;
  d.resource = "kms/" + config_.region + "/keys/" + key.identity;
  d.name = key.name;
  d.version = key.latest_version > 0 ? std::to_string(key.latest_version) : "";
  d.state = key.status;
  d.status = thalassa_cmk_status(d.state);
  d.holds_material = !d.state.empty();  // the import makes key and material in one call
  d.key_spec = key.key_type;
  d.origin = key.imported ? "imported" : "thalassa";
  d.enabled = key.status == "active";
  d.imported = key.imported;
  d.created = key.created;
  return d;
}

Result<ThalassaKey> ThalassaClient::get_key(const std::string& identity) {
  const std::string path = keys_path() + "/" + percent_encode(identity);
  if (identity.empty())
    return make_error(ErrorKind::InvalidArgument, "thalassa GET " + path + ": empty key identity");
  auto body = call("GET", path, "");
  if (!body) return body.error();
  auto j = parse_answer("thalassa GET " + path, *body);
  if (!j) return j.error();
  return key_from_json("thalassa GET " + path, *j);
}

Result<std::vector<ThalassaKey>> ThalassaClient::list_keys_by_name(const std::string& name) {
  const std::string path = keys_path() + "?name=" + percent_encode(name);
  const std::string what = "thalassa GET " + path;
  auto body = call("GET", path, "");
  if (!body) return body.error();
  auto j = parse_list(what, *body);
  if (!j) return j.error();
  std::vector<ThalassaKey> keys;
  for (const auto& item : *j) {
    auto k = key_from_json(what, item);
    if (!k) return k.error();
    // The filter may match more loosely than the exact name.
    if (k->name == name) keys.push_back(std::move(*k));
  }
  return keys;
}

Result<KeyDescription> ThalassaClient::describe_key(const std::string& key_id) {
  auto key = get_key(identity_of(key_id));
  if (!key) return key.error();
  return describe(*key);
}

Result<DeletionSchedule> ThalassaClient::schedule_key_deletion(const std::string& key_id,
                                                               int /*pending_window_days*/) {
  const std::string identity = identity_of(key_id);
  auto deleted = call("DELETE", keys_path() + "/" + percent_encode(identity), "");
  if (!deleted) return deleted.error();
  auto key = get_key(identity);
  if (!key)
    return key.error().context("thalassa: deletion scheduled, but reading the key back failed");
  return DeletionSchedule{key->identity, key->status, std::nullopt};
}

Status ThalassaClient::cancel_key_deletion(const std::string& key_id) {
  auto body = call(
      "DELETE", keys_path() + "/" + percent_encode(identity_of(key_id)) + "/cancel-deletion", "");
  if (!body) return body.error();
  return {};
}

Result<Accessor> ThalassaClient::who_am_i() {
  const std::string path = "me/organisation-memberships";
  const std::string what = "thalassa GET " + path;
  auto body = call("GET", path, "");
  if (!body) return body.error();
  auto j = parse_list(what, *body);
  if (!j) return j.error();
  for (const auto& m : *j) {
    const Json& org = object_field(m, "organisation");
    if (str(org, "identity") != config_.organisation && str(org, "slug") != config_.organisation)
      continue;
    const Json& user = object_field(m, "user");
    Accessor a;
    a.principal = str(user, "email");
    if (a.principal.empty()) a.principal = str(user, "subject");
    if (a.principal.empty()) a.principal = str(user, "name");
    if (a.principal.empty()) a.principal = str(m, "identity");
    a.account = str(org, "identity");
    a.id = str(user, "subject");
    return a;
  }
  return make_error(ErrorKind::PermissionDenied,
                    what + ": the token has no membership in organisation \"" +
                        config_.organisation + "\" (spec.thalassa.organisation)");
}

Result<std::vector<std::string>> ThalassaClient::wrapping_algorithms(const std::string& key_type) {
  if (auto st = check_key_type(key_type); !st) return st.error();
  return kHashFunctions;
}

Result<std::optional<KeyDescription>> ThalassaClient::find_key(const ImportTarget& target) {
  auto keys = list_keys_by_name(target.name);
  if (!keys) return keys.error();
  for (const auto& k : *keys) {
    auto owner = k.labels.find(kOwnerLabel);
    if (owner != k.labels.end() && owner->second == target.owner)
      return std::optional<KeyDescription>(describe(k));
  }
  if (!keys->empty()) {
    const auto& k = keys->front();
    auto owner = k.labels.find(kOwnerLabel);
    return make_error(ErrorKind::AlreadyExists,
                      "thalassa key " + k.identity + " is already named " + target.name +
                          " and is not this object's (its " + kOwnerLabel + " label is " +
                          (owner == k.labels.end() ? "missing" : "\"" + owner->second + "\"") +
                          "): choose another spec.kmsKeyName");
  }
  return std::optional<KeyDescription>();
}

Result<std::string> ThalassaClient::wrapping_key_pem() {
  const std::string path = "kms/" + percent_encode(config_.region) + "/wrapping-key";
  auto body = call("GET", path, "");
  if (!body) return body.error();
  // The published client reads {publicKey, algorithm}; the seed describes a bare PEM.
  if (body->find("-----BEGIN") != std::string::npos && body->find('{') == std::string::npos)
    return *body;
  try {
    return Json::parse(*body).at("publicKey").get<std::string>();
  } catch (const Json::exception& e) {
    return make_error(ErrorKind::Internal,
                      "thalassa GET " + path + ": answer has no publicKey: " + e.what());
  }
}

Result<WrappingKey> ThalassaClient::prepare_import(const ImportTarget& target,
                                                   const std::string& existing_key_id) {
  if (auto st = check_key_type(target.key_type); !st) return st.error();
  if (std::find(kHashFunctions.begin(), kHashFunctions.end(), target.wrapping_algorithm) ==
      kHashFunctions.end())
    return make_error(ErrorKind::InvalidArgument,
                      "thalassa: wrapping algorithm \"" + target.wrapping_algorithm +
                          "\" is not a hashFunction this client sends (sha256, sha1)");
  auto pem = wrapping_key_pem();
  if (!pem) return pem.error();
  auto spki = public_key_der_from_pem(*pem);
  const std::string what = "thalassa GET kms/" + config_.region + "/wrapping-key";
  if (!spki) return spki.error().context(what);
  if (spki->rsa_bits < 2048)
    return make_error(ErrorKind::Internal, what +
                                               ": the wrapping key is not an RSA key of 2048 "
                                               "bits or more");
  WrappingKey w;
  w.key_id = existing_key_id.empty() ? "" : identity_of(existing_key_id);
  w.public_key_der = std::move(spki->der);
  w.algorithm = target.wrapping_algorithm;
  return w;
}

Result<ImportResult> ThalassaClient::import_key(const ImportTarget& target,
                                                const WrappingKey& wrapping,
                                                const std::string& wrapped, ImportKind kind) {
  if (auto st = check_key_type(target.key_type); !st) return st.error();
  const std::string& hash =
      wrapping.algorithm.empty() ? target.wrapping_algorithm : wrapping.algorithm;
  if (std::find(kHashFunctions.begin(), kHashFunctions.end(), hash) == kHashFunctions.end())
    return make_error(ErrorKind::InvalidArgument,
                      "thalassa: hashFunction \"" + hash + "\" is not sha256 or sha1");
  if (wrapped.empty())
    return make_error(ErrorKind::InvalidArgument, "thalassa: nothing to import (empty wrap)");
  std::string path, what;
  Json req = {{"importKeyMaterial", base64_encode(wrapped)}, {"hashFunction", hash}};
  if (kind == ImportKind::First) {
    path = keys_path();
    req["name"] = target.name;
    req["keyType"] = target.key_type;
    req["allowRotation"] = target.allow_rotation;
    if (!target.description.empty()) req["description"] = target.description;
    if (!target.owner.empty()) req["labels"] = {{kOwnerLabel, target.owner}};
  } else {
    if (wrapping.key_id.empty())
      return make_error(ErrorKind::InvalidArgument,
                        "thalassa: a new version needs the key's identity (prepare_import with "
                        "the existing key)");
    // allowRotation is fixed at create; look before asking for a version the key cannot take.
    auto key = get_key(wrapping.key_id);
    if (!key) return key.error();
    if (!key->imported || key->allow_rotation == false)
      return make_error(
          ErrorKind::FailedPrecondition,
          "thalassa key " + key->identity +
              (key->imported ? " was imported with allowRotation false" : " was not imported") +
              ", so it takes no new versions");
    path = keys_path() + "/" + percent_encode(wrapping.key_id) + "/versions";
  }
  what = "thalassa POST " + path;
  auto body = call("POST", path, req.dump());
  if (!body) return body.error();
  auto j = parse_answer(what, *body);
  if (!j) return j.error();
  auto key = key_from_json(what, *j);
  if (!key) return key.error();
  if (!key->imported)
    return make_error(ErrorKind::Internal,
                      what + ": the key " + key->identity + " does not report imported: true");
  return ImportResult{key->identity, "kms/" + config_.region + "/keys/" + key->identity,
                      key->latest_version > 0 ? std::to_string(key->latest_version) : ""};
}

Result<std::unique_ptr<ThalassaClient>> ThalassaClient::from_config(const ProviderConfig& config,
                                                                    HttpTransport& transport,
                                                                    const Clock& clock,
                                                                    RetryEnvironment env) {
  if (config.endpoint.empty())
    return make_error(ErrorKind::InvalidArgument,
                      "spec.endpoint is empty: thalassa needs the API address, e.g. "
                      "https://api.example.com");
  if (config.region.empty())
    return make_error(ErrorKind::InvalidArgument,
                      "spec.region is empty: thalassa needs the region slug for its URLs, e.g. "
                      "nl-01");
  auto org = config.settings.find("organisation");
  if (org == config.settings.end() || org->second.empty())
    return make_error(ErrorKind::InvalidArgument,
                      "spec.thalassa.organisation is empty: it is sent as "
                      "X-Organisation-Identity on every call");
  auto credential = [&](const char* key) {
    auto it = config.credentials.find(key);
    return it == config.credentials.end() ? std::string() : it->second;
  };
  const std::string access_token = credential("token");
  const std::string personal_token = credential("personalAccessToken");
  if (!access_token.empty() && !personal_token.empty())
    return make_error(ErrorKind::InvalidArgument,
                      "credentials Secret has both token and personalAccessToken: keep one (token "
                      "for an OIDC access token, sent as Bearer; personalAccessToken for a "
                      "personal access token, sent as Token)");
  if (access_token.empty() && personal_token.empty())
    return make_error(ErrorKind::InvalidArgument,
                      "credentials Secret has no token: add personalAccessToken (a personal "
                      "access token) or token (an OIDC access token) to the Secret named by "
                      "spec.credentialsSecretRef");
  ThalassaConfig c;
  c.endpoint = config.endpoint;
  c.region = config.region;
  c.organisation = org->second;
  c.token = personal_token.empty() ? access_token : personal_token;
  c.auth_scheme = personal_token.empty() ? "Bearer" : "Token";
  return std::make_unique<ThalassaClient>(std::move(c), transport, clock, std::move(env));
}

}  // namespace byok::kms::thalassa
