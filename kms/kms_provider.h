#pragma once
// The narrow interface every KMS client implements. It speaks in provider-neutral terms; each
// provider keeps its own words (state, key spec, wrapping algorithm) verbatim in the string
// fields, because users compare them with the provider's console and documentation.
//
// Guarantees of every implementation:
// - no exception crosses this interface: failures come back as byok::Error, whose kind decides
//   what the caller does next and whose message names the call and the cause;
// - reads (describe_key, who_am_i) may be retried a few times inside the client on throttling and
//   5xx; writes (import, create, deletion) are never retried blindly: the caller looks first.

#include <optional>
#include <string>

#include "common/clock.h"
#include "common/result.h"

namespace byok::kms {

// The CMK registry's status words (as Aiven's registry uses them).
enum class CmkStatus {
  Current,  // usable for cryptographic operations now
  Old,      // not usable now but recoverable (disabled, not yet created or imported, unreachable)
  Deleted,  // pending deletion, destroyed, or gone
};
const char* to_string(CmkStatus status);

struct KeyDescription {
  std::string key_id;     // the provider's short id (AWS: the key's UUID)
  std::string resource;   // the full resource name (AWS: the key ARN)
  std::string state;      // the provider's own state word, verbatim (AWS: KeyState)
  std::optional<CmkStatus> status;  // state mapped by key_state.h; empty for an unknown word
  std::string key_spec;   // provider's word (AWS: KeySpec, e.g. SYMMETRIC_DEFAULT)
  std::string key_usage;  // provider's word (AWS: KeyUsage, e.g. ENCRYPT_DECRYPT)
  std::string origin;     // where the material comes from (AWS: AWS_KMS | EXTERNAL | ...)
  bool enabled = false;
  std::optional<SystemTime> created;
  std::optional<SystemTime> deletion_date;     // set while deletion is pending
  std::optional<SystemTime> material_expires;  // imported material that expires
};

// Which wrapping key to fetch. The words are the provider's (AWS: WrappingAlgorithm
// RSAES_OAEP_SHA_256 ..., WrappingKeySpec RSA_2048 ...).
struct WrappingKeyRequest {
  std::string key_id;
  std::string algorithm;
  std::string key_spec;
};

struct WrappingKey {
  std::string key_id;
  std::string public_key_der;  // SubjectPublicKeyInfo, DER bytes
  std::string algorithm;       // the wrapping algorithm it must be used with
  std::string import_token;    // opaque bytes tying an import to this key (AWS: ImportToken)
  std::optional<SystemTime> expires;
};

struct ImportRequest {
  std::string key_id;
  std::string import_token;       // from WrappingKey, verbatim
  std::string wrapped_material;   // bytes, wrapped under WrappingKey's public key
  std::optional<SystemTime> valid_to;  // empty: the material does not expire
};

struct ImportResult {
  std::string key_id;
  std::string material_id;  // empty where the provider does not name material versions
};

struct DeletionSchedule {
  std::string key_id;
  std::string state;  // the provider's state word after the call
  std::optional<SystemTime> deletion_date;
};

// The principal the user must grant access to the key.
struct Accessor {
  std::string principal;  // AWS: the caller ARN
  std::string account;    // AWS: the account id
  std::string id;         // AWS: UserId
};

class KmsProvider {
 public:
  virtual ~KmsProvider() = default;

  // Short provider name as the CRDs spell it: "aws", "azure", "gcp", "oci", "transit".
  virtual const char* provider() const = 0;

  virtual Result<KeyDescription> describe_key(const std::string& key_id) = 0;
  virtual Result<WrappingKey> get_wrapping_key(const WrappingKeyRequest& request) = 0;
  virtual Result<ImportResult> import_key_material(const ImportRequest& request) = 0;
  // pending_window_days: 7..30 where the provider has a window; ignored where it has none.
  virtual Result<DeletionSchedule> schedule_key_deletion(const std::string& key_id,
                                                         int pending_window_days) = 0;
  virtual Status cancel_key_deletion(const std::string& key_id) = 0;
  virtual Result<Accessor> who_am_i() = 0;
};

}  // namespace byok::kms
