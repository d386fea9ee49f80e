#include "kms/gcp/token_source.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "common/json_fields.h"
#include "kms/gcp/gcp_errors.h"
#include "kms/rest_call.h"

namespace byok::kms::gcp {
namespace {

using Json = nlohmann::json;
constexpr const char* kWhat = "GCP OAuth2 token";

}  // namespace

ServiceAccountTokenSource::ServiceAccountTokenSource(ServiceAccountKey key, std::string scope,
                                                     HttpTransport& transport, const Clock& clock,
                                                     RetryPolicy retry, RetryEnvironment env,
                                                     std::chrono::seconds refresh_margin)
    : key_(std::move(key)),
      scope_(std::move(scope)),
      transport_(transport),
      clock_(clock),
      retry_(retry),
      env_(std::move(env)),
      refresh_margin_(refresh_margin) {}

void ServiceAccountTokenSource::invalidate() {
  std::lock_guard<std::mutex> lock(mu_);
  token_.clear();
  refresh_at_.reset();
}

Result<std::string> ServiceAccountTokenSource::access_token() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!token_.empty() && refresh_at_ && clock_.now() < *refresh_at_) return token_;
  return fetch();
}

// Called with mu_ held.
Result<std::string> ServiceAccountTokenSource::fetch() {
  const SystemTime asked = clock_.now();  // the lifetime counts from before the request
  auto assertion = make_jwt_assertion(key_, scope_, asked);
  if (!assertion) return assertion.error().context(kWhat);
  HttpRequest req;
  req.method = "POST";
  req.url = key_.token_uri;
  req.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  // The assertion is base64url and dots: URL-safe as it is; the grant type's colons are not.
  req.body =
      "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=" + *assertion;
  auto body = send_with_retry(transport_, req, kWhat, true, retry_, env_, read_oauth_error);
  if (!body) return body.error();
  std::string token;
  long long expires_in = 0;
  try {
    auto j = Json::parse(*body);
    token = str(j, "access_token");
    expires_in = integer(j, "expires_in").value_or(0);
    std::string type = str(j, "token_type");
    std::transform(type.begin(), type.end(), type.begin(), ::tolower);
    if (type != "bearer")
      return make_error(ErrorKind::Internal,
                        std::string(kWhat) + ": token_type is \"" + type + "\", not Bearer");
  } catch (const Json::exception& e) {
    return make_error(ErrorKind::Internal,
                      std::string(kWhat) + ": unparseable answer: " + e.what());
  }
  if (token.empty() || expires_in <= 0)
    return make_error(ErrorKind::Internal,
                      std::string(kWhat) + ": answer lacks access_token or expires_in");
  auto lifetime = std::chrono::seconds(std::min(expires_in, kMaxTokenLifetimeSeconds));
  auto margin = std::min<std::chrono::seconds>(refresh_margin_, lifetime / 2);
  token_ = std::move(token);
  refresh_at_ = asked + lifetime - margin;
  return token_;
}

}  // namespace byok::kms::gcp
