#include "common/process_init.h"

#include <openssl/crypto.h>

namespace byok {

void skip_openssl_atexit_cleanup() {
  // Must be OpenSSL's first initialisation: the flag only counts there (libssl's own
  // initialisation later finds libcrypto initialised and adds no handler of its own).
  OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, nullptr);
}

}  // namespace byok
