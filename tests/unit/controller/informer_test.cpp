#include <catch2/catch.hpp>

#include <algorithm>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include "controller/runtime/informer.h"
#include "tests/unit/support/fake_kube_client.h"
#include "tests/unit/support/test_kinds.h"

using namespace byok;
using namespace byok::runtime;
using kube::Json;

namespace {

Json obj(const std::string& name, const std::string& rv) {
  return {{"metadata", {{"namespace", "n"}, {"name", name}, {"resourceVersion", rv}}}};
}

// A KubeClient that answers list and watch from a script; everything else is unused here.
class ScriptedClient : public testing::FakeKubeClient {
 public:
  struct Session {
    std::vector<kube::WatchEvent> events;
    Status end;
  };
  std::deque<Json> lists;  // each list call takes the next {items, rv}
  std::deque<Session> sessions;
  std::vector<std::string> watched_from;
  int list_calls = 0;
  StopSignal* stop_when_done = nullptr;

  Result<Json> list(const kube::ResourceType&, const std::string&,
                    const kube::ListOptions&) override {
    list_calls++;
    Json page = lists.front();
    if (lists.size() > 1) lists.pop_front();
    return page;
  }
  Status watch(const kube::ResourceType&, const std::string&, const kube::WatchOptions& o,
               const std::function<bool(const kube::WatchEvent&)>& on_event,
               StopSignal& stop) override {
    watched_from.push_back(o.resource_version);
    if (sessions.empty()) {
      stop.request_stop();
      return {};
    }
    Session s = sessions.front();
    sessions.pop_front();
    for (const auto& e : s.events) on_event(e);
    return s.end;
  }
};

Json list_of(std::vector<Json> items, const std::string& rv) {
  return {{"items", items}, {"metadata", {{"resourceVersion", rv}}}};
}

}  // namespace

TEST_CASE("informer: list, watch, bookmark, clean end, 410 Gone relist", "[informer]") {
  ScriptedClient client;
  client.lists = {list_of({obj("a", "1")}, "3"), list_of({obj("b", "7")}, "9")};
  client.sessions = {
      {{{"MODIFIED", obj("a", "4")}, {"BOOKMARK", obj("", "5")}}, Status{}},    // clean end
      {{{"ADDED", obj("b", "6")}}, Status{Error{ErrorKind::Gone, "too old"}}},  // expired
      {{{"DELETED", obj("b", "10")}}, Status{}},
  };
  std::ostringstream sink;
  Logger log(sink);
  metrics::Registry registry;
  RealClock clock;
  SeededRandom random{1};
  InformerOptions options;
  options.metrics = &registry;
  Informer inf(client, byok::testing::widgets(), "n", clock, random, log, options);
  std::vector<std::string> seen;
  inf.add_handler([&](const Json* old, const Json* now) {
    std::string what = !old ? "add " : !now ? "delete " : "update ";
    seen.push_back(what + object_key(now ? *now : *old));
  });
  StopSignal stop;
  inf.run(stop);

  CHECK(inf.synced());
  // The first watch starts at the list's version; the second at the bookmark's; after Gone the
  // informer lists again and watches from the new list's version.
  CHECK(client.watched_from == std::vector<std::string>{"3", "5", "9", "10"});
  CHECK(client.list_calls == 2);
  // The relist finds b at a newer version (an update) and a gone (a delete it missed).
  CHECK(seen == std::vector<std::string>{"add n/a", "update n/a", "add n/b", "update n/b",
                                         "delete n/a", "delete n/b"});
  CHECK(inf.store().size() == 0);
  CHECK(inf.watch_restarts() == 3);
  CHECK(registry.render().find("byok_informer_watch_restarts_total{resource=\"widgets\"} 3\n") !=
        std::string::npos);
}

TEST_CASE("informer: a relist that finds nothing new notifies nothing", "[informer]") {
  ScriptedClient client;
  client.lists = {list_of({obj("a", "1")}, "3")};
  client.sessions = {{{}, Status{Error{ErrorKind::Gone, "expired"}}}};
  std::ostringstream sink;
  Logger log(sink);
  RealClock clock;
  SeededRandom random{1};
  Informer inf(client, byok::testing::widgets(), "n", clock, random, log);
  int calls = 0;
  inf.add_handler([&](const Json*, const Json*) { calls++; });
  StopSignal stop;
  inf.run(stop);
  CHECK(client.list_calls == 2);
  CHECK(calls == 1);  // only the first add
}

TEST_CASE("informer: a handler that throws on one object is logged, and the others still run",
          "[informer]") {
  ScriptedClient client;
  client.lists = {list_of({obj("bad", "1"), obj("good", "2")}, "3")};
  client.sessions = {{{{"ADDED", obj("late", "4")}}, Status{}}};
  std::ostringstream sink;
  Logger log(sink, Logger::Format::Json);
  RealClock clock;
  SeededRandom random{1};
  Informer inf(client, byok::testing::widgets(), "n", clock, random, log);
  std::vector<std::string> seen;
  inf.add_handler([&](const Json*, const Json* now) {
    if ((*now)["metadata"]["name"] == "bad") throw std::runtime_error("unexpected field");
  });
  inf.add_handler(
      [&](const Json*, const Json* now) { seen.push_back((*now)["metadata"]["name"]); });
  StopSignal stop;
  CHECK_NOTHROW(inf.run(stop));  // the relist path once took the process down
  CHECK(seen == std::vector<std::string>{"bad", "good", "late"});
  CHECK(sink.str().find("event handler failed") != std::string::npos);
  CHECK(sink.str().find("n/bad") != std::string::npos);
  CHECK_FALSE(client.watched_from.empty());
}

namespace {

Json obj_in(const std::string& ns, const std::string& name, const std::string& rv) {
  return {{"metadata", {{"namespace", ns}, {"name", name}, {"resourceVersion", rv}}}};
}

// Per namespace: the lists and watch sessions to answer, in order. A namespace whose script is
// done waits for the others; the last one done stops the run.
class PerNamespaceClient : public testing::FakeKubeClient {
 public:
  struct Script {
    std::deque<Json> lists;
    std::deque<ScriptedClient::Session> sessions;
  };
  std::map<std::string, Script> scripts;
  std::map<std::string, int> list_calls;
  std::mutex mu;
  size_t done = 0;

  Result<Json> list(const kube::ResourceType&, const std::string& ns,
                    const kube::ListOptions&) override {
    std::lock_guard<std::mutex> lock(mu);
    list_calls[ns]++;
    auto& lists = scripts.at(ns).lists;
    Json page = lists.front();
    if (lists.size() > 1) lists.pop_front();
    return page;
  }
  Status watch(const kube::ResourceType&, const std::string& ns, const kube::WatchOptions&,
               const std::function<bool(const kube::WatchEvent&)>& on_event,
               StopSignal& stop) override {
    std::unique_lock<std::mutex> lock(mu);
    auto& sessions = scripts.at(ns).sessions;
    if (sessions.empty()) {
      if (++done == scripts.size()) stop.request_stop();
      lock.unlock();
      stop.wait_for(std::chrono::seconds(10));
      return {};
    }
    auto s = sessions.front();
    sessions.pop_front();
    lock.unlock();
    for (const auto& e : s.events) on_event(e);
    return s.end;
  }
};

}  // namespace

TEST_CASE(
    "informer: several namespaces are watched each on its own, and one's relist leaves the "
    "other's objects in the store",
    "[informer]") {
  PerNamespaceClient client;
  client.scripts["a"] = {
      {list_of({obj_in("a", "x", "1")}, "2"), list_of({}, "5")},
      {{{{"ADDED", obj_in("a", "z", "3")}}, Status{Error{ErrorKind::Gone, "expired"}}}}};
  client.scripts["b"] = {{list_of({obj_in("b", "y", "1")}, "2")},
                         {{{{"MODIFIED", obj_in("b", "y", "4")}}, Status{}}}};
  std::ostringstream sink;
  Logger log(sink);
  RealClock clock;
  SeededRandom random{1};
  Informer inf(client, byok::testing::widgets(), std::vector<std::string>{"a", "b"}, clock, random,
               log);
  std::mutex seen_mu;
  std::vector<std::string> seen;
  inf.add_handler([&](const Json* old, const Json* now) {
    std::string what = !old ? "add " : !now ? "delete " : "update ";
    std::lock_guard<std::mutex> lock(seen_mu);
    seen.push_back(what + object_key(now ? *now : *old));
  });
  CHECK_FALSE(inf.synced());
  StopSignal stop;
  inf.run(stop);

  CHECK(inf.synced());
  CHECK(client.list_calls["a"] == 2);  // a's watch expired: a relisted, b did not
  CHECK(client.list_calls["b"] == 1);
  // a's relist found nothing: a's objects went, b's stayed.
  CHECK(inf.store().keys() == std::vector<std::string>{"b/y"});
  std::sort(seen.begin(), seen.end());
  CHECK(seen == std::vector<std::string>{"add a/x", "add a/z", "add b/y", "delete a/x",
                                         "delete a/z", "update b/y"});
}

TEST_CASE("store: replacing one namespace's objects keeps the neighbours' (a/ and ab/ alike)",
          "[informer]") {
  Store store;
  store.replace({obj_in("a", "1", "1"), obj_in("a", "2", "1"), obj_in("ab", "3", "1"),
                 obj_in("b", "4", "1")});
  auto removed = store.replace_namespace("a", {obj_in("a", "2", "2"), obj_in("a", "5", "2")});
  REQUIRE(removed.size() == 1);
  CHECK((*removed[0])["metadata"]["name"] == "1");
  CHECK(store.keys() == std::vector<std::string>{"a/2", "a/5", "ab/3", "b/4"});
  CHECK((*store.get("a/2"))["metadata"]["resourceVersion"] == "2");
}

TEST_CASE("informer: a namespace named twice is watched once", "[informer]") {
  PerNamespaceClient client;
  client.scripts["a"] = {{list_of({obj_in("a", "x", "1")}, "2")}, {}};
  std::ostringstream sink;
  Logger log(sink);
  RealClock clock;
  SeededRandom random{1};
  Informer inf(client, byok::testing::widgets(), std::vector<std::string>{"a", "a"}, clock, random,
               log);
  StopSignal stop;
  inf.run(stop);
  CHECK(inf.synced());
  CHECK(client.list_calls["a"] == 1);
  CHECK(inf.store().keys() == std::vector<std::string>{"a/x"});
}

namespace {

// A Clock that moves only when told.
class ManualClock final : public Clock {
 public:
  SystemTime now() const override { return SystemTime{} + elapsed; }
  SteadyTime steady_now() const override { return SteadyTime{} + elapsed; }
  std::chrono::milliseconds elapsed{0};
};

// Each watch fails after the time its session says; the informer's waits are recorded.
struct FailingWatches : testing::FakeKubeClient {
  ManualClock* clock = nullptr;
  std::deque<std::chrono::milliseconds> watch_lasts;  // one per watch; none left: stop

  Result<Json> list(const kube::ResourceType&, const std::string&,
                    const kube::ListOptions&) override {
    return list_of({}, "1");
  }
  Status watch(const kube::ResourceType&, const std::string&, const kube::WatchOptions&,
               const std::function<bool(const kube::WatchEvent&)>&, StopSignal& stop) override {
    if (watch_lasts.empty()) {
      stop.request_stop();
      return {};
    }
    clock->elapsed += watch_lasts.front();
    watch_lasts.pop_front();
    return Error{ErrorKind::Unavailable, "connection reset"};
  }
};

std::vector<Millis> backoffs_with_seed(std::uint64_t seed) {
  ManualClock clock;
  FailingWatches client;
  client.clock = &clock;
  // Three quick failures, then a watch that stayed up past the quiet period, then one more.
  client.watch_lasts = {std::chrono::seconds(1), std::chrono::seconds(1), std::chrono::seconds(1),
                        std::chrono::minutes(3), std::chrono::seconds(1)};
  std::ostringstream sink;
  Logger log(sink);
  SeededRandom random{seed};
  std::vector<Millis> waits;
  InformerOptions options;
  options.wait = [&](Millis d, StopSignal&) {
    waits.push_back(d);
    clock.elapsed += d;
    return false;
  };
  Informer inf(client, byok::testing::widgets(), "n", clock, random, log, options);
  StopSignal stop;
  inf.run(stop);
  return waits;
}

}  // namespace

TEST_CASE(
    "informer: reconnect backoff reads the injected clock and random source, so a seed "
    "replays it exactly",
    "[informer]") {
  auto waits = backoffs_with_seed(42);
  REQUIRE(waits.size() == 5);
  // Jittered in [d/2, d] for d = 800 ms, 1.6 s, 3.2 s: the failures count up...
  CHECK((waits[0] >= Millis(400) && waits[0] <= Millis(800)));
  CHECK((waits[1] >= Millis(800) && waits[1] <= Millis(1600)));
  CHECK((waits[2] >= Millis(1600) && waits[2] <= Millis(3200)));
  // ...until a watch stays up past the quiet period on the injected clock: back to the base.
  CHECK((waits[3] >= Millis(400) && waits[3] <= Millis(800)));
  CHECK((waits[4] >= Millis(800) && waits[4] <= Millis(1600)));
  CHECK(backoffs_with_seed(42) == waits);
  CHECK(backoffs_with_seed(43) != waits);
}

namespace {

// Lists are throttled with the wait the apiserver asked; then one succeeds and the watch ends.
struct ThrottledLists : testing::FakeKubeClient {
  std::deque<std::optional<std::chrono::seconds>> throttles;  // one per failing list
  Result<Json> list(const kube::ResourceType&, const std::string&,
                    const kube::ListOptions&) override {
    if (throttles.empty()) return list_of({}, "1");
    auto asked = throttles.front();
    throttles.pop_front();
    return Error{ErrorKind::Throttled, "GET widgets: HTTP 429: too many requests", asked};
  }
  Status watch(const kube::ResourceType&, const std::string&, const kube::WatchOptions&,
               const std::function<bool(const kube::WatchEvent&)>&, StopSignal& stop) override {
    stop.request_stop();
    return {};
  }
};

}  // namespace

TEST_CASE(
    "informer: a throttled list waits at least the apiserver's Retry-After, up to the backoff's "
    "cap",
    "[informer]") {
  ThrottledLists client;
  client.throttles = {std::chrono::seconds(5), std::nullopt, std::chrono::seconds(3600)};
  ManualClock clock;
  std::ostringstream sink;
  Logger log(sink);
  SeededRandom random{7};
  std::vector<Millis> waits;
  InformerOptions options;
  options.wait = [&](Millis d, StopSignal&) {
    waits.push_back(d);
    return false;
  };
  Informer inf(client, byok::testing::widgets(), "n", clock, random, log, options);
  StopSignal stop;
  inf.run(stop);
  REQUIRE(waits.size() == 3);
  CHECK(waits[0] == Millis(5000));   // asked 5 s; the jittered first backoff is under 1 s
  CHECK(waits[1] <= Millis(1600));   // nothing asked: the backoff alone
  CHECK(waits[2] == Millis(30000));  // an hour asked: the informer's cap, not parked an hour
  CHECK(inf.synced());
}
