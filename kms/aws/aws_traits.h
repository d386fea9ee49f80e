#pragma once
// AWS KMS as the rest of the operator may ask about it without a client (kms/provider_traits.h).
// Pure functions, no I/O, table-tested.
//
// KeyState -> CMK status:
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

#include "kms/provider_traits.h"

namespace byok::kms {

std::optional<CmkStatus> aws_cmk_status(std::string_view key_state);

// WrappingAlgorithm: RSAES_OAEP_SHA_1, RSAES_OAEP_SHA_256, RSA_AES_KEY_WRAP_SHA_1,
// RSA_AES_KEY_WRAP_SHA_256.
Result<WrapSpec> aws_wrapping_algorithm(std::string_view name);

extern const ProviderTraits kAwsTraits;

}  // namespace byok::kms
