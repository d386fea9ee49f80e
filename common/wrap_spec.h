#pragma once
// What a wrap must produce: the one vocabulary kms/ (each provider's words for its wrapping
// algorithms) and hsm/ (the PKCS#11 mechanics that make the wrap) share without knowing each
// other.
//
//  RsaOaep:        RSA-OAEP(KEK, target)                                 symmetric targets only
//  RsaAesKeyWrap:  RSA-OAEP(KEK, ephemeral AES-256) || AES-KWP(eph, target) (CKM_RSA_AES_KEY_WRAP)
// In both, the OAEP hash and the MGF1 hash are the same (SHA-1 or SHA-256) and the label is empty.
// Targets are encoded as raw key bytes (symmetric) or PKCS#8 DER (private keys).

#include <string>
#include <string_view>

namespace byok {

enum class WrapMethod { RsaOaep, RsaAesKeyWrap };
enum class OaepHash { Sha1, Sha256 };

struct WrapSpec {
  WrapMethod method = WrapMethod::RsaAesKeyWrap;
  OaepHash hash = OaepHash::Sha1;
  // If non-zero, the KEK must have exactly this many bits (Google's import methods name the size).
  unsigned kek_bits = 0;

  bool operator==(const WrapSpec&) const = default;
};

std::string describe(const WrapSpec& spec);      // "RSA-AES-KEY-WRAP(OAEP SHA-1)"
std::string_view oaep_hash_name(OaepHash hash);  // "SHA-1" / "SHA-256"

}  // namespace byok
