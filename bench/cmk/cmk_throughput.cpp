// Applies N CustomerManagedKeys to a real apiserver and measures the time until the operator has
// made all of them `current`, next to the ceiling: a plain client creating N objects and writing
// one status each to the same apiserver in the same run, with as many threads as the operator
// has workers. Prints both, their ratio, and the operator's peak RSS. Not a test: figures only.
//
//   bench/cmk/run.sh [N] [workers]     (starts and stops its own control plane)

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "common/process_init.h"
#include "controller/kube/resource.h"
#include "tests/harness/cluster.h"
#include "tests/harness/operator_process.h"
#include "reconcilers/customer_managed_key/cmk_types.h"

namespace kube = byok::kube;
namespace testing = byok::testing;
using kube::Json;
using Clock = std::chrono::steady_clock;

namespace {

const auto kCmk = byok::cmk::customer_managed_keys();

Json cmk(int i) {
  return {
      {"apiVersion", "byok.dev/v1alpha1"},
      {"kind", "CustomerManagedKey"},
      {"metadata", {{"name", "cmk-" + std::to_string(i)}}},
      {"spec",
       {{"provider", "aws"},
        {"resource", "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"},
        {"providerRef", {{"name", "aws"}}}}}};
}

// Runs fn(i) for i in [0, n) on `threads` threads.
void parallel_for(int n, int threads, const std::function<void(kube::KubeClient&, int)>& fn) {
  std::atomic<int> next{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&] {
      auto client = testing::connect_from_env();
      for (int i; (i = next++) < n;) fn(*client, i);
    });
  for (auto& th : pool) th.join();
}

int count_current(kube::KubeClient& c, const std::string& ns) {
  auto list = kube::list_all(c, kCmk, ns);
  int n = 0;
  if (list)
    for (const auto& o : list->items)
      if (o.contains("status") && o["status"].value("status", "") == "current") n++;
  return n;
}

long peak_rss_kib(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

}  // namespace

int main(int argc, char** argv) {
  byok::skip_openssl_atexit_cleanup();  // before anything touches OpenSSL
  int n = argc > 1 ? std::stoi(argv[1]) : 1000;
  int workers = argc > 2 ? std::stoi(argv[2]) : 4;
  auto admin = testing::connect_from_env();

  // Ceiling: create + one server-side-applied status per object, no controller involved.
  std::string ceiling_ns = testing::create_namespace(*admin, "bench-ceiling");
  auto t0 = Clock::now();
  std::atomic<int> failures{0};
  parallel_for(n, workers, [&](kube::KubeClient& c, int i) {
    if (!c.create(kCmk, ceiling_ns, cmk(i)).ok()) failures++;
    Json apply = {
        {"apiVersion", "byok.dev/v1alpha1"},
        {"kind", "CustomerManagedKey"},
        {"metadata", {{"name", "cmk-" + std::to_string(i)}, {"namespace", ceiling_ns}}},
        {"status", {{"status", "current"}, {"default", false}, {"observedGeneration", 1}}}};
    if (!c.patch(kCmk, ceiling_ns, "cmk-" + std::to_string(i), kube::PatchType::Apply, apply,
                 {"status", "bench", true})
             .ok())
      failures++;
  });
  double ceiling = seconds_since(t0);

  // The operator: the same creates, then wait until it has made every object current.
  std::string ns = testing::create_namespace(*admin, "bench-operator");
  std::string log = (std::filesystem::temp_directory_path() / (ns + ".log")).string();
  testing::ChildProcess op(BYOK_OPERATOR_BINARY,
                           {"--kubeconfig", testing::kubeconfig_path(), "--namespace", ns,
                            "--workers", std::to_string(workers), "--log-level", "warn"},
                           log);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // let it list the empty namespace
  auto t1 = Clock::now();
  parallel_for(n, workers, [&](kube::KubeClient& c, int i) {
    if (!c.create(kCmk, ns, cmk(i)).ok()) failures++;
  });
  double created = seconds_since(t1);
  int current = 0;
  bool all = testing::wait_until([&] { return (current = count_current(*admin, ns)) == n; },
                                 std::chrono::seconds(600), std::chrono::seconds(1));
  double operator_time = seconds_since(t1);
  // The operator process is a child of this one, so its pid is readable; ChildProcess hides it,
  // hence pgrep by the unique namespace in its command line.
  long rss = -1;
  {
    std::string cmd = "pgrep -f -- '--namespace " + ns + "'";
    if (FILE* p = popen(cmd.c_str(), "r")) {
      int pid = 0;
      if (fscanf(p, "%d", &pid) == 1) rss = peak_rss_kib(pid);
      pclose(p);
    }
  }
  op.terminate();

  std::printf("objects:                 %d (workers %d, failures %d)\n", n, workers,
              failures.load());
  std::printf("ceiling (plain client):  %.2f s  (%.0f objects/s: create + status apply)\n", ceiling,
              n / ceiling);
  std::printf("operator to all current: %.2f s  (%.0f objects/s; creates took %.2f s)%s\n",
              operator_time, n / operator_time, created, all ? "" : "  INCOMPLETE");
  std::printf("ratio operator/ceiling:  %.2fx the ceiling's time (%.0f%% of its rate)\n",
              operator_time / ceiling, 100.0 * ceiling / operator_time);
  std::printf("operator peak RSS:       %.1f MiB\n", rss / 1024.0);
  if (!all) std::printf("only %d of %d reached current\n", current, n);
  return all ? 0 : 1;
}
