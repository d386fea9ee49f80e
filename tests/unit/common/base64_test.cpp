#include <catch2/catch.hpp>

#include "common/base64.h"
#include "common/clock.h"
#include "common/uuid.h"

using namespace byok;

TEST_CASE("base64 round-trips the RFC 4648 test vectors", "[base64]") {
  const std::pair<const char*, const char*> vectors[] = {{"", ""},
                                                         {"f", "Zg=="},
                                                         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"},
                                                         {"foob", "Zm9vYg=="},
                                                         {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (auto [plain, encoded] : vectors) {
    CHECK(base64_encode(plain) == encoded);
    auto back = base64_decode(encoded);
    REQUIRE(back.ok());
    CHECK(*back == plain);
  }
}

TEST_CASE("base64url has no padding and its own alphabet", "[base64]") {
  std::string bytes = "\xfb\xff\xbf";
  CHECK(base64_encode(bytes) == "+/+/");
  CHECK(base64url_encode(bytes) == "-_-_");
  CHECK(base64url_encode("f") == "Zg");
  CHECK(*base64_decode("-_-_") == bytes);
}

TEST_CASE("base64 refuses garbage", "[base64]") {
  CHECK_FALSE(base64_decode("Zm9v!").ok());
  CHECK_FALSE(base64_decode("Z").ok());
}

TEST_CASE("RFC 3339 formats and parses UTC seconds", "[clock]") {
  SystemTime t;
  REQUIRE(parse_rfc3339("2026-11-23T15:38:07Z", t));
  CHECK(format_rfc3339(t) == "2026-11-23T15:38:07Z");
  CHECK_FALSE(parse_rfc3339("yesterday", t));
}

TEST_CASE("UUIDs are version 4 with the RFC 4122 variant", "[uuid]") {
  std::array<uint8_t, 16> zeros{};
  CHECK(uuid_v4_from_bytes(zeros) == "00000000-0000-4000-8000-000000000000");
  auto a = random_uuid(), b = random_uuid();
  CHECK(a.size() == 36);
  CHECK(a[14] == '4');
  CHECK(a != b);
}
