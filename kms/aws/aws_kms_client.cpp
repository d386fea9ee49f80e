#include "kms/aws/aws_kms_client.h"

#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/base64.h"
#include "common/json_fields.h"
#include "common/text.h"
#include "kms/aws/aws_traits.h"
#include "kms/paging.h"
#include "kms/rest_call.h"

namespace byok::kms::aws {
namespace {

using Json = nlohmann::json;

constexpr const char* kJson11 = "application/x-amz-json-1.1";
constexpr const char* kFormUrlEncoded = "application/x-www-form-urlencoded; charset=utf-8";

std::optional<SystemTime> epoch_time(const Json& j, const char* field) {
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) return std::nullopt;
  if (it->is_number()) return unix_time(j, field);
  if (it->is_string()) {
    SystemTime t;
    if (parse_rfc3339(it->get<std::string>(), t)) return t;
  }
  return std::nullopt;
}

// Whole seconds, a JSON integer, as AWS's SDKs send timestamps.
int64_t epoch_seconds(SystemTime t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

KeyDescription key_from_metadata(const Json& m) {
  KeyDescription d;
  d.key_id = str(m, "KeyId");
  d.resource = str(m, "Arn");
  d.state = str(m, "KeyState");
  d.status = aws_cmk_status(d.state);
  // An EXTERNAL key before its import, or after its material was deleted or expired.
  d.holds_material = !d.state.empty() && d.state != "PendingImport";
  d.key_spec = str(m, "KeySpec");
  if (d.key_spec.empty()) d.key_spec = str(m, "CustomerMasterKeySpec");
  d.key_usage = str(m, "KeyUsage");
  d.origin = str(m, "Origin");
  d.enabled = flag(m, "Enabled");
  d.created = epoch_time(m, "CreationDate");
  d.deletion_date = epoch_time(m, "DeletionDate");
  d.material_expires = epoch_time(m, "ValidTo");
  d.version = str(m, "CurrentKeyMaterialId");  // imported keys: the material in use
  d.imported = d.origin == "EXTERNAL";
  return d;
}

std::string xml_unescape(std::string s) {
  static const std::pair<const char*, const char*> entities[] = {
      {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&apos;", "'"}, {"&amp;", "&"}};
  for (const auto& [from, to] : entities) {
    std::string f = from;
    for (size_t at = s.find(f); at != std::string::npos; at = s.find(f, at + 1))
      s.replace(at, f.size(), to);
  }
  return s;
}

// The text of the first <tag>...</tag>; enough for STS's flat, namespace-free answers.
std::string xml_text(const std::string& xml, const std::string& tag) {
  std::string open = "<" + tag + ">", close = "</" + tag + ">";
  auto a = xml.find(open);
  if (a == std::string::npos) return "";
  a += open.size();
  auto b = xml.find(close, a);
  if (b == std::string::npos) return "";
  return xml_unescape(xml.substr(a, b - a));
}

Result<Json> parse_json(const std::string& what, const std::string& body) {
  if (body.empty()) return Json::object();
  try {
    return Json::parse(body);
  } catch (const Json::exception& e) {
    return make_error(ErrorKind::Internal, what + ": unparseable answer: " + e.what());
  }
}

}  // namespace

ErrorKind aws_error_kind(const std::string& code, int status) {
  static const std::map<std::string, ErrorKind> table = {
      {"NotFoundException", ErrorKind::NotFound},
      {"AccessDeniedException", ErrorKind::PermissionDenied},
      {"AccessDenied", ErrorKind::PermissionDenied},
      {"UnrecognizedClientException", ErrorKind::Unauthenticated},
      {"InvalidClientTokenId", ErrorKind::Unauthenticated},
      {"InvalidSignatureException", ErrorKind::Unauthenticated},
      {"SignatureDoesNotMatch", ErrorKind::Unauthenticated},
      {"IncompleteSignature", ErrorKind::Unauthenticated},
      {"IncompleteSignatureException", ErrorKind::Unauthenticated},
      {"MissingAuthenticationToken", ErrorKind::Unauthenticated},
      {"MissingAuthenticationTokenException", ErrorKind::Unauthenticated},
      {"ExpiredToken", ErrorKind::Unauthenticated},
      {"ExpiredTokenException", ErrorKind::Unauthenticated},
      {"AuthFailure", ErrorKind::Unauthenticated},
      {"ThrottlingException", ErrorKind::Throttled},
      {"Throttling", ErrorKind::Throttled},
      {"RequestLimitExceeded", ErrorKind::Throttled},
      {"LimitExceededException", ErrorKind::Throttled},
      {"KMSInvalidStateException", ErrorKind::FailedPrecondition},
      {"DisabledException", ErrorKind::FailedPrecondition},
      {"ExpiredImportTokenException", ErrorKind::FailedPrecondition},
      {"InvalidImportTokenException", ErrorKind::InvalidArgument},
      {"IncorrectKeyMaterialException", ErrorKind::InvalidArgument},
      {"InvalidCiphertextException", ErrorKind::InvalidArgument},
      {"InvalidArnException", ErrorKind::InvalidArgument},
      {"InvalidKeyUsageException", ErrorKind::InvalidArgument},
      {"ValidationException", ErrorKind::InvalidArgument},
      {"ValidationError", ErrorKind::InvalidArgument},
      {"MalformedPolicyDocumentException", ErrorKind::InvalidArgument},
      {"TagException", ErrorKind::InvalidArgument},
      {"SerializationException", ErrorKind::InvalidArgument},
      {"UnsupportedOperationException", ErrorKind::Unsupported},
      {"AlreadyExistsException", ErrorKind::Conflict},
      {"DependencyTimeoutException", ErrorKind::Unavailable},
      {"KMSInternalException", ErrorKind::Unavailable},
      {"KeyUnavailableException", ErrorKind::Unavailable},
      {"InternalFailure", ErrorKind::Unavailable},
      {"InternalError", ErrorKind::Unavailable},
      {"ServiceUnavailable", ErrorKind::Unavailable},
      {"ServiceUnavailableException", ErrorKind::Unavailable},
  };
  if (auto it = table.find(code); it != table.end()) return it->second;
  return error_kind_for_http_status(status);
}

std::pair<std::string, std::string> parse_aws_error(const std::string& body,
                                                    const std::string& error_type_header) {
  std::string code = error_type_header, message;
  try {
    auto j = Json::parse(body);
    if (j.is_object()) {
      if (code.empty()) code = str(j, "__type");
      if (code.empty()) code = str(j, "code");
      message = str(j, "message");
      if (message.empty()) message = str(j, "Message");
    }
  } catch (const Json::exception&) {
    if (code.empty()) code = xml_text(body, "Code");
    message = xml_text(body, "Message");
  }
  // "com.amazonaws.kms#NotFoundException" and "NotFoundException:http://..." both name the code.
  if (auto hash = code.rfind('#'); hash != std::string::npos) code = code.substr(hash + 1);
  if (auto colon = code.find(':'); colon != std::string::npos) code = code.substr(0, colon);
  return {code, message};
}

namespace {
// An AWS error answer (KMS's JSON, STS's XML) as "<code>: <message>".
ErrorReading read_aws_error(const HttpResponse& resp) {
  auto [code, message] = parse_aws_error(resp.body, resp.header("x-amzn-ErrorType"));
  if (message.empty() && code.empty()) message = body_snippet(resp.body);
  return {aws_error_kind(code, resp.status),
          (code.empty() ? "" : code + ": ") + (message.empty() ? "no message" : message)};
}
}  // namespace

AwsKmsClient::AwsKmsClient(AwsKmsConfig config, HttpTransport& transport, const Clock& clock,
                           RetryEnvironment env)
    : config_(std::move(config)), transport_(transport), clock_(clock), env_(std::move(env)) {
  kms_endpoint_ = config_.kms_endpoint.empty() ? "https://kms." + config_.region + ".amazonaws.com"
                                               : config_.kms_endpoint;
  sts_endpoint_ = config_.sts_endpoint.empty() ? "https://sts." + config_.region + ".amazonaws.com"
                                               : config_.sts_endpoint;
  while (kms_endpoint_.size() > 8 && kms_endpoint_.back() == '/') kms_endpoint_.pop_back();
  while (sts_endpoint_.size() > 8 && sts_endpoint_.back() == '/') sts_endpoint_.pop_back();
}

Result<std::string> AwsKmsClient::send_signed(const std::string& what, const HttpRequest& request,
                                              const SigningScope& scope, bool idempotent) {
  if (config_.region.empty())
    return make_error(ErrorKind::InvalidArgument, what + ": no AWS region configured");
  CallOptions options;
  options.idempotent = idempotent;
  // Signed afresh each attempt: the signature covers the time.
  options.build = [&]() -> Result<HttpRequest> {
    HttpRequest signed_request = request;
    if (auto s = sign_request(signed_request, config_.credentials, scope, clock_.now()); !s)
      return s.error();
    return signed_request;
  };
  auto resp = send_call(transport_, what, options, config_.retry, env_, read_aws_error);
  if (!resp) return resp.error();
  return std::move(resp->body);
}

Result<std::string> AwsKmsClient::call_kms(const std::string& op, const std::string& body,
                                           bool idempotent) {
  HttpRequest req;
  req.method = "POST";
  req.url = kms_endpoint_ + "/";
  req.headers = {{"Content-Type", kJson11}, {"X-Amz-Target", "TrentService." + op}};
  req.body = body;
  return send_signed("KMS " + op, req, SigningScope{config_.region, "kms"}, idempotent);
}

Result<std::string> AwsKmsClient::call_sts(const std::string& action, bool idempotent) {
  HttpRequest req;
  req.method = "POST";
  req.url = sts_endpoint_ + "/";
  req.headers = {{"Content-Type", kFormUrlEncoded}};
  req.body = "Action=" + action + "&Version=2011-06-15";
  return send_signed("STS " + action, req, SigningScope{config_.region, "sts"}, idempotent);
}

Result<KeyDescription> AwsKmsClient::describe_key(const std::string& key_id) {
  auto body = call_kms("DescribeKey", Json{{"KeyId", key_id}}.dump(), true);
  if (!body) return body.error();
  auto j = parse_json("KMS DescribeKey", *body);
  if (!j) return j.error();
  if (!j->contains("KeyMetadata") || !(*j)["KeyMetadata"].is_object())
    return make_error(ErrorKind::Internal, "KMS DescribeKey: answer has no KeyMetadata");
  return key_from_metadata((*j)["KeyMetadata"]);
}

Result<KeyDescription> AwsKmsClient::create_key(const CreateKeyRequest& request) {
  Json req = {
      {"KeySpec", request.key_spec}, {"KeyUsage", request.key_usage}, {"Origin", request.origin}};
  if (!request.description.empty()) req["Description"] = request.description;
  if (!request.tags.empty()) {
    Json tags = Json::array();
    for (const auto& [k, v] : request.tags) tags.push_back({{"TagKey", k}, {"TagValue", v}});
    req["Tags"] = tags;
  }
  auto body = call_kms("CreateKey", req.dump(), false);
  if (!body) return body.error();
  auto j = parse_json("KMS CreateKey", *body);
  if (!j) return j.error();
  if (!j->contains("KeyMetadata") || !(*j)["KeyMetadata"].is_object())
    return make_error(ErrorKind::Internal, "KMS CreateKey: answer has no KeyMetadata");
  return key_from_metadata((*j)["KeyMetadata"]);
}

Result<WrappingKey> AwsKmsClient::get_parameters_for_import(
    const ImportParametersRequest& request) {
  Json req = {{"KeyId", request.key_id},
              {"WrappingAlgorithm", request.algorithm},
              {"WrappingKeySpec", request.key_spec}};
  const std::string what = "KMS GetParametersForImport";
  auto body = call_kms("GetParametersForImport", req.dump(), false);
  if (!body) return body.error();
  auto j = parse_json(what, *body);
  if (!j) return j.error();
  auto der = base64_decode(str(*j, "PublicKey"));
  auto token = base64_decode(str(*j, "ImportToken"));
  if (!der || der->empty() || !token || token->empty())
    return make_error(ErrorKind::Internal,
                      what + ": answer lacks a base64 PublicKey or ImportToken");
  WrappingKey w;
  w.key_id = str(*j, "KeyId");
  if (w.key_id.empty()) w.key_id = request.key_id;
  w.public_key_der = std::move(*der);
  w.algorithm = request.algorithm;
  w.import_token = std::move(*token);
  w.expires = epoch_time(*j, "ParametersValidTo");
  return w;
}

Result<ImportResult> AwsKmsClient::import_key_material(const ImportMaterialRequest& request) {
  Json req = {{"KeyId", request.key_id},
              {"ImportToken", base64_encode(request.import_token)},
              {"EncryptedKeyMaterial", base64_encode(request.wrapped_material)}};
  if (request.valid_to) {
    req["ExpirationModel"] = "KEY_MATERIAL_EXPIRES";
    req["ValidTo"] = epoch_seconds(*request.valid_to);
  } else {
    req["ExpirationModel"] = "KEY_MATERIAL_DOES_NOT_EXPIRE";
  }
  if (request.new_key_material) req["ImportType"] = "NEW_KEY_MATERIAL";
  auto body = call_kms("ImportKeyMaterial", req.dump(), false);
  if (!body) return body.error();
  auto j = parse_json("KMS ImportKeyMaterial", *body);
  if (!j) return j.error();
  ImportResult r;
  r.key_id = str(*j, "KeyId");
  if (r.key_id.empty()) r.key_id = request.key_id;
  if (r.key_id.rfind("arn:", 0) == 0) r.resource = r.key_id;
  r.version = str(*j, "KeyMaterialId");
  return r;
}

Status AwsKmsClient::create_alias(const std::string& alias_name, const std::string& key_id) {
  auto body = call_kms("CreateAlias",
                       Json{{"AliasName", alias_name}, {"TargetKeyId", key_id}}.dump(), false);
  if (!body) return body.error();
  return {};
}

Result<std::map<std::string, std::string>> AwsKmsClient::list_resource_tags(
    const std::string& key_id) {
  std::map<std::string, std::string> tags;
  std::string marker;
  PageGuard guard("KMS ListResourceTags for " + key_id, "NextMarker");
  for (;;) {
    Json req = {{"KeyId", key_id}};
    if (!marker.empty()) req["Marker"] = marker;
    auto body = call_kms("ListResourceTags", req.dump(), true);
    if (!body) return body.error();
    auto j = parse_json("KMS ListResourceTags", *body);
    if (!j) return j.error();
    const auto& page = array_field(*j, "Tags");
    for (const auto& t : page) tags[str(t, "TagKey")] = str(t, "TagValue");
    marker = flag(*j, "Truncated") ? str(*j, "NextMarker") : "";
    auto more = guard.more(page.size(), marker);
    if (!more) return more.error();
    if (!*more) break;
  }
  return tags;
}

Result<std::vector<std::string>> AwsKmsClient::list_keys(size_t limit) {
  std::vector<std::string> ids;
  std::string marker;
  PageGuard guard("KMS ListKeys", "NextMarker");
  for (;;) {
    Json req = {{"Limit", 1000}};
    if (!marker.empty()) req["Marker"] = marker;
    auto body = call_kms("ListKeys", req.dump(), true);
    if (!body) return body.error();
    auto j = parse_json("KMS ListKeys", *body);
    if (!j) return j.error();
    const auto& page = array_field(*j, "Keys");
    for (const auto& k : page) {
      if (ids.size() >= limit) return ids;
      ids.push_back(str(k, "KeyId"));
    }
    marker = flag(*j, "Truncated") ? str(*j, "NextMarker") : "";
    auto more = guard.more(page.size(), marker);
    if (!more) return more.error();
    if (!*more) break;
  }
  return ids;
}

Status AwsKmsClient::delete_imported_key_material(const std::string& key_id,
                                                  const std::string& key_material_id) {
  Json req = {{"KeyId", key_id}};
  if (!key_material_id.empty()) req["KeyMaterialId"] = key_material_id;
  auto body = call_kms("DeleteImportedKeyMaterial", req.dump(), false);
  if (!body) return body.error();
  return {};
}

Result<DeletionSchedule> AwsKmsClient::schedule_key_deletion(const std::string& key_id,
                                                             int pending_window_days) {
  if (pending_window_days < 7 || pending_window_days > 30)
    return make_error(ErrorKind::InvalidArgument,
                      "KMS ScheduleKeyDeletion: PendingWindowInDays must be 7..30, got " +
                          std::to_string(pending_window_days));
  auto body =
      call_kms("ScheduleKeyDeletion",
               Json{{"KeyId", key_id}, {"PendingWindowInDays", pending_window_days}}.dump(), false);
  if (!body) return body.error();
  auto j = parse_json("KMS ScheduleKeyDeletion", *body);
  if (!j) return j.error();
  DeletionSchedule d;
  d.key_id = str(*j, "KeyId");
  d.state = str(*j, "KeyState");
  d.deletion_date = epoch_time(*j, "DeletionDate");
  return d;
}

Status AwsKmsClient::cancel_key_deletion(const std::string& key_id) {
  auto body = call_kms("CancelKeyDeletion", Json{{"KeyId", key_id}}.dump(), false);
  if (!body) return body.error();
  return {};
}

Status AwsKmsClient::disable_key(const std::string& key_id) {
  auto body = call_kms("DisableKey", Json{{"KeyId", key_id}}.dump(), false);
  if (!body) return body.error();
  return {};
}

Status AwsKmsClient::enable_key(const std::string& key_id) {
  auto body = call_kms("EnableKey", Json{{"KeyId", key_id}}.dump(), false);
  if (!body) return body.error();
  return {};
}

Result<CallerIdentity> AwsKmsClient::get_caller_identity() {
  auto body = call_sts("GetCallerIdentity", true);
  if (!body) return body.error();
  CallerIdentity id{xml_text(*body, "Arn"), xml_text(*body, "Account"), xml_text(*body, "UserId")};
  if (id.arn.empty())
    return make_error(ErrorKind::Internal, "STS GetCallerIdentity: answer has no Arn");
  return id;
}

Result<Accessor> AwsKmsClient::who_am_i() {
  auto id = get_caller_identity();
  if (!id) return id.error();
  return Accessor{id->arn, id->account, id->user_id};
}

namespace {

constexpr const char* kOwnerTag = "byok.dev/owner";

std::string alias_of(const ImportTarget& target) { return "alias/" + target.name; }

// ImportKeyMaterial's ValidTo must be in the future and at most 365 days after the call.
constexpr auto kMaxMaterialLifetime = std::chrono::hours(24 * 365);
// AliasName: ^[a-zA-Z0-9:/_-]+$, 1..256 characters with the alias/ prefix; alias/aws/ is AWS's.
constexpr size_t kMaxAliasLength = 256;

Status check_alias(const std::string& name) {
  const std::string alias = "alias/" + name;
  auto bad = std::find_if(name.begin(), name.end(), [](unsigned char c) {
    return !(std::isalnum(c) || c == ':' || c == '/' || c == '_' || c == '-');
  });
  if (bad != name.end()) {
    // The byte as hex, never as itself: a lone UTF-8 lead byte would make the status invalid JSON.
    char shown[8];
    std::snprintf(shown, sizeof shown, "0x%02X", static_cast<unsigned char>(*bad));
    return make_error(
        ErrorKind::InvalidArgument,
        "the AWS alias alias/" + name.substr(0, static_cast<std::size_t>(bad - name.begin())) +
            "... has the byte " + shown +
            ": AWS alias names take letters, digits, '/', '_', '-' and ':' only; set "
            "spec.kmsKeyName to a name without it (the alias is alias/<spec.kmsKeyName "
            "or metadata.name>)");
  }
  if (alias.size() > kMaxAliasLength)
    return make_error(ErrorKind::InvalidArgument,
                      "the AWS alias alias/" + name.substr(0, 32) + "... is " +
                          std::to_string(alias.size()) +
                          " characters, AWS allows 256: set a shorter spec.kmsKeyName");
  if (alias.rfind("alias/aws/", 0) == 0)
    return make_error(ErrorKind::InvalidArgument,
                      "the AWS alias " + alias +
                          " is in alias/aws/, which AWS keeps for its own "
                          "keys: set spec.kmsKeyName to a name that does not start with aws/");
  return {};
}

Status check_valid_to(const std::optional<SystemTime>& valid_to, SystemTime now) {
  if (!valid_to) return {};
  const std::string when = "spec.validTo " + format_rfc3339(*valid_to);
  if (*valid_to <= now)
    return make_error(
        ErrorKind::InvalidArgument,
        when +
            " has passed: AWS KMS needs imported material's expiry in the future; "
            "set a later spec.validTo, or remove it for material that does not expire");
  if (*valid_to - now > kMaxMaterialLifetime)
    return make_error(ErrorKind::InvalidArgument,
                      when +
                          " is more than 365 days ahead: AWS KMS accepts an expiry at most 365 "
                          "days after the import; set spec.validTo before " +
                          format_rfc3339(now + kMaxMaterialLifetime) +
                          ", or remove it for material that does not expire");
  return {};
}

}  // namespace

Result<AwsKeyShape> aws_key_shape(const std::string& key_type) {
  // Asymmetric material only travels with the RSA-AES wrap (RSA private keys do not fit in one
  // OAEP block; AWS refuses RSAES_OAEP_* for them); symmetric keys may use either.
  const std::vector<std::string> rsa_aes = {"RSA_AES_KEY_WRAP_SHA_256", "RSA_AES_KEY_WRAP_SHA_1"};
  if (key_type == "aes256-gcm96")
    return AwsKeyShape{"SYMMETRIC_DEFAULT",
                       "ENCRYPT_DECRYPT",
                       {"RSAES_OAEP_SHA_256", "RSA_AES_KEY_WRAP_SHA_256", "RSAES_OAEP_SHA_1",
                        "RSA_AES_KEY_WRAP_SHA_1"}};
  if (key_type == "rsa-2048") return AwsKeyShape{"RSA_2048", "ENCRYPT_DECRYPT", rsa_aes};
  if (key_type == "rsa-3072") return AwsKeyShape{"RSA_3072", "ENCRYPT_DECRYPT", rsa_aes};
  if (key_type == "rsa-4096") return AwsKeyShape{"RSA_4096", "ENCRYPT_DECRYPT", rsa_aes};
  if (key_type == "ecdsa-p256") return AwsKeyShape{"ECC_NIST_P256", "SIGN_VERIFY", rsa_aes};
  if (key_type == "ecdsa-p384") return AwsKeyShape{"ECC_NIST_P384", "SIGN_VERIFY", rsa_aes};
  if (key_type == "ecdsa-p521") return AwsKeyShape{"ECC_NIST_P521", "SIGN_VERIFY", rsa_aes};
  if (key_type == "aes128-gcm96")
    return make_error(ErrorKind::Unsupported,
                      "AWS KMS imports 256-bit symmetric keys only (SYMMETRIC_DEFAULT): use "
                      "keyType aes256-gcm96");
  if (key_type == "chacha20-poly1305" || key_type == "ed25519")
    return make_error(ErrorKind::Unsupported,
                      "AWS KMS has no " + key_type +
                          " key spec to import into: choose "
                          "aes256-gcm96, rsa-2048/3072/4096 or ecdsa-p256/p384/p521");
  return make_error(ErrorKind::InvalidArgument, "unknown key type " + key_type);
}

Status AwsKmsClient::check_target(const ImportTarget& target, SystemTime now) const {
  if (auto st = check_alias(target.name); !st) return st;
  if (auto st = check_valid_to(target.valid_to, now); !st) return st;
  auto shape = aws_key_shape(target.key_type);
  if (shape && target.allow_rotation && shape->key_spec != "SYMMETRIC_DEFAULT")
    return make_error(
        ErrorKind::InvalidArgument,
        "spec.allowRotation: AWS KMS takes new imported material (NEW_KEY_MATERIAL, "
        "RotateKeyOnDemand) for symmetric keys only, so this " +
            target.key_type +
            " key could never rotate: set allowRotation: false (rotate by importing a "
            "new ImportedKey) or use keyType aes256-gcm96");
  return {};
}

Result<std::vector<std::string>> AwsKmsClient::wrapping_algorithms(const std::string& key_type) {
  auto shape = aws_key_shape(key_type);
  if (!shape) return shape.error();
  return shape->algorithms;
}

Result<std::optional<KeyDescription>> AwsKmsClient::find_key(const ImportTarget& target) {
  auto by_alias = describe_key(alias_of(target));
  if (by_alias) {
    auto tags = list_resource_tags(by_alias->key_id);
    if (!tags) return tags.error();
    auto owner = tags->find(kOwnerTag);
    if (owner == tags->end() || owner->second != target.owner)
      return make_error(ErrorKind::AlreadyExists,
                        alias_of(target) + " already names key " + by_alias->key_id +
                            ", which is not this object's (its " + kOwnerTag + " tag is " +
                            (owner == tags->end() ? "missing" : "\"" + owner->second + "\"") +
                            "): choose another spec.kmsKeyName or remove the alias");
    by_alias->name = alias_of(target);
    return std::optional<KeyDescription>(std::move(*by_alias));
  }
  if (by_alias.error().kind != ErrorKind::NotFound) return by_alias.error();
  // No alias: an earlier attempt may have died between CreateKey and CreateAlias; only worth a
  // scan of the account when the caller's record says a create began.
  if (!target.unnamed_key_possible) return std::optional<KeyDescription>();
  auto ids = list_keys();
  if (!ids) return ids.error();
  for (const auto& id : *ids) {
    auto tags = list_resource_tags(id);
    if (!tags) {
      if (tags.error().kind == ErrorKind::PermissionDenied) continue;  // not ours to read
      return tags.error();
    }
    auto owner = tags->find(kOwnerTag);
    if (owner == tags->end() || owner->second != target.owner) continue;
    auto key = describe_key(id);
    if (!key) return key.error();
    if (key->status == CmkStatus::Deleted) continue;
    return std::optional<KeyDescription>(std::move(*key));
  }
  return std::optional<KeyDescription>();
}

Result<WrappingKey> AwsKmsClient::prepare_import(const ImportTarget& target,
                                                 const std::string& existing_key_id) {
  auto shape = aws_key_shape(target.key_type);
  if (!shape) return shape.error();
  // Before anything is created: a key made for an import AWS will refuse would be left behind.
  if (auto st = check_target(target, clock_.now()); !st) return st.error();
  if (std::find(shape->algorithms.begin(), shape->algorithms.end(), target.wrapping_algorithm) ==
      shape->algorithms.end())
    return make_error(ErrorKind::InvalidArgument, "AWS KMS cannot carry " + target.key_type +
                                                      " with WrappingAlgorithm " +
                                                      target.wrapping_algorithm);
  std::string key_id = existing_key_id;
  if (key_id.empty()) {
    CreateKeyRequest create;
    create.description = target.description;
    create.key_spec = shape->key_spec;
    create.key_usage = shape->key_usage;
    create.origin = "EXTERNAL";
    create.tags = {{kOwnerTag, target.owner}};
    auto key = create_key(create);
    if (!key) return key.error();
    key_id = key->key_id;
  }
  // The alias is how the next reconcile finds the key cheaply; add it if an earlier attempt
  // died before it did.
  auto aliased = describe_key(alias_of(target));
  if (!aliased) {
    if (aliased.error().kind != ErrorKind::NotFound) return aliased.error();
    if (auto st = create_alias(alias_of(target), key_id); !st) return st.error();
  } else if (aliased->key_id != key_id && aliased->resource != key_id) {  // an id or an ARN
    return make_error(ErrorKind::AlreadyExists,
                      alias_of(target) + " names key " + aliased->key_id + ", not " + key_id);
  }
  // The largest wrapping key the KMS offers: AWS has RSA_2048..RSA_4096; some KMSes speaking its
  // API have fewer (local-kms: RSA_2048 only) and say so in a ValidationException that names
  // the field. Any other refusal is the answer.
  Result<WrappingKey> wrapping = make_error(ErrorKind::Internal, "no wrapping key spec tried");
  for (const char* spec : {"RSA_4096", "RSA_3072", "RSA_2048"}) {
    wrapping = get_parameters_for_import({key_id, target.wrapping_algorithm, spec});
    if (wrapping || wrapping.error().kind != ErrorKind::InvalidArgument ||
        ascii_lower(wrapping.error().message).find("wrappingkeyspec") == std::string::npos)
      break;
  }
  return wrapping;
}

Result<ImportResult> AwsKmsClient::import_key(const ImportTarget& target,
                                              const WrappingKey& wrapping,
                                              const std::string& wrapped, ImportKind kind) {
  if (auto st = check_valid_to(target.valid_to, clock_.now()); !st) return st.error();
  ImportMaterialRequest req;
  req.key_id = wrapping.key_id;
  req.import_token = wrapping.import_token;
  req.wrapped_material = wrapped;
  req.valid_to = target.valid_to;
  req.new_key_material = kind == ImportKind::NewVersion;
  auto r = import_key_material(req);
  if (!r) return r.error();
  if (kind == ImportKind::NewVersion) {
    // New material waits in PENDING_ROTATION until an on-demand rotation makes it current.
    auto rotated = call_kms("RotateKeyOnDemand", Json{{"KeyId", req.key_id}}.dump(), false);
    if (!rotated)
      return rotated.error().context("new key material " + r->version +
                                     " imported but not rotated to");
  }
  if (r->resource.empty()) {
    auto key = describe_key(r->key_id);
    if (key) {
      r->resource = key->resource;
      r->key_id = key->key_id;
    }
  }
  return r;
}

Result<std::unique_ptr<AwsKmsClient>> AwsKmsClient::from_config(const ProviderConfig& config,
                                                                HttpTransport& transport,
                                                                const Clock& clock,
                                                                RetryEnvironment env) {
  auto need = [&](const char* key) -> Result<std::string> {
    auto it = config.credentials.find(key);
    if (it == config.credentials.end() || it->second.empty())
      return make_error(ErrorKind::InvalidArgument,
                        std::string("credentials Secret key ") + key +
                            " is missing: add it to the Secret named by "
                            "spec.credentialsSecretRef");
    return it->second;
  };
  if (config.region.empty())
    return make_error(ErrorKind::InvalidArgument,
                      "spec.region is empty: AWS needs the region for the endpoint and SigV4");
  auto access = need("accessKeyId");
  if (!access) return access.error();
  auto secret = need("secretAccessKey");
  if (!secret) return secret.error();
  AwsKmsConfig c;
  c.region = config.region;
  c.kms_endpoint = config.endpoint;
  // STS is its own host: spec.endpoint (a KMS VPC or FIPS endpoint) does not serve it.
  if (auto it = config.settings.find("stsEndpoint"); it != config.settings.end())
    c.sts_endpoint = it->second;
  c.credentials.access_key_id = *access;
  c.credentials.secret_access_key = *secret;
  if (auto it = config.credentials.find("sessionToken"); it != config.credentials.end())
    c.credentials.session_token = it->second;
  return std::make_unique<AwsKmsClient>(std::move(c), transport, clock, std::move(env));
}

}  // namespace byok::kms::aws
