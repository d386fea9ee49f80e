#include "reconcilers/imported_key/ik_failure.h"

namespace byok::importedkey {

using kmsprovider::ProviderProblem;

Failure kms_failure(ProviderProblem problem, const Error& e, const std::string& step) {
  // Only a name held by another key is a name clash (terminal until spec.kmsKeyName changes). A
  // KMS not ready for the import (an expired import token, an import job still generating, a
  // quota, a key being purged) is looked at again after the lasting-failure delay (a minute at
  // first, up to an hour): not on the queue's fast backoff, since each try repeats the import
  // (and Google keeps every ImportJob), and some of these clear only when someone acts.
  if (problem == ProviderProblem::None && e.kind == ErrorKind::AlreadyExists)
    return {reasons::kKeyNameTaken, step + ": " + e.message, false};
  if (problem == ProviderProblem::None && e.kind == ErrorKind::FailedPrecondition)
    return {reasons::kKmsNotReady, step + ": " + e.message, false};
  if (problem == ProviderProblem::None &&
      (e.kind == ErrorKind::InvalidArgument || e.kind == ErrorKind::Unsupported))
    return {reasons::kImportRefused, step + ": " + e.message, false};
  auto f = kmsprovider::classify_kms_failure(problem, e.kind);
  std::string message = step + ": " + e.message;
  if (*f.fix && f.reason != std::string(kmsprovider::reasons::kKeyNotFound))
    message += " (" + std::string(f.fix) + ")";
  return {f.reason, message, f.transient, e.retry_after};
}

// The reasons whose message carries the KMS's own words, or the admin's configuration.
bool is_kms_reason(const std::string& reason) {
  namespace kr = kmsprovider::reasons;
  for (const char* r :
       {kr::kKeyNotFound, kr::kInvalidCredentials, kr::kAccessDenied, kr::kKmsUnavailable,
        kr::kKmsError, kr::kProviderMisconfigured, kr::kCredentialsSecretNotFound,
        reasons::kKeyNameTaken, reasons::kKmsNotReady, reasons::kImportRefused,
        reasons::kRotationUnsupported, reasons::kDeletionFailed})
    if (reason == r) return true;
  return false;
}

Failure hsm_failure(const Error& e, const std::string& step) {
  std::string message = step + ": " + e.message;
  if (transient(e.kind)) return {reasons::kHsmUnavailable, message, true};
  switch (e.kind) {
    case ErrorKind::NotFound:
      return {reasons::kHsmKeyNotFound, message, false};
    case ErrorKind::Unauthenticated:
      return {reasons::kHsmUnavailable, message + " (check the HSM PIN the operator is given)",
              false};
    default:
      return {reasons::kHsmCannotWrap, message, false};
  }
}

}  // namespace byok::importedkey
