#include "kms/aws/aws_kms_client.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <memory>
#include <mutex>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/base64.h"
#include "kms/key_state.h"

namespace byok::kms::aws {
namespace {

using Json = nlohmann::json;

constexpr const char* kJson11 = "application/x-amz-json-1.1";
constexpr const char* kFormUrlEncoded = "application/x-www-form-urlencoded; charset=utf-8";

std::optional<SystemTime> epoch_time(const Json& j, const char* field) {
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) return std::nullopt;
  if (it->is_number()) {
    auto ms = static_cast<long long>(std::llround(it->get<double>() * 1000.0));
    return SystemTime(std::chrono::milliseconds(ms));
  }
  if (it->is_string()) {
    SystemTime t;
    if (parse_rfc3339(it->get<std::string>(), t)) return t;
  }
  return std::nullopt;
}

std::string str(const Json& j, const char* field) {
  auto it = j.find(field);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

double epoch_seconds(SystemTime t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

KeyDescription key_from_metadata(const Json& m) {
  KeyDescription d;
  d.key_id = str(m, "KeyId");
  d.resource = str(m, "Arn");
  d.state = str(m, "KeyState");
  d.status = aws_cmk_status(d.state);
  d.key_spec = str(m, "KeySpec");
  if (d.key_spec.empty()) d.key_spec = str(m, "CustomerMasterKeySpec");
  d.key_usage = str(m, "KeyUsage");
  d.origin = str(m, "Origin");
  d.enabled = m.value("Enabled", false);
  d.created = epoch_time(m, "CreationDate");
  d.deletion_date = epoch_time(m, "DeletionDate");
  d.material_expires = epoch_time(m, "ValidTo");
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

// A body that is not an AWS error (a proxy's or an emulator's HTML page), shortened to one line.
std::string snippet(const std::string& body) {
  std::string out;
  for (char c : body) {
    bool space = std::isspace(static_cast<unsigned char>(c));
    if (space && (out.empty() || out.back() == ' ')) continue;
    out += space ? ' ' : c;
    if (out.size() >= 200) {
      out += "...";
      break;
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
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

RetryEnvironment default_retry_environment() {
  auto gen = std::make_shared<std::mt19937_64>(std::random_device{}());
  auto mu = std::make_shared<std::mutex>();
  return RetryEnvironment{
      [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); },
      [gen, mu] {
        std::lock_guard<std::mutex> lock(*mu);
        return std::uniform_real_distribution<double>(0.0, 1.0)(*gen);
      }};
}

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
  if (status >= 500) return ErrorKind::Unavailable;
  switch (status) {
    case 400: return ErrorKind::InvalidArgument;
    case 401: return ErrorKind::Unauthenticated;
    case 403: return ErrorKind::PermissionDenied;
    case 404: return ErrorKind::NotFound;
    case 409: return ErrorKind::Conflict;
    case 429: return ErrorKind::Throttled;
    default: return ErrorKind::Internal;
  }
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

AwsKmsClient::AwsKmsClient(AwsKmsConfig config, HttpTransport& transport, const Clock& clock,
                           RetryEnvironment env)
    : config_(std::move(config)), transport_(transport), clock_(clock), env_(std::move(env)) {
  kms_endpoint_ = config_.kms_endpoint.empty()
                      ? "https://kms." + config_.region + ".amazonaws.com"
                      : config_.kms_endpoint;
  sts_endpoint_ = config_.sts_endpoint.empty()
                      ? "https://sts." + config_.region + ".amazonaws.com"
                      : config_.sts_endpoint;
  while (kms_endpoint_.size() > 8 && kms_endpoint_.back() == '/') kms_endpoint_.pop_back();
  while (sts_endpoint_.size() > 8 && sts_endpoint_.back() == '/') sts_endpoint_.pop_back();
}

Result<std::string> AwsKmsClient::send_with_retry(const std::string& what, HttpRequest request,
                                                  const SigningScope& scope, bool idempotent) {
  if (config_.region.empty())
    return make_error(ErrorKind::InvalidArgument, what + ": no AWS region configured");
  int max_attempts = idempotent ? std::max(1, config_.retry.max_attempts) : 1;
  Error last;
  for (int attempt = 1; attempt <= max_attempts; ++attempt) {
    HttpRequest signed_request = request;
    if (auto s = sign_request(signed_request, config_.credentials, scope, clock_.now()); !s)
      return s.error().context(what);
    auto resp = transport_.send(signed_request);
    if (!resp) {
      last = resp.error().context(what);
    } else if (resp->status >= 200 && resp->status < 300) {
      return std::move(resp->body);
    } else {
      auto [code, message] = parse_aws_error(resp->body, resp->header("x-amzn-ErrorType"));
      if (message.empty() && code.empty()) message = snippet(resp->body);
      std::string text = what + ": " + (code.empty() ? "" : code + ": ") +
                         (message.empty() ? "no message" : message) + " (HTTP " +
                         std::to_string(resp->status) + ")";
      last = Error{aws_error_kind(code, resp->status), text};
    }
    bool transient = last.kind == ErrorKind::Unavailable || last.kind == ErrorKind::Throttled;
    if (!transient || attempt == max_attempts) break;
    auto cap = config_.retry.base_delay * (1LL << std::min(attempt - 1, 20));
    if (cap > config_.retry.max_delay) cap = config_.retry.max_delay;
    // Equal jitter: at least half the exponential step, so retries never bunch at zero.
    auto delay = std::chrono::milliseconds(static_cast<long long>(
        cap.count() / 2.0 + env_.random01() * (cap.count() / 2.0)));
    env_.sleep(delay);
  }
  bool transient = last.kind == ErrorKind::Unavailable || last.kind == ErrorKind::Throttled;
  if (max_attempts > 1 && transient)
    last.message += " (gave up after " + std::to_string(max_attempts) + " attempts)";
  return last;
}

Result<std::string> AwsKmsClient::call_kms(const std::string& op, const std::string& body,
                                           bool idempotent) {
  HttpRequest req;
  req.method = "POST";
  req.url = kms_endpoint_ + "/";
  req.headers = {{"Content-Type", kJson11}, {"X-Amz-Target", "TrentService." + op}};
  req.body = body;
  return send_with_retry("KMS " + op, std::move(req), SigningScope{config_.region, "kms"},
                         idempotent);
}

Result<std::string> AwsKmsClient::call_sts(const std::string& action, bool idempotent) {
  HttpRequest req;
  req.method = "POST";
  req.url = sts_endpoint_ + "/";
  req.headers = {{"Content-Type", kFormUrlEncoded}};
  req.body = "Action=" + action + "&Version=2011-06-15";
  return send_with_retry("STS " + action, std::move(req), SigningScope{config_.region, "sts"},
                         idempotent);
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
  Json req = {{"KeySpec", request.key_spec}, {"KeyUsage", request.key_usage},
              {"Origin", request.origin}};
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

Result<WrappingKey> AwsKmsClient::get_wrapping_key(const WrappingKeyRequest& request) {
  Json req = {{"KeyId", request.key_id},
              {"WrappingAlgorithm",
               request.algorithm.empty() ? "RSAES_OAEP_SHA_256" : request.algorithm},
              {"WrappingKeySpec", request.key_spec.empty() ? "RSA_2048" : request.key_spec}};
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
  w.public_key_der = std::move(*der);
  w.algorithm = req["WrappingAlgorithm"].get<std::string>();
  w.import_token = std::move(*token);
  w.expires = epoch_time(*j, "ParametersValidTo");
  return w;
}

Result<ImportResult> AwsKmsClient::import_key_material(const ImportRequest& request) {
  Json req = {{"KeyId", request.key_id},
              {"ImportToken", base64_encode(request.import_token)},
              {"EncryptedKeyMaterial", base64_encode(request.wrapped_material)}};
  if (request.valid_to) {
    req["ExpirationModel"] = "KEY_MATERIAL_EXPIRES";
    req["ValidTo"] = epoch_seconds(*request.valid_to);
  } else {
    req["ExpirationModel"] = "KEY_MATERIAL_DOES_NOT_EXPIRE";
  }
  auto body = call_kms("ImportKeyMaterial", req.dump(), false);
  if (!body) return body.error();
  auto j = parse_json("KMS ImportKeyMaterial", *body);
  if (!j) return j.error();
  ImportResult r;
  r.key_id = str(*j, "KeyId");
  if (r.key_id.empty()) r.key_id = request.key_id;
  r.material_id = str(*j, "KeyMaterialId");
  return r;
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
  auto body = call_kms("ScheduleKeyDeletion",
                       Json{{"KeyId", key_id}, {"PendingWindowInDays", pending_window_days}}.dump(),
                       false);
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

}  // namespace byok::kms::aws
