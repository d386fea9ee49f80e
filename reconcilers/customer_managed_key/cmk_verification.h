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

namespace byok::cmk {

inline constexpr char kVerifyIntervalAnnotation[] = "byok.dev/verify-interval";
inline constexpr std::chrono::seconds kDefaultVerifyInterval{600};
inline constexpr std::chrono::seconds kDefaultMinVerifyInterval{60};

struct VerifyInterval {
  std::chrono::seconds every = kDefaultVerifyInterval;
  std::string problem;  // set when the annotation was present but unusable (default applies)
};
// An annotation below `floor` is raised to it (and said in `problem`).
VerifyInterval verify_interval(const runtime::ObjectMeta& meta,
                               std::chrono::seconds floor = kDefaultMinVerifyInterval);

// Parses "<n>s", "<n>m", "<n>h" (also combined: "1h30m"). Nothing for anything else.
std::optional<std::chrono::seconds> parse_duration(const std::string& text);

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
