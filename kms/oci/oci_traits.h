#pragma once
// OCI Vault as the rest of the operator may ask about it without a client
// (kms/provider_traits.h). Pure functions, no I/O, table-tested.
//
// Key lifecycleState (the Key resource of the Key Management API 20180608) -> CMK status:
//   ENABLED                              -> current
//   UPDATING                             -> current  (a rename, retag or rotation in progress;
//                                                     the key keeps serving cryptography)
//   BACKUP_IN_PROGRESS                   -> current  (a management operation; the key keeps
//                                                     serving cryptography meanwhile)
//   DISABLED                             -> old      (recoverable by EnableKey)
//   DISABLING                            -> old      (on its way to DISABLED)
//   ENABLING                             -> old      (not usable until it reaches ENABLED)
//   CREATING                             -> old      (not usable yet, will be)
//   RESTORING                            -> old      (being restored from a backup; not usable
//                                                     until the restore finishes)
//   CANCELLING_DELETION                  -> old      (a deletion is being called off: the key
//                                                     returns to the state it had before, so it
//                                                     is not deleted, but not usable this instant)
//   SCHEDULING_DELETION, PENDING_DELETION -> deleted (deletion scheduled; cancellable until
//                                                     timeOfDeletion, like AWS PendingDeletion)
//   DELETING, DELETED                    -> deleted

#include <optional>
#include <string_view>

#include "kms/provider_traits.h"

namespace byok::kms {

std::optional<CmkStatus> oci_cmk_status(std::string_view lifecycle_state);

// wrappingAlgorithm: RSA_OAEP_AES_SHA256, RSA_OAEP_SHA256.
Result<WrapSpec> oci_wrapping_algorithm(std::string_view name);

extern const ProviderTraits kOciTraits;

}  // namespace byok::kms
