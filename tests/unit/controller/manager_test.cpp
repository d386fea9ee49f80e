// The runtime manager (controller/runtime/manager.h): a kind's own changes queue its key, and a
// kind it watches maps its changes to the keys the map function names.
#include <catch2/catch.hpp>

#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "controller/runtime/manager.h"
#include "tests/unit/support/fake_kube_client.h"
#include "tests/unit/support/test_kinds.h"

using namespace byok;
using namespace byok::runtime;
using kube::Json;

namespace {

// Lists each kind's objects from a script; a watch delivers that kind's scripted events, then
// waits for the stop.
struct KindsClient : testing::FakeKubeClient {
  std::map<std::string, std::vector<Json>> lists;               // by plural
  std::map<std::string, std::vector<kube::WatchEvent>> events;  // by plural
  Result<Json> list(const kube::ResourceType& type, const std::string&,
                    const kube::ListOptions&) override {
    return Json{{"items", lists[type.plural]}, {"metadata", {{"resourceVersion", "1"}}}};
  }
  Status watch(const kube::ResourceType& type, const std::string&, const kube::WatchOptions&,
               const std::function<bool(const kube::WatchEvent&)>& on_event,
               StopSignal& stop) override {
    auto mine = std::exchange(events[type.plural], {});
    for (const auto& e : mine) on_event(e);
    stop.wait_for(std::chrono::seconds(30));
    return {};
  }
};

Json widget(const std::string& name) {
  return {{"metadata",
           {{"namespace", "n"}, {"name", name}, {"resourceVersion", "1"}, {"generation", 1}}}};
}
// A gadget names the widget it belongs to.
Json gadget(const std::string& name, const std::string& widget, int generation) {
  return {{"metadata",
           {{"namespace", "n"},
            {"name", name},
            {"resourceVersion", std::to_string(generation)},
            {"generation", generation}}},
          {"spec", {{"widget", widget}}}};
}

}  // namespace

TEST_CASE(
    "manager: a controller with watches reconciles its own objects and the ones the other "
    "kind's changes map to",
    "[manager]") {
  KindsClient client;
  // Only w1 exists as a widget: w2 and w3 can be reconciled only because a gadget maps to them.
  client.lists["widgets"] = {widget("w1")};
  client.lists["gadgets"] = {gadget("g1", "w2", 1)};
  client.events["gadgets"] = {{"MODIFIED", gadget("g1", "w3", 2)}};
  RealClock clock;
  SeededRandom random{1};
  std::ostringstream sink;
  Logger log(sink);
  ManagerOptions options;
  options.workers = 2;
  Manager manager(client, clock, random, log, options);

  std::mutex mu;
  std::multiset<std::string> reconciled;
  std::vector<std::pair<std::string, std::string>> mapped;  // gadget -> key
  manager
      .controller(testing::widgets(),
                  [&](const std::string& key) {
                    std::lock_guard<std::mutex> lock(mu);
                    reconciled.insert(key);
                    return done();
                  })
      .watches(testing::gadgets(), [&](const Json* old, const Json* now) {
        const Json& g = now ? *now : *old;
        std::string key = "n/" + g["spec"]["widget"].get<std::string>();
        std::lock_guard<std::mutex> lock(mu);
        mapped.emplace_back(object_key(g), key);
        return std::vector<std::string>{key};
      });
  CHECK(manager.store(testing::gadgets()).size() == 0);  // the watched kind has an informer too

  StopSignal stop;
  manager.start_informers(stop);
  std::thread workers([&] { manager.run_controllers(stop); });
  auto saw = [&](const std::string& key, size_t times) {
    std::lock_guard<std::mutex> lock(mu);
    return reconciled.count(key) >= times;
  };
  for (int i = 0; i < 500 && !(saw("n/w1", 1) && saw("n/w2", 1) && saw("n/w3", 1)); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  stop.request_stop();
  workers.join();
  manager.join_informers();

  std::lock_guard<std::mutex> lock(mu);
  // w2 for g1 as listed, w3 for g1's update.
  CHECK(mapped ==
        std::vector<std::pair<std::string, std::string>>{{"n/g1", "n/w2"}, {"n/g1", "n/w3"}});
  CHECK(reconciled.count("n/w1") == 1);
  CHECK(reconciled.count("n/w2") == 1);
  CHECK(reconciled.count("n/w3") == 1);
  CHECK(reconciled.count("n/g1") == 0);  // gadgets have no controller of their own
  CHECK(manager.store(testing::gadgets()).size() == 1);
  CHECK(manager.reconciled() == reconciled.size());
}
