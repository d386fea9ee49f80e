#include <catch2/catch.hpp>

#include <deque>
#include <mutex>
#include <thread>

#include "controller/runtime/informer.h"
#include "tests/unit/support/stub_kube_client.h"

using namespace byok;
using namespace byok::runtime;
using kube::Json;

namespace {

Json obj(const std::string& name, const std::string& rv) {
  return {{"metadata", {{"namespace", "n"}, {"name", name}, {"resourceVersion", rv}}}};
}

// A KubeClient that answers list and watch from a script; everything else is unused here.
class ScriptedClient : public testing::StubKubeClient {
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

  Result<Json> list(const kube::ResourceType&, const std::string&, const kube::ListOptions&) override {
    list_calls++;
    Json page = lists.front();
    if (lists.size() > 1) lists.pop_front();
    return page;
  }
  Status watch(const kube::ResourceType&, const std::string&, const kube::WatchOptions& o,
               const std::function<bool(const kube::WatchEvent&)>& on_event, StopSignal& stop) override {
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
      {{{"MODIFIED", obj("a", "4")}, {"BOOKMARK", obj("", "5")}}, Status{}},       // clean end
      {{{"ADDED", obj("b", "6")}}, Status{Error{ErrorKind::Gone, "too old"}}},    // expired
      {{{"DELETED", obj("b", "10")}}, Status{}},
  };
  std::ostringstream sink;
  Logger log(sink);
  metrics::Registry registry;
  Informer inf(client, kube::resources::customer_managed_keys(), "n", log, &registry);
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
  CHECK(registry.render().find("byok_informer_watch_restarts_total{resource=\"customermanagedkeys\"} 3\n") !=
        std::string::npos);
}

TEST_CASE("informer: a relist that finds nothing new notifies nothing", "[informer]") {
  ScriptedClient client;
  client.lists = {list_of({obj("a", "1")}, "3")};
  client.sessions = {{{}, Status{Error{ErrorKind::Gone, "expired"}}}};
  std::ostringstream sink;
  Logger log(sink);
  Informer inf(client, kube::resources::customer_managed_keys(), "n", log);
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
  Informer inf(client, kube::resources::customer_managed_keys(), "n", log);
  std::vector<std::string> seen;
  inf.add_handler([&](const Json*, const Json* now) {
    if ((*now)["metadata"]["name"] == "bad") throw std::runtime_error("unexpected field");
  });
  inf.add_handler([&](const Json*, const Json* now) { seen.push_back((*now)["metadata"]["name"]); });
  StopSignal stop;
  CHECK_NOTHROW(inf.run(stop));  // the relist path once took the process down
  CHECK(seen == std::vector<std::string>{"bad", "good", "late"});
  CHECK(sink.str().find("event handler failed") != std::string::npos);
  CHECK(sink.str().find("n/bad") != std::string::npos);
  CHECK(client.watched_from.size() >= 1);
}
