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
#include <vector>

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
  std::string key_id;    // the provider's short id (AWS: the key's UUID)
  std::string resource;  // the full resource name (AWS: the key ARN)
  std::string name;      // the human name where there is one (alias, key name, displayName)
  std::string version;   // the current/primary version (Google primary, Azure kid version,
                         // OCI currentKeyVersion, transit latest_version); empty if none
  std::string state;     // the provider's own state word, verbatim (AWS: KeyState)
  // state mapped by the provider's traits (kms/<provider>/<provider>_traits.h); empty for an
  // unknown word
  std::optional<CmkStatus> status;
  std::string key_spec;   // provider's word (AWS: KeySpec, e.g. SYMMETRIC_DEFAULT)
  std::string key_usage;  // provider's word (AWS: KeyUsage, e.g. ENCRYPT_DECRYPT)
  std::string origin;     // where the material comes from (AWS: AWS_KMS | EXTERNAL | ...)
  bool enabled = false;
  bool imported = false;  // the material came from outside the provider
  // The key holds material, rather than being a container awaiting its import (AWS
  // PendingImport; a Google CryptoKey without a version, or whose version is PENDING_IMPORT or
  // IMPORT_FAILED). Set by the client, which alone knows its state words.
  bool holds_material = false;
  std::optional<SystemTime> created;
  std::optional<SystemTime> deletion_date;     // set while deletion is pending
  std::optional<SystemTime> material_expires;  // imported material that expires
};

// What an ImportedKey asks of the KMS. Provider-neutral; each client maps it onto its own calls.
struct ImportTarget {
  // The key's name in the KMS: AWS alias (alias/<name>), Google CryptoKey id, Azure key name,
  // OCI displayName, transit/thalassa key name. Stable across restarts: find_key() looks it up.
  std::string name;
  // The CRD's key type word: aes128-gcm96, aes256-gcm96, chacha20-poly1305, rsa-2048/3072/4096,
  // ecdsa-p256/p384/p521, ed25519.
  std::string key_type;
  std::string description;
  bool allow_rotation = false;
  // A stable mark of the owning object (the ImportedKey's UID). Written as a tag or label where
  // the provider has them (AWS tag, Google label, OCI freeform tag, Azure tag) so a controller
  // that crashed between "create" and "record in status" finds the key again instead of making
  // a second one. Tag key: "byok.dev/owner" (Google labels: "byok-dev-owner").
  std::string owner;
  std::optional<SystemTime> valid_to;  // imported material that expires (AWS); else ignored
  // The provider's word for the wrapping algorithm, one of wrapping_algorithms(key_type).
  std::string wrapping_algorithm;
  // An earlier attempt may have created the key and died before it was named (the caller's
  // record says a create began). Only then does find_key() of a provider that names a key after
  // creating it (AWS: CreateKey, then CreateAlias) search the account by owner mark, which costs
  // a request per key in the account; otherwise the name alone answers.
  bool unnamed_key_possible = true;
};

// The public half the material must be wrapped under, and what ties an import to it.
struct WrappingKey {
  // The key the material goes into when the provider creates it before the import (AWS
  // EXTERNAL key, Google CryptoKey); empty where the import call itself creates the key.
  std::string key_id;
  std::string public_key_der;  // SubjectPublicKeyInfo, DER bytes
  std::string algorithm;       // the provider's word for the wrap it expects
  // Opaque, verbatim: AWS ImportToken, Google ImportJob name, Azure KEK kid (with version).
  std::string import_token;
  std::optional<SystemTime> expires;
  // The KMS proved, with a statement signed in its HSM and chained to the roots the operator is
  // configured with, that this key lives in an HSM (Google Cloud ImportJob attestations). Where
  // not, `attestation_problem` says why (none offered, no roots configured, a failed check).
  bool attested = false;
  std::string attestation_problem = "this KMS offers no attestation of its wrapping key";
};

enum class ImportKind {
  First,       // the key's first material
  NewVersion,  // rotation: new material as a new version (allowRotation keys only)
};

struct ImportResult {
  std::string key_id;    // the provider's id for the key (AWS key id, Google CryptoKey name, ...)
  std::string resource;  // the full resource name (AWS ARN, Azure kid without version, ...)
  std::string version;   // the new material's version (AWS KeyMaterialId, Google version name,
                         // Azure kid version, OCI keyVersionId, transit version number)
};

struct DeletionSchedule {
  std::string key_id;
  std::string state;  // the provider's state word after the call
  std::optional<SystemTime> deletion_date;
};

// The principal the user must grant access to the key.
struct Accessor {
  std::string principal;  // AWS caller ARN, Google service-account email, Azure client (app) id,
                          // OCI user OCID, transit token accessor / display name
  std::string account;    // AWS account id, Google project, Azure tenant id, OCI tenancy OCID
  std::string id;         // AWS UserId, Azure object id; empty where the provider has none
};

class KmsProvider {
 public:
  virtual ~KmsProvider() = default;

  // Short provider name as the CRDs spell it: "aws", "azure", "gcp", "oci", "transit", "thalassa".
  virtual const char* provider() const = 0;

  // --- what a CustomerManagedKey needs -------------------------------------------------------
  // `key_id` is what the user wrote in spec.resource (ARN, Google resource name, Azure key id,
  // OCI OCID, transit key name). NotFound when the KMS says there is no such key.
  virtual Result<KeyDescription> describe_key(const std::string& key_id) = 0;
  // pending_window_days: 7..30 where the provider has a window; ignored where it has none.
  virtual Result<DeletionSchedule> schedule_key_deletion(const std::string& key_id,
                                                         int pending_window_days) = 0;
  virtual Status cancel_key_deletion(const std::string& key_id) = 0;
  virtual Result<Accessor> who_am_i() = 0;

  // --- what an ImportedKey needs --------------------------------------------------------------
  // The provider's wrapping algorithms that can carry this key type, best first. No I/O.
  // Unsupported (message says why, e.g. "Azure Key Vault does not import chacha20-poly1305
  // keys") when the provider cannot import the type at all.
  virtual Result<std::vector<std::string>> wrapping_algorithms(const std::string& key_type) = 0;
  // The provider's own rules for importing `target` that its API would refuse, checked with no
  // I/O before anything is created or exported, so a refusal leaves nothing behind (AWS: alias
  // names, ValidTo within 365 days, new material for symmetric keys only). InvalidArgument in the
  // operator's words, naming the spec field and the fix (never the KMS's answer, so a tenant may
  // read it whoever's credentials the provider holds).
  virtual Status check_target(const ImportTarget& target, SystemTime now) const = 0;
  // The key an earlier import (or a crashed attempt) made for this target, by name and owner
  // mark; nullopt when there is none. Never creates anything.
  virtual Result<std::optional<KeyDescription>> find_key(const ImportTarget& target) = 0;
  // Everything up to the wrap: creates the key container where the provider needs one
  // (`existing_key_id` empty) and fetches the wrapping key for target.wrapping_algorithm.
  virtual Result<WrappingKey> prepare_import(const ImportTarget& target,
                                             const std::string& existing_key_id) = 0;
  // Imports `wrapped` (the raw wrap bytes: RSA-OAEP, or RSA-OAEP || AES-KWP) made under
  // `wrapping`. Sent once, never retried inside the client.
  virtual Result<ImportResult> import_key(const ImportTarget& target, const WrappingKey& wrapping,
                                          const std::string& wrapped, ImportKind kind) = 0;
};

}  // namespace byok::kms
