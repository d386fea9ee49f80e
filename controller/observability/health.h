#pragma once
// Named liveness and readiness checks behind /healthz and /readyz, answered the way the
// kube-apiserver answers ?verbose: one line per check, "[+]name ok" or "[-]name failed: reason",
// then "healthz check passed" (200) or "readyz check failed" (503). Checks run on the probe
// server's thread at each request: keep them quick (a readiness check that talks to an HSM
// should answer within the probe's timeout). Thread-safe; checks may be added while serving.

#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"
#include "controller/observability/http_server.h"

namespace byok::observability {

class HealthChecks {
 public:
  using Check = std::function<Status()>;

  // /healthz: the process is alive and serving. A built-in "ping" check always passes.
  void add_liveness_check(std::string name, Check check);
  // /readyz: every check passes (informers synced, the HSM token answers, ...).
  void add_readiness_check(std::string name, Check check);

  HttpResponse healthz() const { return run("healthz", liveness_); }
  HttpResponse readyz() const { return run("readyz", readiness_); }
  // Serves /healthz and /readyz on `server`.
  void serve_on(HttpServer& server) const;

 private:
  using Checks = std::vector<std::pair<std::string, Check>>;
  HttpResponse run(const std::string& what, const Checks& checks) const;

  mutable std::mutex mu_;
  Checks liveness_{{"ping", [] { return Status{}; }}};
  Checks readiness_{{"ping", [] { return Status{}; }}};
};

}  // namespace byok::observability
