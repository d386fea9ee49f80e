#pragma once
// The transit engine (Vault / OpenBao) as the rest of the operator may ask about it without a
// client (kms/provider_traits.h). Pure functions, no I/O, table-tested.
//
// Transit keys have no state of their own: TransitClient makes the word up from the key's
// fields (kms/transit/transit_client.h, transit_key_state()).
//   enabled           -> current  (an existing transit key is always usable: there is no
//                                   disable, and import makes key and material in one step)
//   deletion_allowed  -> current  (still usable; its config lets a DELETE through at any time:
//                                   a schedule_key_deletion whose DELETE did not follow, or an
//                                   operator's doing)
//   deleted           -> deleted  (reported by schedule_key_deletion: transit deletes at once;
//                                   a later read is NotFound)

#include <optional>
#include <string_view>

#include "kms/provider_traits.h"

namespace byok::kms {

std::optional<CmkStatus> transit_cmk_status(std::string_view key_state);

// hash_function for the common wrap: SHA1 or SHA256 (the engine's default).
Result<WrapSpec> transit_hash_function(std::string_view name);

extern const ProviderTraits kTransitTraits;

}  // namespace byok::kms
