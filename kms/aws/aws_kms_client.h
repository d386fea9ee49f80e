#pragma once
// AWS KMS over its JSON 1.1 protocol (POST /, X-Amz-Target: TrentService.<Op>) and STS
// GetCallerIdentity over the query protocol, both signed with SigV4.
//
// Guarantees:
// - every error message names the call ("KMS DescribeKey", "STS GetCallerIdentity") and the cause
//   (AWS's error code and message, or the transport's reason);
// - DescribeKey and GetCallerIdentity are retried a few times with jittered exponential backoff on
//   throttling and 5xx; every other call is sent once: CreateKey and ImportKeyMaterial are not
//   idempotent, and the caller checks the key's state before trying again;
// - the endpoint is https://kms.<region>.amazonaws.com unless overridden; an override is taken as
//   given, http:// included (tests, private endpoints): overriding it is an explicit choice.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "kms/aws/sigv4.h"
#include "kms/paging.h"
#include "kms/http_transport.h"
#include "kms/kms_provider.h"
#include "kms/provider_config.h"
#include "kms/retry.h"

namespace byok::kms::aws {

struct AwsKmsConfig {
  std::string region;        // required
  std::string kms_endpoint;  // empty: https://kms.<region>.amazonaws.com
  std::string sts_endpoint;  // empty: https://sts.<region>.amazonaws.com
  Credentials credentials;
  RetryPolicy retry;
};

struct CreateKeyRequest {
  std::string description;
  std::string key_spec = "SYMMETRIC_DEFAULT";
  std::string key_usage = "ENCRYPT_DECRYPT";
  std::string origin = "AWS_KMS";  // EXTERNAL for imported material
  std::map<std::string, std::string> tags;
};

// GetParametersForImport's words: WrappingAlgorithm (RSAES_OAEP_SHA_1 | RSAES_OAEP_SHA_256 |
// RSA_AES_KEY_WRAP_SHA_1 | RSA_AES_KEY_WRAP_SHA_256) and WrappingKeySpec (RSA_2048 | RSA_3072 |
// RSA_4096).
struct ImportParametersRequest {
  std::string key_id;
  std::string algorithm = "RSAES_OAEP_SHA_256";
  std::string key_spec = "RSA_2048";
};

struct ImportMaterialRequest {
  std::string key_id;
  std::string import_token;            // ImportToken bytes, verbatim
  std::string wrapped_material;        // EncryptedKeyMaterial bytes
  std::optional<SystemTime> valid_to;  // KEY_MATERIAL_EXPIRES at this time; empty: never expires
  bool new_key_material = false;       // ImportType NEW_KEY_MATERIAL (rotation of imported keys)
};

// What an ImportedKey's key type becomes in AWS KMS (KeySpec, KeyUsage) and which wrapping
// algorithms can carry it. Unsupported, with the reason, for types AWS does not import.
struct AwsKeyShape {
  std::string key_spec;
  std::string key_usage;
  std::vector<std::string> algorithms;  // best first
};
Result<AwsKeyShape> aws_key_shape(const std::string& key_type);

struct CallerIdentity {
  std::string arn;
  std::string account;
  std::string user_id;
};

class AwsKmsClient final : public KmsProvider {
 public:
  // The transport and clock are borrowed and must outlive the client.
  AwsKmsClient(AwsKmsConfig config, HttpTransport& transport, const Clock& clock,
               RetryEnvironment env = default_retry_environment());

  const char* provider() const override { return "aws"; }
  Result<KeyDescription> describe_key(const std::string& key_id) override;
  Result<DeletionSchedule> schedule_key_deletion(const std::string& key_id,
                                                 int pending_window_days) override;
  Status cancel_key_deletion(const std::string& key_id) override;
  Result<Accessor> who_am_i() override;

  Result<std::vector<std::string>> wrapping_algorithms(const std::string& key_type) override;
  // Alias name characters and length (not alias/aws/), ValidTo in the future and at most 365
  // days ahead, allowRotation for symmetric keys only (NEW_KEY_MATERIAL and RotateKeyOnDemand).
  Status check_target(const ImportTarget& target, SystemTime now) const override;
  // By alias (alias/<name>) first; without one, by the owner tag among the account's keys: a
  // crash between CreateKey and CreateAlias leaves a tagged key without its alias, which
  // prepare_import then adds. An alias on a key with another owner is AlreadyExists.
  Result<std::optional<KeyDescription>> find_key(const ImportTarget& target) override;
  // check_target first; creates the EXTERNAL key (tagged byok.dev/owner) when existing_key_id is
  // empty, makes sure alias/<name> points at it, then GetParametersForImport with
  // target.wrapping_algorithm and the largest wrapping key spec the KMS offers (RSA_4096 down to
  // RSA_2048).
  Result<WrappingKey> prepare_import(const ImportTarget& target,
                                     const std::string& existing_key_id) override;
  Result<ImportResult> import_key(const ImportTarget& target, const WrappingKey& wrapping,
                                  const std::string& wrapped, ImportKind kind) override;

  // Builds a client from a KmsProvider's settings: region (required), endpoint (KMS only),
  // settings["stsEndpoint"] (spec.aws.stsEndpoint; else STS's regional endpoint), credentials
  // accessKeyId, secretAccessKey, sessionToken.
  static Result<std::unique_ptr<AwsKmsClient>> from_config(
      const ProviderConfig& config, HttpTransport& transport, const Clock& clock,
      RetryEnvironment env = default_retry_environment());

  // A hostile or broken endpoint may answer Truncated forever: paged calls stop after this many
  // pages (or at a repeated marker, or past kMaxListItems) with KmsTooManyPages (kms/paging.h).
  static constexpr int kMaxPages = kMaxListPages;

  // AWS-only calls.
  Result<WrappingKey> get_parameters_for_import(const ImportParametersRequest& request);
  Result<ImportResult> import_key_material(const ImportMaterialRequest& request);
  Status create_alias(const std::string& alias_name, const std::string& key_id);
  // Tag key -> value of a key (ListResourceTags).
  Result<std::map<std::string, std::string>> list_resource_tags(const std::string& key_id);
  // Every key id of the account and region (ListKeys, all pages, at most `limit`).
  Result<std::vector<std::string>> list_keys(size_t limit = 1000);
  Result<KeyDescription> create_key(const CreateKeyRequest& request);
  Status disable_key(const std::string& key_id);
  Status enable_key(const std::string& key_id);
  Status delete_imported_key_material(const std::string& key_id,
                                      const std::string& key_material_id = "");
  Result<CallerIdentity> get_caller_identity();

  const std::string& kms_endpoint() const { return kms_endpoint_; }
  const std::string& sts_endpoint() const { return sts_endpoint_; }

 private:
  Result<std::string> call_kms(const std::string& op, const std::string& body, bool idempotent);
  Result<std::string> call_sts(const std::string& action, bool idempotent);
  // kms/rest_call.h's send_call, each attempt signed with SigV4 for `scope`.
  Result<std::string> send_signed(const std::string& what, const HttpRequest& request,
                                  const SigningScope& scope, bool idempotent);

  AwsKmsConfig config_;
  HttpTransport& transport_;
  const Clock& clock_;
  RetryEnvironment env_;
  std::string kms_endpoint_;
  std::string sts_endpoint_;
};

// Maps an AWS error answer to an ErrorKind. `code` is the bare code ("NotFoundException"), as
// found in the JSON `__type` (after any '#'), the x-amzn-ErrorType header, or the XML <Code>.
ErrorKind aws_error_kind(const std::string& code, int http_status);

// Parses an AWS error body: JSON 1.1 (`__type`, `message`) or query-protocol XML
// (<Code>, <Message>). Returns {code, message}; either may be empty.
std::pair<std::string, std::string> parse_aws_error(const std::string& body,
                                                    const std::string& error_type_header);

}  // namespace byok::kms::aws
