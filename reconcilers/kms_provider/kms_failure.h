#pragma once
// One vocabulary for "the KMS could not be used", shared by every kind that talks to a KMS
// (KmsProvider, CustomerManagedKey, ImportedKey): a CamelCase condition reason per cause, whether
// the condition is False (someone must fix something) or Unknown (the KMS could not be asked),
// and whether retrying soon makes sense.

#include "common/result.h"
#include "reconcilers/kms_provider/provider_registry.h"

namespace byok::kmsprovider {

namespace reasons {
inline constexpr char kKeyNotFound[] = "KeyNotFound";
inline constexpr char kInvalidCredentials[] = "InvalidCredentials";
inline constexpr char kAccessDenied[] = "AccessDenied";
inline constexpr char kKmsUnavailable[] = "KmsUnavailable";
inline constexpr char kKmsError[] = "KmsError";
inline constexpr char kProviderNotFound[] = "ProviderNotFound";
inline constexpr char kCredentialsSecretNotFound[] = "CredentialsSecretNotFound";
inline constexpr char kProviderMisconfigured[] = "ProviderMisconfigured";
inline constexpr char kEndpointNotAllowed[] = "EndpointNotAllowed";
}  // namespace reasons

struct KmsFailure {
  const char* reason;
  const char* status;  // "False", or "Unknown" when the KMS could not be asked
  bool transient;      // retry with backoff rather than wait for a change
  const char* fix;     // what the user should do; empty when retrying is the answer
};

// `problem` (getting a client) takes precedence over `kind` (the KMS call's error).
KmsFailure classify_kms_failure(ProviderProblem problem, ErrorKind kind);

}  // namespace byok::kmsprovider
