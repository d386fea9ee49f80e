#include <catch2/catch.hpp>

#include "kms/http_transport.h"

using namespace byok;
using namespace byok::kms;

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
  for (const char* bad : {"", "kms.example", "ftp://host/", "https://", "https://user@host/",
                          "https://host:port/"}) {
    INFO(bad);
    auto u = parse_url(bad);
    REQUIRE_FALSE(u.ok());
    CHECK(u.error().kind == ErrorKind::InvalidArgument);
  }
}

TEST_CASE("the cpprest transport refuses a Host header that disagrees with the URL",
          "[kms][http]") {
  // Refused before any connection is tried: nothing listens on this URL.
  auto t = make_cpprest_transport();
  auto r = t->send({"POST", "http://127.0.0.1:1/", {{"Host", "kms.elsewhere.example"}}, "{}"});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == ErrorKind::InvalidArgument);
  CHECK(r.error().message.find("Host header kms.elsewhere.example does not match") !=
        std::string::npos);
}

TEST_CASE("header lookup ignores case", "[kms][http]") {
  HttpHeaders h = {{"Content-Type", "a"}, {"content-type", "b"}};
  CHECK(find_header(h, "CONTENT-TYPE") == "a");
  CHECK(find_header(h, "X-Missing").empty());
}
