#include "hsm/openssl_key.h"

#include <openssl/decoder.h>

namespace byok::hsm {

PkeyPtr decode_pkey(std::span<const std::uint8_t> data, int selection) {
  EVP_PKEY* raw = nullptr;
  OSSL_DECODER_CTX* ctx =
      OSSL_DECODER_CTX_new_for_pkey(&raw, nullptr, nullptr, nullptr, selection, nullptr, nullptr);
  if (ctx == nullptr) return nullptr;
  const unsigned char* p = data.data();
  std::size_t len = data.size();
  OSSL_DECODER_from_data(ctx, &p, &len);
  OSSL_DECODER_CTX_free(ctx);
  return PkeyPtr(raw);
}

}  // namespace byok::hsm
