#pragma once
// What the GCP unit tests share: the scripted transport and settable clock of the Azure tests
// (tests/unit/kms/scripted_transport.h), a service
// account key, a router for scripted Cloud KMS answers, and Google's answer shapes.

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "kms/gcp/gcp_kms_client.h"
#include "tests/unit/kms/scripted_transport.h"

namespace byok::kms::gcp::testing {

using kms::testing::answer;
using kms::testing::parse_form;
using kms::testing::ScriptedTransport;
using kms::testing::SettableClock;
using Json = nlohmann::json;

// RFC 7515 appendix A.2's RSA key (a published example key, not a secret) as PKCS#8 PEM. Its
// RS256 signature over the appendix's signing input is the published value checked in
// service_account_test.cpp.
inline const char* const kRfc7515Pem = R"(-----BEGIN PRIVATE KEY-----
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCh+BYK4uPJtGXO
jS1lYmM2K5J9vinh8CR3/BYlzJChNuOL2TSXxbbqY913EeZ8dCn5VrD7io8ImtxL
aYk8wTM/U+3QGbh3hCUv7JFP5IV3aVlL6kKA0ywPVb9ilE8TA5a8bpvfbr3SvaNn
juygxmj3AbONv/s4yDQs4v5tJ/reSlpIdJed1LnPmt7Ex1sFhSwsD174pcF1A5L5
ROjtZMEQxrZHYJqkeDrrnGya11UxMFBji4NmXG9veoKjlnAqH2QbgtPr8jkiGUkf
toaHLFcW9Qr4NY2ai50Xw0Byj3+H2JoY2PyrZ62EWQwuz3WTOTY8BwNNb2BvniHg
VFbK5emhAgMBAAECggEAEq5xpGnNCivDflJsRQBXHx1hdR1k6Ulwe2JZD50LpXyW
PEAeP88vLNO97IjlA7/GQ5sLKMgvfTeXZx9SE+7YwVol2NXOoAJe46sui395IW/G
O+pWJ1O0BkTGoVEn2bKVRUCgu+GjBVaYLU6f3l9kJfFNS3E0QbVdxzubSu3Mkqzj
kn439X0M/V51gfpRLI9JYanrC4D4qAdGcopV/0ZHHzQlBjudU2QvXt4ehNYTCBr6
XCLQUShb1juUO1ZdiYoFaFQT5Tw8bGUl/x/jTj3ccPDVZFD9pIuhLhBOneufuBiB
4cS98l2SR/RQyGWSeWjnczT0QU91p1DhOVRuOopznQKBgQDgHMQQ60imZV1URk0K
pLttoLhyt3SmqdEf/kgHePDdtzEafpAu+cS191R2JiuoF2yzWXnwFDcqGigp5BNr
0AHQfD8/Lk8l1Mk09jxxCfui5nYooNyac8YFjm3vItzVCVDnEd3BbVWG8qf6deqE
lMGAg+C2V0L4oNXnP7LZcPAZRwKBgQC5A8R+CZW2MvRTLLHzwZkUXV866cff7tx6
kqa0finGG0KgeqlaZPxgCZnFp7AeAcCMtiynVlJ7vMVgePsLq6XtON4tB5kP9jAP
rq3rbAOal78eUH5OcED6eNuCV8ixEu1eWcPNCS/l1OW1EnXUEoEHKl54Xrrz2uNw
kgMTP1FZ1wKBgAcCn1dwJKufzBWQxWQp1vsM5fggqPN1qGb5y0MAk3g7/Ls5bkUp
5u9SN0Ai3Ya6hNnvWJMb7sXQX6U/zyO2M/hTip7tUeh7CXgwo59dkpN75gJLVds2
9+DAncu3KXU4f2Fa+7bLNrur53k8KwPOq2bbuTG69QtV7Jr5MR0AHWKNAoGBAIf/
evpitUf+4JYbLpvNXWcY052Mpz22aR84mY3nh3F2LF2mjMJDpTg7FmuyPcVw6EcG
yoAe9fa65iNqCq+jdw6PVNGo2hxfjSiZ8IIzHdsPXI89//pMjZcQK9r+CCoRjaZj
OYiIDktVWZzmevJuv6WywUqd57LE3Zar3dLSIkx1AoGAIYd7DHOhrWvxkwPQsRM2
tOgrjbcrfvtQJipd+DlcxyVuuM9sQLdgjVk2oy26F0EmpScGLq2MowX7fhd/QJQ3
ydy5cY7YIBi87w93IKLEdfnbJtoOPLUW0ITrJReOgo1cq9SbsxYawBgfp/gh6A56
03k2+ZQwVK0JKSHuLFkuQ3U=
-----END PRIVATE KEY-----
)";

inline constexpr const char* kTokenUri = "https://oauth2.test/token";
inline constexpr const char* kEndpoint = "https://kms.test";
inline constexpr const char* kEmail = "byok@proj-1.iam.gserviceaccount.com";
inline constexpr const char* kKeyRing = "projects/proj-1/locations/europe-west1/keyRings/ring";

inline Json sa_key_json(const std::string& token_uri = kTokenUri) {
  return Json{{"type", "service_account"},  {"project_id", "proj-1"}, {"private_key_id", "kid-1"},
              {"private_key", kRfc7515Pem}, {"client_email", kEmail}, {"client_id", "1234567890"},
              {"token_uri", token_uri}};
}

inline HttpResponse google_error_answer(int http, const std::string& status,
                                        const std::string& message) {
  return answer(http,
                Json{{"error", {{"code", http}, {"message", message}, {"status", status}}}}.dump());
}

inline HttpResponse token_answer(const std::string& token = "ya29.t1", int expires_in = 3599) {
  return answer(
      200,
      Json{{"access_token", token}, {"expires_in", expires_in}, {"token_type", "Bearer"}}.dump());
}

// Answers token grants with fresh tokens ("ya29.t1", "ya29.t2", ...) and Cloud KMS calls from a
// queue per "METHOD /v1/path" (query excluded): the first answer is consumed, the last one repeats.
// Anything unscripted is a test failure made visible as HTTP 599.
struct Router {
  std::map<std::string, std::deque<HttpResponse>> routes;
  int tokens_issued = 0;
  std::function<std::optional<HttpResponse>(const HttpRequest&)> token_handler;

  void on(const std::string& method_and_path, HttpResponse r) {
    routes[method_and_path].push_back(std::move(r));
  }
  void on(const std::string& method_and_path, const Json& body) {
    on(method_and_path, answer(200, body.dump()));
  }
  Result<HttpResponse> operator()(const HttpRequest& r) {
    if (r.url == kTokenUri) {
      if (token_handler)
        if (auto a = token_handler(r)) return *a;
      return token_answer("ya29.t" + std::to_string(++tokens_issued));
    }
    auto parts = parse_url(r.url);
    auto it = routes.find(r.method + " " + (parts ? parts->path : r.url));
    if (it == routes.end() || it->second.empty())
      return answer(599, "unscripted " + r.method + " " + r.url);
    HttpResponse out = it->second.front();
    if (it->second.size() > 1) it->second.pop_front();
    return out;
  }
};

struct Fixture {
  SettableClock clock;
  ScriptedTransport transport;
  Router router;
  std::vector<std::chrono::milliseconds> sleeps;
  std::unique_ptr<GcpKmsClient> client;

  explicit Fixture(std::string endpoint = kEndpoint) {
    REQUIRE(parse_rfc3339("2026-11-23T15:38:00Z", clock.wall));
    GcpKmsConfig c;
    c.project = "proj-1";
    c.location = "europe-west1";
    c.key_ring = "ring";
    c.endpoint = std::move(endpoint);
    auto key = parse_service_account_key(sa_key_json().dump());
    REQUIRE(key.ok());
    c.key = *key;
    c.poll = {5, std::chrono::milliseconds(250)};
    transport.handler = [this](const HttpRequest& r) { return router(r); };
    RetryEnvironment env{[this](std::chrono::milliseconds d) { sleeps.push_back(d); },
                         [] { return 0.5; }};
    client = std::make_unique<GcpKmsClient>(c, transport, clock, env);
  }

  // The requests that went to Cloud KMS (not to the token endpoint).
  std::vector<HttpRequest> kms_requests() const {
    std::vector<HttpRequest> out;
    for (const auto& r : transport.requests)
      if (r.url != kTokenUri) out.push_back(r);
    return out;
  }
};

inline std::string key_name(const std::string& id = "k1") {
  return std::string(kKeyRing) + "/cryptoKeys/" + id;
}

inline Json version_json(const std::string& key, int id, const std::string& state,
                         const std::string& algorithm = "GOOGLE_SYMMETRIC_ENCRYPTION") {
  return Json{{"name", key + "/cryptoKeyVersions/" + std::to_string(id)},
              {"state", state},
              {"protectionLevel", "HSM"},
              {"algorithm", algorithm},
              {"createTime", "2026-11-20T10:00:00.123456789Z"}};
}

inline Json key_json(const std::string& name, const std::string& purpose = "ENCRYPT_DECRYPT",
                     const std::string& algorithm = "GOOGLE_SYMMETRIC_ENCRYPTION") {
  return Json{{"name", name},
              {"purpose", purpose},
              {"createTime", "2026-11-20T09:59:59.5Z"},
              {"versionTemplate", {{"protectionLevel", "HSM"}, {"algorithm", algorithm}}},
              {"destroyScheduledDuration", "2592000s"}};
}

}  // namespace byok::kms::gcp::testing
