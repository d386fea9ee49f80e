#pragma once
// Wires kinds to the runtime: one informer per kind (shared by every controller that reads or
// watches it), one work queue and Controller per reconciled kind, and the handlers that turn
// watch events into keys. main builds the operator with it:
//
//   runtime::Manager manager(client, clock, random, log, options);
//   MyReconciler reconciler(client, manager.store(my_kind()), ...);
//   manager.controller(my_kind(), [&](const std::string& key) { return reconciler.reconcile(key);
//   })
//       .watches(other_kind(), [&](const Json* old, const Json* now) { return keys_for(old, now);
//       });
//   manager.start_informers(stop);  // every replica: warm caches
//   manager.run_controllers(stop);  // the leader: blocks until stop
//   manager.join_informers();
//
// Wiring a new kind, besides its own reconcilers/<kind>/ folder. Before the manager: 5 files,
// 9 places: its ResourceType in controller/kube/resource.h and resource.cpp; in
// controller/main.cpp five (an informer, a queue with its event handler, a Controller, and a
// place in each of the informer and controller lists); its sources in
// reconcilers/CMakeLists.txt; its verbs in the chart's ClusterRole.
// With it: 3 files, 3 places: one manager.controller(...) statement (after its reconciler) in
// controller/main.cpp; its sources in reconcilers/CMakeLists.txt; its verbs in the ClusterRole
// (tests/chart's RBAC test fails on a missing one). Its ResourceType lives in its own folder.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/random.h"
#include "common/stop_signal.h"
#include "controller/kube/client.h"
#include "controller/observability/health.h"
#include "controller/runtime/controller.h"
#include "controller/runtime/informer.h"
#include "controller/runtime/work_queue.h"

namespace byok::runtime {

struct ManagerOptions {
  std::vector<std::string> namespaces;  // watched; empty: every namespace
  int workers = 4;                      // per controller, unless its wiring says otherwise
  Millis resync{std::chrono::minutes(10)};
  WorkQueueOptions queue;
  // Where every informer, queue and controller records (nullptr: a registry of its own).
  metrics::Registry* metrics = nullptr;
  // A fresh id per reconcile (empty: a random UUID).
  std::function<std::string()> new_reconcile_id;
};

class Manager {
 public:
  // One reconciled kind's wiring, returned by controller() to add what else wakes it.
  class Builder {
   public:
    // Reconciles the keys `map` returns for every change of an object of `kind` (its own kind
    // included: the object's own key is already queued on a change that wakes_reconcile).
    Builder& watches(const kube::ResourceType& kind, MapFn map);

   private:
    friend class Manager;
    Builder(Manager& manager, WorkQueue& queue) : manager_(manager), queue_(queue) {}
    Manager& manager_;
    WorkQueue& queue_;
  };

  Manager(kube::KubeClient& client, const Clock& clock, Random& random, Logger& log,
          ManagerOptions options);
  Manager(const Manager&) = delete;
  Manager& operator=(const Manager&) = delete;
  ~Manager();

  // The cache of `kind`, for reconcilers and map functions to read (its informer is made on the
  // first ask and runs with the others).
  const Store& store(const kube::ResourceType& kind);
  // An index on that cache (store.h), so a reconciler finds the objects that matter to it without
  // visiting every object; before start_informers.
  void add_index(const kube::ResourceType& kind, const std::string& name, IndexFn fn);
  // Reconciles objects of `kind` with `reconcile` on `workers` workers (0: the options'); the
  // controller is named as controller-runtime names it, the kind in lower case. An object's
  // change that wakes_reconcile (change_filter.h) queues its key.
  Builder controller(const kube::ResourceType& kind, Controller::ReconcileFn reconcile,
                     int workers = 0);

  // /readyz passes "informer-<plural>" once that kind's first list is in.
  void add_readiness_checks(observability::HealthChecks& health);
  // Every informer on a thread of its own, until `stop`.
  void start_informers(StopSignal& stop);
  // Every controller's workers, until `stop`; then the queues are shut down.
  void run_controllers(StopSignal& stop);
  void join_informers();
  // Reconciles that ended Done, over every controller.
  uint64_t reconciled() const;

 private:
  Informer& informer(const kube::ResourceType& kind);

  kube::KubeClient& client_;
  const Clock& clock_;
  Random& random_;
  Logger& log_;
  ManagerOptions options_;
  std::map<std::string, std::unique_ptr<Informer>> informers_;  // by group/plural
  std::vector<std::unique_ptr<WorkQueue>> queues_;
  std::vector<std::unique_ptr<Controller>> controllers_;
  std::vector<std::thread> informer_threads_;
};

}  // namespace byok::runtime
