#include "reconcilers/hsm_key_policy/export_authorizer.h"

#include "controller/kube/resource.h"
#include "reconcilers/hsm_key_policy/hsm_key_policy.h"

namespace byok::hsmpolicy {

Result<Grant> ExportAuthorizer::authorize(const ExportAsk& ask,
                                          const std::optional<FoundKey>& found) {
  const Error refused{
      ErrorKind::PermissionDenied,
      "no HsmKeyPolicy allows namespace " + ask.ns + " to import the HSM key with " +
          (ask.by_label ? "label \"" + ask.key + "\"" : "id " + ask.key) + " into " +
          ask.destination.describe() +
          ": a cluster admin must create an HsmKeyPolicy that selects this namespace, matches "
          "the key in its keys and lists the ClusterKmsProvider in its destinations"};
  // Only admin-owned destinations can ever be granted; refuse the rest without reading anything.
  if (!ask.destination.cluster()) return refused;

  auto the_ns = client_.get(kube::resources::namespaces(), "", ask.ns);
  if (!the_ns) {
    if (the_ns.error().kind == ErrorKind::NotFound) return refused;
    return the_ns.error().context("reading Namespace " + ask.ns + " for HsmKeyPolicy checks");
  }
  auto listed = kube::list_all(client_, hsm_key_policies(), "");
  if (!listed) return listed.error().context("listing HsmKeyPolicies");
  std::vector<HsmKeyPolicy> policies;
  for (const auto& item : listed->items)
    if (auto p = parse_hsm_key_policy(item)) policies.push_back(std::move(*p));

  ExportRequest request{runtime::labels_of(*the_ns), ask.by_label, ask.key, ask.destination.name};
  auto granted = granting_policy(policies, request, found);
  if (!granted) return refused;
  Grant grant{*granted, ""};
  for (const auto& p : policies) {
    if (p.name != *granted) continue;
    if (auto a = p.accounts.find(ask.destination.name); a != p.accounts.end())
      grant.account = a->second;
    grant.require_attestation = p.attestation_required.count(ask.destination.name) > 0;
  }
  return grant;
}

}  // namespace byok::hsmpolicy
