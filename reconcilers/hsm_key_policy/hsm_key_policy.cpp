#include "reconcilers/hsm_key_policy/hsm_key_policy.h"

#include <algorithm>
#include <cctype>

namespace byok::hsmpolicy {

kube::ResourceType hsm_key_policies() {
  return {"byok.dev", "v1alpha1", "hsmkeypolicies", "HsmKeyPolicy", false};
}
namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool rule_names_request(const KeyRule& rule, const ExportRequest& r) {
  if (r.by_label) return !rule.label.empty() && glob_match(rule.label, r.key);
  return !rule.id.empty() && glob_match(lower(rule.id), lower(r.key));
}

bool rule_matches_found(const KeyRule& rule, const FoundKey& found) {
  if (!rule.label.empty() && !glob_match(rule.label, found.label)) return false;
  if (!rule.id.empty() && !glob_match(lower(rule.id), lower(found.id_hex))) return false;
  return true;
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view text) {
  const std::string_view p = pattern, s = text;
  // Greedy with one backtrack point: O(|p| * |s|) at worst, no recursion.
  size_t pi = 0, si = 0, star = std::string_view::npos, mark = 0;
  while (si < s.size()) {
    if (pi < p.size() && (p[pi] == '?' || p[pi] == s[si])) {
      ++pi;
      ++si;
    } else if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = si;
    } else if (star != std::string_view::npos) {
      pi = star + 1;
      si = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

Result<HsmKeyPolicy> parse_hsm_key_policy(const nlohmann::json& object) {
  try {
    HsmKeyPolicy p;
    p.name = object.at("metadata").value("name", "");
    const auto& spec = object.at("spec");
    p.namespace_selector = spec.value("namespaceSelector", nlohmann::json::object());
    for (const auto& k : spec.value("keys", nlohmann::json::array()))
      p.keys.push_back(KeyRule{k.value("label", ""), k.value("id", "")});
    for (const auto& d : spec.value("destinations", nlohmann::json::array())) {
      p.destinations.push_back(d.value("clusterKmsProvider", ""));
      if (d.contains("account")) p.accounts[p.destinations.back()] = d.value("account", "");
      if (d.value("requireAttestation", false))
        p.attestation_required.insert(p.destinations.back());
    }
    return p;
  } catch (const nlohmann::json::exception& e) {
    return make_error(ErrorKind::InvalidArgument,
                      std::string("HsmKeyPolicy does not match its schema: ") + e.what());
  }
}

std::optional<std::string> granting_policy(const std::vector<HsmKeyPolicy>& policies,
                                           const ExportRequest& request,
                                           const std::optional<FoundKey>& found) {
  std::vector<const HsmKeyPolicy*> sorted;
  for (const auto& p : policies) sorted.push_back(&p);
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->name < b->name; });
  for (const auto* p : sorted) {
    if (request.destination.empty() || std::find(p->destinations.begin(), p->destinations.end(),
                                                 request.destination) == p->destinations.end())
      continue;
    if (!runtime::selects(p->namespace_selector, request.namespace_labels)) continue;
    for (const auto& rule : p->keys) {
      if (rule.label.empty() && rule.id.empty()) continue;
      if (!rule_names_request(rule, request)) continue;
      if (found && !rule_matches_found(rule, *found)) continue;
      return p->name;
    }
  }
  return std::nullopt;
}

}  // namespace byok::hsmpolicy
