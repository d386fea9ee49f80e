#include <catch2/catch.hpp>

#include "controller/runtime/label_selector.h"

using byok::runtime::Labels;
using byok::runtime::selects;
using Json = nlohmann::json;

TEST_CASE("a grant's label selector: matchLabels and every matchExpressions operator",
          "[label-selector]") {
  Labels team_a{{"kubernetes.io/metadata.name", "team-a"}, {"tier", "prod"}};
  CHECK(selects(Json{{"matchLabels", {{"kubernetes.io/metadata.name", "team-a"}}}}, team_a));
  CHECK_FALSE(selects(Json{{"matchLabels", {{"kubernetes.io/metadata.name", "team-b"}}}}, team_a));
  CHECK(selects(Json{{"matchExpressions",
                      {{{"key", "tier"}, {"operator", "In"}, {"values", {"prod", "qa"}}}}}},
                team_a));
  CHECK_FALSE(selects(
      Json{{"matchExpressions", {{{"key", "tier"}, {"operator", "NotIn"}, {"values", {"prod"}}}}}},
      team_a));
  CHECK(selects(Json{{"matchExpressions", {{{"key", "tier"}, {"operator", "Exists"}}}}}, team_a));
  CHECK(selects(Json{{"matchExpressions", {{{"key", "pci"}, {"operator", "DoesNotExist"}}}}},
                team_a));
  // Both parts must hold.
  CHECK_FALSE(selects(Json{{"matchLabels", {{"tier", "prod"}}},
                           {"matchExpressions", {{{"key", "pci"}, {"operator", "Exists"}}}}},
                      team_a));
}

TEST_CASE("an empty, absent or unreadable selector grants nothing (unlike Kubernetes' own)",
          "[label-selector]") {
  Labels any{{"kubernetes.io/metadata.name", "team-a"}};
  CHECK_FALSE(selects(Json::object(), any));
  CHECK_FALSE(selects(Json(), any));
  CHECK_FALSE(selects(Json{{"matchLabels", Json::object()}}, any));
  CHECK_FALSE(selects(Json{{"matchExpressions", Json::array()}}, any));
  CHECK_FALSE(selects(Json{{"matchExpressions", {{{"key", "x"}, {"operator", "Like"}}}}}, any));
  CHECK_FALSE(selects(Json{{"matchLabels", {{"kubernetes.io/metadata.name", 7}}}}, any));
  // In with no values never holds; Exists with values is malformed.
  CHECK_FALSE(selects(Json{{"matchExpressions",
                            {{{"key", "kubernetes.io/metadata.name"},
                              {"operator", "In"},
                              {"values", Json::array()}}}}},
                      any));
  CHECK_FALSE(selects(Json{{"matchExpressions",
                            {{{"key", "kubernetes.io/metadata.name"},
                              {"operator", "Exists"},
                              {"values", {"team-a"}}}}}},
                      any));
}
