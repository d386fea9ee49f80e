#pragma once
// Runs N workers over a work queue. A reconcile gets only the object's key (never why it was
// queued) and answers with what should happen next (error_policy.h builds that answer).

#include <atomic>
#include <functional>
#include <string>

#include "common/log.h"
#include "common/metrics.h"
#include "common/result.h"
#include "common/stop_signal.h"
#include "controller/runtime/error_policy.h"
#include "controller/runtime/work_queue.h"

namespace byok::runtime {

struct ControllerCounters {
  std::atomic<uint64_t> success{0}, error{0}, requeue{0}, requeue_after{0};
};

struct ControllerOptions {
  // Where controller-runtime's reconcile metrics and the queue's workqueue_* metrics go
  // (labels controller=/name= the controller's name); nullptr: a registry of its own, unscraped.
  metrics::Registry* metrics = nullptr;
  // A fresh id per reconcile, logged as reconcileID; empty: a random UUID.
  std::function<std::string()> new_reconcile_id;
};

class Controller {
 public:
  using ReconcileFn = std::function<ReconcileResult(const std::string& key)>;

  // Every record logged on a worker thread during a reconcile carries controller, namespace,
  // name and reconcileID (a LogScope); "reconciling"/"reconciled" are logged at debug level.
  Controller(std::string name, WorkQueue& queue, ReconcileFn reconcile, int workers, Millis resync,
             Logger& log, ControllerOptions options = {});
  // Blocks until `stop` fires; then shuts the queue down and joins the workers.
  void run(StopSignal& stop);
  const ControllerCounters& counters() const { return counters_; }

 private:
  void worker();
  void reconcile_one(const std::string& key);
  void handle(const std::string& key, const ReconcileResult& r);

  struct Metrics {
    metrics::Counter* success;
    metrics::Counter* error;
    metrics::Counter* requeue;
    metrics::Counter* requeue_after;
    metrics::Counter* errors;
    metrics::Counter* terminal_errors;
    metrics::Histogram* duration;
    metrics::Gauge* active_workers;
  };

  std::string name_;
  WorkQueue& queue_;
  ReconcileFn reconcile_;
  int workers_;
  Millis resync_;
  Logger& log_;
  std::function<std::string()> new_reconcile_id_;
  std::unique_ptr<metrics::Registry> own_metrics_;
  Metrics metrics_;
  ControllerCounters counters_;
};

}  // namespace byok::runtime
