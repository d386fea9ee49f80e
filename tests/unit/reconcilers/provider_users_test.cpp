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
}
