#include "common/process_init.h"

#include <sys/prctl.h>
#include <sys/resource.h>

#include <openssl/crypto.h>

namespace byok {

void skip_openssl_atexit_cleanup() {
  // Must be OpenSSL's first initialisation: the flag only counts there (libssl's own
  // initialisation later finds libcrypto initialised and adds no handler of its own).
  OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, nullptr);
}

void disable_core_dumps() {
  struct rlimit none {
    0, 0
  };
  setrlimit(RLIMIT_CORE, &none);
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

}  // namespace byok
