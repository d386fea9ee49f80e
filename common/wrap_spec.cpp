#include "common/wrap_spec.h"

namespace byok {

std::string_view oaep_hash_name(OaepHash hash) {
  return hash == OaepHash::Sha1 ? "SHA-1" : "SHA-256";
}

std::string describe(const WrapSpec& spec) {
  std::string out = spec.method == WrapMethod::RsaOaep ? "RSA-OAEP" : "RSA-AES-KEY-WRAP";
  out += "(OAEP ";
  out += oaep_hash_name(spec.hash);
  if (spec.kek_bits != 0) out += ", KEK " + std::to_string(spec.kek_bits) + " bits";
  out += ")";
  return out;
}

}  // namespace byok
