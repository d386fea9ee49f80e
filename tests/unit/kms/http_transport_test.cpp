#include <catch2/catch.hpp>

#include "kms/http_transport.h"
#include "tests/unit/support/raw_server.h"

using namespace byok;
using namespace byok::kms;
using byok::testing::RawServer;
using byok::testing::ScriptServer;

namespace {
const std::string kOk = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

std::size_t occurrences(const std::string& hay, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = hay.find(needle); at != std::string::npos; at = hay.find(needle, at + 1)) ++n;
  return n;
}
}  // namespace

TEST_CASE("parse_url splits an absolute URL and drops default ports from the authority",
          "[kms][http]") {
  auto u = parse_url("HTTPS://kms.eu-west-1.amazonaws.com:443/a/b?x=1&y=2#frag");
  REQUIRE(u.ok());
  CHECK(u->scheme == "https");
  CHECK(u->host == "kms.eu-west-1.amazonaws.com");
  CHECK(u->port == "443");
  CHECK(u->path == "/a/b");
  CHECK(u->query == "x=1&y=2");
  CHECK(u->authority() == "kms.eu-west-1.amazonaws.com");
  CHECK(parse_url("http://127.0.0.1:4599")->authority() == "127.0.0.1:4599");
  CHECK(parse_url("http://127.0.0.1:4599")->path == "/");
  CHECK(parse_url("http://127.0.0.1:80/")->authority() == "127.0.0.1");
  CHECK(parse_url("https://[::1]:8443/")->authority() == "[::1]:8443");
}

TEST_CASE("parse_url refuses what is not an absolute http(s) URL", "[kms][http]") {
  for (const char* bad :
       {"", "kms.example", "ftp://host/", "https://", "https://user@host/", "https://host:port/"}) {
    INFO(bad);
    auto u = parse_url(bad);
    REQUIRE_FALSE(u.ok());
    CHECK(u.error().kind == ErrorKind::InvalidArgument);
  }
}

TEST_CASE("the transport refuses a Host header that disagrees with the URL", "[kms][http]") {
  // Refused before any connection is tried: nothing listens on this URL.
  auto t = make_http_transport();
  auto r = t->send({"POST", "http://127.0.0.1:1/", {{"Host", "kms.elsewhere.example"}}, "{}"});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::InvalidArgument);
  CHECK(r.error().message.find("Host header kms.elsewhere.example does not match") !=
        std::string::npos);
}

TEST_CASE(
    "the transport refuses a header value with a line break or a NUL: a tenant's "
    "credential cannot add headers",
    "[kms][http]") {
  auto t = make_http_transport();
  for (const std::string& value : {std::string("Token pat\r\nX-Injected: 1"), std::string("pat\n"),
                                   std::string("pat\0tail", 8)}) {
    auto r = t->send({"GET", "http://127.0.0.1:1/", {{"Authorization", value}}, ""});
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::InvalidArgument);
    CHECK(r.error().message.find("header Authorization carries a line break, a NUL") !=
          std::string::npos);
  }
}

TEST_CASE("header lookup ignores case", "[kms][http]") {
  HttpHeaders h = {{"Content-Type", "a"}, {"content-type", "b"}};
  CHECK(find_header(h, "CONTENT-TYPE") == "a");
  CHECK(find_header(h, "X-Missing").empty());
}

TEST_CASE("an answer larger than the cap is refused, with or without a Content-Length",
          "[kms][http]") {
  byok::kms::HttpTransportOptions options;
  options.max_response_bytes = 1024 * 1024;
  {
    RawServer server("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" +
                     std::string(3 * 1024 * 1024, 'x'));
    auto r = byok::kms::make_http_transport(options)->send({"GET", server.url(), {}, ""});
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("KmsResponseTooLarge") != std::string::npos);
  }
  {
    RawServer server("HTTP/1.1 200 OK\r\nContent-Length: 10000000000\r\n\r\nxx");
    auto r = byok::kms::make_http_transport(options)->send({"GET", server.url(), {}, ""});
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("KmsResponseTooLarge") != std::string::npos);
  }
  {
    RawServer server("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
    auto r = byok::kms::make_http_transport(options)->send({"GET", server.url(), {}, ""});
    REQUIRE(r.ok());
    CHECK(r->body == "hello");
  }
}

TEST_CASE("the URL guard refuses before any connection is made", "[kms][http]") {
  RawServer server("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  byok::kms::HttpTransportOptions options;
  options.url_guard = [](const byok::kms::UrlParts& url) -> byok::Status {
    return byok::make_error(byok::ErrorKind::PermissionDenied, url.host + " is not allowed");
  };
  auto r = byok::kms::make_http_transport(options)->send({"GET", server.url(), {}, ""});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == byok::ErrorKind::PermissionDenied);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  CHECK(server.connections == 0);
}

TEST_CASE("a peer that drips its answer a byte at a time is cut off at the whole-request deadline",
          "[kms][http][limits]") {
  byok::kms::HttpTransportOptions options;
  options.total_timeout = std::chrono::milliseconds(1500);
  // Headers, then one byte every 200 ms: a per-read timeout would never fire.
  RawServer server("HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n",
                   std::chrono::milliseconds(200));
  auto start = std::chrono::steady_clock::now();
  auto r = byok::kms::make_http_transport(options)->send({"GET", server.url(), {}, ""});
  auto took = std::chrono::steady_clock::now() - start;
  REQUIRE_FALSE(r.ok());
  // Retried later by the work queue, never at once inside the call: that would hold a worker
  // for several deadlines.
  CHECK(r.error().kind == ErrorKind::DeadlineExceeded);
  CHECK(byok::transient(r.error().kind));
  CHECK(r.error().message.find("KmsRequestTimeout") != std::string::npos);
  CHECK(took < std::chrono::seconds(5));
}

TEST_CASE("an answer whose headers never end is refused at the header cap", "[kms][http][limits]") {
  std::string headers;
  for (int i = 0; i < 8; ++i)
    headers += "X-Filler-" + std::to_string(i) + ": " + std::string(20 * 1024, 'a') + "\r\n";
  RawServer server("HTTP/1.1 200 OK\r\n" + headers + "Content-Length: 2\r\n\r\nok");
  auto r = byok::kms::make_http_transport()->send({"GET", server.url(), {}, ""});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("headers are larger than 65536 bytes") != std::string::npos);
}

TEST_CASE("an answer's status, headers and body come back as sent", "[kms][http]") {
  RawServer server(
      "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 3\r\nX-Amzn-ErrorType: "
      "ThrottlingException\r\n"
      "Content-Length: 7\r\n\r\n{\"a\":1}");
  auto r = byok::kms::make_http_transport()->send(
      {"POST", server.url(), {{"Content-Type", "application/json"}}, "{}"});
  REQUIRE(r.ok());
  CHECK(r->status == 429);
  CHECK(r->header("retry-after") == "3");
  CHECK(r->header("X-Amzn-ErrorType") == "ThrottlingException");
  CHECK(r->body == "{\"a\":1}");
}

// What a tenant writes into an endpoint or a mount path ends up in the request line: a line
// break there would start a request of the tenant's making, with the real headers after it.
TEST_CASE("a URL with a line break, a space or a NUL is refused before any connection",
          "[kms][http][limits]") {
  for (const std::string tail :
       {std::string("/v1/x HTTP/1.1\r\nX-Injected: 1\r\n\r\nDELETE /v1/victim"),
        std::string("/v1/x?a=1 HTTP/1.1\r\nX-Injected: 1\r\nX-Pad: "), std::string("/v1/a b"),
        std::string("/v1/a\0b", 7), std::string("/v1/\xc3\xa9")}) {
    ScriptServer server({{kOk}});
    auto r = make_http_transport()->send({"GET", server.base() + tail, {}, ""});
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::InvalidArgument);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    CHECK(server.connections == 0);
  }
  for (const char* url :
       {"http://x\\.vault.azure.net/", "http://:80/", "http://[]/", "http://a%2eb/"}) {
    auto r = make_http_transport()->send({"GET", url, {}, ""});
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::InvalidArgument);
  }
  auto vt = make_http_transport()->send(
      {"GET", "http://127.0.0.1:1/", {{"Authorization", std::string("Bearer a\x0b") + "b"}}, ""});
  REQUIRE_FALSE(vt.ok());
  CHECK(vt.error().kind == ErrorKind::InvalidArgument);
  auto bad_method =
      make_http_transport()->send({"GET /x HTTP/1.1\r\nX: y", "http://127.0.0.1:1/", {}, ""});
  REQUIRE_FALSE(bad_method.ok());
  CHECK(bad_method.error().kind == ErrorKind::InvalidArgument);
}

TEST_CASE("a chunk's size line and the trailers are held to a cap, not buffered whole",
          "[kms][http][limits]") {
  {
    RawServer server("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;" +
                     std::string(48 * 1024 * 1024, 'e') + "\r\nz\r\n0\r\n\r\n");
    auto r = make_http_transport()->send({"GET", server.url(), {}, ""});
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.error().message, Catch::Contains("KmsResponseTooLarge"));
  }
  {
    std::string trailers;
    for (int i = 0; i < 4000; ++i)
      trailers += "X-T" + std::to_string(i) + ": " + std::string(8000, 't') + "\r\n";
    RawServer server("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nz\r\n0\r\n" +
                     trailers + "\r\n");
    auto r = make_http_transport()->send({"GET", server.url(), {}, ""});
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.error().message, Catch::Contains("KmsResponseTooLarge"));
  }
}

TEST_CASE("a field longer than the transport allows is an error, not an exception",
          "[kms][http][limits]") {
  Result<HttpResponse> r = make_error(ErrorKind::Internal, "not sent");
  CHECK_NOTHROW(r = make_http_transport()->send(
                    {"GET", "http://127.0.0.1:1/", {{"X-Token", std::string(70000, 't')}}, ""}));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind ==
        ErrorKind::InvalidArgument);  // refused up front, not a refused connection
  RawServer server("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nz\r\n0\r\nX-T: " +
                   std::string(70000, 't') + "\r\n\r\n");
  CHECK_NOTHROW(r = make_http_transport()->send({"GET", server.url(), {}, ""}));
  CHECK_FALSE(r.ok());
}

TEST_CASE("interim answers count towards the header cap, and a few at most are read past",
          "[kms][http][limits]") {
  {
    std::string interim;
    for (int i = 0; i < 3; ++i) interim += "HTTP/1.1 100 " + std::string(30000, 'r') + "\r\n\r\n";
    RawServer server(interim + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    auto r = make_http_transport()->send({"GET", server.url(), {}, ""});
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.error().message, Catch::Contains("KmsResponseTooLarge"));
  }
  {
    std::string interim;
    for (int i = 0; i < 9; ++i) interim += "HTTP/1.1 100 Continue\r\n\r\n";
    RawServer server(interim + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    auto r = make_http_transport()->send({"GET", server.url(), {}, ""});
    REQUIRE_FALSE(r.ok());
  }
  {
    RawServer server("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    auto r = make_http_transport()->send({"GET", server.url(), {}, ""});
    REQUIRE(r.ok());
    CHECK(r->status == 200);
    CHECK(r->body == "ok");
  }
}

TEST_CASE("a kept-alive connection serves the next request to the same origin", "[kms][http]") {
  ScriptServer server({{kOk, kOk, kOk}});
  auto t = make_http_transport();
  for (const char* path : {"/v1/a", "/v1/b", "/v1/c"}) {
    auto r = t->send({"GET", server.base() + path, {}, ""});
    REQUIRE(r.ok());
    CHECK(r->body == "ok");
  }
  CHECK(server.connections == 1);
}

// A pooled connection the peer closes after reading the request may have carried it out: a POST
// or PUT (an import, a key's creation) is not sent again, a GET is.
TEST_CASE("a request lost on a pooled connection is sent again only when it may be repeated",
          "[kms][http]") {
  {
    ScriptServer server({{kOk, ""}, {kOk}});
    auto t = make_http_transport();
    REQUIRE(t->send({"POST", server.base() + "/v1/a", {}, "{}"}).ok());
    auto second = t->send({"POST", server.base() + "/v1/b", {}, "{}"});
    CHECK_FALSE(second.ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    CHECK(occurrences(server.got(), "POST /v1/b") == 1);
  }
  {
    ScriptServer server({{kOk, ""}, {kOk}});
    auto t = make_http_transport();
    REQUIRE(t->send({"PUT", server.base() + "/keys/a", {}, "{}"}).ok());
    CHECK_FALSE(t->send({"PUT", server.base() + "/keys/b", {}, "{}"}).ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    CHECK(occurrences(server.got(), "PUT /keys/b") == 1);
  }
  {
    ScriptServer server({{kOk, ""}, {kOk}});
    auto t = make_http_transport();
    REQUIRE(t->send({"GET", server.base() + "/v1/a", {}, ""}).ok());
    auto second = t->send({"GET", server.base() + "/v1/b", {}, ""});
    REQUIRE(second.ok());
    CHECK(second->body == "ok");
    CHECK(server.connections == 2);
  }
}
