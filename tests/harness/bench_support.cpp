#include "tests/harness/bench_support.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "controller/kube/cluster_config.h"
#include "controller/runtime/events.h"
#include "tests/harness/cluster.h"

namespace byok::testing {

std::unique_ptr<kube::RestKubeClient> connect(const std::string& kubeconfig) {
  auto cfg = kube::load_kubeconfig(kubeconfig);
  if (!cfg) throw std::runtime_error(cfg.error().message);
  return std::make_unique<kube::RestKubeClient>(*cfg);
}

ReachedWatch::ReachedWatch(const std::string& kubeconfig, const kube::ResourceType& type,
                           std::string ns, int n, Predicate reached)
    : client_(connect(kubeconfig)),
      type_(type),
      ns_(std::move(ns)),
      n_(n),
      reached_(std::move(reached)) {
  auto list = kube::list_all(*client_, type_, ns_);
  if (!list) throw std::runtime_error("listing " + ns_ + ": " + list.error().message);
  rv_ = list->resource_version;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& o : list->items) note(o);
  }
  thread_ = std::thread([this] { run(); });
}

ReachedWatch::~ReachedWatch() {
  stop_.request_stop();
  thread_.join();
}

std::optional<std::chrono::steady_clock::time_point> ReachedWatch::wait(
    std::chrono::seconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, timeout, [this] { return all_at_.has_value(); });
  return all_at_;
}

int ReachedWatch::reached() {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(names_.size());
}

void ReachedWatch::note(const nlohmann::json& object) {
  if (reached_(object))
    names_.insert(object.value("metadata", nlohmann::json::object()).value("name", ""));
  if (!all_at_ && static_cast<int>(names_.size()) >= n_) {
    all_at_ = std::chrono::steady_clock::now();
    cv_.notify_all();
  }
}

void ReachedWatch::run() {
  while (!stop_.stop_requested()) {
    kube::WatchOptions o;
    o.resource_version = rv_;
    o.timeout = std::chrono::seconds(60);
    auto st = client_->watch(
        type_, ns_, o,
        [this](const kube::WatchEvent& e) {
          const auto& md = e.object.value("metadata", nlohmann::json::object());
          if (md.contains("resourceVersion")) rv_ = md.value("resourceVersion", rv_);
          if (e.type != "ADDED" && e.type != "MODIFIED") return true;
          std::lock_guard<std::mutex> lock(mu_);
          note(e.object);
          return true;
        },
        stop_);
    if (!st && st.error().kind == ErrorKind::Gone) {
      auto list = kube::list_all(*client_, type_, ns_);
      if (list) {
        rv_ = list->resource_version;
        std::lock_guard<std::mutex> lock(mu_);
        for (const auto& o : list->items) note(o);
      }
    } else if (!st) {
      stop_.wait_for(std::chrono::milliseconds(200));
    }
  }
}

void parallel_for(const std::string& kubeconfig, int n, int threads,
                  const std::function<void(kube::KubeClient&, int)>& fn) {
  std::atomic<int> next{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&] {
      auto client = connect(kubeconfig);
      for (int i; (i = next++) < n;) fn(*client, i);
    });
  for (auto& th : pool) th.join();
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string one;
  in >> one;
  return one;
}

double cpu_seconds(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
  auto close = stat.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream fields(stat.substr(close + 2));
  std::string f;
  double utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> f; ++i) {
    if (i == 14) utime = std::stod(f);
    if (i == 15) stime = std::stod(f);
  }
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

int control_plane_pid(const std::string& name) {
  const char* dir = std::getenv("BYOK_CONTROL_PLANE_DIR");
  if (!dir) return -1;
  std::ifstream in(std::string(dir) + "/pids");
  std::string who;
  int pid = -1;
  while (in >> who >> pid)
    if (who == name) return pid;
  return -1;
}

std::string now_micro() { return runtime::format_micro_time(std::chrono::system_clock::now()); }

std::string identity(kube::KubeClient& admin, const std::string& ns, const std::string& name,
                     const std::string& dir) {
  const kube::ResourceType service_accounts{"", "v1", "serviceaccounts", "ServiceAccount", true};
  const kube::ResourceType bindings{"rbac.authorization.k8s.io", "v1", "clusterrolebindings",
                                    "ClusterRoleBinding", false};
  auto sa = admin.create(
      service_accounts, ns,
      {{"apiVersion", "v1"}, {"kind", "ServiceAccount"}, {"metadata", {{"name", name}}}});
  if (!sa) throw std::runtime_error("ServiceAccount " + name + ": " + sa.error().message);
  auto b = admin.create(
      bindings, "",
      {{"apiVersion", "rbac.authorization.k8s.io/v1"},
       {"kind", "ClusterRoleBinding"},
       {"metadata", {{"name", ns + "-" + name}}},
       {"roleRef",
        {{"apiGroup", "rbac.authorization.k8s.io"},
         {"kind", "ClusterRole"},
         {"name", "cluster-admin"}}},
       {"subjects", {{{"kind", "ServiceAccount"}, {"name", name}, {"namespace", ns}}}}});
  if (!b) throw std::runtime_error("ClusterRoleBinding for " + name + ": " + b.error().message);
  return service_account_kubeconfig(admin, ns, name, dir + "/" + name + ".kubeconfig");
}

namespace {

// Seconds since midnight of a MicroTime ("2026-12-04T15:36:21.123456Z"); -1 when malformed.
double seconds_of_day(const std::string& t) {
  int h = 0, m = 0;
  double s = 0;
  if (t.size() < 20 || std::sscanf(t.c_str() + 11, "%d:%d:%lf", &h, &m, &s) != 3) return -1;
  return h * 3600.0 + m * 60.0 + s;
}

}  // namespace

AuditCounts count_audit(const std::string& dir, const std::string& user, const std::string& from,
                        const std::string& to) {
  AuditCounts out;
  std::set<std::string> seen;  // a watch logs ResponseStarted and ResponseComplete
  const std::string needle = "\"" + user + "\"";
  for (const auto& f : std::filesystem::directory_iterator(dir)) {
    std::string name = f.path().filename().string();
    if (name.rfind("audit", 0) != 0 || f.path().extension() != ".log") continue;
    std::ifstream in(f.path());
    for (std::string line; std::getline(in, line);) {
      if (line.find(needle) == std::string::npos) continue;
      nlohmann::json e = nlohmann::json::parse(line, nullptr, false);
      if (e.is_discarded() || e["user"].value("username", "") != user) continue;
      std::string at = e.value("requestReceivedTimestamp", "");
      if (at < from || at >= to || !seen.insert(e.value("auditID", "")).second) continue;
      std::string verb = e.value("verb", "");
      const auto& ref = e.value("objectRef", nlohmann::json::object());
      std::string what = ref.value("resource", e.value("requestURI", ""));
      if (ref.contains("subresource")) what += "/" + ref.value("subresource", "");
      const std::string kind = verb + " " + what;
      out.by_kind[kind]++;
      double took = seconds_of_day(e.value("stageTimestamp", "")) - seconds_of_day(at);
      if (took < 0) took += 86400;  // across midnight
      if (verb != "watch") out.seconds_by_kind[kind] += took;
      out.total++;
      if (verb == "create" || verb == "update" || verb == "patch" || verb == "delete" ||
          verb == "deletecollection")
        out.writes++;
    }
  }
  return out;
}

void print_audit(const char* who, const AuditCounts& a, int n, bool latency) {
  std::printf("  %s apiserver requests: %ld (%.2f per object, %ld writes = %.2f per object)\n", who,
              a.total, static_cast<double>(a.total) / n, a.writes,
              static_cast<double>(a.writes) / n);
  for (const auto& [k, v] : a.by_kind) {
    std::printf("      %-44s %8ld  %6.2f/object", k.c_str(), v, static_cast<double>(v) / n);
    auto s = a.seconds_by_kind.find(k);
    if (latency && s != a.seconds_by_kind.end())
      std::printf("  %7.1f ms each in the apiserver", 1000.0 * s->second / v);
    std::printf("\n");
  }
}

}  // namespace byok::testing
