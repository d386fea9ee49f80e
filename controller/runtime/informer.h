#pragma once
// List+watch of one kind into a Store, as an explicit state machine:
//   Listing (paged) -> Watching from the list's resourceVersion -> ...
// An informer of several namespaces runs one such machine per namespace (each with its own
// resourceVersion and relists), all into the one Store.
// A bookmark moves the resourceVersion; 410 Gone relists; a clean end of the stream watches
// again from the last resourceVersion; errors reconnect with jittered exponential backoff
// (800 ms .. 30 s), reset once a watch has stayed up for a quiet period (read on the injected
// Clock; the jitter drawn from the injected Random).

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/random.h"
#include "common/stop_signal.h"
#include "controller/kube/client.h"
#include "controller/runtime/backoff.h"
#include "controller/runtime/store.h"

namespace byok::runtime {

// Called for every change seen: old is null on add, now is null on delete.
using ChangeHandler = std::function<void(const Json* old, const Json* now)>;
// Maps a change (as a ChangeHandler sees it) to the work-queue keys it should wake.
using MapFn = std::function<std::vector<std::string>(const Json* old, const Json* now)>;

struct InformerOptions {
  // Counts byok_informer_watch_restarts_total{resource=<plural>} here (nullptr: a registry of its
  // own, unscraped).
  metrics::Registry* metrics = nullptr;
  // How a reconnect backoff waits; true when `stop` fired meanwhile. Empty: stop.wait_for. A
  // test records the delays instead of sleeping through them.
  std::function<bool(Millis, StopSignal&)> wait;
};

class Informer {
 public:
  enum class State { Listing, Watching, Backoff };

  // `ns`: one namespace, or "" for every namespace (and for cluster-scoped kinds).
  Informer(kube::KubeClient& client, kube::ResourceType type, std::string ns, const Clock& clock,
           Random& random, Logger& log, InformerOptions options = {});
  // Several namespaces, each watched on its own (none empty; an empty list: every namespace).
  Informer(kube::KubeClient& client, kube::ResourceType type, std::vector<std::string> namespaces,
           const Clock& clock, Random& random, Logger& log, InformerOptions options = {});

  void add_handler(ChangeHandler handler) { handlers_.push_back(std::move(handler)); }
  // Runs until `stop` fires. Handlers run on this thread, or, with several namespaces, on one
  // thread per namespace (so they must be safe to call concurrently, as queue adds are).
  void run(StopSignal& stop);

  // True once every namespace's first list is in the store (and from then on: a relist keeps
  // serving the last known objects).
  bool synced() const { return synced_.load() == namespaces_.size(); }
  const Store& store() const { return store_; }
  // An index on the store (store.h); before run().
  void add_index(const std::string& name, IndexFn fn) { store_.add_index(name, std::move(fn)); }
  uint64_t watch_restarts() const { return watch_restarts_.load(); }
  const kube::ResourceType& type() const { return type_; }

 private:
  // One namespace's list+watch (or every namespace's, when `ns` is "").
  struct Stream {
    std::string ns;
    std::string resource_version;
  };
  void run_stream(Stream& stream, StopSignal& stop);
  Status list_into_store(Stream& stream);
  void notify(const Json* old, const Json* now);

  kube::KubeClient& client_;
  kube::ResourceType type_;
  std::vector<std::string> namespaces_;
  const Clock& clock_;
  Random& random_;
  std::function<bool(Millis, StopSignal&)> wait_;
  Logger& log_;
  Store store_;
  std::vector<ChangeHandler> handlers_;
  std::atomic<size_t> synced_{0};  // streams whose first list is in
  std::atomic<uint64_t> watch_restarts_{0};
  std::unique_ptr<metrics::Registry> own_metrics_;  // before the counter that may point into it
  metrics::Counter& watch_restarts_metric_;
};

}  // namespace byok::runtime
