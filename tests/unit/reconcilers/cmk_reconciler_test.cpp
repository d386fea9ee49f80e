// CmkReconciler against an in-memory apiserver and a CMK cache with the peer index: a pass over
// an unchanged CMK writes nothing, and the index finds the peers the namespace scan found.

#include <catch2/catch.hpp>

#include <sstream>

#include "reconcilers/customer_managed_key/cmk_plan.h"
#include "reconcilers/customer_managed_key/cmk_reconciler.h"
#include "reconcilers/customer_managed_key/cmk_types.h"
#include "reconcilers/kms_provider/kms_provider_types.h"
#include "tests/unit/kms/scripted_transport.h"
#include "tests/unit/support/fake_kube_client.h"
#include "tests/unit/support/recorded_events.h"

using namespace byok;
using Json = nlohmann::json;

namespace {

// A registry whose KMSes are never reached in these tests.
kmsprovider::ProviderRegistry no_kms_registry(kube::KubeClient& api) {
  return kmsprovider::ProviderRegistry{
      api,
      [](const kms::ProviderConfig&) -> Result<kms::ProviderHandle> {
        return make_error(ErrorKind::Internal, "no KMS in this test");
      },
      kmsprovider::ProviderTrust{}};
}

struct World {
  testing::FakeKubeClient api;
  runtime::Store store;
  // The index goes in before the reconciler is built (which refuses a store without it).
  bool indexed =
      (store.add_index(cmk::kPeerIndex, cmk::peer_index_values),
       store.add_index(cmk::kDefaultClaimerIndex, cmk::default_claimer_index_values), true);
  runtime::Store provider_store;  // stays empty: no KmsProvider exists
  kmsprovider::ProviderRegistry registry = no_kms_registry(api);
  testing::RecordedEvents events;
  std::ostringstream log_lines;
  Logger log{log_lines};
  kms::testing::SettableClock clock;
  int ids = 0;
  cmk::CmkReconciler reconciler{
      api, store, registry, events, clock, log, [this] { return "id-" + std::to_string(++ids); }};

  World() {
    registry.use_cache(provider_store);
    clock.wall = SystemTime{} + std::chrono::hours(24 * 365 * 56);
  }
  void add(const std::string& name, const std::string& created, bool is_default = false,
           const std::string& replaces = "") {
    Json spec = {{"provider", "aws"},
                 {"resource", "arn:aws:kms:eu-west-1:111122223333:key/" + name},
                 {"providerRef", {{"name", "aws"}}}};
    if (is_default) spec["default"] = true;
    if (!replaces.empty()) spec["replaces"] = replaces;
    Json o = {{"apiVersion", "byok.dev/v1alpha1"},
              {"kind", "CustomerManagedKey"},
              {"metadata",
               {{"name", name},
                {"namespace", "team"},
                {"generation", 1},
                {"creationTimestamp", created},
                {"managedFields", Json::array({{{"manager", "kubectl"}}})}}},
              {"spec", spec}};
    store.upsert(api.put(cmk::customer_managed_keys(), o));
  }
  // What the watch would deliver: the apiserver's object into the cache.
  void sync(const std::string& name) {
    store.upsert(*api.object(cmk::customer_managed_keys(), "team", name));
  }
  // Reconciles until the object's status settles (finalizer, then status), syncing each write.
  void settle(const std::string& name) {
    for (int i = 0; i < 3; ++i) {
      reconciler.reconcile("team/" + name);
      sync(name);
    }
  }
  Json status(const std::string& name) const {
    return api.object(cmk::customer_managed_keys(), "team", name)->value("status", Json::object());
  }
};

}  // namespace

TEST_CASE("a reconcile of an unchanged CMK makes no apiserver writes and no Events",
          "[cmk][scale]") {
  World w;
  w.add("k1", "2026-01-01T00:00:00Z");
  w.settle("k1");
  REQUIRE(w.status("k1").value("status", "") == "current");
  REQUIRE(w.api.log.count("patch") == 2);  // the finalizer, then one status apply
  const size_t events_before = w.events.events.size();
  REQUIRE(events_before > 0);  // Registered, KeyVerificationFailed (no KmsProvider)
  const size_t calls_before = w.api.log.calls.size();

  for (int i = 0; i < 3; ++i) w.reconciler.reconcile("team/k1");

  CHECK(w.api.log.count("patch") == 2);
  CHECK(w.api.log.count("create") == 0);
  // The KmsProvider is read from the cache, not the apiserver: no call at all.
  CHECK(w.api.log.calls.size() == calls_before);
  CHECK(w.events.events.size() == events_before);
}

TEST_CASE("the peer index finds the default claimers and the replaced CMK", "[cmk][scale]") {
  World w;
  w.add("first", "2026-01-01T00:00:00Z", true);
  w.add("plain", "2026-01-02T00:00:00Z");  // claims nothing: not in the index
  w.add("new", "2026-01-03T00:00:00Z", true, "plain");
  for (const char* n : {"first", "plain", "new"}) w.settle(n);
  CHECK(w.status("plain").value("status", "") == "old");  // replaced by "new"
  CHECK(w.status("first").value("status", "") == "current");
  CHECK(w.status("first").value("default", true) == false);  // "new" is the newer claimer
  CHECK(w.status("new").value("default", false) == true);
  // "new" found the CMK it replaces although that one is in no index.
  bool superseding = false;
  for (const auto& c : w.status("new").value("conditions", Json::array()))
    if (c.value("type", "") == "Replacing")
      superseding = c.value("status", "") == "True" && c.value("reason", "") == "Superseding";
  CHECK(superseding);
}

TEST_CASE("a CMK reconciler refuses a cache without its peer index", "[cmk][scale]") {
  testing::FakeKubeClient api;
  runtime::Store bare;
  auto registry = no_kms_registry(api);
  testing::RecordedEvents events;
  std::ostringstream lines;
  Logger log{lines};
  kms::testing::SettableClock clock;
  CHECK_THROWS_WITH(
      (cmk::CmkReconciler{api, bare, registry, events, clock, log, [] { return "id"; }}),
      Catch::Contains(cmk::kPeerIndex));
}

TEST_CASE("the peer index holds default claimers and replacers only, by namespace",
          "[cmk][scale]") {
  auto o = [](Json spec) {
    return Json{{"metadata", {{"name", "x"}, {"namespace", "team"}}}, {"spec", std::move(spec)}};
  };
  CHECK(cmk::peer_index_values(o({{"provider", "aws"}})).empty());
  CHECK(cmk::peer_index_values(o({{"default", true}})) == std::vector<std::string>{"team"});
  CHECK(cmk::peer_index_values(o({{"replaces", "y"}})) == std::vector<std::string>{"team"});
  CHECK(cmk::peer_index_values(Json::object()).empty());
}
