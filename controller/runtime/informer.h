#pragma once
// List+watch of one kind into a Store, as an explicit state machine:
//   Listing (paged) -> Watching from the list's resourceVersion -> ...
// A bookmark moves the resourceVersion; 410 Gone relists; a clean end of the stream watches
// again from the last resourceVersion; errors reconnect with jittered exponential backoff
// (800 ms .. 30 s), reset once a watch has stayed up for a quiet period.

#include <atomic>
#include <functional>
#include <random>
#include <string>

#include "common/log.h"
#include "common/metrics.h"
#include "common/stop_signal.h"
#include "controller/kube/client.h"
#include "controller/runtime/store.h"

namespace byok::runtime {

// Called for every change seen: old is null on add, now is null on delete.
using ChangeHandler = std::function<void(const Json* old, const Json* now)>;

class Informer {
 public:
  enum class State { Listing, Watching, Backoff };

  // Counts byok_informer_watch_restarts_total{resource=<plural>} in `metrics` (nullptr: a
  // registry of its own, unscraped).
  Informer(kube::KubeClient& client, kube::ResourceType type, std::string ns, Logger& log,
           metrics::Registry* metrics = nullptr);

  void add_handler(ChangeHandler handler) { handlers_.push_back(std::move(handler)); }
  // Runs until `stop` fires. Handlers run on this thread.
  void run(StopSignal& stop);

  // True once the first list is in the store (and from then on: a relist keeps serving the
  // last known objects).
  bool synced() const { return synced_.load(); }
  const Store& store() const { return store_; }
  uint64_t watch_restarts() const { return watch_restarts_.load(); }
  const kube::ResourceType& type() const { return type_; }

 private:
  Status list_into_store();
  void notify(const Json* old, const Json* now);

  kube::KubeClient& client_;
  kube::ResourceType type_;
  std::string ns_;
  Logger& log_;
  Store store_;
  std::vector<ChangeHandler> handlers_;
  std::string resource_version_;
  std::atomic<bool> synced_{false};
  std::atomic<uint64_t> watch_restarts_{0};
  std::unique_ptr<metrics::Registry> own_metrics_;  // before the counter that may point into it
  metrics::Counter& watch_restarts_metric_;
  std::mt19937_64 rng_{std::random_device{}()};
};

}  // namespace byok::runtime
