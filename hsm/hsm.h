#pragma once
// The HSM as the controller and byokctl see it: find, list and generate keys, and wrap a key for
// a KMS's import, all inside the HSM. Pkcs11Hsm (pkcs11_hsm.h) is the real one; the reconcilers'
// unit tests use FakeHsm (tests/unit/support/fake_hsm.h), which wraps in software.
//
// Guarantees of every implementation:
//  - wrap_key() never exposes the target key's plaintext to the calling process: the result is
//    the wrapped blob only (RSA-OAEP or RSA-OAEP || AES-KWP, see wrap_spec.h).
//  - Errors carry a kind the caller can act on: NotFound (no such key/token), Unauthenticated
//    (PIN), Unavailable (HSM unreachable; retry), Unsupported (this HSM cannot do it at all;
//    terminal, the message says what), InvalidArgument (bad KEK, bad request; terminal),
//    PermissionDenied (the key is not extractable), FailedPrecondition (e.g. label already used).
//  - All calls are thread-safe.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "hsm/key_types.h"
#include "hsm/wrap_spec.h"

namespace byok::hsm {

// A key on the token, by CKA_LABEL or by CKA_ID (hex).
struct KeyRef {
  enum class By { Label, Id };
  By by = By::Label;
  std::string value;

  static KeyRef label(std::string l) { return KeyRef{By::Label, std::move(l)}; }
  static KeyRef id_hex(std::string id) { return KeyRef{By::Id, std::move(id)}; }
  std::string describe() const {
    return (by == By::Label ? "label \"" : "id ") + value + (by == By::Label ? "\"" : "");
  }
};

struct KeyInfo {
  std::string label;
  std::string id_hex;
  std::optional<KeyType> type;  // nullopt: a key this library has no name for (DES, DSA, ...)
  std::string pkcs11_key_type;  // "AES", "RSA", "EC", "EC_EDWARDS", "CHACHA20", "0x..."
  bool is_private = false;      // CKO_PRIVATE_KEY (else CKO_SECRET_KEY)
  bool sensitive = false;
  bool extractable = false;
  bool wrap_with_trusted = false;  // CKA_WRAP_WITH_TRUSTED: only trusted KEKs may wrap it
};

struct HsmInfo {
  std::string module_path;
  std::string manufacturer;  // of the module (CK_INFO)
  std::string library_description;
  std::string library_version;
  std::string token_label;
  std::string token_manufacturer;
  std::string token_model;
  std::string token_serial;
  std::string firmware_version;
};

struct Capabilities {
  std::vector<KeyType> can_generate;
  bool rsa_oaep = false;                 // CKM_RSA_PKCS_OAEP with CKF_WRAP
  bool aes_key_wrap_pad = false;         // CKM_AES_KEY_WRAP_PAD (RFC 5649)
  bool native_rsa_aes_key_wrap = false;  // CKM_RSA_AES_KEY_WRAP; else composed from the two above
  // The mechanism list cannot tell which OAEP hashes a module accepts; this is learned from the
  // first SHA-256 wrap (nullopt until then).
  std::optional<bool> oaep_sha256;
};

struct GenerateRequest {
  KeyType type = KeyType::Aes256Gcm96;
  std::string label;
  std::string id_hex;  // empty: a random 16-byte id
  // CKA_WRAP_WITH_TRUSTED: the token will wrap the key only under a wrapping key a security
  // officer installed as trusted (install_trusted_kek), whatever the software asks.
  bool wrap_with_trusted = false;
};

class Hsm {
 public:
  virtual ~Hsm() = default;

  virtual Result<HsmInfo> info() = 0;
  virtual Result<Capabilities> capabilities() = 0;
  // Secret and private keys on the token (public keys are not listed).
  virtual Result<std::vector<KeyInfo>> list_keys() = 0;
  // NotFound if no secret/private key matches; FailedPrecondition if more than one does.
  virtual Result<KeyInfo> find_key(const KeyRef& ref) = 0;
  // Creates a token key (CKA_TOKEN, CKA_SENSITIVE, CKA_EXTRACTABLE: extractable only by wrapping).
  // FailedPrecondition if the label is taken; Unsupported if the HSM lacks the mechanism.
  virtual Result<KeyInfo> generate_key(const GenerateRequest& request) = 0;
  // Wraps the target under the KEK (SubjectPublicKeyInfo DER or PEM; RSA >= 2048 bits).
  virtual Result<std::vector<std::uint8_t>> wrap_key(const KeyRef& target, const WrapSpec& spec,
                                                     std::span<const std::uint8_t> kek) = 0;
};

}  // namespace byok::hsm
