#pragma once
// OCI Vault through the Key Management API (version 20180608) on the vault's management
// endpoint, every request signed with the user's API key (kms/oci/oci_signer.h).
//
// Calls used, as the API reference names them:
//   GetKey              GET  /20180608/keys/{keyId}
//   GetKeyVersion       GET  /20180608/keys/{keyId}/keyVersions/{keyVersionId}
//   ListKeys            GET  /20180608/keys?compartmentId=...&limit=...&page=...
//   GetWrappingKey      GET  /20180608/wrappingKeys
//   ImportKey           POST /20180608/keys/import
//   ImportKeyVersion    POST /20180608/keys/{keyId}/keyVersions/import
//   ScheduleKeyDeletion POST /20180608/keys/{keyId}/actions/scheduleDeletion {timeOfDeletion}
//   CancelKeyDeletion   POST /20180608/keys/{keyId}/actions/cancelDeletion
//
// Guarantees:
// - error messages name the call and OCI's answer, with the opc-request-id Oracle support asks
//   for: "OCI GetKey: NotAuthorizedOrNotFound: <OCI's message> (HTTP 404, opc-request-id X)";
//   every request carries an opc-request-id of ours, so one is named even when no answer came;
// - reads (GetKey, GetKeyVersion, ListKeys, GetWrappingKey) are retried a few times with jittered
//   exponential backoff on throttling and 5xx; writes are sent once;
// - who_am_i makes no call: the principal to grant is the user OCID and the account the tenancy
//   OCID, both from the credentials (the signature proves them on every other call).
//
// Assumes: key ids are OCIDs (letters, digits, '.', '-', '_'); anything else is refused before
// any request, so an id can never change the request's path.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "kms/retry.h"
#include "kms/http_transport.h"
#include "kms/kms_provider.h"
#include "kms/oci/oci_signer.h"
#include "kms/provider_config.h"

namespace byok::kms::oci {

struct OciKmsConfig {
  // The vault's management endpoint, e.g. https://xxx-management.kms.us-ashburn-1.oraclecloud.com
  std::string management_endpoint;
  // Where ImportKey creates keys and ListKeys looks; needed by find_key and import only.
  std::string compartment_id;
  std::string tenancy;  // tenancy OCID (who_am_i's account)
  std::string user;     // user OCID (who_am_i's principal)
  RetryPolicy retry;
};

// What an ImportedKey's key type becomes in OCI: KeyShape {algorithm, length in bytes} and the
// wrapping algorithms that can carry it, best first. Unsupported, with the reason, for types OCI
// Vault does not import (ChaCha20, Ed25519, and ECDSA: "ECDSA based asymmetric keys can't be
// imported", Importing Vault Keys and Key Versions).
struct OciKeyShape {
  std::string algorithm;  // AES | RSA
  int length = 0;         // bytes: AES 16/24/32, RSA 256/384/512
  std::vector<std::string> wrapping_algorithms;
};
Result<OciKeyShape> oci_key_shape(const std::string& key_type);

// A Key as GetKey returns it, with what KeyDescription has no room for.
struct OciKey {
  KeyDescription description;  // key_spec: keyShape.algorithm; version: currentKeyVersion
  std::string compartment_id;
  std::string vault_id;
  std::string protection_mode;  // HSM | SOFTWARE | EXTERNAL
  int length = 0;               // keyShape.length
  std::map<std::string, std::string> freeform_tags;
};

struct OciKeySummary {
  std::string id;
  std::string display_name;
  std::string lifecycle_state;
  std::optional<SystemTime> created;
};

struct OciKeyVersion {
  std::string id;
  std::string key_id;
  std::string lifecycle_state;
  std::string origin;  // INTERNAL | EXTERNAL (imported)
};

class OciKmsClient final : public KmsProvider {
 public:
  // The transport and clock are borrowed and must outlive the client.
  OciKmsClient(OciKmsConfig config, RequestSigner signer, HttpTransport& transport,
               const Clock& clock, RetryEnvironment env = default_retry_environment());

  // From a KmsProvider: spec.oci.managementEndpoint (or spec.endpoint), spec.oci.compartmentId;
  // credentials tenancy, user, fingerprint, privateKey (PEM) and passphrase (optional).
  // InvalidArgument naming the missing or unreadable field.
  static Result<std::unique_ptr<OciKmsClient>> from_config(
      const ProviderConfig& config, HttpTransport& transport, const Clock& clock,
      RetryEnvironment env = default_retry_environment());

  const char* provider() const override { return "oci"; }

  // GetKey, then GetKeyVersion of currentKeyVersion for its origin (imported = EXTERNAL).
  Result<KeyDescription> describe_key(const std::string& key_id) override;
  // timeOfDeletion = now + pending_window_days (7..30), kept inside OCI's 7..30-day window.
  Result<DeletionSchedule> schedule_key_deletion(const std::string& key_id,
                                                 int pending_window_days) override;
  Status cancel_key_deletion(const std::string& key_id) override;
  Result<Accessor> who_am_i() override;

  Result<std::vector<std::string>> wrapping_algorithms(const std::string& key_type) override;
  // ListKeys in the compartment, keys whose displayName is target.name and that are not
  // DELETING or DELETED; GetKey of each; the one whose freeform tag byok.dev/owner is
  // target.owner (the oldest, should there be several).
  Status check_target(const ImportTarget&, SystemTime) const override {
    return {};
  }  // none beyond the schema's
  Result<std::optional<KeyDescription>> find_key(const ImportTarget& target) override;
  // GetWrappingKey; the returned key_id is `existing_key_id` (ImportKey itself creates keys) and
  // import_token the wrapping key's OCID.
  Result<WrappingKey> prepare_import(const ImportTarget& target,
                                     const std::string& existing_key_id) override;
  // First: ImportKey {compartmentId, displayName = target.name, keyShape, protectionMode HSM,
  // wrappedImportKey, freeformTags {byok.dev/owner}}. NewVersion: ImportKeyVersion on
  // wrapping.key_id. target.description, allow_rotation and valid_to have no OCI counterpart.
  Result<ImportResult> import_key(const ImportTarget& target, const WrappingKey& wrapping,
                                  const std::string& wrapped, ImportKind kind) override;

  // OCI-only calls.
  Result<OciKey> get_key(const std::string& key_id);
  Result<OciKeyVersion> get_key_version(const std::string& key_id, const std::string& version_id);
  // Every key of the compartment (all pages).
  Result<std::vector<OciKeySummary>> list_keys();
  // The vault's RSA wrapping key: {id, public key as SubjectPublicKeyInfo DER}.
  Result<std::pair<std::string, std::string>> get_wrapping_key();

  const std::string& management_endpoint() const { return config_.management_endpoint; }

 private:
  Result<HttpResponse> call(const std::string& op, const std::string& method,
                            const std::string& path_and_query, const std::string& body,
                            bool idempotent);
  // The key's description with origin and imported taken from its current version
  // (GetKeyVersion).
  Result<KeyDescription> with_origin(OciKey key);

  OciKmsConfig config_;
  RequestSigner signer_;
  HttpTransport& transport_;
  const Clock& clock_;
  RetryEnvironment env_;
};

// OCI's error code (the body's "code") and HTTP status -> ErrorKind.
ErrorKind oci_error_kind(const std::string& code, int http_status);

}  // namespace byok::kms::oci
