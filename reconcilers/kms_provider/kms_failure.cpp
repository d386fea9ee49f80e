#include "reconcilers/kms_provider/kms_failure.h"

namespace byok::kmsprovider {

KmsFailure classify_kms_failure(ProviderProblem problem, ErrorKind kind) {
  switch (problem) {
    case ProviderProblem::ProviderNotFound:
      return {reasons::kProviderNotFound, "False", false, ""};
    case ProviderProblem::SecretNotFound:
      return {reasons::kCredentialsSecretNotFound, "False", false, ""};
    case ProviderProblem::Misconfigured:
      return {reasons::kProviderMisconfigured, "False", false, ""};
    case ProviderProblem::EndpointNotAllowed:
      return {reasons::kEndpointNotAllowed, "False", false, ""};
    case ProviderProblem::Unreachable:
      return {reasons::kKmsUnavailable, "Unknown", true, "retrying with backoff"};
    case ProviderProblem::None:
      break;
  }
  if (transient(kind)) return {reasons::kKmsUnavailable, "Unknown", true, "retrying with backoff"};
  switch (kind) {
    case ErrorKind::NotFound:
      return {reasons::kKeyNotFound, "False", false,
              "check spec.resource, and that the key exists in the account/project/vault the "
              "KmsProvider points at"};
    case ErrorKind::Unauthenticated:
      return {reasons::kInvalidCredentials, "False", false,
              "fix the credentials in the KmsProvider's spec.credentialsSecretRef Secret"};
    case ErrorKind::PermissionDenied:
      return {reasons::kAccessDenied, "False", false,
              "grant the accessor (status.accessor) permission to describe and use the key"};
    default:
      return {reasons::kKmsError, "False", false, ""};
  }
}

}  // namespace byok::kmsprovider
