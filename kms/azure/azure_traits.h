#pragma once
// Azure Key Vault as the rest of the operator may ask about it without a client
// (kms/provider_traits.h). Pure functions, no I/O, table-tested.
//
// Key Vault keys have no state word; kms/azure/key_vault_client.h's key_vault_key_state()
// derives one from the key's attributes and whether it sits in /deletedkeys:
//   Enabled      -> current  (attributes.enabled, inside nbf..exp)
//   Disabled     -> old      (enabled false; recoverable by enabling it again)
//   NotYetValid  -> old      (nbf in the future; usable from then on)
//   Expired      -> old      (exp passed; encrypt/wrap/sign refused, decrypt/unwrap/verify still
//                             allowed; recoverable by moving exp)
//   Deleted      -> deleted  (soft-deleted: recoverable until purged at the end of the vault's
//                             retention; a purged key is NotFound)

#include <optional>
#include <string_view>

#include "kms/provider_traits.h"

namespace byok::kms {

std::optional<CmkStatus> azure_cmk_status(std::string_view state);

// A .byok file is always CKM_RSA_AES_KEY_WRAP with OAEP SHA-1 (kms/azure/byok_file.h); that word
// (or none) is the only algorithm.
Result<WrapSpec> azure_wrap_spec(std::string_view algorithm);

extern const ProviderTraits kAzureTraits;

}  // namespace byok::kms
