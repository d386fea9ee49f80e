#include <catch2/catch.hpp>

#include "reconcilers/hsm_key_policy/hsm_key_policy.h"

using namespace byok::hsmpolicy;
using Json = nlohmann::json;

namespace {

HsmKeyPolicy policy(const std::string& name, const std::string& ns, std::vector<KeyRule> keys,
                    std::vector<std::string> destinations) {
  HsmKeyPolicy p;
  p.name = name;
  p.namespace_selector = Json{{"matchLabels", {{"kubernetes.io/metadata.name", ns}}}};
  p.keys = std::move(keys);
  p.destinations = std::move(destinations);
  return p;
}

ExportRequest ask(const std::string& ns, const std::string& label, const std::string& dest) {
  return {{{"kubernetes.io/metadata.name", ns}}, true, label, dest};
}

}  // namespace

TEST_CASE("glob: '*' any run, '?' one character, nothing else special", "[hsm-policy]") {
  CHECK(glob_match("team-a-*", "team-a-db"));
  CHECK(glob_match("team-a-*", "team-a-"));
  CHECK_FALSE(glob_match("team-a-*", "team-b-db"));
  CHECK(glob_match("*-db", "team-a-db"));
  CHECK(glob_match("t?am-*", "team-x"));
  CHECK_FALSE(glob_match("team", "team-a"));
  CHECK(glob_match("[x]", "[x]"));  // brackets are plain characters
  CHECK_FALSE(glob_match("[x]", "x"));
  CHECK(glob_match("*", ""));
  // Bounded work on a hostile pattern.
  CHECK_FALSE(glob_match(std::string(100, '*') + "b", std::string(5000, 'a')));
}

TEST_CASE("default deny: a grant needs namespace, key and destination at once", "[hsm-policy]") {
  std::vector<HsmKeyPolicy> ps = {policy("team-a", "team-a", {{"team-a-*", ""}}, {"aws-prod"})};
  CHECK(granting_policy(ps, ask("team-a", "team-a-db", "aws-prod")) ==
        std::optional<std::string>("team-a"));
  CHECK_FALSE(granting_policy(ps, ask("team-b", "team-a-db", "aws-prod")));  // another namespace
  CHECK_FALSE(granting_policy(ps, ask("team-a", "team-b-db", "aws-prod")));  // another team's key
  CHECK_FALSE(granting_policy(ps, ask("team-a", "team-a-db", "attacker")));  // another destination
  CHECK_FALSE(granting_policy({}, ask("team-a", "team-a-db", "aws-prod")));  // no policy at all
  // An empty namespace selector grants nobody.
  HsmKeyPolicy any_label;
  any_label.name = "open";
  any_label.namespace_selector = Json::object();
  any_label.keys = {{"*", ""}};
  any_label.destinations = {"aws-prod"};
  std::vector<HsmKeyPolicy> open = {any_label};
  CHECK_FALSE(granting_policy(open, ask("team-a", "team-a-db", "aws-prod")));
}

TEST_CASE("a label rule grants labels, an id rule ids, and the key found must match the rule too",
          "[hsm-policy]") {
  std::vector<HsmKeyPolicy> ps = {policy("p", "team-a", {{"team-a-*", ""}, {"", "a1b2*"}}, {"d"})};
  ExportRequest by_id{{{"kubernetes.io/metadata.name", "team-a"}}, false, "A1B2C3", "d"};
  CHECK(granting_policy(ps, by_id));  // ids compare case-insensitively
  ExportRequest other_id = by_id;
  other_id.key = "ffff";
  // A label rule cannot grant a request by id, whatever key that id turns out to be.
  CHECK_FALSE(granting_policy(ps, other_id));
  CHECK_FALSE(granting_policy(ps, other_id, FoundKey{"team-a-db", "ffff"}));

  // A rule with both fields: the found key must have both.
  std::vector<HsmKeyPolicy> both = {policy("p", "team-a", {{"team-a-*", "00ff"}}, {"d"})};
  auto req = ask("team-a", "team-a-db", "d");
  CHECK(granting_policy(both, req));  // before the HSM: the label is all there is to judge
  CHECK(granting_policy(both, req, FoundKey{"team-a-db", "00FF"}));
  CHECK_FALSE(granting_policy(both, req, FoundKey{"team-a-db", "0100"}));
}

TEST_CASE("the granting policy is named the same way every time (first by name)", "[hsm-policy]") {
  std::vector<HsmKeyPolicy> ps = {policy("zeta", "team-a", {{"*", ""}}, {"d"}),
                                  policy("alpha", "team-a", {{"team-*", ""}}, {"d"})};
  CHECK(granting_policy(ps, ask("team-a", "team-a-db", "d")) ==
        std::optional<std::string>("alpha"));
}

TEST_CASE("HsmKeyPolicy objects parse into rules", "[hsm-policy]") {
  Json obj = {{"metadata", {{"name", "team-a"}}},
              {"spec",
               {{"namespaceSelector", {{"matchLabels", {{"team", "a"}}}}},
                {"keys", {{{"label", "team-a-*"}}, {{"id", "00ff"}}}},
                {"destinations",
                 {{{"clusterKmsProvider", "aws-prod"}, {"account", "111122223333"}},
                  {{"clusterKmsProvider", "vault"}}}}}}};
  auto p = parse_hsm_key_policy(obj);
  REQUIRE(p.ok());
  CHECK(p->name == "team-a");
  REQUIRE(p->keys.size() == 2);
  CHECK(p->keys[1].id == "00ff");
  CHECK(p->destinations == std::vector<std::string>{"aws-prod", "vault"});
  CHECK(p->accounts == std::map<std::string, std::string>{{"aws-prod", "111122223333"}});
  CHECK_FALSE(parse_hsm_key_policy(Json{{"metadata", {{"name", "x"}}}}).ok());
}
