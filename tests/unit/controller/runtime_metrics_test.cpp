// What the work queue and the controller record: client-go's workqueue_* and controller-runtime's
// reconcile metrics, and the reconcile's log fields.

#include <catch2/catch.hpp>

#include <atomic>
#include <map>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/metrics.h"
#include "controller/runtime/controller.h"
#include "controller/runtime/work_queue.h"

using namespace byok;
using namespace byok::runtime;
using namespace std::chrono_literals;

namespace {
bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}
}  // namespace

TEST_CASE("the work queue records depth, adds, retries and both latencies under its name",
          "[workqueue][metrics]") {
  RealClock clock;
  metrics::Registry registry;
  WorkQueue q(clock);
  q.instrument("cmk", registry);
  q.add("ns/a");
  q.add("ns/a");  // de-duplicated: not an add
  q.add("ns/b");
  auto text = registry.render();
  CHECK(has_line(text, "workqueue_adds_total{name=\"cmk\"} 2"));
  CHECK(has_line(text, "workqueue_depth{name=\"cmk\"} 2"));

  auto key = q.get();
  q.done(*key);
  q.add_rate_limited("ns/c");
  text = registry.render();
  CHECK(has_line(text, "workqueue_depth{name=\"cmk\"} 1"));
  CHECK(has_line(text, "workqueue_queue_duration_seconds_count{name=\"cmk\"} 1"));
  CHECK(has_line(text, "workqueue_work_duration_seconds_count{name=\"cmk\"} 1"));
  CHECK(has_line(text, "workqueue_retries_total{name=\"cmk\"} 1"));
  CHECK(text.find("# TYPE workqueue_queue_duration_seconds histogram") != std::string::npos);
}

TEST_CASE(
    "the controller counts reconciles by result, times them and logs each with a reconcile id",
    "[controller][metrics]") {
  RealClock clock;
  metrics::Registry registry;
  std::ostringstream out;
  Logger log(out, Logger::Format::Json, Logger::Level::Debug);
  WorkQueue q(clock);
  int ids = 0;
  std::atomic<int> calls{0};
  Controller c("customermanagedkey", q,
               [&](const std::string& key) {
                 calls++;
                 if (key == "team-a/bad")
                   return ReconcileResult{ReconcileResult::Action::Terminal, 0ms, "bad spec"};
                 return ReconcileResult{};
               },
               1, std::chrono::hours(1), log,
               {&registry, [&] { return "id-" + std::to_string(++ids); }});
  q.add("team-a/good");
  q.add("team-a/bad");
  StopSignal stop;
  std::thread runner([&] { c.run(stop); });
  for (int i = 0; i < 200 && calls < 2; ++i) std::this_thread::sleep_for(10ms);
  std::this_thread::sleep_for(20ms);
  stop.request_stop();
  runner.join();

  auto text = registry.render();
  CHECK(has_line(text,
                 "controller_runtime_reconcile_total{controller=\"customermanagedkey\",result="
                 "\"success\"} 1"));
  CHECK(has_line(
      text,
      "controller_runtime_reconcile_total{controller=\"customermanagedkey\",result=\"error\"} 1"));
  CHECK(has_line(text,
                 "controller_runtime_reconcile_total{controller=\"customermanagedkey\",result="
                 "\"requeue\"} 0"));
  CHECK(has_line(text,
                 "controller_runtime_reconcile_errors_total{controller=\"customermanagedkey\"} 1"));
  CHECK(has_line(
      text,
      "controller_runtime_terminal_reconcile_errors_total{controller=\"customermanagedkey\"} 1"));
  CHECK(has_line(
      text,
      "controller_runtime_reconcile_time_seconds_count{controller=\"customermanagedkey\"} 2"));
  CHECK(has_line(
      text, "controller_runtime_max_concurrent_reconciles{controller=\"customermanagedkey\"} 1"));
  CHECK(has_line(text, "controller_runtime_active_workers{controller=\"customermanagedkey\"} 0"));
  CHECK(has_line(text, "workqueue_adds_total{name=\"customermanagedkey\"} 2"));

  // Every line of a reconcile carries controller, namespace, name and the same reconcileID.
  std::istringstream lines(out.str());
  std::map<std::string, std::vector<nlohmann::json>> by_id;
  for (std::string l; std::getline(lines, l);) {
    auto j = nlohmann::json::parse(l);
    by_id[j.value("reconcileID", "")].push_back(j);
  }
  REQUIRE(by_id.count("id-1") == 1);
  REQUIRE(by_id.count("id-2") == 1);
  for (const auto& [id, records] : by_id) {
    if (id.empty()) continue;
    for (const auto& r : records) {
      CHECK(r.value("controller", "") == "customermanagedkey");
      CHECK(r.value("namespace", "") == "team-a");
    }
  }
  const auto& bad = by_id["id-2"];
  REQUIRE(bad.size() == 3);  // reconciling, reconciled, the warning
  CHECK(bad[0].value("msg", "") == "reconciling");
  CHECK(bad[0].value("name", "") == "bad");
  CHECK(bad[1].value("msg", "") == "reconciled");
  CHECK(bad[1].value("result", "") == "error");
  CHECK(bad[2].value("level", "") == "warn");
  CHECK(bad[2].value("error", "") == "bad spec");
}
