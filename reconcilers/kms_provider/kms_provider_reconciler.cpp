#include "reconcilers/kms_provider/kms_provider_reconciler.h"

#include "controller/kube/resource.h"
#include "controller/runtime/status_writer.h"
#include "reconcilers/kms_provider/kms_failure.h"
#include "reconcilers/kms_provider/kms_provider_types.h"

namespace byok::kmsprovider {
namespace {

constexpr char kReady[] = "Ready";

nlohmann::json status_to_json(const KmsProviderStatus& s) {
  nlohmann::json j = {{"observedGeneration", s.observed_generation},
                      {"conditions", runtime::conditions_to_json(s.conditions)}};
  if (!s.accessor.empty()) j["accessor"] = s.accessor;
  return j;
}

}  // namespace

ProviderPlan plan_kms_provider(const KmsProvider& p, const ProviderCheck& check,
                               const std::string& now) {
  ProviderPlan plan;
  KmsProviderStatus next = p.status;
  next.observed_generation = p.meta.generation;
  const auto* before = runtime::find_condition(p.status.conditions, kReady);
  runtime::Condition ready{kReady, "", "", "", p.meta.generation, ""};
  if (check.accessor) {
    next.accessor = check.accessor->principal;
    ready.status = "True";
    ready.reason = "Authenticated";
    ready.message = "the " + p.spec.type + " KMS accepted the credentials; they act as " +
                    check.accessor->principal + ": grant it use of your keys";
  } else {
    auto f = classify_kms_failure(check.problem, check.error.kind);
    plan.transient_failure = f.transient;
    ready.status = f.status;
    ready.reason = f.reason;
    // A key-level reading of NotFound makes no sense for "who am I": the endpoint is wrong.
    ready.message =
        check.error.message + (std::string(f.fix).empty() || check.error.kind == ErrorKind::NotFound
                                   ? std::string()
                                   : ": " + std::string(f.fix));
  }
  runtime::set_condition(next.conditions, ready, now);
  if (!before || before->status != ready.status || before->reason != ready.reason)
    plan.events.push_back({ready.status == "True" ? "Normal" : "Warning",
                           ready.status == "True" ? "Authenticated" : "AuthenticationFailed",
                           "Verify", ready.message});
  if (!(next.conditions == p.status.conditions) || next.accessor != p.status.accessor ||
      next.observed_generation != p.status.observed_generation)
    plan.status = next;
  return plan;
}

KmsProviderReconciler::KmsProviderReconciler(kube::KubeClient& client, const runtime::Store& store,
                                             ProviderRegistry& providers,
                                             runtime::EventRecorder& events, const Clock& clock)
    : client_(client), store_(store), providers_(providers), events_(events), clock_(clock) {}

runtime::ReconcileResult KmsProviderReconciler::reconcile(const std::string& key) {
  auto object = store_.get(key);
  if (!object) return runtime::done();
  auto provider = parse_kms_provider(*object);
  if (!provider) return runtime::result_for(provider.error());
  const auto& meta = provider->meta;

  ProviderCheck check;
  auto lookup = providers_.get(meta.namespace_, ProviderRef{"KmsProvider", meta.name});
  if (!lookup.client) {
    check.problem = lookup.problem;
    check.error = lookup.error;
  } else if (auto who = lookup.client->who_am_i()) {
    check.accessor = *who;
  } else {
    check.error = who.error();
  }
  auto plan = plan_kms_provider(*provider, check, format_rfc3339(clock_.now()));

  if (plan.status) {
    auto written = runtime::apply_status(client_, kms_providers(), meta, meta.resource_version,
                                         status_to_json(*plan.status));
    if (!written) return runtime::result_for(written.error());
  }
  for (const auto& e : plan.events) events_.record(*object, e);
  // Checked again every kRecheckInterval, failing or not: a lasting failure's fix is often in a
  // Secret, which is not watched.
  if (!check.accessor)
    return runtime::reported_failure(plan.transient_failure, check.error.message, kRecheckInterval,
                                     check.error.retry_after);
  return runtime::requeue_after(kRecheckInterval);
}

}  // namespace byok::kmsprovider
