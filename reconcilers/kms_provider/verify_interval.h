#pragma once
// How often a key is checked in its KMS (CustomerManagedKeys and ImportedKeys alike): 10
// minutes unless the annotation byok.dev/verify-interval says otherwise ("90s", "5m", "1h"; up
// to 24h), and never shorter than the operator's floor (--min-verify-interval, 60s by default):
// the annotation is a tenant's, and each look is a KMS call.

#include <chrono>
#include <string>

#include "controller/runtime/object_meta.h"

namespace byok::kmsprovider {

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

}  // namespace byok::kmsprovider
