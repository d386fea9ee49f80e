#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "reconcilers/imported_key/imported_key_types.h"
#include "reconcilers/kms_provider/kms_provider_types.h"

using namespace byok;

namespace {
// The shipped examples, read as the apiserver would hand them over (YAML -> JSON).
nlohmann::json to_json(const YAML::Node& n) {
  if (n.IsMap()) {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& kv : n) j[kv.first.as<std::string>()] = to_json(kv.second);
    return j;
  }
  if (n.IsSequence()) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& v : n) j.push_back(to_json(v));
    return j;
  }
  std::string s = n.as<std::string>();
  if (s == "true" || s == "false") return s == "true";
  if (!s.empty() && s.find_first_not_of("0123456789") == std::string::npos) return std::stoll(s);
  return s;
}
nlohmann::json example(const std::string& file, const std::string& kind) {
  for (const auto& doc : YAML::LoadAllFromFile(std::string(BYOK_SOURCE_DIR) + "/examples/" + file))
    if (doc["kind"].as<std::string>() == kind) return to_json(doc);
  FAIL("no " << kind << " in " << file);
  return {};
}
}  // namespace

TEST_CASE("the ImportedKey example parses into the typed view", "[types]") {
  auto k = importedkey::parse_imported_key(example("importedkey-transit.yaml", "ImportedKey"));
  REQUIRE(k.ok());
  CHECK(k->spec.key_type == "aes256-gcm96");
  CHECK_FALSE(k->spec.provider_ref.name.empty());
  CHECK((k->spec.hsm.has_value() || k->spec.wrapped_secret.has_value()));
  CHECK(k->spec.deletion_policy == "Retain");
  CHECK(k->spec.deletion_window_days == 30);
}

TEST_CASE("the KmsProvider example parses with its per-type settings", "[types]") {
  auto p = kmsprovider::parse_kms_provider(example("kmsprovider-azure.yaml", "KmsProvider"));
  REQUIRE(p.ok());
  CHECK(p->spec.type == "azure");
  CHECK(p->spec.settings.count("vaultUrl") == 1);
}

TEST_CASE("an object without a spec is refused with the kind's name", "[types]") {
  auto bad = nlohmann::json::parse(R"({"metadata":{"name":"x"}})");
  auto k = importedkey::parse_imported_key(bad);
  REQUIRE_FALSE(k.ok());
  CHECK(k.error().message.find("ImportedKey") != std::string::npos);
  CHECK_FALSE(kmsprovider::parse_kms_provider(bad).ok());
}
