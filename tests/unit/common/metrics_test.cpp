// The metrics registry and its text exposition (Prometheus format 0.0.4).

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <thread>
#include <vector>

#include "common/metrics.h"

using namespace byok;
using namespace byok::metrics;

TEST_CASE("counters and gauges render with HELP, TYPE and sorted label sets", "[metrics]") {
  Registry r;
  auto& reconciles = r.counter("controller_runtime_reconcile_total",
                               "Total number of reconciliations", {"controller", "result"});
  reconciles.with({"cmk", "success"}).inc();
  reconciles.with({"cmk", "success"}).inc(2);
  reconciles.with({"cmk", "error"}).inc();
  r.gauge("workqueue_depth", "Current depth", {"name"}).with({"cmk"}).set(4);
  r.gauge("up", "No labels").with({}).set(1);

  CHECK(r.render() ==
        "# HELP controller_runtime_reconcile_total Total number of reconciliations\n"
        "# TYPE controller_runtime_reconcile_total counter\n"
        "controller_runtime_reconcile_total{controller=\"cmk\",result=\"error\"} 1\n"
        "controller_runtime_reconcile_total{controller=\"cmk\",result=\"success\"} 3\n"
        "# HELP up No labels\n"
        "# TYPE up gauge\n"
        "up 1\n"
        "# HELP workqueue_depth Current depth\n"
        "# TYPE workqueue_depth gauge\n"
        "workqueue_depth{name=\"cmk\"} 4\n");
}

TEST_CASE("a family shows its HELP and TYPE before it has samples", "[metrics]") {
  Registry r;
  r.counter("byok_kms_requests_total", "KMS calls", {"provider", "operation", "outcome"});
  CHECK(r.render() ==
        "# HELP byok_kms_requests_total KMS calls\n# TYPE byok_kms_requests_total counter\n");
}

TEST_CASE("label values and HELP text are escaped", "[metrics]") {
  Registry r;
  r.counter("c_total", "line one\nback\\slash \"quotes stay\"", {"v"}).with({"a\"b\\c\nd"}).inc();
  CHECK(r.render() ==
        "# HELP c_total line one\\nback\\\\slash \"quotes stay\"\n"
        "# TYPE c_total counter\n"
        "c_total{v=\"a\\\"b\\\\c\\nd\"} 1\n");
}

TEST_CASE("a histogram renders cumulative buckets, +Inf, _sum and _count", "[metrics]") {
  Registry r;
  auto& h = r.histogram("op_seconds", "Op duration", {"op"}, {0.1, 0.5, 1}).with({"wrap"});
  h.observe(0.05);
  h.observe(0.1);  // le is inclusive
  h.observe(0.7);
  h.observe(3);
  CHECK(r.render() ==
        "# HELP op_seconds Op duration\n"
        "# TYPE op_seconds histogram\n"
        "op_seconds_bucket{op=\"wrap\",le=\"0.1\"} 2\n"
        "op_seconds_bucket{op=\"wrap\",le=\"0.5\"} 2\n"
        "op_seconds_bucket{op=\"wrap\",le=\"1\"} 3\n"
        "op_seconds_bucket{op=\"wrap\",le=\"+Inf\"} 4\n"
        "op_seconds_sum{op=\"wrap\"} 3.85\n"
        "op_seconds_count{op=\"wrap\"} 4\n");
}

TEST_CASE("a histogram without labels puts le alone in the braces", "[metrics]") {
  Registry r;
  r.histogram("h", "H", {}, {1}).with({}).observe(2);
  CHECK(r.render() ==
        "# HELP h H\n# TYPE h histogram\nh_bucket{le=\"1\"} 0\nh_bucket{le=\"+Inf\"} 1\nh_sum "
        "2\nh_count 1\n");
}

TEST_CASE("values are written as the text format reads them", "[metrics]") {
  CHECK(format_value(0) == "0");
  CHECK(format_value(42) == "42");
  CHECK(format_value(0.005) == "0.005");
  CHECK(format_value(1e-8) == "1e-08");
  CHECK(format_value(std::numeric_limits<double>::infinity()) == "+Inf");
  CHECK(format_value(-std::numeric_limits<double>::infinity()) == "-Inf");
  CHECK(format_value(std::nan("")) == "NaN");
}

TEST_CASE("registering a name again returns the same family, another shape is refused",
          "[metrics]") {
  Registry r;
  auto& a = r.counter("x_total", "X", {"k"});
  auto& b = r.counter("x_total", "X", {"k"});
  CHECK(&a == &b);
  CHECK(&a.with({"1"}) == &b.with({"1"}));
  CHECK_THROWS_AS(r.gauge("x_total", "X", {"k"}), std::logic_error);
  CHECK_THROWS_AS(r.counter("x_total", "X", {"other"}), std::logic_error);
  CHECK_THROWS_AS(a.with({"1", "2"}), std::logic_error);
  CHECK_THROWS_AS(r.counter("bad-name", "X"), std::logic_error);
  CHECK_THROWS_AS(r.histogram("h", "H", {"le"}), std::logic_error);
}

TEST_CASE("observe_call counts the outcome by error kind and times the call", "[metrics]") {
  Registry r;
  auto& total = r.counter("calls_total", "Calls", {"op", "outcome"});
  auto& duration = r.histogram("calls_seconds", "Call time", {"op"});
  Result<int> ok = observe_call(total, duration, {"get"}, [] { return Result<int>(7); });
  Status failed = observe_call(total, duration, {"get"},
                               [] { return Status{make_error(ErrorKind::Unavailable, "down")}; });
  CHECK(*ok == 7);
  CHECK(failed.error().message == "down");
  CHECK(total.with({"get", "success"}).value() == 1);
  CHECK(total.with({"get", "Unavailable"}).value() == 1);
  CHECK(duration.with({"get"}).snapshot().count == 2);
}

TEST_CASE("counters stay exact under concurrent increments", "[metrics]") {
  Registry r;
  auto& family = r.counter("n_total", "N", {"t"});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) family.with({"same"}).inc();
    });
  for (auto& t : threads) t.join();
  CHECK(family.with({"same"}).value() == 40000);
}
