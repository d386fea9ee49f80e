#include "kms/oci/oci_kms_client.h"

#include <algorithm>
#include <cctype>

#include <cpprest/base_uri.h>
#include <nlohmann/json.hpp>

#include "common/base64.h"
#include "common/json_fields.h"
#include "common/uuid.h"
#include "kms/oci/oci_traits.h"
#include "kms/paging.h"
#include "kms/rest_call.h"

namespace byok::kms::oci {
namespace {

using Json = nlohmann::json;

constexpr const char* kOwnerTag = "byok.dev/owner";
constexpr const char* kApi = "/20180608";
// ListKeys pages: OCI's page size cap is 1000 for most list calls; 100 keeps answers small.
constexpr int kPageSize = 100;

std::optional<SystemTime> time_field(const Json& j, const char* field) {
  SystemTime t;
  std::string text = str(j, field);
  if (!text.empty() && parse_rfc3339(text, t)) return t;
  return std::nullopt;
}

Result<Json> parse_json(const std::string& what, const std::string& body) {
  try {
    return Json::parse(body);
  } catch (const Json::exception& e) {
    return make_error(ErrorKind::Internal, what + ": unparseable answer: " + e.what());
  }
}

// OCIDs are "ocid1.<type>.<realm>.[region][.future].<unique id>": letters, digits, '.', '-',
// '_'. Checking the charset keeps a caller's id from ever reaching into the request path.
Status check_ocid(const std::string& what, const std::string& kind, const std::string& id) {
  bool ok = !id.empty() && std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
  });
  if (!ok)
    return make_error(ErrorKind::InvalidArgument, what + ": '" + id + "' is not a " + kind +
                                                      " OCID (ocid1." + kind + ".oc1...)");
  return {};
}

std::string encode(const std::string& value) { return web::uri::encode_data_string(value); }

std::string new_request_id() {
  std::string id;
  for (char c : random_uuid())
    if (c != '-') id += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return id;
}

OciKey key_from_json(const Json& j) {
  OciKey k;
  KeyDescription& d = k.description;
  d.key_id = str(j, "id");
  d.resource = d.key_id;  // an OCID is the full resource name
  d.name = str(j, "displayName");
  d.version = str(j, "currentKeyVersion");
  d.state = str(j, "lifecycleState");
  d.status = oci_cmk_status(d.state);
  d.holds_material = !d.state.empty();  // the import makes key and material in one call
  d.enabled = d.state == "ENABLED";
  d.created = time_field(j, "timeCreated");
  d.deletion_date = time_field(j, "timeOfDeletion");
  if (auto shape = j.find("keyShape"); shape != j.end() && shape->is_object()) {
    d.key_spec = str(*shape, "algorithm");
    if (auto len = shape->find("length"); len != shape->end() && len->is_number_integer())
      k.length = len->get<int>();
  }
  k.compartment_id = str(j, "compartmentId");
  k.vault_id = str(j, "vaultId");
  k.protection_mode = str(j, "protectionMode");
  if (auto tags = j.find("freeformTags"); tags != j.end() && tags->is_object())
    for (const auto& [name, value] : tags->items())
      if (value.is_string()) k.freeform_tags[name] = value.get<std::string>();
  return k;
}

OciKeyVersion version_from_json(const Json& j) {
  return OciKeyVersion{str(j, "id"), str(j, "keyId"), str(j, "lifecycleState"), str(j, "origin")};
}

std::string setting(const std::map<std::string, std::string>& m, const char* key) {
  auto it = m.find(key);
  return it == m.end() ? "" : it->second;
}

}  // namespace

ErrorKind oci_error_kind(const std::string& code, int status) {
  // "API Errors" (common errors returned by all services) and Key Management's own.
  static const std::map<std::string, ErrorKind> table = {
      {"NotAuthenticated", ErrorKind::Unauthenticated},
      {"NotAuthorizedOrNotFound", ErrorKind::NotFound},
      {"NotAuthorized", ErrorKind::PermissionDenied},
      {"NotAllowed", ErrorKind::PermissionDenied},
      {"SignUpRequired", ErrorKind::PermissionDenied},
      {"RelatedResourceNotAuthorizedOrNotFound", ErrorKind::InvalidArgument},
      {"CannotParseRequest", ErrorKind::InvalidArgument},
      {"InvalidParameter", ErrorKind::InvalidArgument},
      {"MissingParameter", ErrorKind::InvalidArgument},
      // Service limits and compartment quotas: a count, not a rate; no quick retry helps (an
      // ImportedKey looks again after its lasting-failure delay, KmsNotReady).
      {"LimitExceeded", ErrorKind::FailedPrecondition},
      {"QuotaExceeded", ErrorKind::FailedPrecondition},
      {"IncorrectState", ErrorKind::FailedPrecondition},
      {"NotAuthorizedOrResourceAlreadyExists", ErrorKind::Conflict},
      {"InvalidatedRetryToken", ErrorKind::Conflict},
      {"NoEtagMatch", ErrorKind::Conflict},
      {"TooManyRequests", ErrorKind::Throttled},
      {"MethodNotImplemented", ErrorKind::Unsupported},
      {"InternalServerError", ErrorKind::Unavailable},
      {"ServiceUnavailable", ErrorKind::Unavailable},
  };
  if (auto it = table.find(code); it != table.end()) return it->second;
  if (status == 412) return ErrorKind::Conflict;  // an if-match etag that no longer matches
  return error_kind_for_http_status(status);
}

Result<OciKeyShape> oci_key_shape(const std::string& key_type) {
  const std::vector<std::string> both = {"RSA_OAEP_AES_SHA256", "RSA_OAEP_SHA256"};
  // RSA private keys (PKCS #8) exceed what RSA-OAEP can carry directly.
  const std::vector<std::string> aes_wrap_only = {"RSA_OAEP_AES_SHA256"};
  if (key_type == "aes128-gcm96") return OciKeyShape{"AES", 16, both};
  if (key_type == "aes256-gcm96") return OciKeyShape{"AES", 32, both};
  if (key_type == "rsa-2048") return OciKeyShape{"RSA", 256, aes_wrap_only};
  if (key_type == "rsa-3072") return OciKeyShape{"RSA", 384, aes_wrap_only};
  if (key_type == "rsa-4096") return OciKeyShape{"RSA", 512, aes_wrap_only};
  if (key_type == "ecdsa-p256" || key_type == "ecdsa-p384" || key_type == "ecdsa-p521")
    return make_error(ErrorKind::Unsupported,
                      "OCI Vault does not import " + key_type +
                          " keys: ECDSA key material cannot be imported, only AES and RSA");
  if (key_type == "chacha20-poly1305")
    return make_error(ErrorKind::Unsupported,
                      "OCI Vault does not import chacha20-poly1305 keys: its symmetric keys are "
                      "AES only");
  if (key_type == "ed25519")
    return make_error(ErrorKind::Unsupported,
                      "OCI Vault does not import ed25519 keys: it has no Ed25519 keys, and "
                      "imports only AES and RSA key material");
  return make_error(ErrorKind::InvalidArgument, "unknown key type '" + key_type + "'");
}

OciKmsClient::OciKmsClient(OciKmsConfig config, RequestSigner signer, HttpTransport& transport,
                           const Clock& clock, RetryEnvironment env)
    : config_(std::move(config)),
      signer_(std::move(signer)),
      transport_(transport),
      clock_(clock),
      env_(std::move(env)) {
  auto& e = config_.management_endpoint;
  while (e.size() > 8 && e.back() == '/') e.pop_back();
}

Result<std::unique_ptr<OciKmsClient>> OciKmsClient::from_config(const ProviderConfig& config,
                                                                HttpTransport& transport,
                                                                const Clock& clock,
                                                                RetryEnvironment env) {
  if (!config.type.empty() && config.type != "oci")
    return make_error(ErrorKind::InvalidArgument,
                      "OCI client given a KmsProvider of type '" + config.type + "'");
  OciKmsConfig c;
  c.management_endpoint = setting(config.settings, "managementEndpoint");
  if (c.management_endpoint.empty()) c.management_endpoint = config.endpoint;
  if (c.management_endpoint.empty())
    return make_error(ErrorKind::InvalidArgument,
                      "spec.oci.managementEndpoint is empty: set the vault's management endpoint, "
                      "e.g. https://xxx-management.kms.us-ashburn-1.oraclecloud.com");
  auto url = parse_url(c.management_endpoint);
  if (!url || (url->scheme != "https" && url->scheme != "http"))
    return make_error(
        ErrorKind::InvalidArgument,
        "spec.oci.managementEndpoint is not an https:// URL: " + c.management_endpoint);
  c.compartment_id = setting(config.settings, "compartmentId");
  for (const char* key : {"tenancy", "user", "fingerprint", "privateKey"})
    if (setting(config.credentials, key).empty())
      return make_error(ErrorKind::InvalidArgument,
                        std::string("credentials Secret key ") + key + " is missing");
  c.tenancy = setting(config.credentials, "tenancy");
  c.user = setting(config.credentials, "user");
  auto signer = RequestSigner::create(
      c.tenancy + "/" + c.user + "/" + setting(config.credentials, "fingerprint"),
      setting(config.credentials, "privateKey"), setting(config.credentials, "passphrase"));
  if (!signer)
    return make_error(ErrorKind::InvalidArgument,
                      "credentials Secret key privateKey: " + signer.error().message);
  return std::make_unique<OciKmsClient>(std::move(c), std::move(*signer), transport, clock,
                                        std::move(env));
}

namespace {
// OCI's error answer {"code", "message"} as "<code>: <message>".
ErrorReading read_oci_error(const HttpResponse& resp) {
  std::string code, message;
  try {
    auto j = Json::parse(resp.body);
    if (j.is_object()) {
      code = str(j, "code");
      message = str(j, "message");
    }
  } catch (const Json::exception&) {
  }
  if (code.empty() && message.empty()) message = body_snippet(resp.body);
  return {oci_error_kind(code, resp.status),
          (code.empty() ? "" : code + ": ") + (message.empty() ? "no message" : message)};
}
}  // namespace

// The whole answer (ListKeys needs its opc-next-page header). Each attempt is signed afresh with
// a request id of its own, which every failure names (the one OCI answered with, if any).
Result<HttpResponse> OciKmsClient::call(const std::string& op, const std::string& method,
                                        const std::string& path_and_query, const std::string& body,
                                        bool idempotent) {
  CallOptions options;
  options.idempotent = idempotent;
  options.build = [&]() -> Result<HttpRequest> {
    HttpRequest req;
    req.method = method;
    req.url = config_.management_endpoint + path_and_query;
    req.headers = {{"accept", "application/json"}, {"opc-request-id", new_request_id()}};
    if (method == "POST") req.headers.emplace_back("content-type", "application/json");
    req.body = body;
    if (auto s = signer_.sign(req, clock_.now()); !s) return s.error();
    return req;
  };
  options.annotate = [](const HttpRequest& req, const HttpResponse* resp) {
    std::string id = resp ? resp->header("opc-request-id") : "";
    return "opc-request-id " + (id.empty() ? find_header(req.headers, "opc-request-id") : id);
  };
  return send_call(transport_, "OCI " + op, options, config_.retry, env_, read_oci_error);
}

Result<OciKey> OciKmsClient::get_key(const std::string& key_id) {
  if (auto s = check_ocid("OCI GetKey", "key", key_id); !s) return s.error();
  auto resp = call("GetKey", "GET", std::string(kApi) + "/keys/" + key_id, "", true);
  if (!resp) return resp.error();
  auto j = parse_json("OCI GetKey", resp->body);
  if (!j) return j.error();
  if (!j->is_object() || str(*j, "id").empty())
    return make_error(ErrorKind::Internal, "OCI GetKey: answer has no key id");
  return key_from_json(*j);
}

Result<OciKeyVersion> OciKmsClient::get_key_version(const std::string& key_id,
                                                    const std::string& version_id) {
  if (auto s = check_ocid("OCI GetKeyVersion", "key", key_id); !s) return s.error();
  if (auto s = check_ocid("OCI GetKeyVersion", "keyversion", version_id); !s) return s.error();
  auto resp = call("GetKeyVersion", "GET",
                   std::string(kApi) + "/keys/" + key_id + "/keyVersions/" + version_id, "", true);
  if (!resp) return resp.error();
  auto j = parse_json("OCI GetKeyVersion", resp->body);
  if (!j) return j.error();
  if (!j->is_object()) return make_error(ErrorKind::Internal, "OCI GetKeyVersion: not an object");
  return version_from_json(*j);
}

Result<KeyDescription> OciKmsClient::with_origin(OciKey key) {
  KeyDescription d = std::move(key.description);
  if (!d.version.empty()) {
    auto version = get_key_version(d.key_id, d.version);
    if (!version) return version.error();
    d.origin = version->origin;
    d.imported = version->origin == "EXTERNAL";
  }
  return d;
}

Result<KeyDescription> OciKmsClient::describe_key(const std::string& key_id) {
  auto key = get_key(key_id);
  if (!key) return key.error();
  return with_origin(std::move(*key));
}

Result<DeletionSchedule> OciKmsClient::schedule_key_deletion(const std::string& key_id,
                                                             int pending_window_days) {
  const std::string what = "OCI ScheduleKeyDeletion";
  if (pending_window_days < 7 || pending_window_days > 30)
    return make_error(ErrorKind::InvalidArgument,
                      what + ": the deletion window must be 7..30 days, got " +
                          std::to_string(pending_window_days));
  if (auto s = check_ocid(what, "key", key_id); !s) return s.error();
  // OCI wants timeOfDeletion 7 to 30 days after it receives the request: stay ten minutes
  // inside both ends, so transit time and clock skew never push it out.
  using namespace std::chrono;
  auto now = clock_.now();
  auto when = now + hours(24) * pending_window_days;
  when = std::clamp(when, now + hours(24 * 7) + minutes(10), now + hours(24 * 30) - minutes(10));
  auto resp = call("ScheduleKeyDeletion", "POST",
                   std::string(kApi) + "/keys/" + key_id + "/actions/scheduleDeletion",
                   Json{{"timeOfDeletion", format_rfc3339(when)}}.dump(), false);
  if (!resp) return resp.error();
  auto j = parse_json(what, resp->body);
  if (!j) return j.error();
  DeletionSchedule d;
  d.key_id = str(*j, "id");
  if (d.key_id.empty()) d.key_id = key_id;
  d.state = str(*j, "lifecycleState");
  d.deletion_date = time_field(*j, "timeOfDeletion");
  return d;
}

Status OciKmsClient::cancel_key_deletion(const std::string& key_id) {
  if (auto s = check_ocid("OCI CancelKeyDeletion", "key", key_id); !s) return s.error();
  auto resp = call("CancelKeyDeletion", "POST",
                   std::string(kApi) + "/keys/" + key_id + "/actions/cancelDeletion", "", false);
  if (!resp) return resp.error();
  return {};
}

Result<Accessor> OciKmsClient::who_am_i() { return Accessor{config_.user, config_.tenancy, ""}; }

Result<std::vector<std::string>> OciKmsClient::wrapping_algorithms(const std::string& key_type) {
  auto shape = oci_key_shape(key_type);
  if (!shape) return shape.error();
  return shape->wrapping_algorithms;
}

Result<std::vector<OciKeySummary>> OciKmsClient::list_keys() {
  const std::string what = "OCI ListKeys";
  if (config_.compartment_id.empty())
    return make_error(ErrorKind::InvalidArgument,
                      what +
                          ": spec.oci.compartmentId is empty: keys are listed and imported in "
                          "a compartment");
  std::vector<OciKeySummary> keys;
  std::string page;
  PageGuard guard(what, "opc-next-page");
  for (;;) {
    std::string path = std::string(kApi) + "/keys?compartmentId=" + encode(config_.compartment_id) +
                       "&limit=" + std::to_string(kPageSize);
    if (!page.empty()) path += "&page=" + encode(page);
    auto resp = call("ListKeys", "GET", path, "", true);
    if (!resp) return resp.error();
    auto j = parse_json(what, resp->body);
    if (!j) return j.error();
    if (!j->is_array()) return make_error(ErrorKind::Internal, what + ": answer is not a list");
    for (const auto& item : *j)
      if (item.is_object())
        keys.push_back(OciKeySummary{str(item, "id"), str(item, "displayName"),
                                     str(item, "lifecycleState"), time_field(item, "timeCreated")});
    page = resp->header("opc-next-page");
    auto more = guard.more(j->size(), page);
    if (!more) return more.error();
    if (!*more) return keys;
  }
}

Result<std::optional<KeyDescription>> OciKmsClient::find_key(const ImportTarget& target) {
  if (target.owner.empty())
    return make_error(ErrorKind::InvalidArgument,
                      "OCI find_key: the target has no owner: keys are matched by their " +
                          std::string(kOwnerTag) + " freeform tag");
  auto keys = list_keys();
  if (!keys) return keys.error();
  std::optional<OciKey> best;
  for (const auto& summary : *keys) {
    if (summary.display_name != target.name) continue;
    if (summary.lifecycle_state == "DELETED" || summary.lifecycle_state == "DELETING") continue;
    auto key = get_key(summary.id);
    if (!key) {
      if (key.error().kind == ErrorKind::NotFound) continue;  // gone since the listing
      return key.error();
    }
    auto tag = key->freeform_tags.find(kOwnerTag);
    if (tag == key->freeform_tags.end() || tag->second != target.owner) continue;
    const auto& d = key->description;
    if (d.state == "DELETED" || d.state == "DELETING") continue;
    if (!best ||
        (d.created && best->description.created && *d.created < *best->description.created))
      best = std::move(*key);
  }
  if (!best) return std::optional<KeyDescription>();
  auto d = with_origin(std::move(*best));
  if (!d) return d.error();
  return std::optional<KeyDescription>(std::move(*d));
}

Result<std::pair<std::string, std::string>> OciKmsClient::get_wrapping_key() {
  const std::string what = "OCI GetWrappingKey";
  auto resp = call("GetWrappingKey", "GET", std::string(kApi) + "/wrappingKeys", "", true);
  if (!resp) return resp.error();
  auto j = parse_json(what, resp->body);
  if (!j) return j.error();
  if (!j->is_object()) return make_error(ErrorKind::Internal, what + ": answer is not an object");
  auto key = public_key_der_from_pem(str(*j, "publicKey"));
  if (!key) return key.error().context(what);
  if (key->rsa_bits == 0)
    return make_error(ErrorKind::Internal, what + ": the wrapping key is not an RSA key");
  return std::make_pair(str(*j, "id"), std::move(key->der));
}

Result<WrappingKey> OciKmsClient::prepare_import(const ImportTarget& target,
                                                 const std::string& existing_key_id) {
  const std::string what = "OCI prepare_import";
  auto shape = oci_key_shape(target.key_type);
  if (!shape) return shape.error();
  const auto& algs = shape->wrapping_algorithms;
  if (std::find(algs.begin(), algs.end(), target.wrapping_algorithm) == algs.end())
    return make_error(ErrorKind::InvalidArgument,
                      what + ": " + target.key_type +
                          " cannot be imported with wrapping algorithm '" +
                          target.wrapping_algorithm + "'; OCI takes " + algs.front() +
                          (algs.size() > 1 ? " or " + algs.back() : std::string()));
  if (!existing_key_id.empty())
    if (auto s = check_ocid(what, "key", existing_key_id); !s) return s.error();
  auto wk = get_wrapping_key();
  if (!wk) return wk.error();
  WrappingKey w;
  w.key_id = existing_key_id;
  w.public_key_der = std::move(wk->second);
  w.algorithm = target.wrapping_algorithm;
  w.import_token = wk->first;
  return w;
}

Result<ImportResult> OciKmsClient::import_key(const ImportTarget& target,
                                              const WrappingKey& wrapping,
                                              const std::string& wrapped, ImportKind kind) {
  const std::string op = kind == ImportKind::First ? "ImportKey" : "ImportKeyVersion";
  const std::string what = "OCI " + op;
  auto shape = oci_key_shape(target.key_type);
  if (!shape) return shape.error();
  std::string algorithm =
      wrapping.algorithm.empty() ? target.wrapping_algorithm : wrapping.algorithm;
  const auto& algs = shape->wrapping_algorithms;
  if (std::find(algs.begin(), algs.end(), algorithm) == algs.end())
    return make_error(ErrorKind::InvalidArgument, what + ": " + target.key_type +
                                                      " cannot be imported with wrapping "
                                                      "algorithm '" +
                                                      algorithm + "'");
  if (wrapped.empty())
    return make_error(ErrorKind::InvalidArgument, what + ": no wrapped key material");
  Json wrapped_key = {{"keyMaterial", base64_encode(wrapped)}, {"wrappingAlgorithm", algorithm}};
  Json tags = {{kOwnerTag, target.owner}};

  if (kind == ImportKind::First) {
    if (config_.compartment_id.empty())
      return make_error(ErrorKind::InvalidArgument,
                        what +
                            ": spec.oci.compartmentId is empty: keys are imported into a "
                            "compartment");
    if (target.name.empty())
      return make_error(ErrorKind::InvalidArgument, what + ": the target has no name");
    Json body = {{"compartmentId", config_.compartment_id},
                 {"displayName", target.name},
                 {"keyShape", {{"algorithm", shape->algorithm}, {"length", shape->length}}},
                 {"protectionMode", "HSM"},
                 {"wrappedImportKey", wrapped_key},
                 {"freeformTags", tags}};
    auto resp = call(op, "POST", std::string(kApi) + "/keys/import", body.dump(), false);
    if (!resp) return resp.error();
    auto j = parse_json(what, resp->body);
    if (!j) return j.error();
    if (!j->is_object() || str(*j, "id").empty())
      return make_error(ErrorKind::Internal, what + ": answer has no key id");
    return ImportResult{str(*j, "id"), str(*j, "id"), str(*j, "currentKeyVersion")};
  }

  if (auto s = check_ocid(what, "key", wrapping.key_id); !s) return s.error();
  Json body = {{"wrappedImportKey", wrapped_key}, {"freeformTags", tags}};
  auto resp =
      call(op, "POST", std::string(kApi) + "/keys/" + wrapping.key_id + "/keyVersions/import",
           body.dump(), false);
  if (!resp) return resp.error();
  auto j = parse_json(what, resp->body);
  if (!j) return j.error();
  if (!j->is_object() || str(*j, "id").empty())
    return make_error(ErrorKind::Internal, what + ": answer has no key version id");
  auto v = version_from_json(*j);
  std::string key_id = v.key_id.empty() ? wrapping.key_id : v.key_id;
  return ImportResult{key_id, key_id, v.id};
}

}  // namespace byok::kms::oci
