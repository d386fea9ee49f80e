#pragma once
// The operator's HTTP endpoints, as controller-runtime's manager serves them: /metrics on the
// metrics address, /healthz and /readyz on the health-probe address (one listener serves all
// three when both addresses are the same). An address of "0" turns that listener off.

#include <memory>
#include <string>

#include "common/log.h"
#include "common/metrics.h"
#include "common/result.h"
#include "controller/observability/health.h"
#include "controller/observability/http_server.h"

namespace byok::observability {

class Endpoints {
 public:
  Endpoints(const metrics::Registry& registry, const HealthChecks& health, Logger& log);

  // InvalidArgument for a malformed address, Unavailable when it cannot be bound.
  Status start(const std::string& metrics_address, const std::string& probe_address);
  int metrics_port() const;  // 0 when disabled
  int probe_port() const;
  void stop();

 private:
  const metrics::Registry& registry_;
  const HealthChecks& health_;
  Logger& log_;
  std::unique_ptr<HttpServer> metrics_server_;
  std::unique_ptr<HttpServer> probe_server_;  // null when the metrics server serves the probes
  bool shared_ = false;
};

}  // namespace byok::observability
