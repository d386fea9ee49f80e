#pragma once
// metav1.LabelSelector matching (matchLabels and matchExpressions with In, NotIn, Exists,
// DoesNotExist), for the admin-owned kinds that grant namespaces something.
//
// Unlike Kubernetes' own "an empty selector selects everything", selects() treats an absent or
// empty selector as selecting NOTHING: a grant must name whom it grants. A selector this code
// cannot read (an unknown operator, a non-string value) also selects nothing, so a typo never
// widens a grant.

#include <map>
#include <string>

#include <nlohmann/json.hpp>

namespace byok::runtime {

using Labels = std::map<std::string, std::string>;

bool selects(const nlohmann::json& selector, const Labels& labels);

// metadata.labels of an object as a map (non-string values skipped).
Labels labels_of(const nlohmann::json& object);

}  // namespace byok::runtime
