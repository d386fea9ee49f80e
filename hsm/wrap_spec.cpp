#include "hsm/wrap_spec.h"

namespace byok::hsm {

Status check_wrap_target(const WrapSpec& spec, KeyType target) {
  if (spec.method == WrapMethod::RsaOaep && !is_symmetric(target)) {
    return make_error(ErrorKind::InvalidArgument,
                      "direct RSA-OAEP can only carry symmetric keys, not " +
                          std::string(key_type_name(target)) +
                          "; use the RSA-AES key wrap (CKM_RSA_AES_KEY_WRAP) for private keys");
  }
  return {};
}

}  // namespace byok::hsm
