#pragma once
// The transit secrets engine of HashiCorp Vault and OpenBao (the same HTTP API: OpenBao is a fork
// of Vault), with token authentication.
//
// Calls (paths relative to <endpoint>/v1/, <mount> = settings mountPath, default "transit"):
//   describe_key           GET  <mount>/keys/<name>
//   who_am_i               GET  auth/token/lookup-self
//   prepare_import         GET  <mount>/wrapping_key                  -> {"data":{"public_key":
//   PEM}} import_key (First)     POST <mount>/keys/<name>/import            {ciphertext,
//   hash_function,
//                                                                      type, allow_rotation,
//                                                                      exportable: false}
//   import_key (NewVersion)POST <mount>/keys/<name>/import_version    {ciphertext, hash_function}
//   schedule_key_deletion  POST <mount>/keys/<name>/config {deletion_allowed: true}, then
//                          DELETE <mount>/keys/<name>
// Headers: X-Vault-Token (credentials key `token`), X-Vault-Namespace when settings `namespace`
// is set (Vault Enterprise / OpenBao namespaces).
//
// What transit lacks, and what this client does about it:
// - no key state: the state word is made up here from the key's fields (transit_key_state());
//   transit_traits.h's transit_cmk_status() maps it;
// - no deletion window: deletion is immediate and final, so schedule_key_deletion deletes at once
//   (pending_window_days is ignored) and cancel_key_deletion is Unsupported;
// - no tags or descriptions: an import cannot carry the owner mark. find_key() takes a key of the
//   target's name as ours when it is imported, of the target's type and rotation setting, and
//   refuses (AlreadyExists) any other key of that name. The import call creates the key and
//   its material in one step, so an attempt that died after it leaves a complete key, and one
//   that died before leaves nothing: a key found for a target is either that earlier attempt's
//   or a foreign imported key nobody can tell apart from it (see kms/README.md);
// - import_version is accepted by the server for any imported key, allow_rotation or not
//   (allow_rotation only governs the engine's own `rotate`): this client refuses NewVersion
//   itself unless the key was imported with allow_rotation, as the ImportedKey API promises.
//
// The wrap is the common RSA-AES wrap under transit's RSA-4096 wrapping key: a 512-byte
// RSA-OAEP block (MGF1 with the same hash, empty label) holding a 256-bit AES key, then AES-KWP
// (RFC 5649) of the material (raw bytes for symmetric keys, PKCS#8 DER for private keys). The
// wrapping algorithm words are transit's hash_function values: "SHA256" or "SHA1".
//
// Guarantees: messages name the call and the cause ("transit GET transit/keys/k: permission
// denied (HTTP 403)"); GETs are retried on throttling and 5xx with jittered exponential backoff;
// POST and DELETE are sent once.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "kms/retry.h"
#include "kms/http_transport.h"
#include "kms/kms_provider.h"
#include "kms/provider_config.h"

namespace byok::kms::transit {

struct TransitConfig {
  std::string endpoint;  // the Vault/OpenBao address, e.g. https://vault:8200
  std::string mount_path = "transit";
  std::string vault_namespace;  // empty: the root namespace
  std::string token;
  RetryPolicy retry;
};

// The fields of a key read (GET <mount>/keys/<name>) this client uses.
struct TransitKey {
  std::string name;
  std::string type;             // aes256-gcm96, rsa-2048, ...
  bool imported = false;        // imported_key
  bool allow_rotation = false;  // imported_key_allow_rotation
  bool deletion_allowed = false;
  bool exportable = false;
  long long latest_version = 0;
  long long min_decryption_version = 0;
  long long min_encryption_version = 0;
  std::vector<std::string> supports;  // "encryption", "decryption", "signing", "derivation"
  std::optional<SystemTime> created;  // the oldest version's creation time
};

// The state word this client reports for a transit key (transit has none of its own):
//   "deletion_allowed"  the key's config allows DELETE (set by schedule_key_deletion, which then
//                       deletes; seen only when the DELETE did not follow, or an operator set it)
//   "enabled"           any other existing key: transit keys are always usable
// and "deleted" for a key schedule_key_deletion has just removed.
std::string transit_key_state(const TransitKey& key);

// Type words transit's import accepts that the ImportedKey API can ask for (the same words);
// Unsupported/InvalidArgument otherwise.
Status check_transit_key_type(const std::string& key_type);

class TransitClient final : public KmsProvider {
 public:
  // The transport and clock are borrowed and must outlive the client.
  TransitClient(TransitConfig config, HttpTransport& transport, const Clock& clock,
                RetryEnvironment env = default_retry_environment());

  const char* provider() const override { return "transit"; }
  // `key_id` is the key's name in the mount.
  Result<KeyDescription> describe_key(const std::string& key_id) override;
  // Immediate: allows deletion in the key's config, then deletes it. The schedule reports state
  // "deleted" and deletion_date = now.
  Result<DeletionSchedule> schedule_key_deletion(const std::string& key_id,
                                                 int pending_window_days) override;
  // Always Unsupported: transit deletes at once, there is nothing pending to cancel.
  Status cancel_key_deletion(const std::string& key_id) override;
  // principal: the token's display_name (its accessor when it has none); id: the accessor;
  // account: the namespace.
  Result<Accessor> who_am_i() override;

  // {"SHA256", "SHA1"} for every type the ImportedKey API has.
  Result<std::vector<std::string>> wrapping_algorithms(const std::string& key_type) override;
  Status check_target(const ImportTarget&, SystemTime) const override {
    return {};
  }  // none beyond the schema's
  Result<std::optional<KeyDescription>> find_key(const ImportTarget& target) override;
  // Fetches the wrapping key (RSA-4096); nothing is created before the import in transit.
  // WrappingKey.key_id is existing_key_id (empty for a first import).
  Result<WrappingKey> prepare_import(const ImportTarget& target,
                                     const std::string& existing_key_id) override;
  Result<ImportResult> import_key(const ImportTarget& target, const WrappingKey& wrapping,
                                  const std::string& wrapped, ImportKind kind) override;

  // Builds a client from a KmsProvider: endpoint (required), settings mountPath (default
  // "transit") and namespace, credentials token.
  static Result<std::unique_ptr<TransitClient>> from_config(
      const ProviderConfig& config, HttpTransport& transport, const Clock& clock,
      RetryEnvironment env = default_retry_environment());

  // Transit-only calls.
  Result<TransitKey> read_key(const std::string& name);
  // The wrapping key's PEM as the server sent it.
  Result<std::string> wrapping_key_pem();
  Status delete_key(const std::string& name);  // config deletion_allowed, then DELETE

  const std::string& mount_path() const { return config_.mount_path; }

 private:
  Result<std::string> call(const std::string& method, const std::string& path,
                           const std::string& body);
  std::string resource_of(const std::string& name) const;
  KeyDescription describe(const TransitKey& key) const;

  TransitConfig config_;
  HttpTransport& transport_;
  const Clock& clock_;
  RetryEnvironment env_;
};

}  // namespace byok::kms::transit
