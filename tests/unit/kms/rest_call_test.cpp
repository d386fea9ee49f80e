// The one retry loop every KMS client sends through (kms/rest_call.h): attempts, backoff,
// Retry-After, renewed credentials, per-attempt requests, safe words, and shutdown.
#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

#include "kms/rest_call.h"
#include "tests/unit/kms/scripted_transport.h"

using namespace byok;
using namespace byok::kms;
using namespace std::chrono_literals;
using byok::kms::testing::answer;
using byok::kms::testing::ScriptedTransport;

namespace {

struct Loop {
  ScriptedTransport transport;
  std::vector<std::chrono::milliseconds> sleeps;
  RetryPolicy policy;
  RetryEnvironment env{[this](std::chrono::milliseconds d) { sleeps.push_back(d); },
                       [] { return 0.5; }};
  CallOptions options;
  int built = 0;
  Loop() {
    options.idempotent = true;
    options.build = [this]() -> Result<HttpRequest> {
      ++built;
      return HttpRequest{"GET", "https://kms.test/k?n=" + std::to_string(built), {}, ""};
    };
  }
  Result<HttpResponse> send() {
    return send_call(transport, "TEST Get", options, policy, env, [](const HttpResponse& r) {
      return ErrorReading{
          r.status == 503 || r.status == 429 ? ErrorKind::Throttled : ErrorKind::InvalidArgument,
          r.body};
    });
  }
};

}  // namespace

TEST_CASE("send_call: a transient failure is tried again, each attempt built afresh",
          "[kms][retry]") {
  Loop l;
  int n = 0;
  l.transport.handler = [&](const HttpRequest&) {
    return ++n < 3 ? answer(503, "busy") : answer(200, "ok");
  };
  auto r = l.send();
  REQUIRE(r.ok());
  CHECK(r->body == "ok");
  CHECK(l.built == 3);
  CHECK(l.transport.requests[2].url == "https://kms.test/k?n=3");
  // Equal jitter with random 0.5: 3/4 of 100 ms, then of 200 ms.
  CHECK(l.sleeps == std::vector<std::chrono::milliseconds>{75ms, 150ms});
}

TEST_CASE("send_call: a write is sent once, and a lasting failure says how many attempts",
          "[kms][retry]") {
  Loop l;
  l.transport.handler = [](const HttpRequest&) { return answer(503, "busy"); };
  l.options.idempotent = false;
  auto once = l.send();
  REQUIRE_FALSE(once.ok());
  CHECK(l.transport.requests.size() == 1);
  CHECK(once.error().message == "TEST Get: busy (HTTP 503)");
  l.options.idempotent = true;
  auto thrice = l.send();
  REQUIRE_FALSE(thrice.ok());
  CHECK(l.transport.requests.size() == 4);
  CHECK(thrice.error().message == "TEST Get: busy (HTTP 503) (gave up after 3 attempts)");
}

TEST_CASE("send_call: Retry-After stretches the wait, and one beyond max_delay ends the retries",
          "[kms][retry]") {
  Loop l;
  int n = 0;
  l.transport.handler = [&](const HttpRequest&) {
    return ++n == 1 ? answer(429, "slow down", {{"Retry-After", "1"}}) : answer(200, "ok");
  };
  l.policy.max_delay = 2000ms;
  REQUIRE(l.send().ok());
  CHECK(l.sleeps == std::vector<std::chrono::milliseconds>{1000ms});

  // A hostile or overloaded KMS asking for an hour does not hold a worker for it.
  l.sleeps.clear();
  l.transport.requests.clear();
  l.transport.handler = [](const HttpRequest&) {
    return answer(429, "later", {{"Retry-After", "3600"}});
  };
  auto r = l.send();
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::Throttled);
  CHECK(l.transport.requests.size() == 1);
  CHECK(l.sleeps.empty());
  CHECK(r.error().message == "TEST Get: later (HTTP 429) (the KMS asked to retry after 3600 s)");
  // ... and the error carries what it asked, for the work queue.
  CHECK(r.error().retry_after == std::chrono::seconds(3600));
  CHECK(r.error().context("importing").retry_after == std::chrono::seconds(3600));
  // An HTTP-date is not read: the backoff stands.
  l.transport.handler = [](const HttpRequest&) {
    return answer(429, "later", {{"Retry-After", "Wed, 21 Oct 2026 07:28:00 GMT"}});
  };
  l.sleeps.clear();
  REQUIRE_FALSE(l.send().ok());
  CHECK(l.sleeps == std::vector<std::chrono::milliseconds>{75ms, 150ms});
}

TEST_CASE(
    "send_call: a 401 renews the credentials once, without using up an attempt, even for "
    "writes",
    "[kms][retry]") {
  Loop l;
  l.options.idempotent = false;
  int renewed = 0;
  l.options.renew_credentials = [&] { ++renewed; };
  int n = 0;
  l.transport.handler = [&](const HttpRequest&) {
    return ++n == 1 ? answer(401, "expired") : answer(200, "ok");
  };
  REQUIRE(l.send().ok());
  CHECK(renewed == 1);
  CHECK(l.transport.requests.size() == 2);
  // Refused again: no loop of renewals.
  l.transport.handler = [](const HttpRequest&) { return answer(401, "no"); };
  auto r = l.send();
  REQUIRE_FALSE(r.ok());
  CHECK(renewed == 2);
  CHECK(l.transport.requests.size() == 4);
}

TEST_CASE(
    "send_call: the KMS's words reach a condition printable and bounded, with the "
    "attempt's note",
    "[kms][retry]") {
  Loop l;
  l.options.idempotent = false;
  l.options.annotate = [](const HttpRequest&, const HttpResponse* resp) {
    return std::string(resp ? "id answered" : "id sent");
  };
  l.transport.handler = [](const HttpRequest&) {
    return answer(400, std::string("bad\x1b[31m\r\nred\0zero", 18) + std::string(1000, 'x'));
  };
  auto r = l.send();
  REQUIRE_FALSE(r.ok());
  const std::string& m = r.error().message;
  CHECK(m.rfind("TEST Get: bad?[31m red?zero", 0) == 0);
  CHECK(m.find("...") != std::string::npos);
  CHECK(m.size() < 400);
  CHECK(m.find(", id answered)") != std::string::npos);
  for (char c : m) CHECK(std::isprint(static_cast<unsigned char>(c)));
  l.transport.handler = [](const HttpRequest&) -> Result<HttpResponse> {
    return make_error(ErrorKind::InvalidArgument, "refused by the transport");
  };
  auto t = l.send();
  REQUIRE_FALSE(t.ok());
  CHECK(t.error().message == "TEST Get: refused by the transport (id sent)");
  // The TLS library's words (a certificate's subject), a header the server answered with: the
  // same cleaning.
  l.options.annotate = [](const HttpRequest&, const HttpResponse* resp) {
    return resp ? "opc-request-id " + resp->header("opc-request-id") : std::string("none");
  };
  l.transport.handler = [](const HttpRequest&) -> Result<HttpResponse> {
    return make_error(ErrorKind::Unavailable,
                      "certificate subject name 'evil\x1b[31mRED' does not match");
  };
  auto tls = l.send();
  REQUIRE_FALSE(tls.ok());
  CHECK(tls.error().message.find("'evil?[31mRED'") != std::string::npos);
  l.transport.handler = [](const HttpRequest&) {
    return answer(500, "x", {{"opc-request-id", "id\x1b\xff" + std::string(70000, 'a')}});
  };
  auto header = l.send();
  REQUIRE_FALSE(header.ok());
  CHECK(header.error().message.size() < 1100);
  CHECK(header.error().message.find("opc-request-id id??aaa") != std::string::npos);
  for (char c : header.error().message) CHECK(std::isprint(static_cast<unsigned char>(c)));
}

TEST_CASE("send_call: a request that cannot be built (signing, token) ends the call",
          "[kms][retry]") {
  Loop l;
  int builds = 0;
  l.options.build = [&]() -> Result<HttpRequest> {
    ++builds;
    return make_error(ErrorKind::Unavailable, "token server down");
  };
  l.transport.handler = [](const HttpRequest&) { return answer(200, "ok"); };
  auto r = l.send();
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message == "TEST Get: token server down");
  CHECK(builds == 1);  // the token source retried already
  CHECK(l.transport.requests.empty());
}

TEST_CASE("default_retry_environment: stop_waiting wakes a sleep at once, and the loop gives up",
          "[kms][retry]") {
  auto env = default_retry_environment();
  std::thread stopper([] {
    std::this_thread::sleep_for(50ms);
    stop_waiting();
  });
  auto started = std::chrono::steady_clock::now();
  env.sleep(std::chrono::milliseconds(30000));
  auto waited = std::chrono::steady_clock::now() - started;
  stopper.join();
  CHECK(waited < 5s);
  CHECK(waiting_stopped());

  ScriptedTransport transport;
  transport.handler = [](const HttpRequest&) { return answer(503, "busy"); };
  RetryPolicy policy;
  policy.max_attempts = 5;
  auto r = send_with_retry(transport, HttpRequest{"GET", "https://kms.test/", {}, ""}, "TEST Get",
                           true, policy, env, [](const HttpResponse&) {
                             return ErrorReading{ErrorKind::Unavailable, "busy"};
                           });
  resume_waiting();
  REQUIRE_FALSE(r.ok());
  CHECK(transport.requests.size() == 1);
  CHECK(r.error().message.find("not retried: the operator is stopping") != std::string::npos);
  CHECK_FALSE(waiting_stopped());
}
