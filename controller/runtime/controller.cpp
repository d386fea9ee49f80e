#include "controller/runtime/controller.h"
#include "controller/runtime/memory_release.h"

#include <thread>
#include <vector>

#include "common/uuid.h"
#include "controller/runtime/store.h"

namespace byok::runtime {

namespace {

const char* result_label(ReconcileResult::Action a) {
  using A = ReconcileResult::Action;
  switch (a) {
    case A::Done:
      return "success";
    case A::RequeueAfter:
      return "requeue_after";
    case A::RequeueNow:
      return "requeue";
    case A::RetryBackoff:
    case A::Terminal:
      return "error";
  }
  return "error";
}

}  // namespace

Controller::Controller(std::string name, WorkQueue& queue, ReconcileFn reconcile, int workers,
                       Millis resync, Logger& log, ControllerOptions options)
    : name_(std::move(name)),
      queue_(queue),
      reconcile_(std::move(reconcile)),
      workers_(workers),
      resync_(resync),
      log_(log),
      new_reconcile_id_(std::move(options.new_reconcile_id)) {
  if (!new_reconcile_id_) new_reconcile_id_ = [] { return random_uuid(); };
  auto& m = metrics::given_or_own(options.metrics, own_metrics_);
  // controller-runtime's names, labels and buckets, so its dashboards work unchanged.
  auto& total =
      m.counter("controller_runtime_reconcile_total",
                "Total number of reconciliations per controller", {"controller", "result"});
  auto buckets = std::vector<double>{0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3,  0.35,
                                     0.4,   0.45, 0.5,   0.6,  0.7, 0.8,  0.9, 1.0,  1.25, 1.5,
                                     1.75,  2.0,  2.5,   3.0,  3.5, 4.0,  4.5, 5,    6,    7,
                                     8,     9,    10,    15,   20,  25,   30,  40,   50,   60};
  metrics_ = Metrics{
      &total.with({name_, "success"}),
      &total.with({name_, "error"}),
      &total.with({name_, "requeue"}),
      &total.with({name_, "requeue_after"}),
      &m.counter("controller_runtime_reconcile_errors_total",
                 "Total number of reconciliation errors per controller", {"controller"})
           .with({name_}),
      &m.counter("controller_runtime_terminal_reconcile_errors_total",
                 "Total number of terminal reconciliation errors per controller", {"controller"})
           .with({name_}),
      &m.histogram("controller_runtime_reconcile_time_seconds",
                   "Length of time per reconciliation per controller", {"controller"}, buckets)
           .with({name_}),
      &m.gauge("controller_runtime_active_workers",
               "Number of currently used workers per controller", {"controller"})
           .with({name_}),
  };
  m.gauge("controller_runtime_max_concurrent_reconciles",
          "Maximum number of concurrent reconciles per controller", {"controller"})
      .with({name_})
      .set(workers_);
  queue_.instrument(name_, m);
}

void Controller::run(StopSignal& stop) {
  std::vector<std::thread> threads;
  for (int i = 0; i < workers_; ++i) threads.emplace_back([this] { worker(); });
  stop.wait_for(std::chrono::hours(24 * 365 * 100));
  queue_.shut_down();
  for (auto& t : threads) t.join();
}

void Controller::handle(const std::string& key, const ReconcileResult& r) {
  using A = ReconcileResult::Action;
  if (r.action == A::RetryBackoff || r.action == A::Terminal) metrics_.errors->inc();
  switch (r.action) {
    case A::Done:
      counters_.success++;
      metrics_.success->inc();
      queue_.forget(key);
      queue_.add_after(key, resync_);
      break;
    case A::RequeueAfter:
      counters_.requeue_after++;
      metrics_.requeue_after->inc();
      queue_.forget(key);
      queue_.add_after(key, r.after);
      break;
    case A::RequeueNow:
      counters_.requeue++;
      metrics_.requeue->inc();
      queue_.add_backoff(key);  // 5 ms, 10 ms, ...: gives the watch time to deliver the change
      break;
    case A::RetryBackoff:
      counters_.error++;
      metrics_.error->inc();
      log_.warn("reconcile failed, retrying", {{"error", r.error}});
      queue_.add_rate_limited(key, r.after);  // r.after: a server's Retry-After, if any
      break;
    case A::Terminal:
      counters_.error++;
      metrics_.error->inc();
      metrics_.terminal_errors->inc();
      log_.warn("reconcile failed; waiting for a change", {{"error", r.error}});
      queue_.forget(key);
      queue_.add_after(key, resync_);
      break;
  }
}

void Controller::reconcile_one(const std::string& key) {
  auto [ns, name] = split_key(key);
  LogScope scope({{"controller", name_},
                  {"namespace", ns},
                  {"name", name},
                  {"reconcileID", new_reconcile_id_()}});
  log_.debug("reconciling");
  metrics_.active_workers->inc();
  // The real steady clock, not the injected one: it only measures how long the reconcile took
  // for the duration histogram, and decides nothing (a fake clock would report 0 s in tests).
  auto started = std::chrono::steady_clock::now();
  ReconcileResult r;
  try {
    r = reconcile_(key);
  } catch (const std::exception& e) {
    // A bug must not kill the worker; it shows in the log and is retried as policy retries one.
    r = result_for(Error{ErrorKind::Internal, std::string("exception: ") + e.what()});
  }
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  metrics_.duration->observe(seconds);
  metrics_.active_workers->dec();
  log_.debug("reconciled",
             {{"result", result_label(r.action)}, {"seconds", metrics::format_value(seconds)}});
  handle(key, r);
}

void Controller::worker() {
  while (auto key = queue_.get()) {
    reconcile_one(*key);
    queue_.done(*key);
    // The burst is over: what its reconciles parsed and freed goes back to the system.
    if (queue_.stats().depth == 0) release_free_memory();
  }
}

}  // namespace byok::runtime
