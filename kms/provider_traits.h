#pragma once
// What the rest of the operator may ask about a provider type without a client: pure answers,
// no I/O, no credentials. byokctl's offline ceremonies, the CMK status mapping, the choice of a
// wrap and the check of a CMK's key all ask here by the CRD's type word, so no code outside
// kms/<provider>/ compares provider names.
//
// Each provider's folder defines its ProviderTraits (kms/<provider>/<provider>_traits.{h,cpp});
// kms/provider_list.h is the one list of them. The table lives in the light library
// byok_kms_traits (no HTTP stack), which byokctl links.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/wrap_spec.h"
#include "kms/kms_provider.h"

namespace byok::kms {

struct ProviderTraits {
  std::string_view name = {};  // the CRDs' spec.type / spec.provider word: "aws", "gcp", ...
  std::string_view title =
      {};  // as a sentence names the KMS: "Google Cloud KMS", "the transit engine"

  // --- wrapping ----------------------------------------------------------------------------
  // The wrap the provider means by one of its wrapping-algorithm words (as
  // KmsProvider::wrapping_algorithms() lists them); InvalidArgument naming the words it knows.
  Result<WrapSpec> (*wrap_spec)(std::string_view algorithm) = nullptr;
  // The algorithm a ceremony uses when none is named; empty where the user must name one.
  std::string_view default_wrapping_algorithm = {};
  // Why material wrapped before the import cannot be imported (the KMS issues a new wrapping key
  // for every import); empty when a wrap made offline against its stable wrapping key can be.
  std::string_view prewrapped_import_refusal = {};
  // The file the import takes around the wrap bytes (Azure's .byok JSON, naming the KEK by
  // `kek_id`); nullptr where the KMS takes the wrap bytes as they are.
  std::string (*wrap_file)(std::string_view kek_id, std::string_view wrapped,
                           std::string_view generator) = nullptr;
  // byokctl wrap --format <name>: what --algorithm takes ("hash_function SHA256 (default) | SHA1")
  // and, for a provider without a default, what the algorithm is called in its API. An empty
  // help: the KMS has its own ceremony command (aws-kms-export, azure-byok-export).
  std::string_view byokctl_algorithm_help = {};
  std::string_view byokctl_algorithm_name = {};

  // --- keys --------------------------------------------------------------------------------
  // The provider's key-state word mapped to the CMK status; nothing for a word it does not know.
  std::optional<CmkStatus> (*cmk_status)(std::string_view state) = nullptr;
  // Why this key cannot encrypt services' data keys (a signing key, an EC key), in the
  // provider's words; nothing when it can or the description does not say.
  std::optional<std::string> (*cmk_key_problem)(const KeyDescription& key) = nullptr;
};

// Every provider this build knows, in the list's order.
std::vector<const ProviderTraits*> all_provider_traits();
// The provider named by its CRD word; nullptr for a name no provider has.
const ProviderTraits* provider_traits(std::string_view name);

// The registry's answers for a name, as the reconcilers ask them.
// The CMK status of `provider`'s state word; nothing for an unknown provider or word.
std::optional<CmkStatus> cmk_status_for(std::string_view provider, std::string_view state);
// The wrap `provider` means by `algorithm`; InvalidArgument for an unknown provider or word.
Result<WrapSpec> wrap_spec_for(std::string_view provider, std::string_view algorithm);

}  // namespace byok::kms
