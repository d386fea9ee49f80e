#pragma once
// List+watch of one kind into a Store, as an explicit state machine:
//   Listing (paged) -> Watching from the list's resourceVersion -> ...
// An informer of several namespaces runs one such machine per namespace (each with its own
// resourceVersion and relists), all into the one Store.
// A bookmark moves the resourceVersion; 410 Gone relists; a clean end of the stream watches
// again from the last resourceVersion; errors reconnect with jittered exponential backoff
// (800 ms .. 30 s), reset once a watch has stayed up for a quiet period.

#include <atomic>
#include <functional>
#include <random>
#include <string>
#include <vector>

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
  // `ns`: one namespace, or "" for every namespace (and for cluster-scoped kinds).
  Informer(kube::KubeClient& client, kube::ResourceType type, std::string ns, Logger& log,
           metrics::Registry* metrics = nullptr);
  // Several namespaces, each watched on its own (none empty; an empty list: every namespace).
  Informer(kube::KubeClient& client, kube::ResourceType type, std::vector<std::string> namespaces,
           Logger& log, metrics::Registry* metrics = nullptr);

  void add_handler(ChangeHandler handler) { handlers_.push_back(std::move(handler)); }
  // Runs until `stop` fires. Handlers run on this thread, or, with several namespaces, on one
  // thread per namespace (so they must be safe to call concurrently, as queue adds are).
  void run(StopSignal& stop);

  // True once every namespace's first list is in the store (and from then on: a relist keeps
  // serving the last known objects).
  bool synced() const { return synced_.load() == namespaces_.size(); }
  const Store& store() const { return store_; }
  uint64_t watch_restarts() const { return watch_restarts_.load(); }
  const kube::ResourceType& type() const { return type_; }

 private:
  // One namespace's list+watch (or every namespace's, when `ns` is "").
  struct Stream {
    std::string ns;
    std::string resource_version;
    std::mt19937_64 rng{std::random_device{}()};
  };
  void run_stream(Stream& stream, StopSignal& stop);
  Status list_into_store(Stream& stream);
  void notify(const Json* old, const Json* now);

  kube::KubeClient& client_;
  kube::ResourceType type_;
  std::vector<std::string> namespaces_;
  Logger& log_;
  Store store_;
  std::vector<ChangeHandler> handlers_;
  std::atomic<size_t> synced_{0};  // streams whose first list is in
  std::atomic<uint64_t> watch_restarts_{0};
  std::unique_ptr<metrics::Registry> own_metrics_;  // before the counter that may point into it
  metrics::Counter& watch_restarts_metric_;
};

}  // namespace byok::runtime
