#include "common/compression.h"

#include <string>

#include <catch2/catch.hpp>

using byok::deflate_small;
using byok::Deflated;
using byok::inflate_capped;

TEST_CASE("compression: a record deflates smaller and inflates to the same bytes", "[common]") {
  std::string record;
  for (int i = 0; i < 20; ++i) record += "KmsProvider team/aws does not exist; status False. ";
  record += std::string("\0\x01\xff binary", 10);
  const std::string small = deflate_small(record);
  CHECK(small.size() < record.size() / 4);
  auto back = inflate_capped(small, Deflated::Raw, record.size());
  REQUIRE(back);
  CHECK(*back == record);
  CHECK(inflate_capped(deflate_small(""), Deflated::Raw, 0) == std::string());
}

TEST_CASE("compression: what inflates past the cap, or is cut short, or is not deflate, is refused",
          "[common]") {
  const std::string zeros(8 * 1024 * 1024, '\0');
  const std::string bomb = deflate_small(zeros);  // a few KiB that would be 8 MiB
  CHECK(bomb.size() < 64 * 1024);
  CHECK_FALSE(inflate_capped(bomb, Deflated::Raw, 1024 * 1024));
  CHECK(inflate_capped(bomb, Deflated::Raw, zeros.size()) == zeros);
  const std::string text = deflate_small("a record of ours, whole");
  CHECK_FALSE(inflate_capped(text.substr(0, text.size() - 3), Deflated::Raw, 1024));
  CHECK_FALSE(inflate_capped("not deflate at all", Deflated::Raw, 1024));
  CHECK_FALSE(inflate_capped(text, Deflated::Gzip, 1024));  // raw data has no gzip header
}

TEST_CASE("compression: a gzip member inflates", "[common]") {
  // gzip.compress(b"hello, gzip", mtime=0), as Python writes it.
  const unsigned char member[] = {31, 139, 8,   0,   0,   0,  0,  0,   2,   3,  203,
                                  72, 205, 201, 201, 215, 81, 72, 175, 202, 44, 0,
                                  0,  74,  155, 177, 92,  11, 0,  0,   0};
  const std::string gz(reinterpret_cast<const char*>(member), sizeof member);
  CHECK(inflate_capped(gz, Deflated::Gzip, 64) == "hello, gzip");
  CHECK_FALSE(inflate_capped(gz, Deflated::Gzip, 5));
  CHECK_FALSE(inflate_capped(gz, Deflated::Raw, 64));
}
