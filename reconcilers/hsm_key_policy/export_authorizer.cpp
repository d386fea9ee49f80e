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
  // The candidates come from the apiserver's watch cache (resourceVersion 0), which may be a
  // moment behind; a consistent list waits for that cache to catch up with etcd, tens of ms per
  // ask under load, three asks per import. A policy created a moment ago may be missed: that
  // refuses, and the retry finds it (fails closed).
  kube::ListOptions from_cache;
  from_cache.resource_version = "0";
  auto listed = kube::list_all(client_, hsm_key_policies(), "", from_cache);
  if (!listed) return listed.error().context("listing HsmKeyPolicies");
  std::vector<HsmKeyPolicy> policies;
  for (const auto& item : listed->items)
    if (auto p = parse_hsm_key_policy(item)) policies.push_back(std::move(*p));

  ExportRequest request{runtime::labels_of(*the_ns), ask.by_label, ask.key, ask.destination.name};
  auto candidate = granting_policy(policies, request, found);
  if (!candidate) return refused;
  // The grant itself is read fresh (a GET by name is a consistent read), and must still grant:
  // a policy removed or narrowed a moment ago stops this very export.
  auto fresh = client_.get(hsm_key_policies(), "", *candidate);
  if (!fresh) {
    if (fresh.error().kind == ErrorKind::NotFound) return refused;
    return fresh.error().context("reading HsmKeyPolicy " + *candidate);
  }
  auto policy = parse_hsm_key_policy(*fresh);
  if (!policy) return refused;
  if (granting_policy({*policy}, request, found) != candidate) return refused;
  Grant grant{policy->name, ""};
  if (auto a = policy->accounts.find(ask.destination.name); a != policy->accounts.end())
    grant.account = a->second;
  grant.require_attestation = policy->attestation_required.count(ask.destination.name) > 0;
  return grant;
}

}  // namespace byok::hsmpolicy
