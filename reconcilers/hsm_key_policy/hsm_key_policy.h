#pragma once
// HsmKeyPolicy (byok.dev/v1alpha1, cluster-scoped): which HSM keys which namespaces may import
// into which ClusterKmsProviders. The decisions here are pure; authorizer.h does the reads.
//
// Default deny: a request is granted only by a policy that (1) selects the namespace (an empty
// selector selects nothing), (2) lists the destination ClusterKmsProvider, and (3) has a keys
// entry that matches the key the way the ImportedKey names it: a label entry grants
// source.hsm.label, an id entry source.hsm.id. Once the HSM has found the key, the same entry
// must also match every field it sets against the key actually found (label and id), so a
// rule written for labels cannot be stretched to another key through its id, or the reverse.

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "controller/kube/resource.h"
#include "controller/runtime/label_selector.h"

namespace byok::hsmpolicy {

// The kind on the apiserver (cluster-scoped: the admin's).
kube::ResourceType hsm_key_policies();

// '*' matches any run of characters (also none), '?' exactly one; nothing else is special.
bool glob_match(std::string_view pattern, std::string_view text);

struct KeyRule {
  std::string label;  // pattern; empty: not constrained
  std::string id;     // hex pattern, compared case-insensitively; empty: not constrained
};

struct HsmKeyPolicy {
  std::string name;
  nlohmann::json namespace_selector;
  std::vector<KeyRule> keys;
  std::vector<std::string> destinations;  // ClusterKmsProvider names
  // Per destination, the account the KMS must say its credentials act in (who_am_i: AWS
  // account id, Google project, Azure tenant, OCI tenancy, ...); absent: not checked.
  std::map<std::string, std::string> accounts;
  // Destinations whose wrapping key the KMS must attest (WrappingKey::attested).
  std::set<std::string> attestation_required;
};

Result<HsmKeyPolicy> parse_hsm_key_policy(const nlohmann::json& object);

// An export as the ImportedKey asks for it.
struct ExportRequest {
  runtime::Labels namespace_labels;
  bool by_label = true;     // source.hsm.label (else source.hsm.id)
  std::string key;          // the label or hex id the ImportedKey names
  std::string destination;  // the ClusterKmsProvider's name
};

// The key the HSM found for the request.
struct FoundKey {
  std::string label;
  std::string id_hex;
};

// The name of the first policy (by name, so the answer is stable) that grants the request,
// judged on what the ImportedKey says (`found` unset: before the HSM is asked) or also on the
// key found; nullopt when none does.
std::optional<std::string> granting_policy(const std::vector<HsmKeyPolicy>& policies,
                                           const ExportRequest& request,
                                           const std::optional<FoundKey>& found = std::nullopt);

}  // namespace byok::hsmpolicy
