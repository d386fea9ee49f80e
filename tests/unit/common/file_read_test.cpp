#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "common/file_read.h"

using namespace byok;

namespace {
std::string write_temp(const std::string& name, const std::string& content) {
  auto path = std::filesystem::temp_directory_path() /
              ("byok-file-read-" + std::to_string(::getpid()) + "-" + name);
  std::ofstream(path, std::ios::binary) << content;
  return path.string();
}
}  // namespace

TEST_CASE("read_file_capped reads a file up to its cap and refuses one byte more",
          "[common][file]") {
  const std::string big(40 * 1024 + 7, 'x');  // several of the reader's pieces
  auto path = write_temp("big", big);
  auto whole = read_file_capped(path, big.size());
  REQUIRE(whole);
  CHECK(*whole == big);
  // A small file costs its size, not the cap (a 4 MiB cap used to mean a 4 MiB buffer).
  auto small_path = write_temp("small", "abc");
  auto small = read_file_capped(small_path, 64 * 1024 * 1024);
  REQUIRE(small);
  CHECK(*small == "abc");
  CHECK(small->capacity() < 64 * 1024);
  auto over = read_file_capped(path, big.size() - 1);
  REQUIRE_FALSE(over);
  CHECK(over.error().message.find("FileTooLarge") != std::string::npos);
  auto empty = read_file_capped(write_temp("empty", ""), 10);
  REQUIRE(empty);
  CHECK(empty->empty());
  CHECK_FALSE(read_file_capped(path + ".absent", 10));
  std::filesystem::remove(path);
  std::filesystem::remove(small_path);
}
