#include <catch2/catch.hpp>

#include "common/clock.h"

using byok::parse_rfc3339;
using byok::SystemTime;

namespace {
std::int64_t epoch_nanos(const std::string& text) {
  SystemTime t;
  REQUIRE(parse_rfc3339(text, t));
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}
bool parses(const std::string& text) {
  SystemTime t;
  return parse_rfc3339(text, t);
}
}  // namespace

TEST_CASE("parse_rfc3339: zones, fractions and the calendar, to the nanosecond", "[clock]") {
  CHECK(epoch_nanos("1970-01-01T00:00:00Z") == 0);
  CHECK(epoch_nanos("2026-12-03T19:36:15Z") == 1796326575LL * 1000000000LL);
  CHECK(epoch_nanos("2026-12-03T20:36:15+01:00") == epoch_nanos("2026-12-03T19:36:15Z"));
  CHECK(epoch_nanos("2026-12-03T14:06:15-05:30") == epoch_nanos("2026-12-03T19:36:15Z"));
  CHECK(epoch_nanos("2026-12-03T19:36:15.123456789Z") - epoch_nanos("2026-12-03T19:36:15Z") ==
        123456789);
  CHECK(epoch_nanos("2026-12-03T19:36:15.5Z") - epoch_nanos("2026-12-03T19:36:15Z") == 500000000);
  CHECK(epoch_nanos("2026-12-03t19:36:15z") == epoch_nanos("2026-12-03T19:36:15Z"));
  CHECK(epoch_nanos("2026-12-03T19:36:15") == epoch_nanos("2026-12-03T19:36:15Z"));  // no zone: UTC
  CHECK(epoch_nanos("2024-02-29T00:00:00Z") - epoch_nanos("2024-02-28T00:00:00Z") ==
        86400LL * 1000000000LL);
  CHECK(epoch_nanos("2016-12-31T23:59:60Z") == epoch_nanos("2016-12-31T23:59:59Z"));
  CHECK(epoch_nanos("1969-12-31T23:59:59Z") == -1000000000LL);
  // What format_rfc3339 writes reads back.
  auto now = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  SystemTime back;
  REQUIRE(parse_rfc3339(byok::format_rfc3339(now), back));
  CHECK(back == now);
}

TEST_CASE(
    "parse_rfc3339 refuses impossible dates, trailing bytes and years the clock cannot hold "
    "(year 3000 once read as about 1830)",
    "[clock]") {
  for (const char* bad :
       {"", "garbage", "2026-13-01T00:00:00Z", "2026-00-10T00:00:00Z", "2026-02-29T00:00:00Z",
        "2026-04-31T00:00:00Z", "2026-01-01T24:00:00Z", "2026-01-01T00:60:00Z",
        "2026-01-01T00:00:61Z", "2026-01-01T00:00:00Zjunk", "2026-01-01T00:00:00+5",
        "2026-01-01T00:00:00+24:00", "2026-1-01T00:00:00Z", "2026-01-01T00:00:00.Z",
        "3000-01-01T00:00:00Z", "2262-06-01T00:00:00Z", "1600-01-01T00:00:00Z",
        "0000-01-01T00:00:00Z", "9999-12-31T23:59:59Z"}) {
    INFO(bad);
    CHECK_FALSE(parses(bad));
  }
  CHECK(parses("2261-12-31T23:59:59Z"));
  CHECK(parses("1678-01-01T00:00:00Z"));
}
