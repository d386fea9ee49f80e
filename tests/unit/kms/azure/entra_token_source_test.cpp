// EntraTokenSource against a scripted transport: the client-credentials request it sends (secret
// and federated assertion), caching and refresh, error mapping; and reading a token's claims.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "kms/azure/entra_token_source.h"
#include "tests/unit/kms/azure/azure_test_support.h"

using namespace byok;
using namespace byok::kms;
using namespace byok::kms::azure;
using namespace byok::kms::azure::testing;
using Json = nlohmann::json;

namespace {

struct Fixture {
  SettableClock clock;
  ScriptedTransport transport;
  EntraCredentials creds{"72f988bf-86f1-41af-91ab-2d7cd011db47",
                         "0f4c1e6a-2b2e-4f38-9d2e-6a0c4d1e9b11", "s3cret+&=/value", "",
                         "https://login.microsoftonline.com/"};
  std::vector<std::chrono::milliseconds> sleeps;  // the retry loop's waits, not slept
  Fixture() { REQUIRE(parse_rfc3339("2026-11-23T15:38:00Z", clock.wall)); }
  EntraTokenSource source() {
    RetryEnvironment env{[this](std::chrono::milliseconds d) { sleeps.push_back(d); },
                         [] { return 0.5; }};
    return EntraTokenSource(creds, "https://vault.azure.net/.default", transport, clock,
                            RetryPolicy{}, env);
  }
};

struct TempFile {
  std::filesystem::path path;
  explicit TempFile(const std::string& contents) {
    char name[] = "/tmp/byok-entra-token-XXXXXX";
    int fd = mkstemp(name);
    REQUIRE(fd >= 0);
    close(fd);
    path = name;
    write(contents);
  }
  void write(const std::string& contents) const {
    std::ofstream(path, std::ios::trunc) << contents;
  }
  ~TempFile() { std::filesystem::remove(path); }
};

}  // namespace

TEST_CASE("a client secret is sent as a client-credentials grant to the tenant's v2.0 endpoint",
          "[kms][azure]") {
  Fixture f;
  f.transport.handler = [](const HttpRequest&) { return token_answer("tok-1"); };
  auto src = f.source();
  auto t = src.token();
  REQUIRE(t.ok());
  CHECK(t->value == "tok-1");
  REQUIRE(f.transport.requests.size() == 1);
  const auto& req = f.transport.requests[0];
  CHECK(req.method == "POST");
  CHECK(req.url ==
        "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/v2.0/token");
  CHECK(find_header(req.headers, "Content-Type") == "application/x-www-form-urlencoded");
  CHECK(find_header(req.headers, "Authorization").empty());
  auto form = parse_form(req.body);
  CHECK(form ==
        std::map<std::string, std::string>{{"grant_type", "client_credentials"},
                                           {"client_id", "0f4c1e6a-2b2e-4f38-9d2e-6a0c4d1e9b11"},
                                           {"scope", "https://vault.azure.net/.default"},
                                           {"client_secret", "s3cret+&=/value"}});
  // Reserved characters of the secret are percent-encoded, not sent raw.
  CHECK(req.body.find("s3cret%2B%26%3D%2Fvalue") != std::string::npos);
}

TEST_CASE("a token is cached until five minutes before it expires", "[kms][azure]") {
  Fixture f;
  int n = 0;
  f.transport.handler = [&](const HttpRequest&) {
    return token_answer("tok-" + std::to_string(++n), 3600);
  };
  auto src = f.source();
  REQUIRE(src.token()->value == "tok-1");
  f.clock.wall += std::chrono::seconds(3600 - 301);
  REQUIRE(src.token()->value == "tok-1");
  CHECK(f.transport.requests.size() == 1);
  f.clock.wall += std::chrono::seconds(2);  // inside the last five minutes
  auto t = src.token();
  REQUIRE(t.ok());
  CHECK(t->value == "tok-2");
  CHECK(f.transport.requests.size() == 2);
  CHECK(t->expires == f.clock.wall + std::chrono::seconds(3600));
}

TEST_CASE("a short-lived token is refreshed at half its lifetime, invalidate() forces a fetch",
          "[kms][azure]") {
  Fixture f;
  int n = 0;
  f.transport.handler = [&](const HttpRequest&) {
    return answer(200, Json{{"token_type", "Bearer"},
                            {"expires_in", "120"},  // older endpoints send a string
                            {"access_token", "tok-" + std::to_string(++n)}}
                           .dump());
  };
  auto src = f.source();
  REQUIRE(src.token()->value == "tok-1");
  f.clock.wall += std::chrono::seconds(59);
  REQUIRE(src.token()->value == "tok-1");
  f.clock.wall += std::chrono::seconds(1);
  REQUIRE(src.token()->value == "tok-2");
  src.invalidate();
  REQUIRE(src.token()->value == "tok-3");
}

TEST_CASE("a federated token file is sent as a jwt-bearer assertion and read again on each fetch",
          "[kms][azure]") {
  Fixture f;
  TempFile file("eyJhbGciOi.first-assertion.sig\n");
  f.creds.client_secret.clear();
  f.creds.token_file = file.path.string();
  f.transport.handler = [](const HttpRequest&) { return token_answer("tok", 3600); };
  auto src = f.source();
  REQUIRE(src.token().ok());
  auto form = parse_form(f.transport.requests[0].body);
  CHECK(form.count("client_secret") == 0);
  CHECK(form["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
  CHECK(form["client_assertion"] == "eyJhbGciOi.first-assertion.sig");
  file.write("eyJhbGciOi.rotated-assertion.sig");
  f.clock.wall += std::chrono::hours(1);
  REQUIRE(src.token().ok());
  CHECK(parse_form(f.transport.requests[1].body)["client_assertion"] ==
        "eyJhbGciOi.rotated-assertion.sig");
}

TEST_CASE("an unreadable federated token file fails before anything is sent", "[kms][azure]") {
  Fixture f;
  f.creds.client_secret.clear();
  f.creds.token_file = "/nonexistent/byok/token";
  f.transport.handler = [](const HttpRequest&) { return token_answer("tok"); };
  auto src = f.source();
  auto t = src.token();
  REQUIRE_FALSE(t.ok());
  CHECK(t.error().kind == ErrorKind::FailedPrecondition);
  CHECK(t.error().message.find("/nonexistent/byok/token") != std::string::npos);
  CHECK(f.transport.requests.empty());
}

TEST_CASE("Entra errors map to kinds, the message keeps AADSTS's first line and never the secret",
          "[kms][azure]") {
  struct Case {
    int status;
    std::string error;
    ErrorKind kind;
  };
  const Case cases[] = {
      {401, "invalid_client", ErrorKind::Unauthenticated},
      {400, "unauthorized_client", ErrorKind::Unauthenticated},
      {400, "invalid_grant", ErrorKind::Unauthenticated},
      {400, "invalid_request", ErrorKind::InvalidArgument},
      {400, "invalid_scope", ErrorKind::InvalidArgument},
      {503, "temporarily_unavailable", ErrorKind::Unavailable},
      {429, "", ErrorKind::Throttled},
      {502, "", ErrorKind::Unavailable},
  };
  for (const auto& c : cases) {
    INFO(c.error << " " << c.status);
    Fixture f;
    f.transport.handler = [&](const HttpRequest&) {
      return answer(c.status, Json{{"error", c.error},
                                   {"error_description",
                                    "AADSTS7000215: Invalid client secret provided.\r\nTrace ID: "
                                    "abc\r\nCorrelation ID: def\r\nTimestamp: 2026-11-23"},
                                   {"error_codes", {7000215}}}
                                  .dump());
    };
    auto src = f.source();
    auto t = src.token();
    REQUIRE_FALSE(t.ok());
    CHECK(t.error().kind == c.kind);
    CHECK(t.error().message.find("Trace ID") == std::string::npos);
    CHECK(t.error().message.find("s3cret") == std::string::npos);
  }
  Fixture f;
  f.transport.handler = [](const HttpRequest&) {
    return answer(
        401,
        R"({"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.\r\nTrace ID: x"})");
  };
  auto src = f.source();
  CHECK(src.token().error().message ==
        "Entra token (tenant 72f988bf-86f1-41af-91ab-2d7cd011db47, client "
        "0f4c1e6a-2b2e-4f38-9d2e-6a0c4d1e9b11): invalid_client: AADSTS7000215: Invalid client "
        "secret provided. (HTTP 401)");
}

TEST_CASE("a throttled or unavailable token endpoint is retried, a refused secret is not",
          "[kms][azure][retry]") {
  Fixture f;
  int n = 0;
  f.transport.handler = [&](const HttpRequest&) {
    ++n;
    if (n == 1) return answer(429, R"({"error":"","error_description":"slow down"})");
    if (n == 2) return answer(503, R"({"error":"temporarily_unavailable"})");
    return token_answer("tok-after-retries");
  };
  auto src = f.source();
  auto t = src.token();
  REQUIRE(t.ok());
  CHECK(t->value == "tok-after-retries");
  CHECK(f.transport.requests.size() == 3);
  CHECK(f.sleeps.size() == 2);

  Fixture refused;
  refused.transport.handler = [](const HttpRequest&) {
    return answer(401, R"({"error":"invalid_client","error_description":"AADSTS7000215"})");
  };
  auto src2 = refused.source();
  auto t2 = src2.token();
  REQUIRE_FALSE(t2.ok());
  CHECK(t2.error().kind == ErrorKind::Unauthenticated);
  CHECK(refused.transport.requests.size() == 1);
  CHECK(refused.sleeps.empty());
}

TEST_CASE("a token answer without access_token or expires_in is refused", "[kms][azure]") {
  for (const char* body :
       {R"({"token_type":"Bearer","expires_in":3599})",
        R"({"token_type":"Bearer","access_token":"t"})",
        R"({"token_type":"pop","expires_in":3599,"access_token":"t"})", "<html>proxy</html>"}) {
    INFO(body);
    Fixture f;
    f.transport.handler = [&](const HttpRequest&) { return answer(200, body); };
    auto src = f.source();
    auto t = src.token();
    REQUIRE_FALSE(t.ok());
    CHECK(t.error().kind == ErrorKind::Internal);
  }
}

TEST_CASE("an access token's oid, appid (or azp) and tid name the caller", "[kms][azure]") {
  auto v1 = access_token_claims(make_jwt({{"aud", "https://vault.azure.net"},
                                          {"appid", "app-1"},
                                          {"oid", "obj-1"},
                                          {"tid", "tenant-1"}}));
  REQUIRE(v1.ok());
  CHECK(v1->app_id == "app-1");
  CHECK(v1->object_id == "obj-1");
  CHECK(v1->tenant_id == "tenant-1");
  auto v2 = access_token_claims(make_jwt({{"azp", "app-2"}, {"oid", "obj-2"}, {"tid", "t"}}));
  REQUIRE(v2.ok());
  CHECK(v2->app_id == "app-2");
  for (const char* bad : {"opaque-token", "a.b", "a.!!!.c", "a.W10.c"}) {
    INFO(bad);
    CHECK(access_token_claims(bad).error().kind == ErrorKind::InvalidArgument);
  }
}
