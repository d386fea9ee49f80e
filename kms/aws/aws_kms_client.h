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
#include <string>

#include "common/clock.h"
#include "kms/aws/sigv4.h"
#include "kms/http_transport.h"
#include "kms/kms_provider.h"

namespace byok::kms::aws {

struct RetryPolicy {
  int max_attempts = 3;  // for idempotent reads; 1 means no retry
  std::chrono::milliseconds base_delay{100};
  std::chrono::milliseconds max_delay{2000};
};

struct AwsKmsConfig {
  std::string region;        // required
  std::string kms_endpoint;  // empty: https://kms.<region>.amazonaws.com
  std::string sts_endpoint;  // empty: https://sts.<region>.amazonaws.com
  Credentials credentials;
  RetryPolicy retry;
};

// Injected waiting and randomness, so retry tests neither sleep nor depend on chance.
struct RetryEnvironment {
  std::function<void(std::chrono::milliseconds)> sleep;  // required
  std::function<double()> random01;                      // uniform in [0, 1); required
};
// Real sleeping and a random_device-seeded generator.
RetryEnvironment default_retry_environment();

struct CreateKeyRequest {
  std::string description;
  std::string key_spec = "SYMMETRIC_DEFAULT";
  std::string key_usage = "ENCRYPT_DECRYPT";
  std::string origin = "AWS_KMS";  // EXTERNAL for imported material
  std::map<std::string, std::string> tags;
};

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
  Result<WrappingKey> get_wrapping_key(const WrappingKeyRequest& request) override;
  Result<ImportResult> import_key_material(const ImportRequest& request) override;
  Result<DeletionSchedule> schedule_key_deletion(const std::string& key_id,
                                                 int pending_window_days) override;
  Status cancel_key_deletion(const std::string& key_id) override;
  Result<Accessor> who_am_i() override;

  // AWS-only calls.
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
  Result<std::string> send_with_retry(const std::string& what, HttpRequest request,
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
