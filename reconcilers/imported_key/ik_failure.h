#pragma once
// What an ImportedKey's conditions say when the KMS or the HSM fails: the reason, the message
// and whether to retry with backoff. Pure, so each mapping has a unit test.

#include <string>

#include "common/result.h"
#include "reconcilers/imported_key/ik_plan.h"
#include "reconcilers/kms_provider/kms_failure.h"

namespace byok::importedkey {

// A KMS call's failure at `step` (what the operator was doing, first in the message).
Failure kms_failure(kmsprovider::ProviderProblem problem, const Error& e, const std::string& step);
// The reasons whose message carries the KMS's own words, or the admin's configuration (shown to
// a tenant only for its own KmsProvider).
bool is_kms_reason(const std::string& reason);
// An HSM call's failure at `step`.
Failure hsm_failure(const Error& e, const std::string& step);

}  // namespace byok::importedkey
