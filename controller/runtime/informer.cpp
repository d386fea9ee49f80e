#include "controller/runtime/informer.h"

#include <algorithm>
#include <iterator>
#include <thread>

#include "controller/runtime/backoff.h"
#include "controller/runtime/memory_release.h"

namespace byok::runtime {
namespace {
const Millis kBackoffBase{800};
const Millis kBackoffCap{30000};
const auto kQuietPeriod = std::chrono::minutes(2);

// The wait a failed list or watch's answer asked for (a 429's Retry-After), up to the cap.
Millis asked_wait(const Error& e) {
  if (!e.retry_after) return Millis(0);
  return std::min<Millis>(*e.retry_after, kBackoffCap);
}

std::string rv_of(const Json& o) { return o["metadata"].value("resourceVersion", ""); }

// Each namespace once (two streams of one namespace would relist over each other); none given:
// every namespace, one stream.
std::vector<std::string> distinct_or_all(std::vector<std::string> namespaces) {
  if (namespaces.empty()) return {""};
  std::sort(namespaces.begin(), namespaces.end());
  namespaces.erase(std::unique(namespaces.begin(), namespaces.end()), namespaces.end());
  return namespaces;
}
}  // namespace

Informer::Informer(kube::KubeClient& client, kube::ResourceType type, std::string ns,
                   const Clock& clock, Random& random, Logger& log, InformerOptions options)
    : Informer(client, std::move(type), std::vector<std::string>{std::move(ns)}, clock, random, log,
               std::move(options)) {}

Informer::Informer(kube::KubeClient& client, kube::ResourceType type,
                   std::vector<std::string> namespaces, const Clock& clock, Random& random,
                   Logger& log, InformerOptions options)
    : client_(client),
      type_(std::move(type)),
      namespaces_(distinct_or_all(std::move(namespaces))),
      clock_(clock),
      random_(random),
      wait_(options.wait ? std::move(options.wait)
                         : std::function<bool(Millis, StopSignal&)>(
                               [](Millis d, StopSignal& stop) { return stop.wait_for(d); })),
      log_(log),
      watch_restarts_metric_(metrics::given_or_own(options.metrics, own_metrics_)
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
      log_.error("event handler failed",
                 {{"resource", type_.plural}, {"object", key}, {"error", e.what()}});
    }
  }
}

Status Informer::list_into_store(Stream& stream) {
  auto listed = kube::list_all(client_, type_, stream.ns);
  if (!listed) return listed.error();
  std::vector<Json> items(std::make_move_iterator(listed->items.begin()),
                          std::make_move_iterator(listed->items.end()));
  // The old version of what changed, to hand to the handlers; only those are parsed (the store
  // keeps each object's resourceVersion beside it), so a relist does not hold a parsed copy of
  // everything at once.
  std::vector<std::optional<SharedJson>> previous(items.size());  // nullopt: unchanged
  for (size_t i = 0; i < items.size(); ++i) {
    const std::string key = object_key(items[i]);
    auto rv = store_.resource_version(key);
    if (!rv)
      previous[i] = SharedJson();  // new
    else if (*rv != rv_of(items[i]))
      previous[i] = store_.get_shared(key);
  }
  auto removed =
      stream.ns.empty() ? store_.replace(items) : store_.replace_namespace(stream.ns, items);
  for (size_t i = 0; i < items.size(); ++i)
    if (previous[i]) notify(previous[i]->get(), &items[i]);
  for (const auto& gone : removed) notify(gone.get(), nullptr);
  stream.resource_version = listed->resource_version;
  return {};
}

void Informer::run(StopSignal& stop) {
  std::vector<Stream> streams;
  for (const auto& ns : namespaces_) streams.push_back(Stream{ns, ""});
  if (streams.size() == 1) return run_stream(streams[0], stop);
  std::vector<std::thread> threads;
  for (auto& stream : streams)
    threads.emplace_back([this, &stream, &stop] { run_stream(stream, stop); });
  for (auto& t : threads) t.join();
}

void Informer::run_stream(Stream& stream, StopSignal& stop) {
  State state = State::Listing;
  int failures = 0;
  bool relist_after_backoff = true;
  bool listed_once = false;
  // What the apiserver asked of the last failed list or watch (a 429's Retry-After).
  Millis asked{0};
  while (!stop.stop_requested()) {
    switch (state) {
      case State::Listing: {
        auto st = list_into_store(stream);
        if (!st) {
          log_.warn("list failed", {{"resource", type_.plural},
                                    {"namespace", stream.ns},
                                    {"error", st.error().message}});
          relist_after_backoff = true;
          asked = asked_wait(st.error());
          state = State::Backoff;
          break;
        }
        // The list's answer, its parse and the store's replaced entries were just freed in
        // bulk: their pages go back (at start-up no queue has emptied yet to do it). At most
        // once a second, as for the queues: an informer of many namespaces lists each.
        release_free_memory();
        if (!listed_once) synced_++;
        listed_once = true;
        state = State::Watching;
        break;
      }
      case State::Watching: {
        auto started = clock_.steady_now();
        kube::WatchOptions opts;
        opts.resource_version = stream.resource_version;
        auto st = client_.watch(
            type_, stream.ns, opts,
            [this, &stream](const kube::WatchEvent& ev) {
              if (ev.type == "BOOKMARK") {
                stream.resource_version = rv_of(ev.object);
                return true;
              }
              std::string rv = rv_of(ev.object);
              if (ev.type == "DELETED") {
                auto old = store_.erase(object_key(ev.object));
                notify(old ? old.get() : &ev.object, nullptr);
              } else {
                auto old = store_.upsert(ev.object);
                notify(old.get(), &ev.object);
              }
              if (!rv.empty()) stream.resource_version = rv;
              return true;
            },
            stop);
        if (clock_.steady_now() - started > kQuietPeriod) failures = 0;
        if (stop.stop_requested()) return;
        watch_restarts_++;
        watch_restarts_metric_.inc();
        if (st.ok()) break;  // clean end: watch again from the stream's resourceVersion
        if (st.error().kind == ErrorKind::Gone) {
          log_.info("watch expired, relisting",
                    {{"resource", type_.plural}, {"namespace", stream.ns}});
          state = State::Listing;
          break;
        }
        log_.warn(
            "watch failed",
            {{"resource", type_.plural}, {"namespace", stream.ns}, {"error", st.error().message}});
        relist_after_backoff = false;
        asked = asked_wait(st.error());
        state = State::Backoff;
        break;
      }
      case State::Backoff: {
        // Never sooner than the apiserver asked, but never parked longer than the backoff's cap.
        const Millis wait =
            std::max(jittered_backoff(failures++, kBackoffBase, kBackoffCap, random_), asked);
        if (wait_(wait, stop)) return;
        state = relist_after_backoff ? State::Listing : State::Watching;
        break;
      }
    }
  }
}

}  // namespace byok::runtime
