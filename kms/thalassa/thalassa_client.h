#pragma once
// A Thalassa-style regional KMS (the seed's API, BYOK-PROTOCOLS.md), with token auth.
//
// Headers on every call: Authorization, X-Organisation-Identity: <settings organisation>,
// Accept: application/json. Errors come back as {"message": "..."}. Authorization follows the
// published client (pkg/client/auth.go): an access token (credentials key `token`: an OIDC or
// service account token) is sent as "Bearer <token>", a personal access token (credentials key
// `personalAccessToken`) as "Token <pat>"; the API refuses a token under the other scheme.
//
// Calls, and where each shape comes from:
//   seed:   GET    /v1/kms/{region}/wrapping-key
//           POST   /v1/kms/{region}/keys  {name, description, keyType, importKeyMaterial
//                                          (base64 of the wrap), allowRotation}
//                                          -> the key, with "imported": true
//   Thalassa's published Go client (github.com/thalassa-cloud/client-go, package kms), which
//   fills in what the seed leaves open; not in the seed:
//           the wrapping-key answer is JSON {publicKey (PEM), algorithm} (the seed says "PEM":
//             a bare PEM body is accepted too);
//           POST /keys also takes hashFunction (the OAEP hash: "sha256" | "sha1") and labels;
//             the owner mark goes into labels["byok.dev/owner"];
//           the key: {identity, name, slug, description, labels, keyType, status (active |
//             disabled | pending_deletion), imported, latestVersion, versions[{version, status,
//             createdAt}], createdAt, updatedAt};
//           GET    /v1/kms/{region}/keys/{identity}                       describe_key
//           GET    /v1/kms/{region}/keys?name=<name>  -> [key, ...]       find_key
//           DELETE /v1/kms/{region}/keys/{identity}                       schedules deletion
//                                                                         (pending_deletion)
//           DELETE /v1/kms/{region}/keys/{identity}/cancel-deletion       cancel_key_deletion
//           GET    /v1/me/organisation-memberships -> [{identity, organisation{identity,
//                    slug, name}, user{subject, name, email}, role}]      who_am_i
//   assumed, not in the seed nor the published client (which can only make the KMS rotate a
//   key itself):
//           POST   /v1/kms/{region}/keys/{identity}/versions {importKeyMaterial, hashFunction}
//                    -> the key with its new latestVersion                import_key NewVersion
//
// The wrap is the common RSA-AES wrap under the regional wrapping key (RSA-OAEP with
// hashFunction's hash for MGF1 too, empty label; then AES-KWP of the material: raw bytes for
// symmetric keys, PKCS#8 DER for private keys). The wrapping algorithm words are the
// hashFunction values, "sha256" (preferred) and "sha1". HMAC types are refused (the seed: they
// cannot be imported); allowRotation is fixed at create (the API has no call to change it).
//
// Guarantees: messages name the call and the cause ("thalassa GET kms/nl-01/keys/k: key not
// found (HTTP 404)"); GETs are retried on throttling and 5xx with jittered exponential
// backoff; POST and DELETE are sent once.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "kms/retry.h"
#include "kms/http_transport.h"
#include "kms/kms_provider.h"
#include "kms/provider_config.h"

namespace byok::kms::thalassa {

struct ThalassaConfig {
  std::string endpoint;      // e.g. https://api.thalassa.example
  std::string region;        // the {region} path segment, e.g. nl-01
  std::string organisation;  // X-Organisation-Identity
  std::string token;         // the credential that Authorization carries
  // How it is sent: "Bearer" for an access token, "Token" for a personal access token.
  std::string auth_scheme = "Bearer";
  RetryPolicy retry;
};

// The key as the API returns it (the fields this client uses).
struct ThalassaKey {
  std::string identity;
  std::string name;
  std::string description;
  std::string key_type;
  std::string status;  // active | disabled | pending_deletion
  bool imported = false;
  // allowRotation as given at create. The published key shape does not carry it; a server that
  // returns it lets this client refuse a new version before sending the material.
  std::optional<bool> allow_rotation;
  long long latest_version = 0;
  std::map<std::string, std::string> labels;
  std::optional<SystemTime> created;
};

class ThalassaClient final : public KmsProvider {
 public:
  // The transport and clock are borrowed and must outlive the client.
  ThalassaClient(ThalassaConfig config, HttpTransport& transport, const Clock& clock,
                 RetryEnvironment env = default_retry_environment());

  const char* provider() const override { return "thalassa"; }
  // `key_id`: the key's identity, or the resource form kms/<region>/keys/<identity>.
  Result<KeyDescription> describe_key(const std::string& key_id) override;
  // DELETE schedules the deletion (the API has no window parameter: pending_window_days is
  // ignored), then the key is read back for its state.
  Result<DeletionSchedule> schedule_key_deletion(const std::string& key_id,
                                                 int pending_window_days) override;
  Status cancel_key_deletion(const std::string& key_id) override;
  // The membership of the configured organisation: principal = the user's email (subject, name
  // or membership identity when absent), account = organisation identity, id = user subject.
  Result<Accessor> who_am_i() override;

  Result<std::vector<std::string>> wrapping_algorithms(const std::string& key_type) override;
  // By name, then by the byok.dev/owner label: a key of that name with another owner (or none)
  // is AlreadyExists.
  Status check_target(const ImportTarget&, SystemTime) const override {
    return {};
  }  // none beyond the schema's
  Result<std::optional<KeyDescription>> find_key(const ImportTarget& target) override;
  // Fetches the regional wrapping key; nothing is created before the import.
  Result<WrappingKey> prepare_import(const ImportTarget& target,
                                     const std::string& existing_key_id) override;
  // First: creates the key with the material (POST /keys). NewVersion: the assumed
  // /keys/{identity}/versions call; refused here when the key reports it was not imported or
  // (where the server says so) was imported with allowRotation false, else the server decides.
  Result<ImportResult> import_key(const ImportTarget& target, const WrappingKey& wrapping,
                                  const std::string& wrapped, ImportKind kind) override;

  // Builds a client from a KmsProvider: endpoint and region (required), settings organisation
  // (required), credentials token.
  static Result<std::unique_ptr<ThalassaClient>> from_config(
      const ProviderConfig& config, HttpTransport& transport, const Clock& clock,
      RetryEnvironment env = default_retry_environment());

  // Thalassa-only calls.
  Result<ThalassaKey> get_key(const std::string& identity);
  Result<std::vector<ThalassaKey>> list_keys_by_name(const std::string& name);
  // The wrapping key's PEM as the server sent it.
  Result<std::string> wrapping_key_pem();

 private:
  Result<std::string> call(const std::string& method, const std::string& path,
                           const std::string& body);
  std::string keys_path() const;
  std::string identity_of(const std::string& key_id) const;
  KeyDescription describe(const ThalassaKey& key) const;

  ThalassaConfig config_;
  HttpTransport& transport_;
  const Clock& clock_;
  RetryEnvironment env_;
};

}  // namespace byok::kms::thalassa
