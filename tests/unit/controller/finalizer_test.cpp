// with_finalizer (controller/runtime/finalizer.h): the finalizer comes before apply, goes only
// after cleanup finished, and every patch keeps the others' finalizers and is guarded.
#include <catch2/catch.hpp>

#include "controller/runtime/finalizer.h"
#include "tests/unit/support/fake_kube_client.h"
#include "tests/unit/support/test_kinds.h"

using namespace byok;
using namespace byok::runtime;

namespace {

constexpr char kOurs[] = "example.dev/cleanup";

// Records every patch; answers each with `answer`.
struct PatchRecorder : testing::FakeKubeClient {
  std::vector<kube::Json> patches;
  Result<kube::Json> answer = kube::Json::object();
  Result<kube::Json> patch(const kube::ResourceType&, const std::string&, const std::string&,
                           kube::PatchType, const kube::Json& body,
                           const kube::PatchOptions&) override {
    patches.push_back(body);
    return answer;
  }
};

ObjectMeta meta(std::vector<std::string> finalizers, bool deleting) {
  ObjectMeta m;
  m.name = "w";
  m.namespace_ = "n";
  m.resource_version = "5";
  m.finalizers = std::move(finalizers);
  m.deleting = deleting;
  return m;
}

struct Calls {
  int apply = 0, cleanup = 0;
};

Result<ReconcileResult> run(PatchRecorder& client, const ObjectMeta& m, Calls& calls,
                            Result<Cleanup> cleanup_says = Cleanup::finished()) {
  return with_finalizer(
      client, testing::widgets(), m, kOurs,
      [&]() -> Result<ReconcileResult> {
        calls.apply++;
        return requeue_after(std::chrono::seconds(30));
      },
      [&]() -> Result<Cleanup> {
        calls.cleanup++;
        return cleanup_says;
      });
}

}  // namespace

TEST_CASE("with_finalizer: a live object gets the finalizer before apply ever runs",
          "[finalizer]") {
  PatchRecorder client;
  Calls calls;
  auto r = run(client, meta({"other.io/x"}, false), calls);
  REQUIRE(r.ok());
  CHECK(r->action == ReconcileResult::Action::Done);  // the patch's watch event brings it back
  CHECK(calls.apply == 0);
  REQUIRE(client.patches.size() == 1);
  CHECK(client.patches[0]["metadata"]["finalizers"] == kube::Json{"other.io/x", kOurs});
  CHECK(client.patches[0]["metadata"]["resourceVersion"] == "5");

  // With the finalizer there, apply runs and its result stands; nothing is patched.
  PatchRecorder again;
  auto applied = run(again, meta({"other.io/x", kOurs}, false), calls);
  REQUIRE(applied.ok());
  CHECK(calls.apply == 1);
  CHECK(applied->after == std::chrono::seconds(30));
  CHECK(again.patches.empty());
  CHECK(calls.cleanup == 0);
}

TEST_CASE(
    "with_finalizer: deletion runs cleanup, then removes only our finalizer, guarded by "
    "cleanup's resourceVersion",
    "[finalizer]") {
  PatchRecorder client;
  Calls calls;
  auto r = run(client, meta({kOurs, "other.io/x"}, true), calls, Cleanup::finished("9"));
  REQUIRE(r.ok());
  CHECK(r->action == ReconcileResult::Action::Done);
  CHECK(calls.cleanup == 1);
  CHECK(calls.apply == 0);
  REQUIRE(client.patches.size() == 1);
  CHECK(client.patches[0]["metadata"]["finalizers"] == kube::Json{"other.io/x"});
  CHECK(client.patches[0]["metadata"]["resourceVersion"] == "9");

  // Gone meanwhile: the removal had nothing left to do.
  PatchRecorder gone;
  gone.answer = Error{ErrorKind::NotFound, "not found"};
  CHECK(run(gone, meta({kOurs}, true), calls).ok());
  // Any other failure of the removal comes back, saying what was being done.
  PatchRecorder conflict;
  conflict.answer = Error{ErrorKind::Conflict, "stale"};
  auto stale = run(conflict, meta({kOurs}, true), calls);
  REQUIRE_FALSE(stale.ok());
  CHECK(stale.error().kind == ErrorKind::Conflict);
  CHECK(stale.error().message == "removing finalizer: stale");
}

TEST_CASE("with_finalizer: a cleanup that fails or is not finished keeps the finalizer",
          "[finalizer]") {
  PatchRecorder client;
  Calls calls;
  auto failed = run(client, meta({kOurs}, true), calls, Error{ErrorKind::Unavailable, "KMS down"});
  REQUIRE_FALSE(failed.ok());
  CHECK(failed.error().message == "KMS down");
  auto pending = run(client, meta({kOurs}, true), calls,
                     cleanup_pending(reported_failure(true, "KMS down", std::chrono::minutes(1))));
  REQUIRE(pending.ok());
  CHECK(pending->action == ReconcileResult::Action::RetryBackoff);
  CHECK(calls.cleanup == 2);
  CHECK(client.patches.empty());

  // Deleting without our finalizer: nothing of ours to clean up.
  auto not_ours = run(client, meta({"other.io/x"}, true), calls);
  REQUIRE(not_ours.ok());
  CHECK(calls.cleanup == 2);
  CHECK(client.patches.empty());
}
