// CustomerManagedKeys at scale, three ways against one apiserver in one run:
//
//   ceiling   a plain client making exactly the requests the operator makes per object (the
//             finalizer patch, the KmsProvider read, the status apply, two Events), with as many
//             threads as the operator has workers, fed straight by the creating threads;
//   operator  byok-operator with that many workers;
//   peer      bench/peer, a controller-runtime controller with the same writes and workers.
//
// The bench's objects name providerRef "aws", a KmsProvider that does not exist: the operator
// reads it (404), records ProviderNotFound and still makes the object `current`, and calls no
// KMS; the ceiling and the peer do the same read.
//
// Each side runs as its own ServiceAccount, so the apiserver's audit log (Metadata level, service
// accounts only: tests/harness/control-plane.sh) tells how many requests of which verb and
// resource it made per object. The bench's own creates and its watch use the admin's identity
// and are not counted. For the operator and the peer: RSS with an empty namespace (base), the
// peak while working and the steady value after; then an idle window of --idle-seconds with
// --resync-seconds shorter than it, counting writes and (the operator's /metrics) KMS calls; and
// the CPU seconds the controller, kube-apiserver and etcd used while it worked (they share the
// machine's cores). Figures only, not a test.
//
//   bench/cmk/run.sh [N] [workers] [flags]     (starts and stops its own control plane)
//   flags: --peer PATH (default $BYOK_BENCH_PEER; none: no peer) --idle-seconds S (65)
//          --resync-seconds R (30) --timeout-seconds T (600, per side) --no-ceiling-again
//          --only operator|peer (that side alone: for N too large for one run of all three)
//
// The ceiling runs first (after an untimed warm-up of min(N, 200) objects) and again last; the
// controllers' ratios are against the mean of the two, and the drift between them says how much
// the shared machine moved during the run.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/process_init.h"
#include "common/stop_signal.h"
#include "controller/kube/cluster_config.h"
#include "controller/kube/resource.h"
#include "controller/runtime/events.h"
#include "reconcilers/customer_managed_key/cmk_types.h"
#include "reconcilers/kms_provider/kms_provider_types.h"
#include "tests/harness/bench_support.h"
#include "tests/harness/cluster.h"
#include "tests/harness/http_get.h"
#include "tests/harness/operator_process.h"
#include "tests/harness/server_env.h"

namespace kube = byok::kube;
namespace testing = byok::testing;
using kube::Json;
using Clock = std::chrono::steady_clock;

namespace {

const auto kCmk = byok::cmk::customer_managed_keys();
const char kResource[] =
    "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

struct Options {
  int n = 1000;
  int workers = 4;
  std::string peer;
  int idle_seconds = 65;
  int resync_seconds = 30;
  int timeout_seconds = 600;
  bool ceiling_again = true;
  std::string only;  // "operator" or "peer": that side alone, when one run of all three is too long
};

Json cmk(int i) {
  return {
      {"apiVersion", "byok.dev/v1alpha1"},
      {"kind", "CustomerManagedKey"},
      {"metadata", {{"name", "cmk-" + std::to_string(i)}}},
      {"spec", {{"provider", "aws"}, {"resource", kResource}, {"providerRef", {{"name", "aws"}}}}}};
}

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

long proc_status_kib(int pid, const char* field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(field, 0) == 0) return std::stol(line.substr(std::string(field).size()));
  return -1;
}

// Samples a process's VmRSS every 100 ms: the peak seen and when, and the latest.
class RssSampler {
 public:
  explicit RssSampler(int pid) : pid_(pid), thread_([this] { run(); }) {}
  ~RssSampler() {
    stop_.request_stop();
    thread_.join();
  }
  long now_kib() const { return proc_status_kib(pid_, "VmRSS:"); }
  long peak_kib() const { return std::max(peak_.load(), proc_status_kib(pid_, "VmHWM:")); }
  // When the sampled peak was seen, in seconds after `since` (the first create).
  double peak_after(Clock::time_point since) const {
    return std::chrono::duration<double>(peak_at_.load() - since).count();
  }

 private:
  void run() {
    do {
      long v = proc_status_kib(pid_, "VmRSS:");
      if (v > peak_) {
        peak_ = v;
        peak_at_ = Clock::now();
      }
    } while (!stop_.wait_for(std::chrono::milliseconds(100)));
  }
  int pid_;
  std::atomic<long> peak_{0};
  std::atomic<Clock::time_point> peak_at_{};
  byok::StopSignal stop_;
  std::thread thread_;
};

// `current`: what the bench's watch (as the admin, uncounted) waits for.
bool is_current(const Json& o) {
  return o.contains("status") && o["status"].value("status", "") == "current";
}

// The status the operator applies to a bench object: current, KeyVerified and Ready False with
// ProviderNotFound (its message), a fresh id.
Json bench_status(const std::string& ns, int i, const std::string& created,
                  const std::string& now) {
  std::string message = "KmsProvider " + ns +
                        "/aws (spec.providerRef.name) does not exist: create it or fix "
                        "spec.providerRef.name";
  auto cond = [&](const char* type) {
    return Json{{"type", type},       {"status", "False"},       {"reason", "ProviderNotFound"},
                {"message", message}, {"observedGeneration", 1}, {"lastTransitionTime", now}};
  };
  char id[40];
  std::snprintf(id, sizeof id, "00000000-0000-4000-8000-%012d", i);
  return {{"status", "current"},
          {"default", false},
          {"observedGeneration", 1},
          {"conditions", {cond("KeyVerified"), cond("Ready")}},
          {"id", id},
          {"createdAt", created},
          {"updatedAt", now}};
}

Json bench_event(const Json& regarding, const std::string& ns, const char* type, const char* reason,
                 const char* action, const std::string& note, int seq) {
  const auto& md = regarding["metadata"];
  char suffix[17];
  std::snprintf(suffix, sizeof suffix, "%016x", seq);
  return {{"apiVersion", "events.k8s.io/v1"},
          {"kind", "Event"},
          {"metadata", {{"name", md.value("name", "") + "." + suffix}, {"namespace", ns}}},
          {"eventTime", testing::now_micro()},
          {"reportingController", "byok.dev/bench-ceiling"},
          {"reportingInstance", "bench"},
          {"action", action},
          {"reason", reason},
          {"type", type},
          {"note", note},
          {"regarding",
           {{"apiVersion", "byok.dev/v1alpha1"},
            {"kind", "CustomerManagedKey"},
            {"name", md.value("name", "")},
            {"namespace", ns},
            {"uid", md.value("uid", "")},
            {"resourceVersion", md.value("resourceVersion", "")}}}};
}

struct CeilingRun {
  double seconds = 0;
  bool complete = false;
  int failures = 0;
  testing::AuditCounts audit;
};

// Creators (the admin, as for the controllers) hand each created object to `workers` threads
// that make the operator's requests for it.
CeilingRun run_ceiling(kube::KubeClient& admin, const Options& o, const std::string& sa_kubeconfig,
                       const std::string& audit_dir, const std::string& user) {
  CeilingRun r;
  std::string ns = testing::create_namespace(admin, "bench-ceiling");
  testing::ReachedWatch watch(testing::kubeconfig_path(), kCmk, ns, o.n, is_current);
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::pair<int, Json>> created;
  int creators_left = o.workers;
  std::atomic<int> failures{0};
  const std::string from = testing::now_micro();
  auto t0 = Clock::now();
  std::thread creators([&] {
    testing::parallel_for(testing::kubeconfig_path(), o.n, o.workers,
                          [&](kube::KubeClient& c, int i) {
                            auto made = c.create(kCmk, ns, cmk(i));
                            if (!made) {
                              failures++;
                              return;
                            }
                            std::lock_guard<std::mutex> lock(mu);
                            created.emplace_back(i, std::move(*made));
                            cv.notify_one();
                          });
    std::lock_guard<std::mutex> lock(mu);
    creators_left = 0;
    cv.notify_all();
  });
  std::vector<std::thread> workers;
  for (int t = 0; t < o.workers; ++t)
    workers.emplace_back([&] {
      auto client = testing::connect(sa_kubeconfig);
      kube::KubeClient* c = client.get();  // the interface carries the default arguments
      for (;;) {
        std::pair<int, Json> item;
        {
          std::unique_lock<std::mutex> lock(mu);
          cv.wait(lock, [&] { return !created.empty() || creators_left == 0; });
          if (created.empty()) return;
          item = std::move(created.front());
          created.pop_front();
        }
        auto& [i, obj] = item;
        const std::string name = obj["metadata"].value("name", "");
        Json finalizer = Json::object();
        finalizer["metadata"]["finalizers"] = Json::array({byok::cmk::kFinalizer});
        finalizer["metadata"]["resourceVersion"] = obj["metadata"].value("resourceVersion", "");
        auto fin = c->patch(kCmk, ns, name, kube::PatchType::Merge, finalizer);
        if (!fin) {
          failures++;
          continue;
        }
        if (auto p = c->get(byok::kmsprovider::kms_providers(), ns, "aws");
            p || p.error().kind != byok::ErrorKind::NotFound)
          failures++;
        const std::string now = byok::format_rfc3339(std::chrono::system_clock::now());
        Json apply = {
            {"apiVersion", "byok.dev/v1alpha1"},
            {"kind", "CustomerManagedKey"},
            {"metadata",
             {{"name", name},
              {"namespace", ns},
              {"resourceVersion", (*fin)["metadata"].value("resourceVersion", "")}}},
            {"status", bench_status(ns, i, obj["metadata"].value("creationTimestamp", ""), now)}};
        auto st = c->patch(kCmk, ns, name, kube::PatchType::Apply, apply,
                           {"status", "byok-operator", true});
        if (!st) failures++;
        int seq = 2 * i;  // Event names must differ
        for (auto [type, reason, action, note] :
             {std::tuple{"Normal", "Registered", "Register",
                         std::string("registered aws key ") + kResource},
              std::tuple{
                  "Warning", "KeyVerificationFailed", "Verify",
                  std::string("ProviderNotFound: KmsProvider ") + ns + "/aws does not exist"}}) {
          if (!c->create(byok::kube::resources::events(), ns,
                         bench_event(st ? *st : *fin, ns, type, reason, action, note, seq++)))
            failures++;
        }
      }
    });
  creators.join();
  for (auto& w : workers) w.join();
  auto all = watch.wait(std::chrono::seconds(o.timeout_seconds));
  r.complete = all.has_value();
  r.seconds = std::chrono::duration<double>((all ? *all : Clock::now()) - t0).count();
  r.failures = failures;
  r.audit = testing::count_audit(audit_dir, user, from, testing::now_micro());
  return r;
}

struct ControllerRun {
  double seconds = 0, created_seconds = 0;
  bool complete = false;
  int current = 0, failures = 0;
  long base_kib = -1, peak_kib = -1, steady_kib = -1;
  double peak_after = -1;  // seconds after the first create that the sampled peak was seen
  testing::AuditCounts audit, idle;
  double kms_busy = -1, kms_idle = -1;  // KMS calls (operator's /metrics) while busy, idle
  // CPU seconds from the first create to all current: on a machine of few cores the controller,
  // the apiserver and etcd share them, so a controller's own CPU slows the apiserver it waits on.
  double cpu_controller = -1, cpu_apiserver = -1, cpu_etcd = -1;
};

// CPU seconds used so far by the controller and the control plane, in that order.
struct CpuSample {
  double controller, apiserver, etcd;
};
CpuSample sample_cpu(int controller_pid) {
  return {testing::cpu_seconds(controller_pid),
          testing::cpu_seconds(testing::control_plane_pid("apiserver")),
          testing::cpu_seconds(testing::control_plane_pid("etcd"))};
}

double kms_calls(int port) {
  if (port <= 0) return -1;
  auto a = testing::http_get(port, "/metrics");
  return a.status == 200 ? testing::sample_sum(a.body, "byok_kms_requests_total") : -1;
}

// Starts a controller (through `start`, given the namespace), creates N objects as the admin,
// waits until all are current, then watches an idle window.
ControllerRun run_controller(
    kube::KubeClient& admin, const Options& o, const std::string& prefix,
    const std::function<std::unique_ptr<testing::ChildProcess>(const std::string&)>& start,
    int metrics_port, const std::string& audit_dir, const std::string& user) {
  ControllerRun r;
  std::string ns = testing::create_namespace(admin, prefix);
  const std::string from = testing::now_micro();
  auto proc = start(ns);
  RssSampler rss(proc->pid());
  std::this_thread::sleep_for(std::chrono::seconds(2));  // listed its empty namespace
  if (!proc->running()) throw std::runtime_error(prefix + ": the controller exited at start");
  r.base_kib = rss.now_kib();
  testing::ReachedWatch watch(testing::kubeconfig_path(), kCmk, ns, o.n, is_current);
  std::atomic<int> failures{0};
  const CpuSample cpu0 = sample_cpu(proc->pid());
  auto t0 = Clock::now();
  testing::parallel_for(testing::kubeconfig_path(), o.n, o.workers,
                        [&](kube::KubeClient& c, int i) {
                          if (!c.create(kCmk, ns, cmk(i)).ok()) failures++;
                        });
  r.created_seconds = seconds_since(t0);
  auto all = watch.wait(std::chrono::seconds(o.timeout_seconds));
  const CpuSample cpu1 = sample_cpu(proc->pid());
  r.complete = all.has_value();
  r.current = watch.reached();
  r.seconds = std::chrono::duration<double>((all ? *all : Clock::now()) - t0).count();
  auto used = [](double a, double b) { return a >= 0 && b >= 0 ? b - a : -1; };
  r.cpu_controller = used(cpu0.controller, cpu1.controller);
  r.cpu_apiserver = used(cpu0.apiserver, cpu1.apiserver);
  r.cpu_etcd = used(cpu0.etcd, cpu1.etcd);
  r.failures = failures;
  std::this_thread::sleep_for(std::chrono::seconds(5));  // let the last Events and requeues land
  const std::string idle_from = testing::now_micro();
  r.kms_busy = kms_calls(metrics_port);
  r.steady_kib = rss.now_kib();
  if (r.complete) {
    std::this_thread::sleep_for(std::chrono::seconds(o.idle_seconds));
    double after = kms_calls(metrics_port);
    r.kms_idle = after >= 0 && r.kms_busy >= 0 ? after - r.kms_busy : -1;
  }
  const std::string idle_to = testing::now_micro();
  r.peak_kib = rss.peak_kib();
  r.peak_after = rss.peak_after(t0);
  proc->terminate();
  // Let the audit backend flush what the controller did last.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  r.audit = testing::count_audit(audit_dir, user, from, idle_from);
  r.idle = testing::count_audit(audit_dir, user, idle_from, idle_to);
  return r;
}

void print_controller(const char* who, const ControllerRun& r, const Options& o, double ceiling) {
  std::printf("%s to all current: %.2f s  (%.0f objects/s; creates took %.2f s; failures %d)%s\n",
              who, r.seconds, o.n / r.seconds, r.created_seconds, r.failures,
              r.complete ? "" : "  INCOMPLETE");
  if (!r.complete) std::printf("  INCOMPLETE: only %d of %d reached current\n", r.current, o.n);
  if (r.complete && ceiling > 0)
    std::printf("  vs the ceiling before it: %.0f%% of its rate (%.2fx its time)\n",
                100.0 * ceiling / r.seconds, r.seconds / ceiling);
  std::printf(
      "  RSS: base %.1f MiB (empty namespace), peak %.1f MiB (sampled %.1f s after the first"
      " create), steady %.1f MiB -> %.0f bytes per object above base (steady)\n",
      r.base_kib / 1024.0, r.peak_kib / 1024.0, r.peak_after, r.steady_kib / 1024.0,
      1024.0 * (r.steady_kib - r.base_kib) / o.n);
  std::printf(
      "  CPU from the first create to all current: controller %.2f s, kube-apiserver %.2f s,"
      " etcd %.2f s (the bench's own clients not counted; %u cores)\n",
      r.cpu_controller, r.cpu_apiserver, r.cpu_etcd, std::thread::hardware_concurrency());
  testing::print_audit("busy (start to all current + 5 s)", r.audit, o.n);
  if (r.complete) {
    std::printf("  idle window %d s (resync %d s): %ld apiserver requests, %ld writes",
                o.idle_seconds, o.resync_seconds, r.idle.total, r.idle.writes);
    if (r.kms_idle >= 0)
      std::printf(", %.0f KMS calls (%.0f while busy)\n", r.kms_idle, r.kms_busy);
    else
      std::printf(", KMS calls: not measured\n");
    for (const auto& [k, v] : r.idle.by_kind) std::printf("      %-44s %8ld\n", k.c_str(), v);
  } else {
    std::printf("  idle window skipped: not all objects current\n");
  }
}

Options parse(int argc, char** argv) {
  Options o;
  if (const char* p = std::getenv("BYOK_BENCH_PEER")) o.peer = p;
  int positional = 0;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(a + " needs a value");
      return argv[++i];
    };
    if (a == "--peer")
      o.peer = next();
    else if (a == "--idle-seconds")
      o.idle_seconds = std::stoi(next());
    else if (a == "--resync-seconds")
      o.resync_seconds = std::stoi(next());
    else if (a == "--timeout-seconds")
      o.timeout_seconds = std::stoi(next());
    else if (a == "--only")
      o.only = next();
    else if (a == "--no-ceiling-again")
      o.ceiling_again = false;
    else if (positional == 0 && ++positional)
      o.n = std::stoi(a);
    else if (positional == 1 && ++positional)
      o.workers = std::stoi(a);
    else
      throw std::runtime_error("unknown argument " + a);
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  byok::skip_openssl_atexit_cleanup();  // before anything touches OpenSSL
  Options o = parse(argc, argv);
  const char* audit_env = std::getenv("BYOK_AUDIT_LOG");
  if (!audit_env) {
    std::fprintf(stderr, "BYOK_AUDIT_LOG is not set: run through bench/cmk/run.sh\n");
    return 2;
  }
  const std::string audit_dir = std::filesystem::path(audit_env).parent_path().string();
  auto admin = testing::connect_from_env();
  const std::string ids = testing::create_namespace(*admin, "bench-identities");
  const std::string dir = std::filesystem::temp_directory_path() / ids;
  std::filesystem::create_directories(dir);
  auto user = [&](const char* sa) { return "system:serviceaccount:" + ids + ":" + sa; };
  const std::string ceiling_kc = testing::identity(*admin, ids, "ceiling", dir);
  const std::string operator_kc = testing::identity(*admin, ids, "operator", dir);
  const std::string peer_kc = o.peer.empty() ? "" : testing::identity(*admin, ids, "peer", dir);

  std::printf("objects %d, workers %d, idle window %d s, resync %d s\n", o.n, o.workers,
              o.idle_seconds, o.resync_seconds);
  std::fflush(stdout);
  const int port = testing::free_loopback_port();
  auto run_operator = [&] {
    return run_controller(
        *admin, o, "bench-operator",
        [&](const std::string& ns) {
          return std::make_unique<testing::ChildProcess>(
              BYOK_OPERATOR_BINARY,
              std::vector<std::string>{
                  "--kubeconfig", operator_kc, "--namespace", ns, "--workers",
                  std::to_string(o.workers), "--resync-seconds", std::to_string(o.resync_seconds),
                  "--log-level", "warn", "--log-format", "json", "--metrics-bind-address",
                  "127.0.0.1:" + std::to_string(port), "--health-probe-bind-address", "0",
                  "--cluster-resource-namespace", ns},
              dir + "/operator.log");
        },
        port, audit_dir, user("operator"));
  };
  auto run_peer = [&] {
    return run_controller(
        *admin, o, "bench-peer",
        [&](const std::string& ns) {
          return std::make_unique<testing::ChildProcess>(
              o.peer,
              std::vector<std::string>{"--kubeconfig", peer_kc, "--namespace", ns, "--workers",
                                       std::to_string(o.workers), "--resync-seconds",
                                       std::to_string(o.resync_seconds)},
              dir + "/peer.log");
        },
        0, audit_dir, user("peer"));
  };
  if (!o.only.empty()) {
    if (o.only == "peer" && o.peer.empty()) throw std::runtime_error("--only peer needs --peer");
    if (o.only != "peer" && o.only != "operator")
      throw std::runtime_error("--only takes operator or peer");
    ControllerRun r = o.only == "peer" ? run_peer() : run_operator();
    print_controller(o.only == "peer" ? "peer (controller-runtime)" : "operator", r, o, 0);
    std::printf("  (load %s)\n", testing::load_average().c_str());
    return r.complete ? 0 : 1;
  }
  {
    Options warm = o;
    warm.n = std::min(o.n, 200);
    run_ceiling(*admin, warm, ceiling_kc, audit_dir, user("ceiling"));
  }
  CeilingRun ceiling = run_ceiling(*admin, o, ceiling_kc, audit_dir, user("ceiling"));
  std::printf("ceiling (plain client): %.2f s  (%.0f objects/s; failures %d; load %s)%s\n",
              ceiling.seconds, o.n / ceiling.seconds, ceiling.failures,
              testing::load_average().c_str(), ceiling.complete ? "" : "  INCOMPLETE");
  testing::print_audit("ceiling", ceiling.audit, o.n);
  std::fflush(stdout);

  ControllerRun op = run_operator();
  print_controller("operator", op, o, ceiling.seconds);
  std::printf("  (load %s)\n", testing::load_average().c_str());
  std::fflush(stdout);

  std::optional<ControllerRun> peer;
  if (!o.peer.empty()) {
    peer = run_peer();
    print_controller("peer (controller-runtime)", *peer, o, ceiling.seconds);
    std::printf("  (load %s)\n", testing::load_average().c_str());
    std::fflush(stdout);
  }

  std::optional<CeilingRun> again;
  if (o.ceiling_again) {
    again = run_ceiling(*admin, o, ceiling_kc, audit_dir, user("ceiling"));
    std::printf("ceiling again (after):  %.2f s  (%.0f objects/s; drift %+.0f%%; load %s)%s\n",
                again->seconds, o.n / again->seconds,
                100.0 * (again->seconds - ceiling.seconds) / ceiling.seconds,
                testing::load_average().c_str(), again->complete ? "" : "  INCOMPLETE");
  }
  // The controllers ran between the two ceilings: compare with their mean.
  const double ceil_s = again ? (ceiling.seconds + again->seconds) / 2 : ceiling.seconds;

  std::printf("\nsummary (N=%d, workers %d)\n", o.n, o.workers);
  std::printf("  ceiling %.2f s%s | operator %.2f s%s (%.0f%% of ceiling rate)", ceil_s,
              again ? " (mean of before and after)" : "", op.seconds,
              op.complete ? "" : " INCOMPLETE", 100.0 * ceil_s / op.seconds);
  if (peer)
    std::printf(" | peer %.2f s%s (%.0f%% of ceiling rate); operator/peer time %.2f", peer->seconds,
                peer->complete ? "" : " INCOMPLETE", 100.0 * ceiling.seconds / peer->seconds,
                op.seconds / peer->seconds);
  std::printf("\n  requests per object: ceiling %.2f | operator %.2f",
              static_cast<double>(ceiling.audit.total) / o.n,
              static_cast<double>(op.audit.total) / o.n);
  if (peer) std::printf(" | peer %.2f", static_cast<double>(peer->audit.total) / o.n);
  std::printf("\n  RSS steady/peak MiB: operator %.1f/%.1f", op.steady_kib / 1024.0,
              op.peak_kib / 1024.0);
  if (peer)
    std::printf(" | peer %.1f/%.1f; operator/peer steady %.2f", peer->steady_kib / 1024.0,
                peer->peak_kib / 1024.0, static_cast<double>(op.steady_kib) / peer->steady_kib);
  std::printf("\n  operator RSS: base %.1f MiB + %.0f bytes/object (steady)", op.base_kib / 1024.0,
              1024.0 * (op.steady_kib - op.base_kib) / o.n);
  std::printf("\n  idle writes: operator %ld", op.idle.writes);
  if (peer) std::printf(" | peer %ld", peer->idle.writes);
  std::printf("\n");
  bool ok = ceiling.complete && op.complete && (!peer || peer->complete);
  return ok ? 0 : 1;
}
