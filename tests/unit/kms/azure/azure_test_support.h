#pragma once
// A scripted transport, a settable clock, and Entra/Key Vault answers for the Azure unit tests.

#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/base64.h"
#include "common/clock.h"
#include "kms/http_transport.h"

namespace byok::kms::azure::testing {

class SettableClock final : public Clock {
 public:
  SystemTime wall;
  SystemTime now() const override { return wall; }
  SteadyTime steady_now() const override { return SteadyTime{}; }
};

// Records every request; answers with the handler.
class ScriptedTransport final : public HttpTransport {
 public:
  std::function<Result<HttpResponse>(const HttpRequest&)> handler;
  std::vector<HttpRequest> requests;
  Result<HttpResponse> send(const HttpRequest& r) override {
    requests.push_back(r);
    return handler(r);
  }
};

inline HttpResponse answer(int status, std::string body, HttpHeaders headers = {}) {
  return HttpResponse{status, std::move(headers), std::move(body)};
}

// A JWT-shaped token carrying `claims` (the signature is not checked by the client).
inline std::string make_jwt(const nlohmann::json& claims) {
  return base64url_encode(R"({"typ":"JWT","alg":"RS256"})") + "." +
         base64url_encode(claims.dump()) + "." + base64url_encode("signature");
}

inline HttpResponse token_answer(const std::string& token, int expires_in = 3599) {
  return answer(200, nlohmann::json{{"token_type", "Bearer"},
                                    {"expires_in", expires_in},
                                    {"ext_expires_in", expires_in},
                                    {"access_token", token}}
                         .dump());
}

// application/x-www-form-urlencoded body -> map (values percent-decoded).
inline std::map<std::string, std::string> parse_form(const std::string& body) {
  auto decode = [](const std::string& s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '%' && i + 2 < s.size()) {
        out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
        i += 2;
      } else {
        out += s[i] == '+' ? ' ' : s[i];
      }
    }
    return out;
  };
  std::map<std::string, std::string> form;
  size_t start = 0;
  while (start <= body.size()) {
    auto end = body.find('&', start);
    if (end == std::string::npos) end = body.size();
    auto pair = body.substr(start, end - start);
    auto eq = pair.find('=');
    if (eq != std::string::npos) form[decode(pair.substr(0, eq))] = decode(pair.substr(eq + 1));
    start = end + 1;
  }
  return form;
}

}  // namespace byok::kms::azure::testing
