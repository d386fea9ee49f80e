// The export authorizer takes its candidate policies from the apiserver's watch cache and reads
// the granting one fresh; it refuses only on a consistent list. A stale cache can neither keep a
// removed or narrowed grant alive nor hide a new one.

#include <catch2/catch.hpp>

#include "controller/kube/resource.h"
#include "reconcilers/hsm_key_policy/export_authorizer.h"
#include "tests/unit/support/fake_kube_client.h"

using namespace byok;
using Json = nlohmann::json;

namespace {

// An apiserver whose watch cache (resourceVersion "0") answers HsmKeyPolicy lists with `cached`
// once it is set; a consistent list sees what is stored. It holds the namespace "team".
struct StaleCache : testing::FakeKubeClient {
  StaleCache() {
    put(kube::resources::namespaces(),
        {{"metadata", {{"name", "team"}, {"labels", {{"kubernetes.io/metadata.name", "team"}}}}}});
  }
  std::optional<Json> cached;
  std::vector<std::string> list_versions;
  Result<Json> list(const kube::ResourceType& t, const std::string& ns,
                    const kube::ListOptions& o) override {
    list_versions.push_back(o.resource_version);
    if (cached && o.resource_version == "0" && t.plural == hsmpolicy::hsm_key_policies().plural)
      return *cached;
    return FakeKubeClient::list(t, ns, o);
  }
};

Json policy(const std::string& name, const std::string& key_pattern) {
  return {{"metadata", {{"name", name}}},
          {"spec",
           {{"namespaceSelector", {{"matchLabels", {{"kubernetes.io/metadata.name", "team"}}}}},
            {"keys", {{{"label", key_pattern}}}},
            {"destinations", {{{"clusterKmsProvider", "vault"}}}}}}};
}

hsmpolicy::ExportAsk ask() {
  hsmpolicy::ExportAsk a;
  a.ns = "team";
  a.key = "payments-key";
  a.destination = kmsprovider::ProviderRef{"ClusterKmsProvider", "vault"};
  return a;
}

}  // namespace

TEST_CASE("export authorizer: candidates from the watch cache, the grant read fresh",
          "[hsmpolicy][authorizer]") {
  StaleCache api;
  api.put(hsmpolicy::hsm_key_policies(), policy("allow-team", "payments-*"));
  hsmpolicy::ExportAuthorizer authorizer{api};

  auto granted = authorizer.authorize(ask());
  REQUIRE(granted);
  CHECK(granted->policy == "allow-team");
  CHECK(api.list_versions == std::vector<std::string>{"0"});  // served by the watch cache

  // The cache still lists the policy after it was removed: the fresh read refuses, after a
  // consistent list.
  api.cached = api.list(hsmpolicy::hsm_key_policies(), "", {}).value();
  REQUIRE(api.remove(hsmpolicy::hsm_key_policies(), "", "allow-team", ""));
  api.list_versions.clear();
  auto removed = authorizer.authorize(ask());
  REQUIRE_FALSE(removed);
  CHECK(removed.error().kind == ErrorKind::PermissionDenied);
  CHECK(api.list_versions == std::vector<std::string>{"0", ""});

  // Narrowed to other keys while the cache still has the old spec: refused.
  api.put(hsmpolicy::hsm_key_policies(), policy("allow-team", "other-*"));
  CHECK_FALSE(authorizer.authorize(ask()));

  // A grant the cache has not seen yet (applied together with the ImportedKey) is found by the
  // consistent list.
  api.put(hsmpolicy::hsm_key_policies(), policy("allow-new", "payments-*"));
  api.cached = Json{{"metadata", {{"resourceVersion", "1"}}}, {"items", Json::array()}};
  auto fresh = authorizer.authorize(ask());
  REQUIRE(fresh);
  CHECK(fresh->policy == "allow-new");
}

TEST_CASE(
    "export authorizer: right before the wrap the grant is picked on a consistent list, so a "
    "stricter policy the cache has not seen yet still sets the terms",
    "[hsmpolicy][authorizer]") {
  StaleCache api;
  api.put(hsmpolicy::hsm_key_policies(), policy("z-lax", "payments-*"));
  api.cached = api.list(hsmpolicy::hsm_key_policies(), "", {}).value();  // sees z-lax only
  Json strict = policy("a-strict", "payments-*");
  strict["spec"]["destinations"][0]["requireAttestation"] = true;
  strict["spec"]["destinations"][0]["account"] = "111122223333";
  api.put(hsmpolicy::hsm_key_policies(), strict);  // first by name: its terms win
  hsmpolicy::ExportAuthorizer authorizer{api};

  // The early check may go by the cache: it only gates what is read next.
  auto early = authorizer.authorize(ask());
  REQUIRE(early);
  CHECK(early->policy == "z-lax");

  api.list_versions.clear();
  auto before_wrap = authorizer.authorize(ask(), hsmpolicy::FoundKey{"payments-key", "01"});
  REQUIRE(before_wrap);
  CHECK(before_wrap->policy == "a-strict");
  CHECK(before_wrap->require_attestation);
  CHECK(before_wrap->account == "111122223333");
  CHECK(api.list_versions == std::vector<std::string>{""});  // consistent, no cache
}
