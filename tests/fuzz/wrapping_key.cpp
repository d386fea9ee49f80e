// A KMS's wrapping public key, DER or PEM, as the HSM side accepts it before wrapping anything.
#include <span>

#include "hsm/kek.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto kek = byok::hsm::parse_kek(std::span<const std::uint8_t>(data, size));
  // What is accepted is what the header promises: RSA of an accepted size with e = 65537.
  if (kek && (kek->public_exponent != std::vector<std::uint8_t>{0x01, 0x00, 0x01} ||
              !byok::hsm::is_kek_size(static_cast<unsigned>(kek->modulus.size() * 8))))
    __builtin_trap();
  return 0;
}
