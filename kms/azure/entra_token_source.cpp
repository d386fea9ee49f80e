#include "kms/azure/entra_token_source.h"

#include <algorithm>

#include "common/file_read.h"
#include "common/json_fields.h"

#include <cmath>

#include <nlohmann/json.hpp>

#include "common/base64.h"
#include "common/text.h"
#include "kms/rest_call.h"

namespace byok::kms::azure {
namespace {

using Json = nlohmann::json;

constexpr const char* kJwtBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

// Entra's error_description carries "\r\nTrace ID: ...\r\nCorrelation ID: ...\r\nTimestamp: ..."
// after the sentence that matters; the first line is what a user can act on.
std::string first_line(const std::string& s) {
  auto end = s.find_first_of("\r\n");
  return end == std::string::npos ? s : s.substr(0, end);
}

// A projected ServiceAccount token is a few KiB; anything larger (a device, a log file named by
// mistake) is refused before it is buffered.
constexpr std::size_t kMaxTokenFileBytes = 64 * 1024;

Result<std::string> read_token_file(const std::string& path) {
  auto read = read_file_capped(path, kMaxTokenFileBytes);
  if (!read)
    return make_error(ErrorKind::FailedPrecondition,
                      "the federated token file: " + read.error().message);
  std::string token = std::move(*read);
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' '))
    token.pop_back();
  if (token.empty())
    return make_error(ErrorKind::FailedPrecondition,
                      "the federated token file " + path + " is empty");
  return token;
}

}  // namespace

ErrorReading read_entra_error(const HttpResponse& response) {
  Json j;
  try {
    j = Json::parse(response.body);
  } catch (const Json::exception&) {
    j = Json();
  }
  std::string error = j.is_object() ? str(j, "error") : "";
  std::string description = j.is_object() ? first_line(str(j, "error_description")) : "";
  if (error.empty() && description.empty()) description = "no error in the answer";
  return {entra_error_kind(error, response.status),
          (error.empty() ? "" : error + ": ") + description};
}

Result<TokenClaims> access_token_claims(const std::string& jwt) {
  auto first = jwt.find('.');
  auto second = first == std::string::npos ? first : jwt.find('.', first + 1);
  if (second == std::string::npos)
    return make_error(ErrorKind::InvalidArgument, "access token is not a JWT (no two dots)");
  auto payload = base64_decode(std::string_view(jwt).substr(first + 1, second - first - 1));
  if (!payload)
    return make_error(ErrorKind::InvalidArgument, "access token payload is not base64url");
  Json claims;
  try {
    claims = Json::parse(*payload);
  } catch (const Json::exception&) {
    return make_error(ErrorKind::InvalidArgument, "access token payload is not JSON");
  }
  if (!claims.is_object())
    return make_error(ErrorKind::InvalidArgument, "access token payload is not a JSON object");
  TokenClaims c{str(claims, "oid"), str(claims, "appid"), str(claims, "tid")};
  if (c.app_id.empty()) c.app_id = str(claims, "azp");
  return c;
}

ErrorKind entra_error_kind(const std::string& error, int status) {
  if (error == "invalid_client" || error == "unauthorized_client" || error == "invalid_grant")
    return ErrorKind::Unauthenticated;
  if (error == "invalid_request" || error == "invalid_scope" || error == "unsupported_grant_type")
    return ErrorKind::InvalidArgument;
  if (error == "temporarily_unavailable" || error == "server_error") return ErrorKind::Unavailable;
  if (status == 429) return ErrorKind::Throttled;
  if (status >= 500) return ErrorKind::Unavailable;
  if (status == 401) return ErrorKind::Unauthenticated;
  if (status == 403) return ErrorKind::PermissionDenied;
  if (status == 400 || status == 404) return ErrorKind::InvalidArgument;
  return ErrorKind::Internal;
}

EntraTokenSource::EntraTokenSource(EntraCredentials credentials, std::string scope,
                                   HttpTransport& transport, const Clock& clock, RetryPolicy retry,
                                   RetryEnvironment env)
    : credentials_(std::move(credentials)),
      scope_(std::move(scope)),
      transport_(transport),
      clock_(clock),
      retry_(retry),
      env_(std::move(env)) {
  auto& host = credentials_.authority_host;
  if (host.empty()) host = kDefaultAuthorityHost;
  while (host.size() > 8 && host.back() == '/') host.pop_back();
}

std::string EntraTokenSource::token_url() const {
  return credentials_.authority_host + "/" + credentials_.tenant_id + "/oauth2/v2.0/token";
}

void EntraTokenSource::invalidate() {
  std::lock_guard<std::mutex> lock(mu_);
  cached_.reset();
}

Result<AccessToken> EntraTokenSource::token() {
  std::lock_guard<std::mutex> lock(mu_);
  if (cached_ && clock_.now() < refresh_at_) return *cached_;
  auto fresh = fetch();
  if (!fresh) return fresh.error();
  cached_ = *fresh;
  return fresh;
}

Result<AccessToken> EntraTokenSource::fetch() {
  const std::string what =
      "Entra token (tenant " + credentials_.tenant_id + ", client " + credentials_.client_id + ")";
  std::string body =
      "grant_type=client_credentials&client_id=" + percent_encode(credentials_.client_id) +
      "&scope=" + percent_encode(scope_);
  if (!credentials_.token_file.empty()) {
    auto assertion = read_token_file(credentials_.token_file);
    if (!assertion) return assertion.error().context(what);
    body += std::string("&client_assertion_type=") + percent_encode(kJwtBearer) +
            "&client_assertion=" + percent_encode(*assertion);
  } else {
    body += "&client_secret=" + percent_encode(credentials_.client_secret);
  }
  HttpRequest req{
      "POST",
      token_url(),
      {{"Content-Type", "application/x-www-form-urlencoded"}, {"Accept", "application/json"}},
      std::move(body)};
  SystemTime sent = clock_.now();
  // The token endpoint answers 429 and 5xx like any other service: one retry loop for both (a
  // fetch asks for a token, so repeating it is safe).
  auto answer = send_with_retry(transport_, req, what, true, retry_, env_, read_entra_error);
  if (!answer) return answer.error();
  Json j;
  try {
    j = Json::parse(*answer);
  } catch (const Json::exception&) {
    j = Json();
  }
  if (!j.is_object() || str(j, "access_token").empty())
    return make_error(ErrorKind::Internal, what + ": answer has no access_token");
  // expires_in is a number on the v2.0 endpoint; older endpoints send it as a string.
  double seconds = 0;
  if (auto it = j.find("expires_in"); it != j.end()) {
    if (it->is_number()) {
      seconds = it->get<double>();
    } else if (it->is_string()) {
      try {
        seconds = std::stod(it->get<std::string>());
      } catch (const std::exception&) {
      }
    }
  }
  // NaN and nonsense read as none; more than a day as a day.
  const long long lifetime =
      seconds > 0 ? std::llround(std::min<double>(seconds, kMaxTokenLifetimeSeconds)) : 0;
  if (lifetime <= 0) return make_error(ErrorKind::Internal, what + ": answer has no expires_in");
  std::string type = str(j, "token_type");
  if (!type.empty() && type != "Bearer" && type != "bearer")
    return make_error(ErrorKind::Internal, what + ": token_type " + type + " is not Bearer");
  AccessToken t{str(j, "access_token"), sent + std::chrono::seconds(lifetime)};
  // Refresh early so a token never expires in flight; short-lived tokens at half their life.
  long long margin = lifetime < 600 ? lifetime / 2 : 300;
  refresh_at_ = sent + std::chrono::seconds(lifetime - margin);
  return t;
}

}  // namespace byok::kms::azure
