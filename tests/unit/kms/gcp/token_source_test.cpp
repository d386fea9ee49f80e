// ServiceAccountTokenSource: the grant request it sends, the cache, and OAuth2 error mapping.
#include <catch2/catch.hpp>

#include "common/base64.h"
#include "kms/gcp/token_source.h"
#include "tests/unit/kms/gcp/gcp_test_support.h"

using namespace byok;
using namespace byok::kms;
using namespace byok::kms::gcp;
using namespace byok::kms::gcp::testing;

namespace {

struct Source {
  SettableClock clock;
  ScriptedTransport transport;
  std::vector<std::chrono::milliseconds> sleeps;
  std::unique_ptr<ServiceAccountTokenSource> tokens;
  Source() {
    REQUIRE(parse_rfc3339("2026-11-23T15:38:00Z", clock.wall));
    RetryEnvironment env{[this](std::chrono::milliseconds d) { sleeps.push_back(d); },
                         [] { return 0.0; }};
    tokens = std::make_unique<ServiceAccountTokenSource>(
        *parse_service_account_key(sa_key_json().dump()), kCloudKmsScope, transport, clock,
        RetryPolicy{}, env);
  }
};

}  // namespace

TEST_CASE("a token is granted for a signed JWT posted as a form to the key's token_uri",
          "[kms][gcp]") {
  Source s;
  s.transport.handler = [](const HttpRequest&) { return token_answer("ya29.first"); };
  auto token = s.tokens->access_token();
  REQUIRE(token.ok());
  CHECK(*token == "ya29.first");
  REQUIRE(s.transport.requests.size() == 1);
  const auto& req = s.transport.requests[0];
  CHECK(req.method == "POST");
  CHECK(req.url == kTokenUri);
  CHECK(find_header(req.headers, "Content-Type") == "application/x-www-form-urlencoded");
  CHECK(find_header(req.headers, "Authorization").empty());
  auto form = parse_form(req.body);
  CHECK(form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer");
  auto jwt = form["assertion"];
  auto dot = jwt.find('.');
  REQUIRE(dot != std::string::npos);
  auto claims = Json::parse(*base64_decode(jwt.substr(dot + 1, jwt.find('.', dot + 1) - dot - 1)));
  CHECK(claims["iss"] == kEmail);
  CHECK(claims["aud"] == kTokenUri);
}

TEST_CASE("a token is reused until five minutes before it expires, then granted again",
          "[kms][gcp]") {
  Source s;
  int grants = 0;
  s.transport.handler = [&](const HttpRequest&) {
    return token_answer("ya29.n" + std::to_string(++grants), 3600);
  };
  CHECK(*s.tokens->access_token() == "ya29.n1");
  s.clock.wall += std::chrono::minutes(54);
  CHECK(*s.tokens->access_token() == "ya29.n1");
  s.clock.wall += std::chrono::minutes(1) + std::chrono::seconds(1);  // 55 min 1 s: too close
  CHECK(*s.tokens->access_token() == "ya29.n2");
  CHECK(grants == 2);
  // A short-lived token is kept for half its life, not refreshed on every call.
  s.transport.handler = [&](const HttpRequest&) { return token_answer("ya29.short", 120); };
  s.tokens->invalidate();
  CHECK(*s.tokens->access_token() == "ya29.short");
  s.clock.wall += std::chrono::seconds(59);
  CHECK(*s.tokens->access_token() == "ya29.short");
  CHECK(s.transport.requests.size() == 3);
}

TEST_CASE("OAuth2 errors map to error kinds and name the call, the code and Google's words",
          "[kms][gcp]") {
  struct Case {
    int http;
    std::string body;
    ErrorKind kind;
    std::string message;
  };
  const Case cases[] = {
      {400, R"({"error":"invalid_grant","error_description":"Invalid JWT Signature."})",
       ErrorKind::Unauthenticated,
       "GCP OAuth2 token: invalid_grant: Invalid JWT Signature. (HTTP 400)"},
      {401, R"({"error":"invalid_client","error_description":"The OAuth client was not found."})",
       ErrorKind::Unauthenticated,
       "GCP OAuth2 token: invalid_client: The OAuth client was not found. (HTTP 401)"},
      {400, R"({"error":"unauthorized_client","error_description":"Client is unauthorized"})",
       ErrorKind::Unauthenticated,
       "GCP OAuth2 token: unauthorized_client: Client is unauthorized (HTTP 400)"},
      {400, R"({"error":"invalid_scope","error_description":"Invalid OAuth scope"})",
       ErrorKind::InvalidArgument,
       "GCP OAuth2 token: invalid_scope: Invalid OAuth scope (HTTP 400)"},
      {403, R"({"error":"access_denied","error_description":"no"})", ErrorKind::PermissionDenied,
       "GCP OAuth2 token: access_denied: no (HTTP 403)"},
      {502, "<html><body>Bad   Gateway</body></html>", ErrorKind::Unavailable,
       "GCP OAuth2 token: <html><body>Bad Gateway</body></html> (HTTP 502) (gave up after 3 "
       "attempts)"},
  };
  for (const auto& c : cases) {
    Source s;
    s.transport.handler = [&](const HttpRequest&) { return answer(c.http, c.body); };
    auto token = s.tokens->access_token();
    INFO(c.body);
    REQUIRE_FALSE(token.ok());
    CHECK(token.error().kind == c.kind);
    CHECK(token.error().message == c.message);
  }
}

TEST_CASE("a grant is retried on 5xx and throttling with backoff, not on a refusal", "[kms][gcp]") {
  Source s;
  int calls = 0;
  s.transport.handler = [&](const HttpRequest&) {
    return ++calls < 3 ? answer(503, R"({"error":"temporarily_unavailable"})")
                       : token_answer("ya29.late");
  };
  CHECK(*s.tokens->access_token() == "ya29.late");
  CHECK(calls == 3);
  CHECK(s.sleeps == std::vector<std::chrono::milliseconds>{std::chrono::milliseconds(50),
                                                           std::chrono::milliseconds(100)});
  Source refused;
  refused.transport.handler = [&](const HttpRequest&) {
    return answer(
        400, R"({"error":"invalid_grant","error_description":"Invalid grant: account not found"})");
  };
  CHECK_FALSE(refused.tokens->access_token().ok());
  CHECK(refused.transport.requests.size() == 1);
  CHECK(refused.sleeps.empty());
}

TEST_CASE("an answer without a usable token is an Internal error", "[kms][gcp]") {
  for (const char* body : {R"({"expires_in":3599,"token_type":"Bearer"})",
                           R"({"access_token":"x","expires_in":3599,"token_type":"mac"})",
                           R"({"access_token":"x","token_type":"Bearer"})", "not json"}) {
    Source s;
    s.transport.handler = [&](const HttpRequest&) { return answer(200, body); };
    auto token = s.tokens->access_token();
    INFO(body);
    REQUIRE_FALSE(token.ok());
    CHECK(token.error().kind == ErrorKind::Internal);
    CHECK(token.error().message.rfind("GCP OAuth2 token: ", 0) == 0);
  }
}
