#include <catch2/catch.hpp>

#include "reconcilers/kms_provider/provider_users.h"

using namespace byok;

TEST_CASE("a KmsProvider's users are the objects of its namespace that name it in providerRef",
          "[kmsprovider]") {
  auto obj = [](const char* ns, const char* name, const char* provider) {
    nlohmann::json j = {{"metadata", {{"namespace", ns}, {"name", name}}},
                        {"spec", nlohmann::json::object()}};
    if (*provider) j["spec"]["providerRef"] = {{"name", provider}};
    return j;
  };
  runtime::Store store;
  store.add_index(kmsprovider::kProviderRefIndex, kmsprovider::provider_ref_index_values);
  store.upsert(obj("team-a", "k1", "aws"));
  store.upsert(obj("team-a", "k2", "gcp"));
  store.upsert(obj("team-a", "k3", ""));     // no providerRef
  store.upsert(obj("team-b", "k4", "aws"));  // same name, another namespace
  store.upsert(obj("team-a", "k5", "aws"));
  CHECK(kmsprovider::objects_using_provider(store, "team-a", "aws") ==
        std::vector<std::string>{"team-a/k1", "team-a/k5"});
  CHECK(kmsprovider::objects_using_provider(store, "team-b", "aws") ==
        std::vector<std::string>{"team-b/k4"});
  CHECK(kmsprovider::objects_using_provider(store, "team-a", "oci").empty());
  store.upsert(obj("team-a", "k1", "gcp"));  // moved to another KmsProvider
  CHECK(kmsprovider::objects_using_provider(store, "team-a", "aws") ==
        std::vector<std::string>{"team-a/k5"});
  store.erase("team-a/k5");
  CHECK(kmsprovider::objects_using_provider(store, "team-a", "aws").empty());
}

TEST_CASE("a KmsProvider's users are found only through the index, which must be there",
          "[kmsprovider]") {
  runtime::Store bare;
  CHECK_THROWS_WITH(kmsprovider::users_of_provider(bare),
                    Catch::Contains(kmsprovider::kProviderRefIndex));
  nlohmann::json cluster_ref = {
      {"metadata", {{"namespace", "team-a"}, {"name", "k"}}},
      {"spec", {{"providerRef", {{"name", "aws"}, {"kind", "ClusterKmsProvider"}}}}}};
  CHECK(kmsprovider::provider_ref_index_values(cluster_ref).empty());
}
