#include <catch2/catch.hpp>

#include "controller/kube/resource.h"
#include "controller/runtime/conditions.h"
#include "controller/runtime/controller.h"
#include "controller/runtime/events.h"
#include "controller/runtime/object_meta.h"
#include "controller/runtime/store.h"
#include "tests/unit/support/fake_kube_client.h"
#include "tests/unit/support/test_kinds.h"

using namespace byok;
using namespace byok::runtime;

TEST_CASE("a condition's transition time moves only when its status flips", "[conditions]") {
  std::vector<Condition> conds;
  set_condition(conds, {"Ready", "False", "Waiting", "m1", 1, ""}, "T1");
  set_condition(conds, {"Ready", "False", "StillWaiting", "m2", 2, ""}, "T2");
  REQUIRE(conds.size() == 1);
  CHECK(conds[0].last_transition_time == "T1");
  CHECK(conds[0].reason == "StillWaiting");
  CHECK(conds[0].observed_generation == 2);
  set_condition(conds, {"Ready", "True", "Done", "m3", 2, ""}, "T3");
  CHECK(conds[0].last_transition_time == "T3");
  set_condition(conds, {"Other", "Unknown", "X", "", 2, ""}, "T4");
  CHECK(conds.size() == 2);
  CHECK(conditions_from_json(conditions_to_json(conds)) == conds);
}

TEST_CASE("finalizer edits keep other finalizers and guard on resourceVersion", "[meta]") {
  auto obj = nlohmann::json::parse(R"({"metadata":{"name":"a","namespace":"n","resourceVersion":"7",
      "generation":3,"finalizers":["other.io/x"],"deletionTimestamp":"2026-01-01T00:00:00Z"}})");
  auto m = ObjectMeta::from_json(obj);
  CHECK(m.deleting);
  CHECK(m.generation == 3);
  auto added = with_finalizer(m.finalizers, "byok.dev/f");
  CHECK(added == std::vector<std::string>{"other.io/x", "byok.dev/f"});
  CHECK(with_finalizer(added, "byok.dev/f") == added);
  CHECK(without_finalizer(added, "byok.dev/f") == std::vector<std::string>{"other.io/x"});
  auto patch = finalizers_patch(m, added);
  CHECK(patch["metadata"]["resourceVersion"] == "7");
}

TEST_CASE("the store lists one namespace's objects and reports what a relist removed", "[store]") {
  auto obj = [](const char* ns, const char* name) {
    return nlohmann::json{{"metadata", {{"namespace", ns}, {"name", name}}}};
  };
  Store s;
  s.upsert(obj("a", "1"));
  s.upsert(obj("a", "2"));
  s.upsert(obj("ab", "3"));
  CHECK(s.list_namespace("a").size() == 2);
  auto removed = s.replace({obj("a", "1")});
  CHECK(removed.size() == 2);
  CHECK(s.size() == 1);
  CHECK(split_key("ns/name") == std::pair<std::string, std::string>{"ns", "name"});
}

TEST_CASE("resource paths follow the API's layout", "[resource]") {
  auto widgets = byok::testing::widgets();
  CHECK(widgets.path("ns") == "/apis/example.dev/v1/namespaces/ns/widgets");
  CHECK(widgets.path("ns", "k", "status") == "/apis/example.dev/v1/namespaces/ns/widgets/k/status");
  CHECK(widgets.path("") == "/apis/example.dev/v1/widgets");
  CHECK(kube::resources::secrets().path("ns", "s") == "/api/v1/namespaces/ns/secrets/s");
}

TEST_CASE("event times carry microseconds", "[events]") {
  SystemTime t;
  REQUIRE(parse_rfc3339("2026-11-23T15:38:07Z", t));
  CHECK(format_micro_time(t + std::chrono::microseconds(1234)) == "2026-11-23T15:38:07.001234Z");
}

namespace {
// Keeps the Events it is asked to create.
struct EventSink : testing::FakeKubeClient {
  std::vector<nlohmann::json> created;
  Result<kube::Json> create(const kube::ResourceType&, const std::string&, const kube::Json& body,
                            const std::string&, const std::string&) override {
    created.push_back(body);
    return body;
  }
};

class FixedClock final : public Clock {
 public:
  SystemTime now() const override { return SystemTime{} + std::chrono::hours(24 * 365 * 57); }
  SteadyTime steady_now() const override { return SteadyTime{}; }
};

std::vector<std::string> event_names(std::uint64_t seed) {
  EventSink client;
  FixedClock clock;
  SeededRandom random{seed};
  std::ostringstream sink;
  Logger log(sink);
  KubeEventRecorder events(client, clock, random, log, "byok.dev/operator", "pod-1");
  auto regarding = nlohmann::json::parse(
      R"({"apiVersion":"example.dev/v1","kind":"Widget","metadata":{"name":"w","namespace":"n","uid":"u1"}})");
  events.record(regarding, {"Normal", "Made", "Reconcile", "first"});
  events.record(regarding, {"Normal", "Made", "Reconcile", "second"});
  std::vector<std::string> names;
  for (const auto& e : client.created) {
    names.push_back(e["metadata"]["name"]);
    CHECK(e["eventTime"] == format_micro_time(clock.now()));
  }
  return names;
}
}  // namespace

TEST_CASE("event names and times come from the injected random source and clock", "[events]") {
  auto names = event_names(7);
  REQUIRE(names.size() == 2);
  CHECK(names[0].rfind("w.", 0) == 0);
  CHECK(names[0].size() == 2 + 16);
  CHECK(names[0] != names[1]);
  CHECK(event_names(7) == names);  // the same seed names them the same
  CHECK(event_names(8) != names);
}

TEST_CASE("a repeat within the window is sent once, unless the recorder suppresses nothing",
          "[events]") {
  auto sent = [](std::chrono::seconds suppress) {
    EventSink client;
    FixedClock clock;
    SeededRandom random{1};
    std::ostringstream sink;
    Logger log(sink);
    KubeEventRecorder events(client, clock, random, log, "byok.dev/operator", "pod-1", suppress);
    auto regarding = nlohmann::json::parse(
        R"({"apiVersion":"example.dev/v1","kind":"Widget","metadata":{"name":"w","namespace":"n","uid":"u1"}})");
    for (int i = 0; i < 3; ++i) events.record(regarding, {"Normal", "Exported", "Export", "same"});
    events.record(regarding, {"Normal", "Exported", "Export", "another"});
    return client.created.size();
  };
  CHECK(sent(std::chrono::minutes(10)) == 2);
  CHECK(sent(std::chrono::seconds(0)) == 4);  // audit records: every one
}
