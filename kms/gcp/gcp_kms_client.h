#pragma once
// Google Cloud KMS over its REST API v1 (https://cloudkms.googleapis.com/v1/...), authenticated
// with a service account's OAuth2 bearer token (token_source.h).
//
// Guarantees:
// - every error message names the call by Google's RPC name ("GCP GetCryptoKey",
//   "GCP ImportCryptoKeyVersion") and the cause (Google's status word and message, the OAuth2
//   error, or the transport's reason); google.rpc codes map to ErrorKind (gcp_errors.h);
// - reads (Get*, List*, the token grant) are retried a few times with jittered exponential
//   backoff on throttling and 5xx; every write (CreateCryptoKey, CreateImportJob,
//   ImportCryptoKeyVersion, Destroy/Restore, UpdateCryptoKeyPrimaryVersion) is sent once. A 401
//   answer drops the cached token and the call is sent once more with a new one (a refused
//   request did nothing);
// - background work (an ImportJob's key generation, a version's import) is polled a bounded
//   number of times with the injected sleep;
// - the endpoint is https://cloudkms.googleapis.com unless overridden (ProviderConfig.endpoint);
//   an override is taken as given.
//
// How the KmsProvider operations map onto Cloud KMS:
// - A CMK's spec.resource is a CryptoKey name (projects/*/locations/*/keyRings/*/cryptoKeys/*).
//   Its state is the state of its current version: the CryptoKey's `primary` (ENCRYPT_DECRYPT
//   keys), or else the version with the highest id (other purposes have no primary, and an
//   import-only key has none until one is set). A key with no version at all holds no material:
//   state "" and status old.
// - schedule_key_deletion destroys (cryptoKeyVersions.destroy) every ENABLED or DISABLED version,
//   so no material of the key stays usable. Cloud KMS has no per-call window: versions stay
//   DESTROY_SCHEDULED for the CryptoKey's destroyScheduledDuration (fixed when the key was created;
//   30 days by default) and the day count passed in is ignored. A CryptoKey itself can never be
//   deleted in Cloud KMS.
// - cancel_key_deletion restores (cryptoKeyVersions.restore) every DESTROY_SCHEDULED version;
//   Cloud KMS puts a restored version in DISABLED (status old), as AWS leaves a key Disabled.
// - Imports: prepare_import creates the CryptoKey (cryptoKeyId = target.name, importOnly, no
//   initial version, versionTemplate {algorithm, protectionLevel}, label byok-dev-owner) unless it
//   exists, then an ImportJob (importMethod = target.wrapping_algorithm, the key's protection
//   level) and waits until it is ACTIVE: the WrappingKey is its publicKey (SPKI DER),
//   import_token the ImportJob's name. import_key sends cryptoKeyVersions.import {algorithm,
//   importJob, wrappedKey} (the raw wrap, base64), waits until the new version leaves
//   PENDING_IMPORT, and, for ENCRYPT_DECRYPT keys, makes it the primary
//   (cryptoKeys.updatePrimaryVersion): Cloud KMS encrypts with the primary only, and a rotation
//   that left the old primary in place would not rotate anything. Other purposes have no primary:
//   callers name the version.
// - The protection level of new keys and ImportJobs is HSM (GcpKmsConfig::protection_level):
//   material that comes from an HSM stays in one. An ImportJob must match its key's level.

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "kms/retry.h"
#include "kms/gcp/attestation.h"
#include "kms/gcp/gcp_import.h"
#include "kms/gcp/service_account.h"
#include "kms/gcp/token_source.h"
#include "kms/http_transport.h"
#include "kms/kms_provider.h"
#include "kms/provider_config.h"

namespace byok::kms::gcp {

inline constexpr const char* kDefaultEndpoint = "https://cloudkms.googleapis.com";

// How long to wait for what Google does in the background (an ImportJob's key generation, a
// version's import): polls `interval` apart, at most `max_polls` of them.
struct PollPolicy {
  int max_polls = 60;
  std::chrono::milliseconds interval{1000};
};

struct GcpKmsConfig {
  std::string project;   // spec.gcp.project
  std::string location;  // spec.gcp.location
  std::string key_ring;  // spec.gcp.keyRing
  std::string endpoint;  // empty: kDefaultEndpoint
  ServiceAccountKey key;
  std::string protection_level = "HSM";  // for the keys and ImportJobs this client creates
  std::string attestation_manufacturer_roots_pem;  // ImportJob attestations chain to these
  std::string attestation_owner_roots_pem;         // and to these (Google's)
  RetryPolicy retry;
  PollPolicy poll;
};

// Cloud KMS resources, with the REST field names' meaning; times parsed from RFC 3339.
struct CryptoKeyVersion {
  std::string name;  // .../cryptoKeys/*/cryptoKeyVersions/<id>
  std::string state;
  std::string algorithm;
  std::string protection_level;
  std::string import_job;             // set for imported versions
  std::string import_failure_reason;  // set in IMPORT_FAILED
  std::optional<SystemTime> create_time;
  std::optional<SystemTime> destroy_time;  // set in DESTROY_SCHEDULED and DESTROYED
  std::optional<SystemTime> import_time;
  std::string id() const;  // the last path segment
};

struct CryptoKey {
  std::string name;
  std::string purpose;
  std::string algorithm;                   // versionTemplate.algorithm
  std::string protection_level;            // versionTemplate.protectionLevel
  std::string destroy_scheduled_duration;  // e.g. "2592000s"
  bool import_only = false;
  std::map<std::string, std::string> labels;
  std::optional<CryptoKeyVersion> primary;
  std::optional<SystemTime> create_time;
};

struct ImportJob {
  std::string name;
  std::string import_method;
  std::string protection_level;
  std::string state;           // PENDING_GENERATION, ACTIVE, EXPIRED
  std::string public_key_pem;  // publicKey.pem, once ACTIVE
  std::optional<SystemTime> expire_time;
  std::optional<ImportJobAttestation> attestation;  // HSM protection level, once ACTIVE
};

struct CreateCryptoKeyRequest {
  std::string crypto_key_id;
  std::string purpose = "ENCRYPT_DECRYPT";
  std::string algorithm = "GOOGLE_SYMMETRIC_ENCRYPTION";
  std::string protection_level;  // empty: the config's
  bool import_only = false;
  bool skip_initial_version_creation = false;
  std::map<std::string, std::string> labels;
};

// True for projects/*/locations/*/keyRings/*/cryptoKeys/* with non-empty segments.
bool is_crypto_key_name(const std::string& name);

class GcpKmsClient final : public KmsProvider {
 public:
  // The transport and clock are borrowed and must outlive the client.
  GcpKmsClient(GcpKmsConfig config, HttpTransport& transport, const Clock& clock,
               RetryEnvironment env = default_retry_environment());

  // Checks the KmsProvider's settings and credentials: spec.gcp.project, location and keyRing
  // must be set, the Secret must hold a service-account JSON key under serviceAccountKey.
  // InvalidArgument names the field to fix.
  static Result<std::unique_ptr<GcpKmsClient>> from_config(
      const ProviderConfig& config, HttpTransport& transport, const Clock& clock,
      RetryEnvironment env = default_retry_environment());

  const char* provider() const override { return "gcp"; }
  Result<KeyDescription> describe_key(const std::string& key_id) override;
  Result<DeletionSchedule> schedule_key_deletion(const std::string& key_id,
                                                 int pending_window_days) override;
  Status cancel_key_deletion(const std::string& key_id) override;
  // principal: the service account's client_email; account: its project_id; id: its client_id.
  // Asks for a token first, so credentials the token endpoint refuses show up here.
  Result<Accessor> who_am_i() override;

  Result<std::vector<std::string>> wrapping_algorithms(const std::string& key_type) override;
  Status check_target(const ImportTarget&, SystemTime) const override {
    return {};
  }  // none beyond the schema's
  Result<std::optional<KeyDescription>> find_key(const ImportTarget& target) override;
  Result<WrappingKey> prepare_import(const ImportTarget& target,
                                     const std::string& existing_key_id) override;
  Result<ImportResult> import_key(const ImportTarget& target, const WrappingKey& wrapping,
                                  const std::string& wrapped, ImportKind kind) override;

  // Cloud KMS calls, one REST call each (list: every page).
  Result<CryptoKey> get_crypto_key(const std::string& name);
  Result<std::vector<CryptoKeyVersion>> list_crypto_key_versions(const std::string& key_name);
  Result<CryptoKeyVersion> get_crypto_key_version(const std::string& name);
  Result<CryptoKey> create_crypto_key(const CreateCryptoKeyRequest& request);
  Result<ImportJob> create_import_job(const std::string& import_job_id,
                                      const std::string& import_method,
                                      const std::string& protection_level);
  Result<ImportJob> get_import_job(const std::string& name);
  Result<CryptoKeyVersion> import_crypto_key_version(const std::string& key_name,
                                                     const std::string& algorithm,
                                                     const std::string& import_job,
                                                     const std::string& wrapped_key);
  Result<CryptoKeyVersion> destroy_crypto_key_version(const std::string& name);
  Result<CryptoKeyVersion> restore_crypto_key_version(const std::string& name);
  Result<CryptoKey> update_primary_version(const std::string& key_name,
                                           const std::string& version_id);

  // projects/<project>/locations/<location>/keyRings/<keyRing>
  std::string key_ring_name() const;
  const std::string& endpoint() const { return endpoint_; }

 private:
  Result<std::string> call(const std::string& rpc, const std::string& method,
                           const std::string& path_and_query, const std::string& body,
                           bool idempotent);
  // call() and the answer as a JSON object.
  Result<nlohmann::json> call_json(const std::string& rpc, const std::string& method,
                                   const std::string& path_and_query, const std::string& body,
                                   bool idempotent);
  // The version that speaks for the key: primary, else the highest id; nullopt when none.
  Result<std::optional<CryptoKeyVersion>> current_version(const CryptoKey& key);
  Result<KeyDescription> describe(const CryptoKey& key);
  Result<ImportJob> wait_until_active(ImportJob job);
  Result<CryptoKeyVersion> wait_until_imported(CryptoKeyVersion version);

  GcpKmsConfig config_;
  HttpTransport& transport_;
  const Clock& clock_;
  RetryEnvironment env_;
  std::string endpoint_;
  std::unique_ptr<ServiceAccountTokenSource> tokens_;
};

}  // namespace byok::kms::gcp
