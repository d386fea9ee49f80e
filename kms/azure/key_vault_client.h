#pragma once
// Azure Key Vault and Managed HSM keys over the Key Vault REST API (api-version 7.4), with a
// bearer token from Microsoft Entra ID (entra_token_source.h).
//
// Calls (paths relative to the vault URL, or the endpoint override; every one ?api-version=7.4):
//   describe_key           GET    /keys/{name}[/{version}]    (GetKey), and when that is 404
//                          GET    /deletedkeys/{name}         (GetDeletedKey): a soft-deleted key
//   schedule_key_deletion  DELETE /keys/{name}                (DeleteKey: soft delete)
//   cancel_key_deletion    POST   /deletedkeys/{name}/recover (RecoverDeletedKey)
//   who_am_i               the access token's claims (no call to the vault)
//   find_key               GET    /keys/{name}, then GET /deletedkeys/{name}
//   prepare_import         GET    /keys/{name}-kek, and POST /keys/{name}-kek/create when there
//                          is no usable KEK: RSA-HSM, key_ops ["import"], tagged byok.dev/owner
//   import_key             PUT    /keys/{name}                (ImportKey) with key.key_hsm = the
//                          base64url of a .byok file (byok_file.h) whose header.kid is the KEK kid
//
// What Key Vault lacks, and what this client does about it:
// - no state word: key_vault_key_state() makes one from the attributes (enabled, nbf, exp) and
//   whether the key sits in /deletedkeys: Enabled, Disabled, Expired, NotYetValid, Deleted;
//   azure_traits.h's azure_cmk_status() maps it. A purged key is gone: NotFound.
// - no per-key deletion window: DELETE moves the key to /deletedkeys for the vault's soft-delete
//   retention (7-90 days, set on the vault, reported as attributes.recoverableDays), after which
//   it is purged; pending_window_days is ignored. A vault without soft delete (recoveryLevel
//   Purgeable) deletes at once, and the key cannot be recovered.
// - PUT on an existing name adds a version: an import is a new key or a new version by the same
//   call. find_key() is how the caller learns which.
// - no "imported" flag: KeyDescription::imported is true for keys carrying the byok.dev/owner tag
//   (the ones this operator imported).
//
// Guarantees: messages name the call, the key and the cause ("Key Vault GetKey payments:
// KeyNotFound: A key with (name/id) payments was not found in this key vault. (HTTP 404)");
// GETs are retried on throttling and 5xx with jittered exponential backoff; writes are sent
// once, except that a 401 (a revoked or expired token) is answered once with a fresh token;
// TLS is verified by the transport; requests go to the endpoint override when one is set, but
// key identifiers and the token scope always come from the vault URL.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "kms/retry.h"
#include "kms/azure/entra_token_source.h"
#include "kms/azure/key_vault_ids.h"
#include "kms/http_transport.h"
#include "kms/kms_provider.h"
#include "kms/provider_config.h"

namespace byok::kms::azure {

inline constexpr const char* kApiVersion = "7.4";
inline constexpr const char* kOwnerTag = "byok.dev/owner";
// The only wrap Key Vault imports (.byok enc): RSA-OAEP-SHA-1 || AES-KWP.
inline constexpr const char* kWrappingAlgorithm = "CKM_RSA_AES_KEY_WRAP";

struct KeyVaultConfig {
  std::string vault_url;  // spec.azure.vaultUrl, e.g. https://my-vault.vault.azure.net
  std::string endpoint;   // spec.endpoint: where requests go; empty: vault_url
  EntraCredentials credentials;
  RetryPolicy retry;
  int kek_size = 4096;                      // RSA-HSM KEK size: 2048, 3072 or 4096
  std::string generator = "byok-operator";  // the .byok "generator" member
};

// A KeyBundle or DeletedKeyBundle, as much of it as this client reads. Times are attributes'
// unix seconds.
struct KeyVaultKey {
  std::string kid;  // as the server wrote it (its own authority behind an endpoint override)
  std::string name;
  std::string version;
  std::string kty;  // RSA, RSA-HSM, EC, EC-HSM, oct, oct-HSM
  std::string crv;  // P-256, P-384, P-521, P-256K; empty for RSA and oct
  std::vector<std::string> key_ops;
  std::string n, e;  // RSA public key, bytes
  std::string x, y;  // EC public key, bytes
  bool enabled = false;
  std::optional<SystemTime> not_before, expires, created, updated;
  std::string recovery_level;
  int recoverable_days = 0;
  std::map<std::string, std::string> tags;
  bool managed = false;
  // DeletedKeyBundle only.
  bool deleted = false;
  std::string recovery_id;
  std::optional<SystemTime> scheduled_purge_date, deleted_date;
};

// The derived state word (see above), at time `now`.
std::string key_vault_key_state(const KeyVaultKey& key, SystemTime now);

// What an ImportedKey's key type becomes in Key Vault, and the key_ops asked for at import.
struct AzureKeyShape {
  std::string kty;  // RSA-HSM, EC-HSM, oct-HSM
  std::string crv;  // EC only
  std::vector<std::string> key_ops;
};
// Unsupported, saying why, for types Key Vault does not import (ed25519, chacha20-poly1305; AES
// outside a Managed HSM); InvalidArgument for words that are no key type.
Result<AzureKeyShape> azure_key_shape(const std::string& key_type, bool managed_hsm);

// Maps a Key Vault error (error.code) and HTTP status to an ErrorKind.
ErrorKind key_vault_error_kind(const std::string& code, int http_status);

struct CreateKeyRequest {
  std::string kty = "RSA-HSM";
  int key_size = 0;  // RSA; 0: the service default
  std::string crv;   // EC
  std::vector<std::string> key_ops;
  bool enabled = true;
  std::optional<SystemTime> not_before, expires;
  std::map<std::string, std::string> tags;
};

// PATCH body: only the members set are sent.
struct KeyUpdate {
  std::optional<bool> enabled;
  std::optional<SystemTime> not_before, expires;
  std::optional<std::map<std::string, std::string>> tags;
};

class KeyVaultClient final : public KmsProvider {
 public:
  // The transport and clock are borrowed and must outlive the client. InvalidArgument from
  // from_config() covers what the constructor would otherwise have to refuse.
  KeyVaultClient(KeyVaultConfig config, VaultUrl vault, HttpTransport& transport,
                 const Clock& clock, RetryEnvironment env = default_retry_environment());

  // From a KmsProvider: settings vaultUrl (required), endpoint (optional), credentials tenantId,
  // clientId, clientSecret | tokenFile, authorityHost (optional).
  static Result<std::unique_ptr<KeyVaultClient>> from_config(
      const ProviderConfig& config, HttpTransport& transport, const Clock& clock,
      RetryEnvironment env = default_retry_environment());

  const char* provider() const override { return "azure"; }
  Result<KeyDescription> describe_key(const std::string& key_id) override;
  Result<DeletionSchedule> schedule_key_deletion(const std::string& key_id,
                                                 int pending_window_days) override;
  Status cancel_key_deletion(const std::string& key_id) override;
  Result<Accessor> who_am_i() override;

  Result<std::vector<std::string>> wrapping_algorithms(const std::string& key_type) override;
  // GET /keys/{name}: ours when its byok.dev/owner tag is target.owner, AlreadyExists when
  // a key of that name has another owner (or none); a soft-deleted key of that name likewise
  // (ours comes back with state Deleted: recover it rather than import again, since the name
  // cannot be reused until it is purged).
  Status check_target(const ImportTarget&, SystemTime) const override {
    return {};
  }  // none beyond the schema's
  Result<std::optional<KeyDescription>> find_key(const ImportTarget& target) override;
  // Reuses {name}-kek when it is an enabled, unexpired RSA-HSM key whose only key_op is import;
  // creates it (or, when it is our own unusable KEK, a new version of it) otherwise. The
  // WrappingKey's import_token is the KEK kid with its version; key_id is empty: the import
  // call creates the key.
  Result<WrappingKey> prepare_import(const ImportTarget& target,
                                     const std::string& existing_key_id) override;
  // PUT /keys/{name}; First and NewVersion are the same call (NewVersion only for
  // allow_rotation targets).
  Result<ImportResult> import_key(const ImportTarget& target, const WrappingKey& wrapping,
                                  const std::string& wrapped, ImportKind kind) override;

  // Key Vault calls by name.
  Result<KeyVaultKey> get_key(const std::string& name, const std::string& version = "");
  Result<KeyVaultKey> get_deleted_key(const std::string& name);
  Result<KeyVaultKey> create_key(const std::string& name, const CreateKeyRequest& request);
  Result<KeyVaultKey> update_key(const std::string& name, const std::string& version,
                                 const KeyUpdate& update);
  Result<KeyVaultKey> delete_key(const std::string& name);
  Result<KeyVaultKey> recover_deleted_key(const std::string& name);

  const VaultUrl& vault() const { return vault_; }
  const std::string& endpoint() const { return endpoint_; }
  const EntraTokenSource& token_source() const { return tokens_; }

 private:
  Result<std::string> call(const std::string& what, const std::string& method,
                           const std::string& path, const std::string& body, bool idempotent);
  Result<KeyVaultKey> key_call(const std::string& what, const std::string& method,
                               const std::string& path, const std::string& body, bool idempotent);
  KeyDescription describe(const KeyVaultKey& key);

  KeyVaultConfig config_;
  VaultUrl vault_;
  HttpTransport& transport_;
  const Clock& clock_;
  RetryEnvironment env_;
  EntraTokenSource tokens_;
  std::string endpoint_;
};

}  // namespace byok::kms::azure
