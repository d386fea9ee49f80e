#pragma once
// The Kubernetes API as the controller uses it. Calls block the calling thread and return a
// value-or-error whose kind maps from the HTTP status (404 NotFound, 409 Conflict, 410 Gone,
// 429 Throttled, 5xx Unavailable, ...). Objects are nlohmann::json as the apiserver sends them.

#include <chrono>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "common/stop_signal.h"
#include "controller/kube/resource.h"

namespace byok::kube {

using Json = nlohmann::json;

struct ListOptions {
  std::string label_selector;
  std::string field_selector;
  int limit = 500;  // page size; the apiserver's continue token pages the rest
  std::string continue_token;
  std::string resource_version;
};

enum class PatchType {
  Merge,  // application/merge-patch+json; put metadata.resourceVersion in it for a precondition
  Json,   // application/json-patch+json
  Apply,  // server-side apply: application/apply-patch+yaml, needs a field manager
};

struct PatchOptions {
  std::string subresource;    // "status" for the status subresource
  std::string field_manager;  // required for Apply
  bool force = false;         // Apply: take ownership of conflicting fields
};

struct WatchEvent {
  std::string type;  // ADDED, MODIFIED, DELETED, BOOKMARK, ERROR
  Json object;
};

struct WatchOptions {
  std::string resource_version;
  bool allow_bookmarks = true;
  std::chrono::seconds timeout{300};  // the apiserver ends the stream after this: a clean end
  std::string label_selector;
};

class KubeClient {
 public:
  virtual ~KubeClient() = default;

  virtual Result<Json> get(const ResourceType& type, const std::string& ns,
                           const std::string& name) = 0;
  // One page; `metadata.continue` in the answer names the next.
  virtual Result<Json> list(const ResourceType& type, const std::string& ns,
                            const ListOptions& options = {}) = 0;
  virtual Result<Json> create(const ResourceType& type, const std::string& ns, const Json& object,
                              const std::string& subresource = "",
                              const std::string& name = "") = 0;
  virtual Result<Json> patch(const ResourceType& type, const std::string& ns,
                             const std::string& name, PatchType patch_type, const Json& body,
                             const PatchOptions& options = {}) = 0;
  // `preconditions_uid`, when set, makes the delete apply to that incarnation only.
  virtual Status remove(const ResourceType& type, const std::string& ns, const std::string& name,
                        const std::string& preconditions_uid = "") = 0;
  // Streams events to `on_event` until the server ends the stream (Status ok), the stream
  // breaks (an error), `on_event` returns false, or `stop` becomes true. An ERROR event with
  // code 410 is returned as ErrorKind::Gone.
  virtual Status watch(const ResourceType& type, const std::string& ns, const WatchOptions& options,
                       const std::function<bool(const WatchEvent&)>& on_event,
                       StopSignal& stop) = 0;
};

// The word in an error whose answer was larger than the client reads (rest_client.h's caps).
inline constexpr const char* kResponseTooLargeCode = "ApiserverResponseTooLarge";

// Every page of a list, items concatenated; a page too large to read is asked again in smaller
// pages, down to one object; returns {items, resourceVersion of the list}.
struct ListAll {
  Json items = Json::array();
  std::string resource_version;
};
Result<ListAll> list_all(KubeClient& client, const ResourceType& type, const std::string& ns,
                         ListOptions options = {});

// Maps an HTTP status and the apiserver's Status body to an Error. A 429 or 5xx carries the wait
// the apiserver asked (its Retry-After header, else the Status's details.retryAfterSeconds).
Error error_from_http(int http_status, const std::string& body, const std::string& what,
                      const std::string& retry_after_header = "");

}  // namespace byok::kube
