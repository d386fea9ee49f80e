// The /metrics, /healthz and /readyz server: bind addresses, HTTP answers on a loopback port,
// and the apiserver-style check listing.

#include <catch2/catch.hpp>

#include <sstream>

#include "controller/observability/endpoints.h"
#include "tests/harness/http_get.h"

using namespace byok;
using namespace byok::observability;
using byok::testing::http_get;

namespace {
// What Endpoints serves from, quiet.
struct Served {
  metrics::Registry registry;
  HealthChecks health;
  std::ostringstream sink;
  Logger log{sink};
  std::unique_ptr<Endpoints> endpoints() {
    return std::make_unique<Endpoints>(registry, health, log);
  }
};
}  // namespace

TEST_CASE("bind addresses read as controller-runtime's flags do", "[observability]") {
  auto all = parse_bind_address(":8080");
  REQUIRE(all.ok());
  REQUIRE(all->has_value());
  CHECK((*all)->host.empty());
  CHECK((*all)->port == 8080);
  auto loopback = parse_bind_address("127.0.0.1:0");
  REQUIRE(loopback.ok());
  CHECK((*loopback)->host == "127.0.0.1");
  CHECK((*loopback)->port == 0);
  auto v6 = parse_bind_address("[::1]:9090");
  REQUIRE(v6.ok());
  CHECK((*v6)->host == "::1");
  auto off = parse_bind_address("0");
  REQUIRE(off.ok());
  CHECK_FALSE(off->has_value());
  for (const char* bad : {"8080", "", ":", ":http", "host:99999", "::1:80", "1.2.3.4:-1"}) {
    INFO(bad);
    auto r = parse_bind_address(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().kind == ErrorKind::InvalidArgument);
  }
}

TEST_CASE("checks list as the apiserver lists them, one failure makes readyz 503",
          "[observability]") {
  HealthChecks health;
  bool synced = false;
  health.add_readiness_check("informer-customermanagedkeys", [&]() -> Status {
    if (synced) return {};
    return make_error(ErrorKind::Unavailable, "first list not done yet");
  });
  health.add_readiness_check("hsm", [] { return Status{}; });
  auto r = health.readyz();
  CHECK(r.status == 503);
  CHECK(r.body ==
        "[+]ping ok\n[-]informer-customermanagedkeys failed: first list not done yet\n[+]hsm ok\n"
        "readyz check failed\n");
  synced = true;
  r = health.readyz();
  CHECK(r.status == 200);
  CHECK(r.body ==
        "[+]ping ok\n[+]informer-customermanagedkeys ok\n[+]hsm ok\nreadyz check passed\n");
  CHECK(health.healthz().status == 200);
  CHECK(health.healthz().body == "[+]ping ok\nhealthz check passed\n");
}

TEST_CASE("the endpoints answer GET on loopback ports, other paths 404, other methods 405",
          "[observability]") {
  Served served;
  served.registry.counter("byok_test_total", "A test counter", {"k"}).with({"v"}).inc(3);
  bool ready = false;
  served.health.add_readiness_check("gate", [&]() -> Status {
    if (ready) return {};
    return make_error(ErrorKind::Unavailable, "closed");
  });
  auto owned = served.endpoints();
  Endpoints& endpoints = *owned;
  REQUIRE(endpoints.start("127.0.0.1:0", "127.0.0.1:0").ok());
  REQUIRE(endpoints.metrics_port() > 0);
  REQUIRE(endpoints.probe_port() > 0);
  CHECK(endpoints.metrics_port() != endpoints.probe_port());

  auto m = http_get(endpoints.metrics_port(), "/metrics");
  INFO(m.error);
  CHECK(m.status == 200);
  CHECK(m.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8");
  CHECK(m.body ==
        "# HELP byok_test_total A test counter\n# TYPE byok_test_total counter\n"
        "byok_test_total{k=\"v\"} 3\n");
  CHECK(m.headers["content-length"] == std::to_string(m.body.size()));
  CHECK(http_get(endpoints.metrics_port(), "/metrics?name[]=x").status == 200);
  CHECK(http_get(endpoints.metrics_port(), "/healthz").status ==
        404);  // probes live on their own port
  CHECK(http_get(endpoints.metrics_port(), "/metrics", "POST").status == 405);
  CHECK(http_get(endpoints.probe_port(), "/nothing").status == 404);

  CHECK(http_get(endpoints.probe_port(), "/healthz").status == 200);
  auto not_ready = http_get(endpoints.probe_port(), "/readyz");
  CHECK(not_ready.status == 503);
  CHECK(not_ready.body.find("[-]gate failed: closed\n") != std::string::npos);
  ready = true;
  CHECK(http_get(endpoints.probe_port(), "/readyz").status == 200);

  int port = endpoints.metrics_port();
  endpoints.stop();
  CHECK(http_get(port, "/metrics").status == 0);  // nothing listens any more
}

TEST_CASE("one address serves metrics and probes, 0 turns a listener off", "[observability]") {
  Served served;
  // Probes alone on a kernel-chosen port; then that port serves both.
  auto probe = served.endpoints();
  REQUIRE(probe->start("0", "127.0.0.1:0").ok());
  CHECK(probe->metrics_port() == 0);
  int port = probe->probe_port();
  CHECK(http_get(port, "/readyz").status == 200);
  CHECK(http_get(port, "/metrics").status == 404);
  probe->stop();
  std::string address = "127.0.0.1:" + std::to_string(port);
  auto shared = served.endpoints();
  REQUIRE(shared->start(address, address).ok());
  CHECK(shared->probe_port() == port);
  CHECK(http_get(port, "/metrics").status == 200);
  CHECK(http_get(port, "/healthz").status == 200);

  auto st = served.endpoints()->start("nonsense", "0");
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().message.find("--metrics-bind-address") != std::string::npos);
}

TEST_CASE("a port already in use is an error at start, not later", "[observability]") {
  Served served;
  auto first = served.endpoints();
  REQUIRE(first->start("127.0.0.1:0", "0").ok());
  auto st = served.endpoints()->start("127.0.0.1:" + std::to_string(first->metrics_port()), "0");
  REQUIRE_FALSE(st.ok());
  CHECK(st.error().kind == ErrorKind::Unavailable);
}
