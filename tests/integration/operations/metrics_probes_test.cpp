// /metrics, /healthz and /readyz of the real operator binary against the real apiserver, and
// the reconcile fields of its JSON log.

#include <catch2/catch.hpp>

#include "controller/kube/resource.h"
#include "tests/harness/cluster.h"
#include "tests/integration/operations/operations_support.h"
#include "reconcilers/customer_managed_key/cmk_types.h"

using namespace byok;
using byok::kube::Json;

namespace {

const auto kCmk = byok::cmk::customer_managed_keys();

double reconciles(const std::string& scrape, const std::string& controller) {
  return testing::sample_sum(scrape, "controller_runtime_reconcile_total",
                             {"controller=\"" + controller + "\""});
}

}  // namespace

TEST_CASE("the operator serves metrics and probes, and its reconcile counter grows with a CMK",
          "[integration][operations]") {
  auto client = testing::connect_from_env();
  kube::KubeClient& c = *client;
  std::string ns = testing::create_namespace(c, "ops-metrics");
  testing::RunningOperator op(ns, "operator");
  INFO("operator log: " << op.log_path);

  // Ready once both informers listed.
  testing::HttpAnswer ready;
  REQUIRE(testing::wait_until([&] {
    ready = testing::http_get(op.probe_port, "/readyz");
    return ready.status == 200;
  }));
  CHECK(ready.body.find("[+]informer-customermanagedkeys ok\n") != std::string::npos);
  CHECK(ready.body.find("[+]informer-kmsproviders ok\n") != std::string::npos);
  CHECK(ready.body.find("readyz check passed") != std::string::npos);
  auto healthz = testing::http_get(op.probe_port, "/healthz");
  CHECK(healthz.status == 200);
  CHECK(healthz.body.find("[+]ping ok") != std::string::npos);
  CHECK(testing::http_get(op.probe_port, "/metrics").status == 404);

  auto metrics = testing::http_get(op.metrics_port, "/metrics");
  REQUIRE(metrics.status == 200);
  CHECK(metrics.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8");
  const std::vector<std::pair<std::string, std::string>> families{
      {"controller_runtime_reconcile_total", "counter"},
      {"controller_runtime_reconcile_errors_total", "counter"},
      {"controller_runtime_reconcile_time_seconds", "histogram"},
      {"controller_runtime_active_workers", "gauge"},
      {"workqueue_depth", "gauge"},
      {"workqueue_adds_total", "counter"},
      {"workqueue_retries_total", "counter"},
      {"workqueue_queue_duration_seconds", "histogram"},
      {"workqueue_work_duration_seconds", "histogram"},
      {"byok_kms_requests_total", "counter"},
      {"byok_kms_request_duration_seconds", "histogram"},
      {"byok_hsm_operations_total", "counter"},
      {"byok_hsm_operation_duration_seconds", "histogram"},
      {"byok_informer_watch_restarts_total", "counter"},
  };
  const std::string text = "\n" + metrics.body;  // every line starts after a newline
  for (const auto& [name, type] : families) {
    INFO(name);
    CHECK(text.find("\n# HELP " + name + " ") != std::string::npos);
    CHECK(text.find("\n# TYPE " + name + " " + type + "\n") != std::string::npos);
  }
  CHECK(metrics.body.find("workqueue_depth{name=\"customermanagedkey\"}") != std::string::npos);
  CHECK(
      metrics.body.find("byok_informer_watch_restarts_total{resource=\"customermanagedkeys\"} ") !=
      std::string::npos);
  // Leader election is off here: no Lease, no leader gauge.
  CHECK(metrics.body.find("leader_election_master_status") == std::string::npos);
  double before = reconciles(metrics.body, "customermanagedkey");
  CHECK(before == 0);  // a fresh namespace: nothing to reconcile yet

  // A CMK without a reachable KmsProvider still reconciles (ProviderNotFound).
  REQUIRE(c.create(kCmk, ns, testing::cmk_without_provider("alpha")).ok());
  REQUIRE(testing::wait_until([&] {
    return testing::condition_field(testing::status_of(c, kCmk, ns, "alpha"), "Ready") ==
           "ProviderNotFound";
  }));
  REQUIRE(
      testing::wait_until([&] { return reconciles(op.scrape(), "customermanagedkey") > before; }));
  std::string after = op.scrape();
  CHECK(testing::sample_sum(after, "controller_runtime_reconcile_time_seconds_count",
                            {"controller=\"customermanagedkey\""}) >= 1);
  CHECK(testing::sample_sum(after, "workqueue_adds_total", {"name=\"customermanagedkey\""}) >= 1);

  // Each reconcile's lines carry the object, its namespace and one reconcile id.
  auto reconciling = op.records("reconciling", "alpha");
  REQUIRE_FALSE(reconciling.empty());
  for (const auto& r : reconciling) {
    CHECK(r.value("namespace", "") == ns);
    CHECK(r.value("controller", "") == "customermanagedkey");
    CHECK(r.value("reconcileID", "").size() == 36);
    CHECK_FALSE(r.value("ts", "").empty());
  }
  auto reconciled = op.records("reconciled", "alpha");
  REQUIRE_FALSE(reconciled.empty());
  CHECK(reconciled.front().value("reconcileID", "") ==
        reconciling.front().value("reconcileID", ""));

  CHECK(op.process->terminate() == 0);
  CHECK(testing::http_get(op.metrics_port, "/metrics").status == 0);  // closed on shutdown
}

TEST_CASE("an unusable bind address stops the operator at start", "[integration][operations]") {
  auto client = testing::connect_from_env();
  std::string ns = testing::create_namespace(*client, "ops-badbind");
  testing::RunningOperator op(ns, "operator", {"--metrics-bind-address", "not-an-address"});
  REQUIRE(testing::wait_until([&] { return !op.process->running(); }, std::chrono::seconds(10)));
  CHECK(op.process->exit_status() == 1);
  CHECK(testing::read_file(op.log_path).find("--metrics-bind-address") != std::string::npos);
}
