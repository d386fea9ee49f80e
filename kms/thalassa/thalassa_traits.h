#pragma once
// A Thalassa KMS as the rest of the operator may ask about it without a client
// (kms/provider_traits.h). Pure functions, no I/O, table-tested.
//
// Key status (the published client's KmsKeyStatus words) -> CMK status:
//   active            -> current
//   disabled          -> old      (recoverable: POST .../keys/{identity}/enable)
//   pending_deletion  -> deleted  (DELETE scheduled it; .../cancel-deletion can still undo it)

#include <optional>
#include <string_view>

#include "kms/provider_traits.h"

namespace byok::kms {

std::optional<CmkStatus> thalassa_cmk_status(std::string_view status);

// hashFunction for the common wrap: sha1 or sha256.
Result<WrapSpec> thalassa_hash_function(std::string_view name);

extern const ProviderTraits kThalassaTraits;

}  // namespace byok::kms
