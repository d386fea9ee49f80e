#include "controller/observability/endpoints.h"

namespace byok::observability {

Endpoints::Endpoints(const metrics::Registry& registry, const HealthChecks& health, Logger& log)
    : registry_(registry), health_(health), log_(log) {}

Status Endpoints::start(const std::string& metrics_address, const std::string& probe_address) {
  auto metrics_bind = parse_bind_address(metrics_address);
  if (!metrics_bind) return metrics_bind.error().context("--metrics-bind-address");
  auto probe_bind = parse_bind_address(probe_address);
  if (!probe_bind) return probe_bind.error().context("--health-probe-bind-address");
  // The same fixed address serves both (port 0 asks for two kernel-chosen ports).
  shared_ = *metrics_bind && metrics_address == probe_address && (*metrics_bind)->port != 0;

  auto serve = [&](const BindAddress& at, bool metrics, bool probes,
                   std::unique_ptr<HttpServer>& server) -> Status {
    server = std::make_unique<HttpServer>(log_);
    if (metrics)
      server->handle("/metrics", [this] {
        return HttpResponse{200, metrics::kTextContentType, registry_.render()};
      });
    if (probes) health_.serve_on(*server);
    auto st = server->start(at);
    if (!st) return st;
    log_.info(metrics && probes ? "serving metrics and health probes"
              : metrics         ? "serving metrics"
                                : "serving health probes",
              {{"address", at.host + ":" + std::to_string(server->port())}});
    return {};
  };
  if (*metrics_bind) {
    auto st = serve(**metrics_bind, true, shared_, metrics_server_);
    if (!st) return st.error().context("--metrics-bind-address");
  }
  if (*probe_bind && !shared_) {
    auto st = serve(**probe_bind, false, true, probe_server_);
    if (!st) return st.error().context("--health-probe-bind-address");
  }
  return {};
}

int Endpoints::metrics_port() const { return metrics_server_ ? metrics_server_->port() : 0; }

int Endpoints::probe_port() const {
  if (shared_) return metrics_port();
  return probe_server_ ? probe_server_->port() : 0;
}

void Endpoints::stop() {
  if (metrics_server_) metrics_server_->stop();
  if (probe_server_) probe_server_->stop();
}

}  // namespace byok::observability
