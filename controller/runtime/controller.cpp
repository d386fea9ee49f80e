#include "controller/runtime/controller.h"

#include <thread>
#include <vector>

namespace byok::runtime {

ReconcileResult result_for(const Status& outcome) {
  using A = ReconcileResult::Action;
  if (outcome.ok()) return {A::Done, Millis(0), ""};
  const auto& e = outcome.error();
  switch (e.kind) {
    case ErrorKind::Unavailable:
    case ErrorKind::Throttled:
    case ErrorKind::Internal:
      return {A::RetryBackoff, Millis(0), e.message};
    case ErrorKind::Conflict:
    case ErrorKind::Gone:
      return {A::RequeueNow, Millis(0), e.message};
    default:
      return {A::Terminal, Millis(0), e.message};
  }
}

Controller::Controller(std::string name, WorkQueue& queue, ReconcileFn reconcile, int workers,
                       Millis resync, Logger& log)
    : name_(std::move(name)), queue_(queue), reconcile_(std::move(reconcile)), workers_(workers),
      resync_(resync), log_(log) {}

void Controller::run(StopSignal& stop) {
  std::vector<std::thread> threads;
  for (int i = 0; i < workers_; ++i) threads.emplace_back([this] { worker(); });
  stop.wait_for(std::chrono::hours(24 * 365 * 100));
  queue_.shut_down();
  for (auto& t : threads) t.join();
}

void Controller::handle(const std::string& key, const ReconcileResult& r) {
  using A = ReconcileResult::Action;
  switch (r.action) {
    case A::Done:
      counters_.success++;
      queue_.forget(key);
      queue_.add_after(key, resync_);
      break;
    case A::RequeueAfter:
      counters_.requeue_after++;
      queue_.forget(key);
      queue_.add_after(key, r.after);
      break;
    case A::RequeueNow:
      counters_.requeue++;
      queue_.add_backoff(key);  // 5 ms, 10 ms, ...: gives the watch time to deliver the change
      break;
    case A::RetryBackoff:
      counters_.error++;
      log_.warn("reconcile failed, retrying", {{"controller", name_}, {"key", key}, {"error", r.error}});
      queue_.add_rate_limited(key);
      break;
    case A::Terminal:
      counters_.error++;
      log_.warn("reconcile failed; waiting for a change", {{"controller", name_}, {"key", key}, {"error", r.error}});
      queue_.forget(key);
      queue_.add_after(key, resync_);
      break;
  }
}

void Controller::worker() {
  while (auto key = queue_.get()) {
    ReconcileResult r;
    try {
      r = reconcile_(*key);
    } catch (const std::exception& e) {
      // A bug must not kill the worker; it shows in the log and is retried with backoff.
      r = {ReconcileResult::Action::RetryBackoff, Millis(0), std::string("exception: ") + e.what()};
    }
    handle(*key, r);
    queue_.done(*key);
  }
}

}  // namespace byok::runtime
