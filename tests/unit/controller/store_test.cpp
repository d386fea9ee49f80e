// The informer's Store: compact serialized objects, managedFields dropped, and indexes that follow
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

TEST_CASE("store: indexes point at the store's own keys, through relists, twins and strays",
          "[informer][index]") {
  // The indexes hold pointers to the keys of the store's nodes (see store.h): every path that
  // replaces a node must move them, which ASan checks in the sanitizer lane.
  Store s;
  by_color(s);
  s.add_index("twice", [](const Json& o) -> std::vector<std::string> {
    if (!o.contains("spec")) return {};
    auto c = o["spec"].value("color", "");
    return {c, c, "any"};  // one value named twice: indexed once
  });
  s.replace({obj("a", "1", "red"), obj("a", "2", "red"), obj("b", "3", "red")});
  CHECK(s.keys_by_index("twice", "red") == std::vector<std::string>{"a/1", "a/2", "b/3"});

  // A relist that keeps every key replaces every node; the listed twin's last copy wins; an
  // object naming another namespace is not taken from namespace a's list.
  s.replace_namespace("a",
                      {obj("a", "1", "red", "2"), obj("a", "2", "red"), obj("a", "2", "blue", "3"),
                       obj("b", "3", "green", "9"), obj("b", "7", "green")});
  CHECK(s.keys_by_index("color", "red") == std::vector<std::string>{"a/1", "b/3"});
  CHECK(s.keys_by_index("twice", "blue") == std::vector<std::string>{"a/2"});
  CHECK(s.keys_by_index("twice", "any") == std::vector<std::string>{"a/1", "a/2", "b/3"});
  CHECK(s.keys_by_index("color", "green").empty());
  CHECK((*s.get_shared("a/2"))["metadata"]["resourceVersion"] == "3");
  CHECK((*s.get_shared("b/3"))["metadata"]["resourceVersion"] == "1");
  CHECK(s.size() == 3);

  // Moving between values and out of every value, then erasing, leaves no value behind.
  s.upsert(obj("a", "1", "blue", "4"));
  s.upsert(obj("a", "2", "", "5"));
  CHECK(s.keys_by_index("color", "blue") == std::vector<std::string>{"a/1"});
  CHECK(s.keys_by_index("twice", "any") == std::vector<std::string>{"a/1", "b/3"});
  s.erase("a/1");
  s.erase("b/3");
  CHECK(s.keys_by_index("twice", "any").empty());
  CHECK(s.keys_by_index("color", "blue").empty());
  s.replace({});
  CHECK(s.size() == 0);

  // An index function that throws leaves no pointer behind: the object goes cleanly afterwards.
  Store t;
  t.add_index("strict", [](const Json& o) -> std::vector<std::string> {
    return {o.at("spec").at("color").get<std::string>()};  // throws on an object without spec
  });
  by_color(t);
  t.upsert(obj("a", "1", "red"));
  CHECK_THROWS(t.upsert(obj("a", "1", "", "2")));
  CHECK(t.keys_by_index("strict", "red") == std::vector<std::string>{"a/1"});
  t.erase("a/1");
  CHECK(t.keys_by_index("strict", "red").empty());
  CHECK(t.keys_by_index("color", "red").empty());

  // Indexes are added once each, before the first write.
  CHECK_THROWS_AS(t.add_index("color", [](const Json&) { return std::vector<std::string>{}; }),
                  std::logic_error);
  t.upsert(obj("a", "2", "red"));
  CHECK_THROWS_AS(t.add_index("late", [](const Json&) { return std::vector<std::string>{}; }),
                  std::logic_error);
}

TEST_CASE("store: a reader keeps the version it read while the store moves on", "[informer]") {
  Store s;
  s.upsert(obj("a", "1", "red"));
  auto first = s.get_shared("a/1");
  REQUIRE(first);
  CHECK_FALSE((*first)["metadata"].contains("managedFields"));
  CHECK(s.get("a/1")->at("metadata").at("name") == "1");

  auto previous = s.upsert(obj("a", "1", "blue", "2"));
  REQUIRE(previous);
  CHECK((*previous)["spec"]["color"] == "red");
  CHECK((*first)["spec"]["color"] == "red");  // still what the reader got
  CHECK((*s.get_shared("a/1"))["spec"]["color"] == "blue");
  CHECK(s.get_shared("a/404") == nullptr);
  CHECK(s.upsert(obj("a", "2", "red")) == nullptr);
}

TEST_CASE("store: objects are kept serialized, smaller than their JSON, and counted",
          "[informer]") {
  Store s;
  CHECK(s.stored_bytes() == 0);
  Json cmk = obj("team", "cmk-1", "red");
  cmk["spec"]["resource"] =
      "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
  cmk["status"] = {{"status", "current"},
                   {"conditions", Json::array({{{"type", "Ready"},
                                                {"status", "True"},
                                                {"reason", "KeyVerified"},
                                                {"observedGeneration", 3},
                                                {"lastTransitionTime", "2026-12-04T10:00:00Z"}}})}};
  s.upsert(cmk);
  Json without = cmk;
  without["metadata"].erase("managedFields");
  const size_t one = s.stored_bytes();
  CHECK(one > 0);
  CHECK(one < without.dump().size());
  CHECK(*s.get_shared("team/cmk-1") == without);  // every field and number type comes back
  s.upsert(obj("team", "cmk-2", "blue"));
  CHECK(s.stored_bytes() > one);
  s.erase("team/cmk-2");
  CHECK(s.stored_bytes() == one);
  CHECK(s.resource_version("team/cmk-1") == "1");  // kept beside the bytes, read unparsed
  CHECK_FALSE(s.resource_version("team/none"));
  s.replace_namespace("team", {obj("team", "cmk-1", "red", "7")});
  CHECK(s.resource_version("team/cmk-1") == "7");
  s.replace_namespace("team", {});
  CHECK(s.stored_bytes() == 0);
  CHECK(s.size() == 0);
}
