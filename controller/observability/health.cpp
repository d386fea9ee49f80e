#include "controller/observability/health.h"

namespace byok::observability {

void HealthChecks::add_liveness_check(std::string name, Check check) {
  std::lock_guard<std::mutex> lock(mu_);
  liveness_.emplace_back(std::move(name), std::move(check));
}

void HealthChecks::add_readiness_check(std::string name, Check check) {
  std::lock_guard<std::mutex> lock(mu_);
  readiness_.emplace_back(std::move(name), std::move(check));
}

HttpResponse HealthChecks::run(const std::string& what, const Checks& checks) const {
  Checks copy;
  {
    std::lock_guard<std::mutex> lock(mu_);
    copy = checks;
  }
  HttpResponse r;
  bool all_ok = true;
  for (const auto& [name, check] : copy) {
    Status st;
    try {
      st = check();
    } catch (const std::exception& e) {
      st = make_error(ErrorKind::Internal, e.what());
    }
    if (st.ok()) {
      r.body += "[+]" + name + " ok\n";
    } else {
      all_ok = false;
      r.body += "[-]" + name + " failed: " + st.error().message + "\n";
    }
  }
  r.status = all_ok ? 200 : 503;
  r.body += what + (all_ok ? " check passed\n" : " check failed\n");
  return r;
}

void HealthChecks::serve_on(HttpServer& server) const {
  server.handle("/healthz", [this] { return healthz(); });
  server.handle("/readyz", [this] { return readyz(); });
}

}  // namespace byok::observability
