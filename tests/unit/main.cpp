// Catch's main, after keeping OpenSSL's atexit cleanup out of cpprestsdk's way
// (common/process_init.h).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "common/process_init.h"

int main(int argc, char** argv) {
  byok::skip_openssl_atexit_cleanup();
  return Catch::Session().run(argc, argv);
}
