#pragma once
// Google Cloud KMS as the rest of the operator may ask about it without a client
// (kms/provider_traits.h). Pure functions, no I/O, table-tested.
//
// CryptoKeyVersion state -> CMK status (of the CryptoKey's primary version, or of its latest
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

#include <optional>
#include <string_view>

#include "kms/provider_traits.h"

namespace byok::kms {

std::optional<CmkStatus> gcp_cmk_status(std::string_view version_state);

// ImportJob importMethod, e.g. RSA_OAEP_3072_SHA1_AES_256, RSA_OAEP_4096_SHA256.
Result<WrapSpec> gcp_import_method(std::string_view name);

extern const ProviderTraits kGcpTraits;

}  // namespace byok::kms
