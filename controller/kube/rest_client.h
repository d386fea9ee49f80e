#pragma once
// KubeClient over HTTPS with cpprestsdk. TLS verification is always on: the apiserver's CA
// comes from the ClusterConfig, client certificates or a bearer token authenticate.

#include <memory>
#include <mutex>

#include "controller/kube/client.h"
#include "controller/kube/cluster_config.h"

namespace web::http::client {
class http_client;
}
struct x509_store_st;

namespace byok::kube {

// Caps on what the apiserver's answers may make this process buffer. An object is at most what
// etcd stores (1.5 MiB by default, `--max-request-bytes`); a watch line is one event, one object.
// A list page larger than the body cap is asked again with a smaller page (list_all).
inline constexpr std::size_t kMaxApiserverBodyBytes = 64 * 1024 * 1024;
inline constexpr std::size_t kMaxWatchEventBytes = 16 * 1024 * 1024;

// cpprestsdk runs every HTTP client's socket work on one shared pool of threads, 40 unless told
// before its first request. Callers here block on their own threads (workers, watches) and the
// pool only moves bytes, so a few threads serve them all; each idle one still costs a stack and
// kernel state. Call before any request.
void limit_http_client_threads(std::size_t threads);

// One line of a watch stream, {"type": ..., "object": {...}}, as an event; an ERROR event as the
// error its Status means (410 Gone, ...); anything else as an Internal error. `what` names the
// watch in messages.
Result<WatchEvent> decode_watch_event(const std::string& line, const std::string& what);

class RestKubeClient final : public KubeClient {
 public:
  explicit RestKubeClient(ClusterConfig config,
                          std::chrono::seconds request_timeout = std::chrono::seconds(30));
  ~RestKubeClient() override;

  Result<Json> get(const ResourceType& type, const std::string& ns,
                   const std::string& name) override;
  Result<Json> list(const ResourceType& type, const std::string& ns,
                    const ListOptions& options) override;
  Result<Json> create(const ResourceType& type, const std::string& ns, const Json& object,
                      const std::string& subresource, const std::string& name) override;
  Result<Json> patch(const ResourceType& type, const std::string& ns, const std::string& name,
                     PatchType patch_type, const Json& body, const PatchOptions& options) override;
  Status remove(const ResourceType& type, const std::string& ns, const std::string& name,
                const std::string& preconditions_uid) override;
  Status watch(const ResourceType& type, const std::string& ns, const WatchOptions& options,
               const std::function<bool(const WatchEvent&)>& on_event, StopSignal& stop) override;

  // Any other call (TokenRequest, SelfSubjectReview, ...): path with query, JSON body or null.
  Result<Json> request(const std::string& method, const std::string& path_and_query,
                       const Json& body, const std::string& content_type = "application/json");

 private:
  std::string authorization() const;

  ClusterConfig config_;
  std::shared_ptr<x509_store_st> ca_store_;  // the cluster's CA, shared by every connection
  std::unique_ptr<web::http::client::http_client> client_;
  std::chrono::seconds request_timeout_;
};

}  // namespace byok::kube
