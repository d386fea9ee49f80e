#pragma once
// Which of the provider's wrapping algorithms the import uses: pure, so every refusal and its
// message is table-tested without an HSM or a KMS.
//
// With source.hsm the wrap happens inside the HSM, so the choice is the provider's best
// algorithm (its own order) that this HSM can perform on this key type: direct RSA-OAEP carries
// symmetric keys only, and an HSM whose RSA-OAEP has no SHA-256 (SoftHSM2 2.6.1) needs a SHA-1
// variant. With source.wrappedSecretRef the material was wrapped offline, so the choice is the
// user's (spec.source.wrappedSecretRef.wrappingAlgorithm) or the provider's default, and the
// provider must keep its wrapping key stable between the offline wrap and the import.

#include <string>
#include <vector>

#include "common/result.h"
#include "hsm/hsm.h"
#include "hsm/wrap_spec.h"

namespace byok::importedkey {

struct WrapChoice {
  std::string algorithm;  // the provider's word, for ImportTarget.wrapping_algorithm
  hsm::WrapSpec spec;     // what the HSM must produce
};

// Unsupported (terminal) with a message naming what the HSM lacks and the way out.
Result<WrapChoice> choose_hsm_wrapping(const std::string& provider, hsm::KeyType type,
                                       const std::vector<std::string>& algorithms,
                                       const hsm::Capabilities& caps);

// InvalidArgument when `requested` is not one of `algorithms`; Unsupported when the provider
// issues a new wrapping key for every import (its traits' prewrapped_import_refusal), so nothing
// wrapped offline beforehand can match it.
Result<std::string> choose_offline_algorithm(const std::string& provider,
                                             const std::string& requested,
                                             const std::vector<std::string>& algorithms);

}  // namespace byok::importedkey
