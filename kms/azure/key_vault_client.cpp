#include "kms/azure/key_vault_client.h"

#include <algorithm>
#include <cctype>
#include <memory>

#include <nlohmann/json.hpp>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include "common/base64.h"
#include "common/json_fields.h"
#include "kms/azure/azure_traits.h"
#include "kms/azure/byok_file.h"
#include "kms/rest_call.h"

namespace byok::kms::azure {
namespace {

using Json = nlohmann::json;

constexpr const char* kKekSuffix = "-kek";
constexpr const char* kKekForTag = "byok.dev/kek-for";

long long unix_seconds(SystemTime t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

// A JWK member (base64url) as bytes; empty when absent or malformed.
std::string jwk_bytes(const Json& key, const char* field) {
  auto text = str(key, field);
  if (text.empty()) return "";
  auto bytes = base64_decode(text);
  return bytes ? *bytes : "";
}

Json tags_json(const std::map<std::string, std::string>& tags) {
  Json t = Json::object();
  for (const auto& [k, v] : tags) t[k] = v;
  return t;
}

std::string join(const std::vector<std::string>& items, const char* sep) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : sep) + item;
  return out;
}

// The key from a KeyBundle or DeletedKeyBundle.
Result<KeyVaultKey> parse_bundle(const std::string& what, const std::string& body) {
  Json j;
  try {
    j = Json::parse(body);
  } catch (const Json::exception& e) {
    return make_error(ErrorKind::Internal, what + ": unparseable answer: " + e.what());
  }
  if (!j.is_object() || !j.contains("key") || !j["key"].is_object())
    return make_error(ErrorKind::Internal, what + ": answer has no key");
  const Json& key = j["key"];
  KeyVaultKey k;
  k.kid = str(key, "kid");
  auto ref = parse_kid(k.kid);
  if (!ref) return ref.error().context(what);
  k.name = ref->name;
  k.version = ref->version;
  k.kty = str(key, "kty");
  k.crv = str(key, "crv");
  if (auto ops = key.find("key_ops"); ops != key.end() && ops->is_array())
    for (const auto& op : *ops)
      if (op.is_string()) k.key_ops.push_back(op.get<std::string>());
  k.n = jwk_bytes(key, "n");
  k.e = jwk_bytes(key, "e");
  k.x = jwk_bytes(key, "x");
  k.y = jwk_bytes(key, "y");
  if (auto a = j.find("attributes"); a != j.end() && a->is_object()) {
    k.enabled = flag(*a, "enabled");
    k.not_before = unix_time(*a, "nbf");
    k.expires = unix_time(*a, "exp");
    k.created = unix_time(*a, "created");
    k.updated = unix_time(*a, "updated");
    k.recovery_level = str(*a, "recoveryLevel");
    if (auto d = a->find("recoverableDays"); d != a->end() && d->is_number_integer())
      k.recoverable_days = d->get<int>();
  }
  if (auto t = j.find("tags"); t != j.end() && t->is_object())
    for (const auto& [tk, tv] : t->items())
      if (tv.is_string()) k.tags[tk] = tv.get<std::string>();
  k.managed = flag(j, "managed");
  k.recovery_id = str(j, "recoveryId");
  k.scheduled_purge_date = unix_time(j, "scheduledPurgeDate");
  k.deleted_date = unix_time(j, "deletedDate");
  k.deleted = !k.recovery_id.empty() || k.deleted_date.has_value();
  return k;
}

// SubjectPublicKeyInfo DER of the RSA public key (n, e): the KEK's JWK as the HSM wants it.
Result<std::string> rsa_spki_der(const std::string& n, const std::string& e) {
  if (n.empty() || e.empty()) return make_error(ErrorKind::Internal, "the KEK's JWK lacks n or e");
  auto bn = [](const std::string& bytes) {
    return std::unique_ptr<BIGNUM, decltype(&BN_free)>(
        BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()),
                  static_cast<int>(bytes.size()), nullptr),
        BN_free);
  };
  auto bn_n = bn(n), bn_e = bn(e);
  std::unique_ptr<OSSL_PARAM_BLD, decltype(&OSSL_PARAM_BLD_free)> bld(OSSL_PARAM_BLD_new(),
                                                                      OSSL_PARAM_BLD_free);
  if (!bn_n || !bn_e || !bld ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()))
    return make_error(ErrorKind::Internal, "OpenSSL: cannot build RSA parameters");
  std::unique_ptr<OSSL_PARAM, decltype(&OSSL_PARAM_free)> params(OSSL_PARAM_BLD_to_param(bld.get()),
                                                                 OSSL_PARAM_free);
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(
      EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr), EVP_PKEY_CTX_free);
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) <= 0 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) <= 0)
    return make_error(ErrorKind::Internal, "OpenSSL: the KEK's n and e are not an RSA key");
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(raw, EVP_PKEY_free);
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(key.get(), &der);
  if (len <= 0) return make_error(ErrorKind::Internal, "OpenSSL: i2d_PUBKEY failed");
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

// Key Vault's error answer {"error": {"code", "message", "innererror": {"code"}}} as
// "<code>: (<inner code>) <message>".
ErrorReading read_key_vault_error(const HttpResponse& resp) {
  std::string code, message, inner;
  try {
    auto j = Json::parse(resp.body);
    if (j.is_object() && j.contains("error") && j["error"].is_object()) {
      code = str(j["error"], "code");
      message = str(j["error"], "message");
      if (auto in = j["error"].find("innererror"); in != j["error"].end() && in->is_object())
        inner = str(*in, "code");
    }
  } catch (const Json::exception&) {
  }
  if (code.empty() && message.empty()) message = body_snippet(resp.body);
  return {key_vault_error_kind(code, resp.status), (code.empty() ? "" : code + ": ") +
                                                       (inner.empty() ? "" : "(" + inner + ") ") +
                                                       (message.empty() ? "no message" : message)};
}

}  // namespace

std::string key_vault_key_state(const KeyVaultKey& key, SystemTime now) {
  if (key.deleted) return "Deleted";
  if (!key.enabled) return "Disabled";
  if (key.expires && *key.expires <= now) return "Expired";
  if (key.not_before && *key.not_before > now) return "NotYetValid";
  return "Enabled";
}

Result<AzureKeyShape> azure_key_shape(const std::string& key_type, bool managed_hsm) {
  const std::vector<std::string> rsa_ops = {"encrypt",   "decrypt", "wrapKey",
                                            "unwrapKey", "sign",    "verify"};
  const std::vector<std::string> ec_ops = {"sign", "verify"};
  const std::vector<std::string> oct_ops = {"encrypt", "decrypt", "wrapKey", "unwrapKey"};
  if (key_type == "rsa-2048" || key_type == "rsa-3072" || key_type == "rsa-4096")
    return AzureKeyShape{"RSA-HSM", "", rsa_ops};
  if (key_type == "ecdsa-p256") return AzureKeyShape{"EC-HSM", "P-256", ec_ops};
  if (key_type == "ecdsa-p384") return AzureKeyShape{"EC-HSM", "P-384", ec_ops};
  if (key_type == "ecdsa-p521") return AzureKeyShape{"EC-HSM", "P-521", ec_ops};
  if (key_type == "aes128-gcm96" || key_type == "aes256-gcm96") {
    if (managed_hsm) return AzureKeyShape{"oct-HSM", "", oct_ops};
    return make_error(ErrorKind::Unsupported,
                      "Azure Key Vault imports " + key_type +
                          " (AES) keys only into a Managed HSM (oct-HSM); this vault is not one");
  }
  if (key_type == "ed25519" || key_type == "chacha20-poly1305")
    return make_error(ErrorKind::Unsupported,
                      "Azure Key Vault does not import " + key_type +
                          " keys (it imports RSA, EC P-256/P-384/P-521 and, in a Managed HSM, "
                          "AES keys)");
  return make_error(ErrorKind::InvalidArgument, "unknown key type '" + key_type + "'");
}

ErrorKind key_vault_error_kind(const std::string& code, int status) {
  if (code == "Throttled") return ErrorKind::Throttled;
  // 409: a deleted-but-recoverable name, an object being deleted or recovered: the state of the
  // vault, not a race a quick retry wins.
  if (status == 409) return ErrorKind::FailedPrecondition;
  return error_kind_for_http_status(status);
}

KeyVaultClient::KeyVaultClient(KeyVaultConfig config, VaultUrl vault, HttpTransport& transport,
                               const Clock& clock, RetryEnvironment env)
    : config_(std::move(config)),
      vault_(std::move(vault)),
      transport_(transport),
      clock_(clock),
      env_(std::move(env)),
      tokens_(config_.credentials, key_vault_scope(vault_), transport, clock, config_.retry, env_) {
  endpoint_ = config_.endpoint.empty() ? vault_.url : config_.endpoint;
  while (endpoint_.size() > 8 && endpoint_.back() == '/') endpoint_.pop_back();
}

Result<std::unique_ptr<KeyVaultClient>> KeyVaultClient::from_config(const ProviderConfig& config,
                                                                    HttpTransport& transport,
                                                                    const Clock& clock,
                                                                    RetryEnvironment env) {
  auto setting = [&](const char* key) {
    auto it = config.settings.find(key);
    return it == config.settings.end() ? std::string() : it->second;
  };
  auto credential = [&](const char* key) {
    auto it = config.credentials.find(key);
    return it == config.credentials.end() ? std::string() : it->second;
  };
  std::string vault_url = setting("vaultUrl");
  if (vault_url.empty())
    return make_error(ErrorKind::InvalidArgument, "spec.azure.vaultUrl is empty");
  auto vault = parse_vault_url(vault_url);
  if (!vault) return vault.error().context("spec.azure.vaultUrl");
  KeyVaultConfig c;
  c.vault_url = vault->url;
  c.endpoint = config.endpoint;
  if (!c.endpoint.empty()) {
    if (auto e = parse_url(c.endpoint); !e) return e.error().context("spec.endpoint");
  }
  c.credentials.tenant_id = credential("tenantId");
  c.credentials.client_id = credential("clientId");
  c.credentials.client_secret = credential("clientSecret");
  c.credentials.token_file = credential("tokenFile");
  for (const auto& [key, value] : {std::pair{"tenantId", c.credentials.tenant_id},
                                   std::pair{"clientId", c.credentials.client_id}})
    if (value.empty())
      return make_error(ErrorKind::InvalidArgument,
                        std::string("credentials Secret key ") + key + " is missing");
  if (!std::all_of(c.credentials.tenant_id.begin(), c.credentials.tenant_id.end(),
                   [](unsigned char ch) { return std::isalnum(ch) || ch == '-' || ch == '.'; }))
    return make_error(ErrorKind::InvalidArgument,
                      "credentials Secret key tenantId must be a tenant id or domain name");
  if (c.credentials.client_secret.empty() && c.credentials.token_file.empty())
    return make_error(ErrorKind::InvalidArgument,
                      "credentials Secret key clientSecret is missing (or set tokenFile for "
                      "workload identity)");
  if (!c.credentials.client_secret.empty() && !c.credentials.token_file.empty())
    return make_error(ErrorKind::InvalidArgument,
                      "credentials Secret sets both clientSecret and tokenFile: keep one");
  if (std::string host = credential("authorityHost"); !host.empty()) {
    auto parts = parse_url(host);
    if (!parts || parts->scheme != "https" || parts->path != "/" || !parts->query.empty())
      return make_error(ErrorKind::InvalidArgument,
                        "credentials Secret key authorityHost must be an https:// URL without a "
                        "path, e.g. https://login.microsoftonline.com");
    c.credentials.authority_host = host;
  }
  auto v = *vault;
  return std::make_unique<KeyVaultClient>(std::move(c), std::move(v), transport, clock,
                                          std::move(env));
}

Result<std::string> KeyVaultClient::call(const std::string& what, const std::string& method,
                                         const std::string& path, const std::string& body,
                                         bool idempotent) {
  const std::string url = endpoint_ + path + "?api-version=" + kApiVersion;
  CallOptions options;
  options.idempotent = idempotent;
  options.build = [&]() -> Result<HttpRequest> {
    auto token = tokens_.token();
    if (!token) return token.error();
    HttpRequest req{method,
                    url,
                    {{"Authorization", "Bearer " + token->value}, {"Accept", "application/json"}},
                    body};
    if (!body.empty()) req.headers.emplace_back("Content-Type", "application/json");
    return req;
  };
  // The vault refused the token (revoked, or expired early): a fresh one, once.
  options.renew_credentials = [&] { tokens_.invalidate(); };
  auto resp = send_call(transport_, what, options, config_.retry, env_, read_key_vault_error);
  if (!resp) return resp.error();
  return std::move(resp->body);
}

Result<KeyVaultKey> KeyVaultClient::key_call(const std::string& what, const std::string& method,
                                             const std::string& path, const std::string& body,
                                             bool idempotent) {
  auto answer = call(what, method, path, body, idempotent);
  if (!answer) return answer.error();
  return parse_bundle(what, *answer);
}

Result<KeyVaultKey> KeyVaultClient::get_key(const std::string& name, const std::string& version) {
  return key_call("Key Vault GetKey " + name, "GET",
                  "/keys/" + name + (version.empty() ? "" : "/" + version), "", true);
}

Result<KeyVaultKey> KeyVaultClient::get_deleted_key(const std::string& name) {
  return key_call("Key Vault GetDeletedKey " + name, "GET", "/deletedkeys/" + name, "", true);
}

Result<KeyVaultKey> KeyVaultClient::create_key(const std::string& name,
                                               const CreateKeyRequest& request) {
  Json body = {{"kty", request.kty}};
  if (request.key_size > 0) body["key_size"] = request.key_size;
  if (!request.crv.empty()) body["crv"] = request.crv;
  if (!request.key_ops.empty()) body["key_ops"] = request.key_ops;
  Json attributes = {{"enabled", request.enabled}};
  if (request.not_before) attributes["nbf"] = unix_seconds(*request.not_before);
  if (request.expires) attributes["exp"] = unix_seconds(*request.expires);
  body["attributes"] = attributes;
  if (!request.tags.empty()) body["tags"] = tags_json(request.tags);
  return key_call("Key Vault CreateKey " + name, "POST", "/keys/" + name + "/create", body.dump(),
                  false);
}

Result<KeyVaultKey> KeyVaultClient::update_key(const std::string& name, const std::string& version,
                                               const KeyUpdate& update) {
  Json attributes = Json::object();
  if (update.enabled) attributes["enabled"] = *update.enabled;
  if (update.not_before) attributes["nbf"] = unix_seconds(*update.not_before);
  if (update.expires) attributes["exp"] = unix_seconds(*update.expires);
  Json body = Json::object();
  if (!attributes.empty()) body["attributes"] = attributes;
  if (update.tags) body["tags"] = tags_json(*update.tags);
  // An empty version segment updates the latest version, as the SDKs send it.
  return key_call("Key Vault UpdateKey " + name, "PATCH", "/keys/" + name + "/" + version,
                  body.dump(), false);
}

Result<KeyVaultKey> KeyVaultClient::delete_key(const std::string& name) {
  return key_call("Key Vault DeleteKey " + name, "DELETE", "/keys/" + name, "", false);
}

Result<KeyVaultKey> KeyVaultClient::recover_deleted_key(const std::string& name) {
  return key_call("Key Vault RecoverDeletedKey " + name, "POST",
                  "/deletedkeys/" + name + "/recover", "", false);
}

KeyDescription KeyVaultClient::describe(const KeyVaultKey& key) {
  KeyDescription d;
  d.key_id = key.name;
  d.resource = vault_.url + "/keys/" + key.name;
  d.name = key.name;
  d.version = key.version;
  d.state = key_vault_key_state(key, clock_.now());
  d.status = azure_cmk_status(d.state);
  d.holds_material = !d.state.empty();  // the import makes key and material in one call
  d.key_spec = key.crv.empty() ? key.kty : key.kty + " " + key.crv;
  d.key_usage = join(key.key_ops, ",");
  d.enabled = key.enabled;
  d.imported = key.tags.count(kOwnerTag) > 0;
  d.created = key.created;
  d.deletion_date = key.scheduled_purge_date;
  d.material_expires = key.expires;
  return d;
}

Result<KeyDescription> KeyVaultClient::describe_key(const std::string& key_id) {
  auto ref = parse_key_id(key_id, vault_);
  if (!ref) return ref.error().context("Key Vault GetKey");
  auto key = get_key(ref->name, ref->version);
  if (key) return describe(*key);
  if (key.error().kind != ErrorKind::NotFound) return key.error();
  // Gone from /keys: soft-deleted (recoverable until purged), or no such key at all.
  auto deleted = get_deleted_key(ref->name);
  if (deleted) {
    auto d = describe(*deleted);
    if (!ref->version.empty()) d.version = ref->version;
    return d;
  }
  if (transient(deleted.error().kind)) return deleted.error();
  return key.error();
}

Result<DeletionSchedule> KeyVaultClient::schedule_key_deletion(const std::string& key_id,
                                                               int /*pending_window_days*/) {
  auto ref = parse_key_id(key_id, vault_);
  if (!ref) return ref.error().context("Key Vault DeleteKey");
  auto deleted = delete_key(ref->name);
  if (!deleted && deleted.error().kind == ErrorKind::NotFound) {
    // Already deleted by an earlier attempt: report the schedule it got.
    auto earlier = get_deleted_key(ref->name);
    if (!earlier) return deleted.error();
    deleted = std::move(earlier);
  }
  if (!deleted) return deleted.error();
  deleted->deleted = true;
  // The KEK this operator made for the key's import (an HSM key, billed) goes with it; a key of
  // that name it did not make for this key stays.
  const std::string kek_name = ref->name + kKekSuffix;
  if (valid_key_name(kek_name)) {
    auto kek = get_key(kek_name);
    if (!kek && kek.error().kind != ErrorKind::NotFound)
      return kek.error().context("Key Vault KEK " + kek_name);
    if (kek) {
      auto made_for = kek->tags.find(kKekForTag);
      if (made_for != kek->tags.end() && made_for->second == ref->name) {
        auto gone = delete_key(kek_name);
        if (!gone && gone.error().kind != ErrorKind::NotFound)
          return gone.error().context("Key Vault KEK " + kek_name);
      }
    }
  }
  return DeletionSchedule{deleted->name, key_vault_key_state(*deleted, clock_.now()),
                          deleted->scheduled_purge_date};
}

Status KeyVaultClient::cancel_key_deletion(const std::string& key_id) {
  auto ref = parse_key_id(key_id, vault_);
  if (!ref) return ref.error().context("Key Vault RecoverDeletedKey");
  auto recovered = recover_deleted_key(ref->name);
  if (recovered) return {};
  if (recovered.error().kind != ErrorKind::NotFound) return recovered.error();
  // Nothing in /deletedkeys: fine when the key is live (recovered earlier), else report.
  auto live = get_key(ref->name);
  if (live) return {};
  return recovered.error();
}

Result<Accessor> KeyVaultClient::who_am_i() {
  auto token = tokens_.token();
  if (!token) return token.error();
  auto claims = access_token_claims(token->value);
  if (!claims) return claims.error().context("Entra token claims");
  const auto& creds = config_.credentials;
  return Accessor{claims->app_id.empty() ? creds.client_id : claims->app_id,
                  claims->tenant_id.empty() ? creds.tenant_id : claims->tenant_id,
                  claims->object_id};
}

Result<std::vector<std::string>> KeyVaultClient::wrapping_algorithms(const std::string& key_type) {
  auto shape = azure_key_shape(key_type, vault_.managed_hsm);
  if (!shape) return shape.error();
  return std::vector<std::string>{kWrappingAlgorithm};
}

Result<std::optional<KeyDescription>> KeyVaultClient::find_key(const ImportTarget& target) {
  if (!valid_key_name(target.name))
    return make_error(
        ErrorKind::InvalidArgument,
        "'" + target.name + "' is not a Key Vault key name (1-127 letters, digits, dashes)");
  auto key = get_key(target.name);
  if (!key && key.error().kind == ErrorKind::NotFound) key = get_deleted_key(target.name);
  if (!key) {
    if (key.error().kind == ErrorKind::NotFound) return std::optional<KeyDescription>();
    return key.error();
  }
  auto owner = key->tags.find(kOwnerTag);
  if (owner == key->tags.end() || owner->second != target.owner)
    return make_error(ErrorKind::AlreadyExists,
                      "Key Vault key " + target.name +
                          (key->deleted ? " (deleted, recoverable)" : "") +
                          " exists but is not this ImportedKey's: its tag " + kOwnerTag + " is " +
                          (owner == key->tags.end() ? "absent" : "'" + owner->second + "'") +
                          ", expected '" + target.owner + "'");
  return std::optional<KeyDescription>(describe(*key));
}

Result<WrappingKey> KeyVaultClient::prepare_import(const ImportTarget& target,
                                                   const std::string& /*existing_key_id*/) {
  if (!target.wrapping_algorithm.empty() && target.wrapping_algorithm != kWrappingAlgorithm)
    return make_error(ErrorKind::InvalidArgument, std::string("Azure Key Vault imports only ") +
                                                      kWrappingAlgorithm + " wraps, not " +
                                                      target.wrapping_algorithm);
  if (auto shape = azure_key_shape(target.key_type, vault_.managed_hsm); !shape)
    return shape.error();
  const std::string kek_name = target.name + kKekSuffix;
  if (!valid_key_name(target.name) || !valid_key_name(kek_name))
    return make_error(ErrorKind::InvalidArgument,
                      "'" + target.name +
                          "' is not usable as a Key Vault key name: 1-123 "
                          "letters, digits and dashes (the KEK is named <name>-kek)");
  auto kek = get_key(kek_name);
  bool create = false;
  if (kek) {
    bool usable = kek->kty == "RSA-HSM" && kek->key_ops == std::vector<std::string>{"import"} &&
                  key_vault_key_state(*kek, clock_.now()) == "Enabled";
    auto owner = kek->tags.find(kOwnerTag);
    bool ours = owner != kek->tags.end() && owner->second == target.owner;
    if (!usable && !ours)
      return make_error(ErrorKind::AlreadyExists,
                        "Key Vault key " + kek_name + " exists but is no usable import KEK (" +
                            kek->kty + ", key_ops [" + join(kek->key_ops, ",") + "], " +
                            key_vault_key_state(*kek, clock_.now()) +
                            ") and is not tagged as this ImportedKey's: rename or delete it");
    create = !usable;  // our own KEK, disabled or expired: a new version replaces it
  } else if (kek.error().kind == ErrorKind::NotFound) {
    create = true;
  } else {
    return kek.error();
  }
  if (create) {
    CreateKeyRequest req;
    req.kty = "RSA-HSM";
    req.key_size = config_.kek_size;
    req.key_ops = {"import"};
    if (!target.owner.empty()) req.tags[kOwnerTag] = target.owner;
    req.tags[kKekForTag] = target.name;
    kek = create_key(kek_name, req);
    if (!kek) return kek.error();
  }
  auto der = rsa_spki_der(kek->n, kek->e);
  if (!der) return der.error().context("Key Vault KEK " + kek_name);
  WrappingKey w;
  w.public_key_der = std::move(*der);
  w.algorithm = kWrappingAlgorithm;
  w.import_token = kek->kid;
  w.expires = kek->expires;
  return w;
}

Result<ImportResult> KeyVaultClient::import_key(const ImportTarget& target,
                                                const WrappingKey& wrapping,
                                                const std::string& wrapped, ImportKind kind) {
  const std::string what = "Key Vault ImportKey " + target.name;
  if (kind == ImportKind::NewVersion && !target.allow_rotation)
    return make_error(ErrorKind::FailedPrecondition,
                      what + ": a new version needs allowRotation on the ImportedKey");
  if (wrapping.algorithm != kWrappingAlgorithm || wrapping.import_token.empty())
    return make_error(ErrorKind::InvalidArgument,
                      what + ": the wrapping key is not a Key Vault KEK from prepare_import");
  if (wrapped.empty()) return make_error(ErrorKind::InvalidArgument, what + ": nothing to import");
  if (!valid_key_name(target.name))
    return make_error(ErrorKind::InvalidArgument, what + ": not a Key Vault key name");
  auto shape = azure_key_shape(target.key_type, vault_.managed_hsm);
  if (!shape) return shape.error();
  // Raw wrap bytes, or a whole .byok file from an offline ceremony (byokctl azure-byok-export),
  // which must name this KEK: Key Vault would refuse another KEK's blob less clearly.
  std::string raw = wrapped;
  if (looks_like_byok_file(wrapped)) {
    auto file = parse_byok_file(wrapped);
    if (!file) return file.error().context(what);
    if (file->kek_kid != wrapping.import_token)
      return make_error(ErrorKind::InvalidArgument,
                        what + ": the .byok file was made for KEK " + file->kek_kid +
                            ", not for this key's KEK " + wrapping.import_token +
                            ": export it again with --kek-identifier " + wrapping.import_token);
    raw = std::move(file->wrapped);
  }
  Json key = {
      {"kty", shape->kty},
      {"key_ops", shape->key_ops},
      {"key_hsm", base64url_encode(make_byok_file(wrapping.import_token, raw, config_.generator))}};
  if (!shape->crv.empty()) key["crv"] = shape->crv;
  Json body = {{"key", key}, {"Hsm", true}, {"attributes", {{"enabled", true}}}};
  if (!target.owner.empty()) body["tags"] = {{kOwnerTag, target.owner}};
  auto imported = key_call(what, "PUT", "/keys/" + target.name, body.dump(), false);
  if (!imported) return imported.error();
  return ImportResult{imported->name, vault_.url + "/keys/" + imported->name, imported->version};
}

}  // namespace byok::kms::azure
