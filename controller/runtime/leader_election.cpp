#include "controller/runtime/leader_election.h"

#include <algorithm>

#include "common/json_fields.h"
#include "controller/kube/resource.h"
#include "controller/runtime/events.h"

namespace byok::runtime {
namespace {

using Json = nlohmann::json;

}  // namespace

const char* to_string(LeaseAction action) {
  switch (action) {
    case LeaseAction::Create:
      return "create";
    case LeaseAction::Acquire:
      return "acquire";
    case LeaseAction::Renew:
      return "renew";
    case LeaseAction::Wait:
      return "wait";
  }
  return "wait";
}

LeaseDecision decide_lease(const std::optional<Json>& current, const LeaseObservation& seen,
                           SteadyTime steady_now, SystemTime now,
                           const LeaderElectionConfig& config) {
  LeaseDecision d;
  const std::string t = format_micro_time(now);
  const int64_t duration =
      std::max<int64_t>(1, std::chrono::ceil<std::chrono::seconds>(config.lease_duration).count());
  if (!current) {
    d.action = LeaseAction::Create;
    d.observation = {Json(), steady_now};
    d.spec = {{"holderIdentity", config.identity},
              {"leaseDurationSeconds", duration},
              {"acquireTime", t},
              {"renewTime", t},
              {"leaseTransitions", 0}};
    d.write = {{"apiVersion", "coordination.k8s.io/v1"},
               {"kind", "Lease"},
               {"metadata", {{"name", config.name}, {"namespace", config.ns}}},
               {"spec", d.spec}};
    return d;
  }

  Json spec = current->contains("spec") && (*current)["spec"].is_object() ? (*current)["spec"]
                                                                          : Json::object();
  d.holder = str(spec, "holderIdentity");
  // A Lease that changed since the last round was renewed (or taken) just now, as far as this
  // replica can tell; one that did not change has been idle since we first saw it so.
  d.observation = seen.spec == spec ? seen : LeaseObservation{spec, steady_now};
  const bool mine = d.holder == config.identity;
  const SteadyTime expiry =
      d.observation.since + std::chrono::seconds(integer(spec, "leaseDurationSeconds").value_or(0));
  if (!d.holder.empty() && !mine && expiry > steady_now) {
    d.action = LeaseAction::Wait;
    auto until_expiry = std::chrono::ceil<Millis>(expiry - steady_now);
    d.wait = std::max(Millis(1), std::min<Millis>(config.retry_period, until_expiry));
    return d;
  }

  const int64_t transitions = integer(spec, "leaseTransitions").value_or(0);
  const std::string acquired = str(spec, "acquireTime");
  d.action = mine ? LeaseAction::Renew : LeaseAction::Acquire;
  d.spec = {{"holderIdentity", config.identity},
            {"leaseDurationSeconds", duration},
            {"acquireTime", mine && !acquired.empty() ? acquired : t},
            {"renewTime", t},
            {"leaseTransitions", mine ? transitions : transitions + 1}};
  d.write = {
      {"metadata", {{"resourceVersion", (*current)["metadata"].value("resourceVersion", "")}}},
      {"spec", d.spec}};
  return d;
}

Json release_patch(const Json& current, SystemTime now) {
  const std::string t = format_micro_time(now);
  Json spec =
      current.contains("spec") && current["spec"].is_object() ? current["spec"] : Json::object();
  return {{"metadata", {{"resourceVersion", current["metadata"].value("resourceVersion", "")}}},
          {"spec",
           {{"holderIdentity", ""},
            {"leaseDurationSeconds", 1},
            {"acquireTime", t},
            {"renewTime", t},
            {"leaseTransitions", integer(spec, "leaseTransitions").value_or(0)}}}};
}

LeaderElector::LeaderElector(kube::KubeClient& client, const Clock& clock, Logger& log,
                             LeaderElectionConfig config, metrics::Registry* metrics)
    : client_(client),
      clock_(clock),
      log_(log),
      config_(std::move(config)),
      status_(
          metrics::given_or_own(metrics, own_metrics_)
              .gauge("leader_election_master_status",
                     "Gauge of whether the reporting system is master of the relevant lease, 0 "
                     "indicates backup, 1 indicates master. 'name' is the string used to identify "
                     "the lease.",
                     {"name"})
              .with({config_.name})) {
  status_.set(0);
}

void LeaderElector::set_leading(bool leading) {
  leading_ = leading;
  status_.set(leading ? 1 : 0);
}

LeaderElector::Round LeaderElector::try_acquire_or_renew(LeaseDecision& d) {
  // Before the read: a renewal counts from the earliest moment it can have been seen.
  const auto round_started = clock_.steady_now();
  const auto leases = kube::resources::leases();
  auto got = client_.get(leases, config_.ns, config_.name);
  if (!got && got.error().kind != ErrorKind::NotFound) {
    log_.warn("cannot read the leader election lease",
              {{"lease", config_.ns + "/" + config_.name}, {"error", got.error().message}});
    return Round::Failed;
  }
  std::optional<Json> current;
  if (got) current = std::move(*got);
  d = decide_lease(current, seen_, clock_.steady_now(), clock_.now(), config_);
  seen_ = d.observation;
  if (d.holder != last_holder_ && !d.holder.empty() && d.holder != config_.identity)
    log_.info("leader election lease held by another replica",
              {{"lease", config_.ns + "/" + config_.name}, {"holder", d.holder}});
  last_holder_ = d.holder;
  if (d.action == LeaseAction::Wait) return Round::HeldByOther;

  Result<Json> written =
      d.action == LeaseAction::Create
          ? client_.create(leases, config_.ns, d.write)
          : client_.patch(leases, config_.ns, config_.name, kube::PatchType::Merge, d.write);
  if (!written) {
    if (d.action == LeaseAction::Create && written.error().kind == ErrorKind::PermissionDenied) {
      // Under the Helm chart the Lease is the chart's, and the operator may not create one: no
      // replica can lead until it is back.
      log_.error(
          "the leader election Lease does not exist and this ServiceAccount may not "
          "create it; the Helm chart makes it (helm upgrade makes it again)",
          {{"lease", config_.ns + "/" + config_.name}, {"error", written.error().message}});
      return Round::Failed;
    }
    // A conflict means another replica wrote first: its write is seen at the next round.
    log_.info("leader election lease write failed", {{"lease", config_.ns + "/" + config_.name},
                                                     {"action", to_string(d.action)},
                                                     {"error", written.error().message}});
    return Round::Failed;
  }
  seen_ = {written->value("spec", Json::object()), clock_.steady_now()};
  last_holder_ = config_.identity;
  renewed_at_ = round_started.time_since_epoch().count();
  return Round::Holding;
}

bool LeaderElector::acquire(StopSignal& stop) {
  log_.info("attempting to acquire the leader election lease",
            {{"lease", config_.ns + "/" + config_.name}, {"identity", config_.identity}});
  while (!stop.stop_requested()) {
    LeaseDecision d;
    auto round = try_acquire_or_renew(d);
    if (round == Round::Holding) {
      set_leading(true);
      log_.info("acquired the leader election lease", {{"lease", config_.ns + "/" + config_.name},
                                                       {"identity", config_.identity},
                                                       {"action", to_string(d.action)}});
      return true;
    }
    Millis wait = round == Round::HeldByOther ? d.wait : config_.retry_period;
    if (stop.wait_for(wait)) break;
  }
  return false;
}

bool LeaderElector::keep_renewing(StopSignal& stop) {
  while (!stop.wait_for(config_.retry_period)) {
    LeaseDecision d;
    auto round = try_acquire_or_renew(d);
    if (round == Round::Holding) continue;
    std::string why;
    if (round == Round::HeldByOther)
      why = "the lease is held by " + d.holder;
    else if (clock_.steady_now() - SteadyTime(SteadyTime::duration(renewed_at_.load())) >=
             config_.renew_deadline)
      why = "no renewal succeeded within the renew deadline";
    else
      continue;
    set_leading(false);
    log_.error("leader election lost",
               {{"lease", config_.ns + "/" + config_.name}, {"reason", why}});
    return false;
  }
  return true;
}

bool LeaderElector::watch_renew_deadline(StopSignal& stop) {
  const auto tick =
      std::max(Millis(10), std::chrono::duration_cast<Millis>(config_.retry_period) / 10);
  while (!stop.wait_for(tick)) {
    auto since = clock_.steady_now() - SteadyTime(SteadyTime::duration(renewed_at_.load()));
    if (since < config_.renew_deadline) continue;
    set_leading(false);
    log_.error("leader election lost", {{"lease", config_.ns + "/" + config_.name},
                                        {"reason",
                                         "no renewal succeeded within the renew deadline "
                                         "(a lease request is still hanging)"}});
    return false;
  }
  return true;
}

void LeaderElector::release() {
  if (!leading_) return;
  const auto leases = kube::resources::leases();
  auto got = client_.get(leases, config_.ns, config_.name);
  Status st = got ? Status{} : Status{got.error()};
  if (got && str((*got)["spec"], "holderIdentity") == config_.identity) {
    auto r = client_.patch(leases, config_.ns, config_.name, kube::PatchType::Merge,
                           release_patch(*got, clock_.now()));
    if (!r) st = r.error();
  }
  set_leading(false);
  if (!st) {
    log_.warn("cannot release the leader election lease", {{"error", st.error().message}});
    return;
  }
  log_.info("released the leader election lease", {{"lease", config_.ns + "/" + config_.name}});
}

}  // namespace byok::runtime
