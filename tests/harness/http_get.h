#pragma once
// A loopback HTTP/1.1 client for tests: one request to 127.0.0.1:<port>, read to the end of the
// connection. Only for the operator's plain-HTTP endpoints (/metrics, /healthz, /readyz).

#include <map>
#include <string>
#include <vector>

namespace byok::testing {

struct HttpAnswer {
  int status = 0;  // 0: no answer (connection refused, closed early, timed out)
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::string error;  // why status is 0
};

HttpAnswer http_get(int port, const std::string& path, const std::string& method = "GET");

// The sum of the samples of metric `name` in a text exposition whose label set contains every
// one of `labels` (e.g. {"controller=\"customermanagedkey\""}); 0 when there is none.
double sample_sum(const std::string& exposition, const std::string& name,
                  const std::vector<std::string>& labels = {});

}  // namespace byok::testing
