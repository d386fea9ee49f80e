#include <catch2/catch.hpp>

#include "controller/kube/resource.h"
#include "controller/runtime/conditions.h"
#include "controller/runtime/controller.h"
#include "controller/runtime/events.h"
#include "controller/runtime/object_meta.h"
#include "controller/runtime/store.h"

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

TEST_CASE("outcomes map to actions", "[controller]") {
  using A = ReconcileResult::Action;
  CHECK(result_for(Status{}).action == A::Done);
  CHECK(result_for(Error{ErrorKind::Unavailable, ""}).action == A::RetryBackoff);
  CHECK(result_for(Error{ErrorKind::Throttled, ""}).action == A::RetryBackoff);
  CHECK(result_for(Error{ErrorKind::Conflict, ""}).action == A::RequeueNow);
  CHECK(result_for(Error{ErrorKind::InvalidArgument, ""}).action == A::Terminal);
  CHECK(result_for(Error{ErrorKind::FailedPrecondition, ""}).action == A::Terminal);
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
  auto cmk = kube::resources::customer_managed_keys();
  CHECK(cmk.path("ns") == "/apis/byok.dev/v1alpha1/namespaces/ns/customermanagedkeys");
  CHECK(cmk.path("ns", "k", "status") ==
        "/apis/byok.dev/v1alpha1/namespaces/ns/customermanagedkeys/k/status");
  CHECK(cmk.path("") == "/apis/byok.dev/v1alpha1/customermanagedkeys");
  CHECK(kube::resources::secrets().path("ns", "s") == "/api/v1/namespaces/ns/secrets/s");
}

TEST_CASE("event times carry microseconds", "[events]") {
  SystemTime t;
  REQUIRE(parse_rfc3339("2026-11-23T15:38:07Z", t));
  CHECK(format_micro_time(t + std::chrono::microseconds(1234)) == "2026-11-23T15:38:07.001234Z");
}
