#pragma once
// What the KMS clients' unit tests share: a transport that records requests and answers from a
// script, a clock the test sets, and small readers of what a client sent.

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/clock.h"
#include "kms/http_transport.h"

namespace byok::kms::testing {

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

// The fields of an application/x-www-form-urlencoded body, decoded.
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

}  // namespace byok::kms::testing
