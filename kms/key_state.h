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

// Transit (Vault / OpenBao) keys have no state of their own: TransitClient makes the word up from
// the key's fields (kms/transit/transit_client.h, transit_key_state()).
//   enabled           -> current  (an existing transit key is always usable: there is no
//                                   disable, and import makes key and material in one step)
//   deletion_allowed  -> current  (still usable; its config lets a DELETE through at any time:
//                                   a schedule_key_deletion whose DELETE did not follow, or an
//                                   operator's doing)
//   deleted           -> deleted  (reported by schedule_key_deletion: transit deletes at once;
//                                   a later read is NotFound)
namespace byok::kms {

std::optional<CmkStatus> transit_cmk_status(std::string_view key_state);

}  // namespace byok::kms

// OCI Vault Key lifecycleState (the Key resource of the Key Management API 20180608):
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
namespace byok::kms {

std::optional<CmkStatus> oci_cmk_status(std::string_view lifecycle_state);

}  // namespace byok::kms

// Google Cloud KMS CryptoKeyVersion state (of the CryptoKey's primary version, or of its latest
// version where it has no primary; kms/gcp/gcp_kms_client.h):
//   ENABLED                       -> current
//   DISABLED                      -> old      (recoverable by enabling the version)
//   PENDING_GENERATION            -> old      (not usable yet, will be)
//   PENDING_IMPORT                -> old      (import in progress, usable once it ends)
//   IMPORT_FAILED                 -> old      (no material; recoverable by importing again into
//                                              the same version)
//   GENERATION_FAILED             -> old      (no material; the key takes a new version)
//   DESTROY_SCHEDULED             -> deleted  (on its way out; restorable until destroyTime,
//                                              like AWS PendingDeletion)
//   DESTROYED                     -> deleted
//   PENDING_EXTERNAL_DESTRUCTION  -> deleted  (destroyed; Cloud EKM's external key follows)
//   EXTERNAL_DESTRUCTION_FAILED   -> deleted  (destroyed in Cloud KMS; only the external
//                                              key's destruction failed)
namespace byok::kms {

std::optional<CmkStatus> gcp_cmk_status(std::string_view version_state);

}  // namespace byok::kms

// Azure Key Vault keys have no state word; kms/azure/key_vault_client.h's key_vault_key_state()
// derives one from the key's attributes and whether it sits in /deletedkeys:
//   Enabled      -> current  (attributes.enabled, inside nbf..exp)
//   Disabled     -> old      (enabled false; recoverable by enabling it again)
//   NotYetValid  -> old      (nbf in the future; usable from then on)
//   Expired      -> old      (exp passed; encrypt/wrap/sign refused, decrypt/unwrap/verify still
//                             allowed; recoverable by moving exp)
//   Deleted      -> deleted  (soft-deleted: recoverable until purged at the end of the vault's
//                             retention; a purged key is NotFound)
namespace byok::kms {

std::optional<CmkStatus> azure_cmk_status(std::string_view state);

}  // namespace byok::kms

// Thalassa key status (the published client's KmsKeyStatus words):
//   active            -> current
//   disabled          -> old      (recoverable: POST .../keys/{identity}/enable)
//   pending_deletion  -> deleted  (DELETE scheduled it; .../cancel-deletion can still undo it)
namespace byok::kms {

std::optional<CmkStatus> thalassa_cmk_status(std::string_view status);

}  // namespace byok::kms

namespace byok::kms {

// The mapping of `provider` ("aws", "gcp", "azure", "oci", "transit", "thalassa") applied to its
// state word; nothing for an unknown provider or word.
std::optional<CmkStatus> cmk_status_for(std::string_view provider, std::string_view state);

}  // namespace byok::kms
