#pragma once
// What the benchmarks (bench/) share: a watch that notes the moment N objects of a namespace
// reached a state, work spread over threads each with its own client, and the machine's load.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "common/stop_signal.h"
#include "controller/kube/rest_client.h"

namespace byok::testing {

// A client of the kubeconfig at `path`; throws when it cannot be read.
std::unique_ptr<kube::RestKubeClient> connect(const std::string& kubeconfig);

// Watches the objects of `type` in `ns` (with the client of `kubeconfig`) and notes the moment
// `n` of them satisfied `reached`. One watch per side of a bench, so each puts the same extra
// load on the apiserver. Assumes an object that reached the state stays counted (the benches'
// objects only move forward), so a relist after 410 Gone only adds.
class ReachedWatch {
 public:
  using Predicate = std::function<bool(const nlohmann::json& object)>;
  ReachedWatch(const std::string& kubeconfig, const kube::ResourceType& type, std::string ns, int n,
               Predicate reached);
  ~ReachedWatch();
  ReachedWatch(const ReachedWatch&) = delete;
  ReachedWatch& operator=(const ReachedWatch&) = delete;

  // Waits until all N reached the state or `timeout` passes; the time all had, or nullopt.
  std::optional<std::chrono::steady_clock::time_point> wait(std::chrono::seconds timeout);
  int reached();

 private:
  void run();
  void note(const nlohmann::json& object);  // with mu_ held

  std::unique_ptr<kube::RestKubeClient> client_;
  kube::ResourceType type_;
  std::string ns_;
  int n_;
  Predicate reached_;
  std::string rv_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::set<std::string> names_;
  std::optional<std::chrono::steady_clock::time_point> all_at_;
  StopSignal stop_;
  std::thread thread_;
};

// Runs fn(client, i) for i in [0, n) on `threads` threads, each with a client of `kubeconfig`.
void parallel_for(const std::string& kubeconfig, int n, int threads,
                  const std::function<void(kube::KubeClient&, int)>& fn);

// The 1-minute load average (/proc/loadavg), printed beside a shared machine's figures.
std::string load_average();

// User + system CPU seconds process `pid` has used so far (/proc/<pid>/stat), -1 when it is gone.
double cpu_seconds(int pid);

// The pid of the control plane's `name` (apiserver, etcd) from the harness's pids file
// ($BYOK_CONTROL_PLANE_DIR/pids, tests/harness/control-plane.sh), -1 when not found.
int control_plane_pid(const std::string& name);

// Now in the apiserver audit log's timestamp format (metav1.MicroTime), so that windows of the
// log compare as strings.
std::string now_micro();

// A ServiceAccount `name` in `ns` bound to cluster-admin (benches measure requests, not RBAC),
// and a kubeconfig acting as it in `dir`; returns the kubeconfig's path. The control plane's
// audit log records service accounts' requests (tests/harness/control-plane.sh), so a side of a
// bench that runs as its own ServiceAccount can be counted there.
std::string identity(kube::KubeClient& admin, const std::string& ns, const std::string& name,
                     const std::string& dir);

// Requests of one user in the audit log (and its rotated files), by "verb resource[/sub]", with
// the time the apiserver took over them (received to response complete).
struct AuditCounts {
  std::map<std::string, long> by_kind;
  std::map<std::string, double> seconds_by_kind;
  long total = 0, writes = 0;
};
// The requests `user` sent in [from, to) (now_micro() times), from the audit logs in `dir`.
AuditCounts count_audit(const std::string& dir, const std::string& user, const std::string& from,
                        const std::string& to);
// The counts per object, one line per kind (with the apiserver's mean time when `latency`).
void print_audit(const char* who, const AuditCounts& a, int n, bool latency = false);

}  // namespace byok::testing
