#include <catch2/catch.hpp>

#include "controller/runtime/change_filter.h"

using byok::runtime::Json;
using byok::runtime::wakes_reconcile;

TEST_CASE("a reconciler's own status writes do not wake it, changes to the object do",
          "[runtime]") {
  Json v1 = Json::parse(R"({"metadata":{"name":"k","namespace":"n","generation":1,
      "resourceVersion":"10","managedFields":[{"manager":"a"}]},"spec":{"x":1},
      "status":{"message":"request id 1"}})");
  CHECK(wakes_reconcile(nullptr, &v1));        // new
  CHECK_FALSE(wakes_reconcile(&v1, nullptr));  // deleted: nothing to reconcile

  Json status_only = v1;
  status_only["metadata"]["resourceVersion"] = "11";
  status_only["metadata"]["managedFields"] = Json::array({{{"manager", "b"}}});
  status_only["status"]["message"] = "request id 2";
  CHECK_FALSE(wakes_reconcile(&v1, &status_only));

  Json spec = status_only;
  spec["spec"]["x"] = 2;
  spec["metadata"]["generation"] = 2;
  CHECK(wakes_reconcile(&status_only, &spec));

  Json annotated = v1;
  annotated["metadata"]["annotations"] = {{"byok.dev/verify-interval", "90s"}};
  CHECK(wakes_reconcile(&v1, &annotated));

  Json deleting = v1;
  deleting["metadata"]["deletionTimestamp"] = "2026-12-03T09:00:00Z";
  CHECK(wakes_reconcile(&v1, &deleting));

  Json finalized = v1;
  finalized["metadata"]["finalizers"] = Json::array({"byok.dev/customermanagedkey"});
  CHECK(wakes_reconcile(&v1, &finalized));
}
