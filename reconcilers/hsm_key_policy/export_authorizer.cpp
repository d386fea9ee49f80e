#include "reconcilers/hsm_key_policy/export_authorizer.h"

#include "controller/kube/resource.h"
#include "reconcilers/hsm_key_policy/hsm_key_policy.h"

namespace byok::hsmpolicy {

Result<Grant> ExportAuthorizer::authorize(const ExportAsk& ask,
                                          const std::optional<FoundKey>& found,
                                          runtime::ReadOnce* the_namespace) {
  const Error refused{
      ErrorKind::PermissionDenied,
      "no HsmKeyPolicy allows namespace " + ask.ns + " to import the HSM key with " +
          (ask.by_label ? "label \"" + ask.key + "\"" : "id " + ask.key) + " into " +
          ask.destination.describe() +
          ": a cluster admin must create an HsmKeyPolicy that selects this namespace, matches "
          "the key in its keys and lists the ClusterKmsProvider in its destinations"};
  // Only admin-owned destinations can ever be granted; refuse the rest without reading anything.
  if (!ask.destination.cluster()) return refused;

  auto the_ns = the_namespace && the_namespace->name() == ask.ns
                    ? the_namespace->get()
                    : client_.get(kube::resources::namespaces(), "", ask.ns);
  if (!the_ns) {
    if (the_ns.error().kind == ErrorKind::NotFound) return refused;
    return the_ns.error().context("reading Namespace " + ask.ns + " for HsmKeyPolicy checks");
  }
  ExportRequest request{runtime::labels_of(*the_ns), ask.by_label, ask.key, ask.destination.name};
  // The policies and the one that grants, from a list at `resource_version` ("0": the
  // apiserver's watch cache, which may be a moment behind; "": a consistent read).
  auto judge = [&](const std::string& resource_version)
      -> Result<std::pair<std::vector<HsmKeyPolicy>, std::optional<std::string>>> {
    kube::ListOptions options;
    options.resource_version = resource_version;
    auto listed = kube::list_all(client_, hsm_key_policies(), "", options);
    if (!listed) return listed.error().context("listing HsmKeyPolicies");
    std::vector<HsmKeyPolicy> policies;
    for (const auto& item : listed->items)
      if (auto p = parse_hsm_key_policy(item)) policies.push_back(std::move(*p));
    auto granted = granting_policy(policies, request, found);
    return std::make_pair(std::move(policies), std::move(granted));
  };
  auto grant_of = [&](const HsmKeyPolicy& p) {
    Grant grant{p.name, ""};
    if (auto a = p.accounts.find(ask.destination.name); a != p.accounts.end())
      grant.account = a->second;
    grant.require_attestation = p.attestation_required.count(ask.destination.name) > 0;
    return grant;
  };

  // The early checks (before the HSM is asked; `found` unset) only gate what is read next: the
  // candidate from the watch cache (a consistent list waits for that cache to catch up with
  // etcd, tens of ms under load), then the granting policy itself read fresh by name (a
  // consistent read) and judged again, so a policy removed or narrowed a moment ago refuses.
  // The check right before the wrap (`found` set) decides which policy grants, and with it the
  // account and attestation the export must meet: the first granting policy by name, which a
  // stale list could miss (a stricter policy added beside a laxer one). That one is always
  // decided on a consistent list.
  if (!found) {
    auto cached = judge("0");
    if (!cached) return cached.error();
    if (const auto& candidate = cached->second) {
      auto fresh = client_.get(hsm_key_policies(), "", *candidate);
      if (!fresh && fresh.error().kind != ErrorKind::NotFound)
        return fresh.error().context("reading HsmKeyPolicy " + *candidate);
      if (fresh)
        if (auto policy = parse_hsm_key_policy(*fresh);
            policy && granting_policy({*policy}, request, found) == candidate)
          return grant_of(*policy);
    }
  }
  // The grant right before the wrap, and any refusal, are decided on a consistent read: a
  // policy created a moment ago (applied together with the ImportedKey) is not missed either.
  auto current = judge("");
  if (!current) return current.error();
  if (!current->second) return refused;
  for (const auto& p : current->first)
    if (p.name == *current->second) return grant_of(p);
  return refused;
}

}  // namespace byok::hsmpolicy
