#include <catch2/catch.hpp>

#include <fstream>
#include <string>
#include <vector>

#include "controller/runtime/memory_release.h"
#include "tests/harness/sanitizers.h"

using namespace byok::runtime;

namespace {
using byok::testing::kAddressSanitizer;
long rss_kib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}
}  // namespace

TEST_CASE("release_free_memory gives a burst's freed pages back, at most once per period",
          "[controller][memory]") {
  // A burst: 32 MiB in 1 KiB pieces, then all freed but every 16th, as objects that outlive a
  // burst are scattered among those that did not. The allocator keeps the holes between them.
  std::vector<char*> burst;
  for (int i = 0; i < 32 * 1024; ++i) {
    burst.push_back(new char[1024]);
    std::fill_n(burst.back(), 1024, char(i));
  }
  // Read them, so the compiler cannot drop the allocations as unused.
  volatile long sink = 0;
  for (char* p : burst) sink = sink + p[1023];
  const long peak = rss_kib();
  std::vector<char*> kept;
  for (size_t i = 0; i < burst.size(); ++i) {
    if (i % 16 == 0)
      kept.push_back(burst[i]);
    else
      delete[] burst[i];
  }
  const long before = rss_kib();
  REQUIRE(release_free_memory(std::chrono::milliseconds(0)));
  const long after = rss_kib();
  INFO("RSS at the burst " << peak << " KiB, freed " << before << " KiB, released " << after
                           << " KiB");
  // What is measured is glibc's allocator giving pages back; under AddressSanitizer its own
  // allocator replaces glibc's (and keeps freed memory in quarantine), so there is nothing of
  // glibc's to measure. The operator ships with glibc's.
  if (!kAddressSanitizer) CHECK(before - after > 8 * 1024);
  for (char* p : kept) delete[] p;

  CHECK_FALSE(release_free_memory(std::chrono::hours(1)));  // just trimmed
  CHECK(release_free_memory(std::chrono::milliseconds(0)));
}
