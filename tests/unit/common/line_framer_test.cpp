#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "common/line_framer.h"

using byok::LineFramer;

namespace {
std::vector<std::string> feed_all(LineFramer& f, const std::vector<std::string>& chunks) {
  std::vector<std::string> lines;
  for (const auto& c : chunks) {
    auto r = f.feed(c, [&](std::string& l) {
      lines.push_back(l);
      return true;
    });
    REQUIRE(r.ok());
  }
  return lines;
}
}  // namespace

TEST_CASE("lines split across chunks are joined, empty lines skipped", "[common][framer]") {
  LineFramer f(100);
  auto lines = feed_all(f, {"{\"a\"", ":1}\n\n{\"b\":2}\n{\"c\"", ""});
  CHECK(lines == std::vector<std::string>{"{\"a\":1}", "{\"b\":2}"});
  CHECK(f.pending() == 4);
}

TEST_CASE("a line longer than the cap is refused, whether or not it ever ends",
          "[common][framer]") {
  LineFramer f(10);
  int delivered = 0;
  auto count = [&](std::string&) {
    ++delivered;
    return true;
  };
  REQUIRE(f.feed("0123456789\n", count).ok());  // exactly the cap: fine
  CHECK(delivered == 1);
  REQUIRE(f.feed("01234", count).ok());
  auto r = f.feed("567890", count);  // 11 bytes without a newline: refused before buffering
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("LineTooLong") != std::string::npos);
  CHECK(r.error().message.find("10 bytes") != std::string::npos);
  CHECK(f.pending() <= 10);
}

TEST_CASE("the consumer can stop the framer mid-chunk", "[common][framer]") {
  LineFramer f(100);
  std::vector<std::string> seen;
  auto r = f.feed("a\nb\nc\n", [&](std::string& l) {
    seen.push_back(l);
    return l != "b";
  });
  REQUIRE(r.ok());
  CHECK_FALSE(*r);
  CHECK(seen == std::vector<std::string>{"a", "b"});
}
