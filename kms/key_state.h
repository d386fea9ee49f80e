#pragma once
// Maps each provider's own key-state word to the CMK status words current / old / deleted.
// Pure functions: no I/O, table-tested.
//
// AWS KMS KeyState:
//   Enabled                                -> current
//   Updating                               -> current  (a multi-Region primary change; the key
//                                                       stays usable for cryptography meanwhile)
//   Disabled                               -> old      (recoverable by EnableKey)
//   Creating                               -> old      (not usable yet, will be)
//   PendingImport                          -> old      (no material, or it was deleted or
//                                                       expired; recoverable by importing)
//   Unavailable                            -> old      (its custom key store is disconnected;
//                                                       recoverable by reconnecting it)
//   PendingDeletion, PendingReplicaDeletion -> deleted
// A word not in the table maps to nothing: the caller reports it rather than guessing.

#include <optional>
#include <string_view>

#include "kms/kms_provider.h"

namespace byok::kms {

std::optional<CmkStatus> aws_cmk_status(std::string_view key_state);

}  // namespace byok::kms
