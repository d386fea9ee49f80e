#pragma once
// The Azure Key Vault key transfer blob (".byok" file) of Microsoft's "Bring your own key
// specification": a JSON object
//   {"schema_version":"1.0.0",
//    "header":{"kid":"<KEK key identifier, with
//    version>","alg":"dir","enc":"CKM_RSA_AES_KEY_WRAP"}, "ciphertext":"<base64url of the wrap>",
//    "generator":"<BYOK tool name and version; source HSM name and firmware version>"}
// where the wrap is CKM_RSA_AES_KEY_WRAP under the KEK: RSA-OAEP (SHA-1, MGF1-SHA-1, empty label)
// of an ephemeral AES key, then AES key wrap with padding (RFC 5649) of the target key (PKCS#8
// DER for RSA and EC private keys, raw bytes for oct keys).
//
// One builder for the operator (kms/azure/key_vault_client.cpp, which sends the blob as the
// import call's key_hsm) and for the offline ceremony tool. Depends on nothing but the standard
// library, nlohmann/json and common/base64.h.

#include <string>
#include <string_view>

#include "common/result.h"

namespace byok::kms::azure {

inline constexpr const char* kByokSchemaVersion = "1.0.0";
inline constexpr const char* kByokEncryption = "CKM_RSA_AES_KEY_WRAP";

// The .byok JSON text (members in the order above, two-space indented, ending in a newline).
// `wrapped` is the raw wrap bytes.
std::string make_byok_file(std::string_view kek_kid, std::string_view wrapped,
                           std::string_view generator);

// A .byok file read back: the KEK it names and the raw wrap bytes.
struct ByokFile {
  std::string kek_kid;
  std::string wrapped;
};

// True when `bytes` is JSON text (a .byok file) rather than raw wrap bytes: raw RSA-AES wraps
// start with an RSA-OAEP block, never with '{' followed by JSON.
bool looks_like_byok_file(std::string_view bytes);

// InvalidArgument naming what is wrong when `text` is not a .byok file of this specification
// (schema_version 1.0.0, enc CKM_RSA_AES_KEY_WRAP, a kid and a ciphertext).
Result<ByokFile> parse_byok_file(std::string_view text);

}  // namespace byok::kms::azure
