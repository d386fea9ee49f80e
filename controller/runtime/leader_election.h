#pragma once
// Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection package does
// it, so that of several replicas only one reconciles:
//  - a candidate reads the Lease; it takes it when there is none (create), when it is free
//    (holderIdentity empty) or when it has expired; it renews it while it holds it. Writes are
//    guarded by the resourceVersion read, so two candidates cannot both win one round.
//  - "expired" is judged the way client-go judges it: the Lease has stayed unchanged for
//    leaseDurationSeconds on *this* replica's monotonic clock. The acquire/renew times another
//    replica wrote are never compared with our clock, so clock skew between nodes cannot make
//    a live leader look dead (or a dead one look alive longer than one lease duration).
//  - the leader renews every retry period; when no renewal has succeeded for the renew deadline
//    it has lost leadership and must stop reconciling at once (the operator exits, as
//    controller-runtime does). renew deadline < lease duration leaves the old leader time to stop
//    before anyone else may take over.
//  - on a graceful shutdown, after the workers stopped, the leader releases the Lease
//    (holderIdentity "", leaseDurationSeconds 1, as client-go's ReleaseOnCancel) so a follower
//    takes over at its next retry instead of after a lease duration.
// The decision itself is the pure function decide_lease(); LeaderElector does the I/O.

#include <atomic>
#include <chrono>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/stop_signal.h"
#include "controller/kube/client.h"
#include "controller/runtime/backoff.h"

namespace byok::runtime {

struct LeaderElectionConfig {
  std::string ns;        // the Lease's namespace
  std::string name;      // the Lease's name
  std::string identity;  // this replica: unique per process (hostname or pod name + random suffix)
  // client-go's defaults. The Lease carries the duration in whole seconds (rounded up).
  Millis lease_duration{std::chrono::seconds(15)};
  Millis renew_deadline{std::chrono::seconds(10)};
  Millis retry_period{std::chrono::seconds(2)};
};

// What this replica last saw of the Lease: its spec, and since when (local monotonic clock) it
// has stayed exactly that.
struct LeaseObservation {
  nlohmann::json spec;  // null: nothing seen yet
  SteadyTime since{};
};

enum class LeaseAction {
  Create,   // no Lease yet: create it, held by us
  Acquire,  // free or expired: take it over (leaseTransitions + 1)
  Renew,    // ours: move renewTime
  Wait,     // another replica holds it and it has not expired
};
const char* to_string(LeaseAction action);

struct LeaseDecision {
  LeaseAction action = LeaseAction::Wait;
  // Create: the whole Lease object. Acquire/Renew: a merge patch carrying the resourceVersion
  // read (the apiserver answers 409 when the Lease changed since). Wait: null.
  nlohmann::json write;
  nlohmann::json spec;           // the spec written (Create/Acquire/Renew)
  LeaseObservation observation;  // of the Lease as read; remember it for the next round
  std::string holder;            // the holder as read ("" when free or absent)
  Millis wait{0};                // Wait: look again after this (≤ retry period; at expiry)
};

// client-go's tryAcquireOrRenew as a function of what was read. `current` is the Lease as the
// apiserver returned it (nullopt: NotFound); `seen` is the previous round's observation.
// Missing spec fields read as client-go reads them: no holder = free, no leaseDurationSeconds =
// expired, no leaseTransitions = 0. Times written are MicroTime ("...T15:38:00.123456Z").
LeaseDecision decide_lease(const std::optional<nlohmann::json>& current,
                           const LeaseObservation& seen, SteadyTime steady_now, SystemTime now,
                           const LeaderElectionConfig& config);

// The merge patch that gives up `current` (held by us): holderIdentity "", leaseDurationSeconds
// 1, times now, transitions kept; guarded by its resourceVersion.
nlohmann::json release_patch(const nlohmann::json& current, SystemTime now);

class LeaderElector {
 public:
  // Sets leader_election_master_status{name=<lease name>} (client-go's gauge) in `metrics`
  // (nullptr: a registry of its own, unscraped). `client` should time requests out well within the
  // renew deadline.
  LeaderElector(kube::KubeClient& client, const Clock& clock, Logger& log,
                LeaderElectionConfig config, metrics::Registry* metrics = nullptr);

  // Blocks until this replica holds the Lease (true) or `stop` fires first (false).
  bool acquire(StopSignal& stop);
  // Renews every retry period until `stop` fires (true: still leading; call release() once the
  // workers have stopped) or no renewal succeeded for the renew deadline, or another replica
  // took the Lease (false: leadership is lost, stop reconciling now).
  bool keep_renewing(StopSignal& stop);
  // Blocks until `stop` fires (true) or the renew deadline has passed since the start of the
  // last successful renewal (false: leadership is lost, stop reconciling now). Runs beside
  // keep_renewing(), whose own check only comes after a round that can itself take the
  // request timeout twice: this one keeps the deadline however long a request hangs.
  bool watch_renew_deadline(StopSignal& stop);
  // Gives the Lease up if this replica holds it; best effort (logged on failure).
  void release();

  bool leading() const { return leading_.load(); }

 private:
  enum class Round {
    Holding,      // this replica holds the Lease after this round
    HeldByOther,  // another replica holds it and it has not expired (decision.wait says when to
                  // look)
    Failed,       // the read or the write failed (a conflict included): try again
  };
  // One read + decide + write, as client-go's tryAcquireOrRenew.
  Round try_acquire_or_renew(LeaseDecision& decision);
  void set_leading(bool leading);

  kube::KubeClient& client_;
  const Clock& clock_;
  Logger& log_;
  LeaderElectionConfig config_;
  std::unique_ptr<metrics::Registry> own_metrics_;  // before the gauge that may point into it
  metrics::Gauge& status_;
  LeaseObservation seen_;
  // When the last successful acquire or renew started (steady clock, since its epoch): the
  // Lease's renewTime is no older than that.
  std::atomic<SteadyTime::rep> renewed_at_{0};
  std::string last_holder_;
  std::atomic<bool> leading_{false};
};

}  // namespace byok::runtime
