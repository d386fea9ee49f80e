// The informer's Store: shared immutable objects, managedFields dropped, and indexes that follow
// every kind of write.

#include <catch2/catch.hpp>

#include "controller/runtime/store.h"

using namespace byok::runtime;

namespace {

Json obj(const std::string& ns, const std::string& name, const std::string& color,
         const std::string& rv = "1") {
  Json o = {{"metadata",
             {{"namespace", ns},
              {"name", name},
              {"resourceVersion", rv},
              {"managedFields", Json::array({{{"manager", "kubectl"}}})}}}};
  if (!color.empty()) o["spec"] = {{"color", color}};
  return o;
}

std::vector<std::string> names(const std::vector<SharedJson>& objects) {
  std::vector<std::string> out;
  for (const auto& o : objects) out.push_back(object_key(*o));
  return out;
}

void by_color(Store& s) {
  s.add_index("color", [](const Json& o) -> std::vector<std::string> {
    if (!o.contains("spec")) return {};
    return {o["spec"].value("color", "")};
  });
}

}  // namespace

TEST_CASE("store: an index finds objects by value and follows updates and deletes",
          "[informer][index]") {
  Store s;
  by_color(s);
  s.upsert(obj("a", "1", "red"));
  s.upsert(obj("a", "2", "blue"));
  s.upsert(obj("b", "3", "red"));
  s.upsert(obj("b", "4", ""));  // no spec: in no value
  CHECK(names(s.by_index("color", "red")) == std::vector<std::string>{"a/1", "b/3"});
  CHECK(names(s.by_index("color", "blue")) == std::vector<std::string>{"a/2"});

  s.upsert(obj("a", "1", "blue", "2"));  // moves from red to blue
  CHECK(names(s.by_index("color", "red")) == std::vector<std::string>{"b/3"});
  CHECK(names(s.by_index("color", "blue")) == std::vector<std::string>{"a/1", "a/2"});
  CHECK((*s.by_index("color", "blue")[0])["metadata"]["resourceVersion"] == "2");

  s.erase("b/3");
  CHECK(s.by_index("color", "red").empty());
  CHECK(s.by_index("color", "green").empty());
  CHECK(s.by_index("no such index", "red").empty());
  CHECK(s.has_index("color"));
  CHECK_FALSE(s.has_index("no such index"));
}

TEST_CASE("store: a relist of everything or of one namespace re-indexes what it replaced",
          "[informer][index]") {
  Store s;
  by_color(s);
  s.replace({obj("a", "1", "red"), obj("a", "2", "red"), obj("b", "3", "red")});
  CHECK(s.by_index("color", "red").size() == 3);

  // a/1 gone, a/2 turned blue, a/5 new and red; b's objects are not touched.
  auto removed = s.replace_namespace("a", {obj("a", "2", "blue", "2"), obj("a", "5", "red")});
  CHECK(names(removed) == std::vector<std::string>{"a/1"});
  CHECK(names(s.by_index("color", "red")) == std::vector<std::string>{"a/5", "b/3"});
  CHECK(names(s.by_index("color", "blue")) == std::vector<std::string>{"a/2"});

  s.replace({obj("c", "9", "blue")});
  CHECK(s.by_index("color", "red").empty());
  CHECK(names(s.by_index("color", "blue")) == std::vector<std::string>{"c/9"});
}

TEST_CASE("store: reads share one immutable object, and a reader keeps its version", "[informer]") {
  Store s;
  s.upsert(obj("a", "1", "red"));
  auto first = s.get_shared("a/1");
  REQUIRE(first);
  CHECK(first.get() == s.get_shared("a/1").get());  // no copy per read
  CHECK_FALSE((*first)["metadata"].contains("managedFields"));
  CHECK(s.get("a/1")->at("metadata").at("name") == "1");

  auto previous = s.upsert(obj("a", "1", "blue", "2"));
  CHECK(previous.get() == first.get());
  CHECK((*first)["spec"]["color"] == "red");  // still what the reader got
  CHECK((*s.get_shared("a/1"))["spec"]["color"] == "blue");
  CHECK(s.get_shared("a/404") == nullptr);
}
