#pragma once
// A work queue of object keys, as client-go's: a key is queued at most once however often it is
// added; a key being processed is never handed to a second worker (an add while it runs marks it
// dirty and queues it again when done); delayed adds keep the earliest deadline, except within a
// server's hold (a Retry-After: nothing brings the key back sooner); rate-limited
// adds wait max(per-item exponential backoff, overall token bucket); forget() resets the item's
// failures after a success.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "common/clock.h"
#include "common/metrics.h"
#include "controller/runtime/backoff.h"

namespace byok::runtime {

struct WorkQueueOptions {
  Millis base_delay{5};
  Millis max_delay{1000 * 1000};
  double qps = 10;  // the overall bucket applies to rate-limited adds only, as client-go's
  double burst = 100;
  // Fairness between namespaces, which are tenants: a namespace is slow while one of its keys has
  // been in process for `slow_after`, and for `slow_memory` after one of its reconciles took that
  // long (a hostile or dead KMS endpoint, a slow drip). Quick reconciles in between do not clear
  // it: a tenant mixing fast failures with drips would otherwise win every worker back each time.
  // A slow namespace may hold at most `max_slow_per_namespace` workers (all its keys in process
  // count); its other keys wait while other namespaces' keys are handed out. A namespace that has
  // not been slow is never held back, so one busy tenant still gets every worker. 0: no limit.
  // The namespace is the key's part before '/' ("" for cluster-scoped keys).
  int max_slow_per_namespace = 0;
  Millis slow_after{5000};
  Millis slow_memory{5 * 60 * 1000};
};

struct WorkQueueStats {
  size_t depth = 0;
  uint64_t adds = 0;
  uint64_t retries = 0;
};

class WorkQueue {
 public:
  explicit WorkQueue(const Clock& clock, WorkQueueOptions options = {});
  ~WorkQueue();
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  void add(const std::string& key);
  void add_after(const std::string& key, Millis delay);
  // After max(per-item backoff, the overall bucket, `at_least`); `at_least` is what a server
  // asked (Retry-After), so a throttled key is not tried again sooner: the key is held until
  // then, and any add, add_after or earlier resync meanwhile is moved to the hold's end.
  void add_rate_limited(const std::string& key, Millis at_least = Millis(0));
  // Per-item backoff only, without the overall bucket: for conflicts, where the informer's cache
  // is briefly behind the apiserver and re-reading it at once would only conflict again.
  void add_backoff(const std::string& key);
  void forget(const std::string& key);
  int failures(const std::string& key) const;

  // Blocks until a key is ready or the queue shuts down (nullopt). Call done() after processing.
  std::optional<std::string> get();
  void done(const std::string& key);

  void shut_down();
  WorkQueueStats stats() const;

  // Records client-go's workqueue_depth, workqueue_adds_total, workqueue_retries_total,
  // workqueue_queue_duration_seconds and workqueue_work_duration_seconds under {name=`name`}.
  // Call before the queue is used; a Controller does it with its own name.
  void instrument(const std::string& name, metrics::Registry& registry);

 private:
  struct Metrics {
    metrics::Gauge* depth;
    metrics::Counter* adds;
    metrics::Counter* retries;
    metrics::Histogram* queue_duration;
    metrics::Histogram* work_duration;
  };
  void add_locked(const std::string& key);
  // Queues `key` at `deadline` (not before its hold ends); an earlier pending deadline wins.
  void schedule_locked(const std::string& key, SteadyTime deadline);
  // The end of `key`'s hold, if one is still running (an ended one is forgotten).
  std::optional<SteadyTime> held_until_locked(const std::string& key);
  // The first queued key whose namespace is not holding its share of slow workers; end() if none.
  std::deque<std::string>::iterator next_eligible_locked(SteadyTime now);
  void count_retry_locked();
  void delay_loop();

  const Clock& clock_;
  WorkQueueOptions options_;
  mutable std::mutex mu_;
  std::condition_variable ready_cv_;
  std::condition_variable delay_cv_;
  std::deque<std::string> queue_;
  std::unordered_set<std::string> dirty_;  // queued or to be queued when processing ends
  // Every key waits for its resync, so a waiting key is held once: waiting_ points at the key
  // of its waiting_deadline_ entry (a node's key stays put until the entry is erased, which only
  // delay_loop does, after erasing the waiting_ entry).
  std::unordered_map<std::string, SteadyTime> waiting_deadline_;
  std::multimap<SteadyTime, const std::string*> waiting_;  // deadline -> key
  // Keys a server asked to be left alone until then (add_rate_limited's `at_least`).
  std::unordered_map<std::string, SteadyTime> held_until_;
  std::unordered_map<std::string, int> failures_;
  TokenBucket bucket_;
  WorkQueueStats stats_;
  std::optional<Metrics> metrics_;
  std::unordered_map<std::string, SteadyTime> queued_at_;  // since the key became dirty
  // Keys being processed, since when a worker took them (fairness, work duration metric).
  std::unordered_map<std::string, SteadyTime> processing_at_;
  // When each namespace last finished a reconcile that took slow_after or longer (fairness);
  // entries older than slow_memory are dropped.
  std::map<std::string, SteadyTime, std::less<>> slow_namespaces_;
  bool shutting_down_ = false;
  std::thread delay_thread_;
};

}  // namespace byok::runtime
