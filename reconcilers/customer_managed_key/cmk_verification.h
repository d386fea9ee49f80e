#pragma once
// When a CustomerManagedKey is checked against its KMS, and what the answer means. Pure: the
// reconciler does the calls and hands the answers in.
//
// - A check is due when the spec changed (generation), the last check did not succeed, or the
//   verify interval has passed since status.lastVerifiedAt. The interval is 10 minutes unless the
//   annotation byok.dev/verify-interval says otherwise ("90s", "5m", "1h"; up to 24h), and never
//   shorter than the operator's floor (--min-verify-interval, 60s by default): the annotation is
//   a tenant's, and each look is a KMS call (and, for a missing import, an HSM wrap).
// - A key of the wrong type is one the registry cannot use to encrypt services' data.

#include <chrono>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/result.h"
#include "controller/runtime/object_meta.h"
#include "kms/kms_provider.h"
#include "reconcilers/kms_provider/provider_registry.h"
#include "reconcilers/kms_provider/verify_interval.h"

namespace byok::cmk {

using kmsprovider::kDefaultMinVerifyInterval;
using kmsprovider::kDefaultVerifyInterval;
using kmsprovider::kVerifyIntervalAnnotation;
using kmsprovider::verify_interval;
using kmsprovider::VerifyInterval;

// What one verification found: the key's description, or why there is none.
struct KeyCheck {
  std::optional<kms::KeyDescription> key;
  Error error;  // when key is empty
  // Set when the failure is in getting a client (the KmsProvider or its Secrets), not the KMS.
  kmsprovider::ProviderProblem provider_problem = kmsprovider::ProviderProblem::None;
  std::string accessor;  // the principal the operator used, when known
};

// Why `key` cannot serve as a customer-managed encryption key, or nothing when it can.
std::optional<std::string> wrong_key_type(const std::string& provider,
                                          const kms::KeyDescription& key);

}  // namespace byok::cmk
