#include "controller/runtime/informer.h"

#include "controller/runtime/backoff.h"

namespace byok::runtime {
namespace {
const Millis kBackoffBase{800};
const Millis kBackoffCap{30000};
const auto kQuietPeriod = std::chrono::minutes(2);

std::string rv_of(const Json& o) { return o["metadata"].value("resourceVersion", ""); }
}  // namespace

Informer::Informer(kube::KubeClient& client, kube::ResourceType type, std::string ns, Logger& log,
                   metrics::Registry* metrics)
    : client_(client), type_(std::move(type)), ns_(std::move(ns)), log_(log),
      watch_restarts_metric_(metrics::given_or_own(metrics, own_metrics_)
                                 .counter("byok_informer_watch_restarts_total",
                                          "Watches of a resource that ended and were started again",
                                          {"resource"})
                                 .with({type_.plural})) {}

void Informer::notify(const Json* old, const Json* now) {
  // A handler that fails on one object (a hostile manifest it did not expect) is that object's
  // problem: logged, and the other handlers and objects go on. Left to unwind, it would end the
  // watch as an "unparseable event", or, on the relist path, the process.
  for (auto& h : handlers_) {
    try {
      h(old, now);
    } catch (const std::exception& e) {
      const Json* o = now ? now : old;
      std::string key = o && o->is_object() && o->contains("metadata") ? object_key(*o) : "?";
      log_.error("event handler failed", {{"resource", type_.plural}, {"object", key}, {"error", e.what()}});
    }
  }
}

Status Informer::list_into_store() {
  auto listed = kube::list_all(client_, type_, ns_);
  if (!listed) return listed.error();
  std::vector<Json> items(listed->items.begin(), listed->items.end());
  std::vector<Json> previous;
  for (const auto& item : items) {
    auto old = store_.get(object_key(item));
    previous.push_back(old ? *old : Json());
  }
  auto removed = store_.replace(items);
  for (size_t i = 0; i < items.size(); ++i) {
    if (previous[i].is_null()) notify(nullptr, &items[i]);
    else if (rv_of(previous[i]) != rv_of(items[i])) notify(&previous[i], &items[i]);
  }
  for (const auto& gone : removed) notify(&gone, nullptr);
  resource_version_ = listed->resource_version;
  return {};
}

void Informer::run(StopSignal& stop) {
  State state = State::Listing;
  int failures = 0;
  bool relist_after_backoff = true;
  while (!stop.stop_requested()) {
    switch (state) {
      case State::Listing: {
        auto st = list_into_store();
        if (!st) {
          log_.warn("list failed", {{"resource", type_.plural}, {"error", st.error().message}});
          relist_after_backoff = true;
          state = State::Backoff;
          break;
        }
        synced_ = true;
        state = State::Watching;
        break;
      }
      case State::Watching: {
        auto started = std::chrono::steady_clock::now();
        kube::WatchOptions opts;
        opts.resource_version = resource_version_;
        auto st = client_.watch(type_, ns_, opts, [this](const kube::WatchEvent& ev) {
          if (ev.type == "BOOKMARK") {
            resource_version_ = rv_of(ev.object);
            return true;
          }
          std::string rv = rv_of(ev.object);
          if (ev.type == "DELETED") {
            auto old = store_.erase(object_key(ev.object));
            notify(old ? &*old : &ev.object, nullptr);
          } else {
            auto old = store_.upsert(ev.object);
            notify(old ? &*old : nullptr, &ev.object);
          }
          if (!rv.empty()) resource_version_ = rv;
          return true;
        }, stop);
        if (std::chrono::steady_clock::now() - started > kQuietPeriod) failures = 0;
        if (stop.stop_requested()) return;
        watch_restarts_++;
        watch_restarts_metric_.inc();
        if (st.ok()) break;  // clean end: watch again from resource_version_
        if (st.error().kind == ErrorKind::Gone) {
          log_.info("watch expired, relisting", {{"resource", type_.plural}});
          state = State::Listing;
          break;
        }
        log_.warn("watch failed", {{"resource", type_.plural}, {"error", st.error().message}});
        relist_after_backoff = false;
        state = State::Backoff;
        break;
      }
      case State::Backoff: {
        if (stop.wait_for(jittered_backoff(failures++, kBackoffBase, kBackoffCap, rng_))) return;
        state = relist_after_backoff ? State::Listing : State::Watching;
        break;
      }
    }
  }
}

}  // namespace byok::runtime
