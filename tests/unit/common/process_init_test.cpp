#include <catch2/catch.hpp>

#include <sys/prctl.h>
#include <sys/resource.h>

#include "common/process_init.h"

TEST_CASE("a process holding secrets leaves no core file and cannot be dumped", "[process]") {
  byok::disable_core_dumps();
  struct rlimit core {};
  REQUIRE(getrlimit(RLIMIT_CORE, &core) == 0);
  CHECK(core.rlim_cur == 0);
  CHECK(core.rlim_max == 0);
  CHECK(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0);
}
