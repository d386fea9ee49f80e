#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "controller/runtime/object_meta.h"

using byok::runtime::ObjectMeta;
using nlohmann::json;

// Found by tests/fuzz/manifests: from_json threw on an object without metadata.
TEST_CASE("ObjectMeta::from_json reads any JSON, a wrongly typed field as absent",
          "[controller][meta][fuzz-regression]") {
  for (const char* text : {"{}", "[]", "7", R"({"metadata": 1})",
                           R"({"metadata": {"name": 3, "generation": "x", "finalizers": [1, "f"],
                               "annotations": [], "uid": null}})"}) {
    INFO(text);
    ObjectMeta m = ObjectMeta::from_json(json::parse(text));
    CHECK(m.name.empty());
    CHECK(m.generation == 0);
    CHECK(m.annotations.is_object());
  }
  auto m = ObjectMeta::from_json(
      json::parse(R"({"metadata": {"name": "a", "generation": 4, "finalizers": [1, "f"]}})"));
  CHECK(m.name == "a");
  CHECK(m.generation == 4);
  CHECK(m.finalizers == std::vector<std::string>{"f"});
}
