// ImportedKeys from the HSM into a KMS, two ways side by side, per server (moto's AWS KMS with
// the import calls tests/fakes/aws adds, and Vault transit):
//
//   baseline  a plain program: `concurrency` threads each taking the next key and doing what the
//             ImportedKey reconciler does for a first import from the HSM (import_plan.h), on the
//             same interfaces and decorators the operator builds (kms::make_provider with its
//             MeteredProvider, OperatorHsm with its MeteredHsm and session pool): find_key in
//             the KMS, find_key and capabilities in the HSM, the wrap the reconciler chooses
//             (choose_hsm_wrapping), prepare_import, wrap_key, import_key, find_key again; and
//             when the HSM learns on its first SHA-256 wrap that it has none, the second prepare
//             and wrap the reconciler makes. No Kubernetes: no status, no Events, no policy reads.
//   operator  byok-operator with `concurrency` workers, sent N ImportedKeys naming a
//             ClusterKmsProvider of the server and an HsmKeyPolicy allowing them; timed from the
//             first create until all N are imported and Ready (a watch, as the admin).
//
// Both sides wrap N distinct AES-256 keys of one fresh SoftHSM2 token (made as the integration
// tests make one, tests/hsm/test_token.h). Each side's KMS and HSM calls come from the same
// metric families (byok_kms_requests_total, byok_hsm_operations_total): the operator's /metrics,
// the baseline's own registry. The HTTP requests the server saw come from the server's own log
// (moto's access log, a Vault file audit device that bench/imports/run.sh enables), so a reader
// sees both sides make the same requests per key. The operator runs as a ServiceAccount of its
// own, so the apiserver's audit log gives its requests per key by verb and resource, with the
// time the apiserver took over each kind; its reconciles' time (controller_runtime_reconcile_
// time_seconds) less its KMS and HSM time is what Kubernetes costs it. CPU seconds: the baseline's
// process, the operator's process, each over its timed window.
//
//   bench/imports/run.sh [N=200] [concurrency=4] [flags]   (starts and stops its own servers)
//   flags: --servers aws,transit  --key-type aes256-gcm96  --timeout-seconds T (600, per side)
//          --no-baseline-again
//
// The baseline runs first (after an untimed warm-up of min(N, 20) keys) and again after the
// operator; the operator's ratio is against the mean of the two, and the drift between them
// says how much the shared machine moved during the run.

#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/process_init.h"
#include "common/uuid.h"
#include "kms/provider_factory.h"
#include "reconcilers/imported_key/imported_key_types.h"
#include "reconcilers/imported_key/operator_hsm.h"
#include "reconcilers/imported_key/wrap_choice.h"
#include "tests/harness/bench_support.h"
#include "tests/harness/cluster.h"
#include "tests/harness/http_get.h"
#include "tests/harness/kms_provider_env.h"
#include "tests/harness/operator_process.h"
#include "tests/harness/server_env.h"
#include "tests/hsm/test_token.h"

namespace testing = byok::testing;
using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

const auto kIk = byok::importedkey::imported_keys();

struct Options {
  int n = 200;
  int concurrency = 4;
  int timeout_seconds = 600;
  std::vector<std::string> servers{"aws", "transit"};
  std::string key_type = "aes256-gcm96";
  bool baseline_again = true;
};

std::string hsm_label(int i) { return "bench-key-" + std::to_string(i); }

// What one side asked of the KMS and the HSM, by interface call, from the metric families both
// sides record into; and for the operator, its reconciles.
struct Calls {
  std::map<std::string, double> kms, hsm;  // by operation
  double kms_total = 0, kms_failed = 0, kms_seconds = 0;
  double hsm_total = 0, hsm_failed = 0, hsm_seconds = 0;
  double reconciles = 0, reconcile_seconds = 0;
  double reconciles_over_5s = 0;  // the work queue's slow_after: the namespace is then "slow"
};

Calls read_calls(const std::string& exposition) {
  Calls c;
  auto sum = [&](const char* name, const std::vector<std::string>& labels = {}) {
    return testing::sample_sum(exposition, name, labels);
  };
  for (const char* op : {"find_key", "prepare_import", "import_key", "describe_key", "who_am_i"})
    if (double v = sum("byok_kms_requests_total", {"operation=\"" + std::string(op) + "\""}))
      c.kms[op] = v;
  for (const char* op : {"find_key", "capabilities", "wrap_key", "info", "list_keys"})
    if (double v = sum("byok_hsm_operations_total", {"operation=\"" + std::string(op) + "\""}))
      c.hsm[op] = v;
  c.kms_total = sum("byok_kms_requests_total");
  c.kms_failed = c.kms_total - sum("byok_kms_requests_total", {"outcome=\"success\""});
  c.kms_seconds = sum("byok_kms_request_duration_seconds_sum");
  c.hsm_total = sum("byok_hsm_operations_total");
  c.hsm_failed = c.hsm_total - sum("byok_hsm_operations_total", {"outcome=\"success\""});
  c.hsm_seconds = sum("byok_hsm_operation_duration_seconds_sum");
  c.reconciles = sum("controller_runtime_reconcile_total", {"controller=\"importedkey\""});
  c.reconcile_seconds =
      sum("controller_runtime_reconcile_time_seconds_sum", {"controller=\"importedkey\""});
  c.reconciles_over_5s =
      sum("controller_runtime_reconcile_time_seconds_count", {"controller=\"importedkey\""}) -
      sum("controller_runtime_reconcile_time_seconds_bucket",
          {"controller=\"importedkey\"", "le=\"5\""});
  return c;
}

// The HTTP requests a KMS server answered, read from its own log from an offset on: moto's access
// log (one line per request; KMS speaks POST / only, so by status), Vault's file audit device
// (one response entry per request, by operation and path with the key name left out).
class ServerLog {
 public:
  ServerLog(std::string server, std::string path)
      : server_(std::move(server)), path_(std::move(path)) {}
  std::uintmax_t mark() const {
    std::error_code ec;
    auto size = std::filesystem::file_size(path_, ec);
    return ec ? 0 : size;
  }
  std::map<std::string, long> count(std::uintmax_t from) const {
    std::map<std::string, long> out;
    std::ifstream in(path_);
    in.seekg(static_cast<std::streamoff>(from));
    for (std::string line; std::getline(in, line);) {
      if (server_ == "aws") {
        // 127.0.0.1 - - [date] "POST / HTTP/1.1" 200 -
        auto q = line.find("\"POST / HTTP/1.1\" ");
        if (q == std::string::npos) continue;
        out["POST / " + line.substr(q + 18, 3)]++;
      } else {
        Json e = Json::parse(line, nullptr, false);
        if (e.is_discarded() || e.value("type", "") != "response") continue;
        const auto& req = e.value("request", Json::object());
        std::string path = req.value("path", "");
        // transit/keys/<name>[/import]: the key's name is different for every key.
        if (auto k = path.find("/keys/"); k != std::string::npos) {
          auto end = path.find('/', k + 6);
          path = path.substr(0, k + 6) + "*" + (end == std::string::npos ? "" : path.substr(end));
        }
        int status = e.value("response", Json::object()).value("status_code", 0);
        bool error = e.contains("error") && !e["error"].get<std::string>().empty();
        out[req.value("operation", "") + " " + path + (error ? " (error)" : "") +
            (status ? " " + std::to_string(status) : "")]++;
      }
    }
    return out;
  }

 private:
  std::string server_, path_;
};

long total(const std::map<std::string, long>& m) {
  long t = 0;
  for (const auto& [k, v] : m) t += v;
  return t;
}

struct SideRun {
  double seconds = 0, created_seconds = 0;
  bool complete = false;
  int done = 0, failed = 0;
  std::string first_error;
  Calls calls;
  std::map<std::string, long> http;               // the server's own count
  std::optional<testing::AuditCounts> apiserver;  // the operator's requests (its ServiceAccount)
  std::string load_before, load_after;
  double cpu_seconds = -1;  // the baseline's threads / the operator process, user + system
};

double process_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto s = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return s(u.ru_utime) + s(u.ru_stime);
}

// One key as the ImportedKey reconciler's first import from the HSM performs it (ik_reconciler.cpp
// apply() and import(), import_plan.cpp), without the Kubernetes steps.
byok::Status import_one(byok::kms::KmsProvider& kms, byok::importedkey::OperatorHsm& operator_hsm,
                        const std::string& server, const std::string& key_type,
                        const std::string& ns, const std::string& name, const std::string& label,
                        const byok::Clock& clock) {
  using byok::ErrorKind;
  using byok::make_error;
  byok::importedkey::ImportedKey key;
  key.meta.name = name;
  key.meta.namespace_ = ns;
  key.meta.uid = byok::random_uuid();
  key.spec.key_type = key_type;
  byok::kms::ImportTarget target;
  target.name = byok::importedkey::shared_kms_key_name(key);  // as for a ClusterKmsProvider
  target.key_type = key_type;
  target.owner = key.meta.uid;
  target.unnamed_key_possible = false;  // a fresh status: no create began
  auto type = byok::hsm::parse_key_type(key_type);
  if (!type) return make_error(ErrorKind::InvalidArgument, "unknown key type " + key_type);

  // apply(): the provider's algorithms and rules, then is the key there already?
  if (auto a = kms.wrapping_algorithms(key_type); !a) return a.error();
  if (auto ok = kms.check_target(target, clock.now()); !ok) return ok.error();
  auto found = kms.find_key(target);
  if (!found) return found.error();
  if (*found) return make_error(ErrorKind::AlreadyExists, target.name + " exists already");

  // import(): the plan's steps in its order.
  auto algorithms = kms.wrapping_algorithms(key_type);
  if (!algorithms) return algorithms.error();
  auto hsm = operator_hsm.get();
  if (!hsm) return hsm.error();
  const auto ref = byok::hsm::KeyRef::label(label);
  if (auto k = (*hsm)->find_key(ref); !k) return k.error();
  auto caps = (*hsm)->capabilities();
  if (!caps) return caps.error();
  auto choice = byok::importedkey::choose_hsm_wrapping(server, *type, *algorithms, *caps);
  if (!choice) return choice.error();
  target.wrapping_algorithm = choice->algorithm;
  auto prepared = kms.prepare_import(target, "");
  if (!prepared) return prepared.error();
  auto wrap = [&](const byok::kms::WrappingKey& w) {
    const auto* der = reinterpret_cast<const std::uint8_t*>(w.public_key_der.data());
    return (*hsm)->wrap_key(ref, choice->spec, {der, w.public_key_der.size()});
  };
  auto wrapped = wrap(*prepared);
  if (!wrapped && wrapped.error().kind == ErrorKind::Unsupported &&
      choice->spec.hash == byok::hsm::OaepHash::Sha256) {
    // The HSM learned it has no OAEP SHA-256: choose again and prepare once more.
    caps = (*hsm)->capabilities();
    if (!caps) return caps.error();
    choice = byok::importedkey::choose_hsm_wrapping(server, *type, *algorithms, *caps);
    if (!choice) return choice.error();
    target.wrapping_algorithm = choice->algorithm;
    prepared = kms.prepare_import(target, prepared->key_id);
    if (!prepared) return prepared.error();
    wrapped = wrap(*prepared);
  }
  if (!wrapped) return wrapped.error();
  auto imported = kms.import_key(target, *prepared, std::string(wrapped->begin(), wrapped->end()),
                                 byok::kms::ImportKind::First);
  if (!imported) return imported.error();
  // LookAfter: the state word for the status.
  if (auto after = kms.find_key(target); !after) return after.error();
  return {};
}

SideRun run_baseline(const Options& o, int n, const std::string& server, const ServerLog& log,
                     const std::string& tag) {
  SideRun r;
  r.load_before = testing::load_average();
  byok::metrics::Registry registry;
  std::ostringstream discard;
  byok::Logger logger(discard, byok::Logger::Format::Json, byok::Logger::Level::Warn);
  auto operator_hsm = byok::importedkey::OperatorHsm::from_environment("", logger, &registry);
  if (!operator_hsm) throw std::runtime_error("HSM: " + operator_hsm.error().message);
  byok::RealClock clock;
  auto handle =
      byok::kms::make_provider(testing::provider_config_from_env(server), clock, &registry);
  if (!handle) throw std::runtime_error(server + " client: " + handle.error().message);
  const std::string ns = "bench-" + tag + "-" + byok::random_uuid().substr(0, 8);
  const auto from = log.mark();
  const double cpu0 = process_cpu_seconds();
  std::atomic<int> next{0}, done{0}, failed{0};
  std::mutex mu;
  const auto t0 = Clock::now();
  const auto deadline = t0 + std::chrono::seconds(o.timeout_seconds);
  std::vector<std::thread> threads;
  for (int t = 0; t < o.concurrency; ++t)
    threads.emplace_back([&] {
      for (int i; Clock::now() < deadline && (i = next++) < n;) {
        auto st = import_one(*handle->client, **operator_hsm, server, o.key_type, ns,
                             "ik-" + std::to_string(i), hsm_label(i), clock);
        if (st) {
          done++;
          continue;
        }
        std::lock_guard<std::mutex> lock(mu);
        if (failed++ == 0) r.first_error = st.error().message;
      }
    });
  for (auto& t : threads) t.join();
  r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  r.cpu_seconds = process_cpu_seconds() - cpu0;
  r.done = done;
  r.failed = failed;
  r.complete = done == n;
  r.calls = read_calls(registry.render());
  r.http = log.count(from);
  r.load_after = testing::load_average();
  return r;
}

bool imported_and_ready(const Json& o) {
  if (!o.contains("status")) return false;
  const auto& st = o["status"];
  return st.value("imported", false) && testing::condition_field(st, "Ready", "status") == "True";
}

// The operator runs as ServiceAccount `operator-<server>` of its namespace, so the apiserver's
// audit log (in `audit_dir`) counts its requests.
SideRun run_operator(byok::kube::KubeClient& admin, const Options& o, const std::string& server,
                     const ServerLog& log, const std::string& log_dir,
                     const std::string& audit_dir) {
  SideRun r;
  const std::string ns = testing::create_namespace(admin, "bench-ik-" + server);
  const std::string sa = "operator-" + server;
  const std::string kubeconfig = testing::identity(admin, ns, sa, log_dir);
  const std::string provider = testing::apply_cluster_kms_provider(
      admin, ns, ns + "-" + server, testing::provider_config_from_env(server), ns);
  testing::apply_hsm_key_policy(admin, provider, ns, "bench-key-*", provider);
  const int metrics_port = testing::free_loopback_port();
  const int probe_port = testing::free_loopback_port();
  const std::string op_log = log_dir + "/operator-" + server + ".log";
  auto op = testing::start_operator(
      ns, op_log,
      {"--kubeconfig", kubeconfig, "--workers", std::to_string(o.concurrency), "--resync-seconds",
       "600", "--metrics-bind-address", "127.0.0.1:" + std::to_string(metrics_port),
       "--health-probe-bind-address", "127.0.0.1:" + std::to_string(probe_port)});
  if (!testing::wait_until([&] { return testing::http_get(probe_port, "/readyz").status == 200; },
                           std::chrono::seconds(60)))
    throw std::runtime_error("the operator never became ready: " + op_log);
  r.load_before = testing::load_average();
  const auto from = log.mark();
  const double cpu0 = testing::cpu_seconds(op->pid());
  const std::string audit_from = testing::now_micro();
  testing::ReachedWatch watch(testing::kubeconfig_path(), kIk, ns, o.n, imported_and_ready);
  std::atomic<int> failed{0};
  const auto t0 = Clock::now();
  testing::parallel_for(
      testing::kubeconfig_path(), o.n, o.concurrency, [&](byok::kube::KubeClient& c, int i) {
        Json ik = {{"apiVersion", "byok.dev/v1alpha1"},
                   {"kind", "ImportedKey"},
                   {"metadata", {{"name", "ik-" + std::to_string(i)}}},
                   {"spec",
                    {{"providerRef", {{"kind", "ClusterKmsProvider"}, {"name", provider}}},
                     {"keyType", o.key_type},
                     {"source", {{"hsm", {{"label", hsm_label(i)}}}}}}}};
        if (!c.create(kIk, ns, ik)) failed++;
      });
  r.created_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  auto all = watch.wait(std::chrono::seconds(o.timeout_seconds));
  r.complete = all.has_value();
  r.seconds = std::chrono::duration<double>((all ? *all : Clock::now()) - t0).count();
  r.cpu_seconds = testing::cpu_seconds(op->pid()) - cpu0;
  r.done = watch.reached();
  r.failed = failed;
  r.load_after = testing::load_average();
  // What the last status writes bring (a look at each key) is the operator's cost too.
  std::this_thread::sleep_for(std::chrono::seconds(3));
  auto metrics = testing::http_get(metrics_port, "/metrics");
  if (metrics.status == 200) r.calls = read_calls(metrics.body);
  r.http = log.count(from);
  const std::string audit_to = testing::now_micro();
  op->terminate();
  std::this_thread::sleep_for(std::chrono::seconds(2));  // the audit backend flushes
  r.apiserver = testing::count_audit(audit_dir, "system:serviceaccount:" + ns + ":" + sa,
                                     audit_from, audit_to);
  if (!r.complete)
    r.first_error = "see the statuses in namespace " + ns + " and the operator's log " + op_log;
  return r;
}

void print_calls(const char* who, const SideRun& r, int n) {
  const auto& c = r.calls;
  std::printf("    %-9s KMS calls %.2f/key (", who, c.kms_total / n);
  for (const auto& [op, v] : c.kms) std::printf(" %s %.2f", op.c_str(), v / n);
  std::printf(" ; %.0f failed), HSM calls %.2f/key (", c.kms_failed, c.hsm_total / n);
  for (const auto& [op, v] : c.hsm) std::printf(" %s %.2f", op.c_str(), v / n);
  std::printf(" ; %.0f failed)\n", c.hsm_failed);
  std::printf("              server saw %.2f HTTP requests/key:",
              static_cast<double>(total(r.http)) / n);
  for (const auto& [what, v] : r.http)
    std::printf(" [%s] %.2f", what.c_str(), static_cast<double>(v) / n);
  std::printf("\n              time in KMS calls %.2f s, in HSM calls %.2f s (summed over threads)",
              c.kms_seconds, c.hsm_seconds);
  if (c.reconciles > 0)
    std::printf(
        "; %.0f reconciles (%.2f/key) took %.2f s, %.2f s of it outside KMS and HSM calls "
        "(%.1f ms per key: apiserver requests and the operator's own work)",
        c.reconciles, c.reconciles / n, c.reconcile_seconds,
        c.reconcile_seconds - c.kms_seconds - c.hsm_seconds,
        1000.0 * (c.reconcile_seconds - c.kms_seconds - c.hsm_seconds) / n);
  std::printf("\n");
  if (c.reconciles > 0)
    std::printf(
        "              reconciles in process on average %.2f (their time / the wall time); %.0f "
        "took over 5 s (after one, the work queue holds the namespace to half the workers for "
        "5 min)\n",
        c.reconcile_seconds / r.seconds, c.reconciles_over_5s);
  if (r.apiserver) testing::print_audit("          ", *r.apiserver, n, true);
}

void print_side(const char* who, const SideRun& r, int n) {
  std::printf("  %-16s %7.2f s  %6.1f keys/s  done %d/%d", who, r.seconds, r.done / r.seconds,
              r.done, n);
  if (r.created_seconds > 0) std::printf(" (creates took %.2f s)", r.created_seconds);
  std::printf("  CPU %.2f s  load %s -> %s%s\n", r.cpu_seconds, r.load_before.c_str(),
              r.load_after.c_str(), r.complete ? "" : "  INCOMPLETE");
  if (r.failed) std::printf("    %d failed; first: %s\n", r.failed, r.first_error.c_str());
  if (!r.complete && !r.first_error.empty() && !r.failed)
    std::printf("    INCOMPLETE: %s\n", r.first_error.c_str());
}

std::string server_log_path(const std::string& server) {
  const char* var = server == "aws" ? "BYOK_BENCH_MOTO_LOG" : "BYOK_BENCH_VAULT_AUDIT_LOG";
  const char* p = std::getenv(var);
  if (!p || !*p)
    throw std::runtime_error(std::string(var) + " is not set: run through bench/imports/run.sh");
  return p;
}

Options parse(int argc, char** argv) {
  Options o;
  int positional = 0;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(a + " needs a value");
      return argv[++i];
    };
    if (a == "--timeout-seconds") {
      o.timeout_seconds = std::stoi(next());
    } else if (a == "--key-type") {
      o.key_type = next();
    } else if (a == "--servers") {
      o.servers.clear();
      std::stringstream list(next());
      for (std::string s; std::getline(list, s, ',');)
        if (s == "aws" || s == "transit")
          o.servers.push_back(s);
        else
          throw std::runtime_error("--servers takes aws and/or transit, not " + s);
    } else if (a == "--no-baseline-again") {
      o.baseline_again = false;
    } else if (positional == 0 && ++positional) {
      o.n = std::stoi(a);
    } else if (positional == 1 && ++positional) {
      o.concurrency = std::stoi(a);
    } else {
      throw std::runtime_error("unknown argument " + a);
    }
  }
  if (o.n < 1 || o.concurrency < 1) throw std::runtime_error("N and concurrency must be >= 1");
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  byok::skip_openssl_atexit_cleanup();  // before anything touches OpenSSL
  Options o = parse(argc, argv);
  auto admin = testing::connect_from_env();
  const char* audit_env = std::getenv("BYOK_AUDIT_LOG");
  if (!audit_env)
    throw std::runtime_error("BYOK_AUDIT_LOG is not set: run through bench/imports/run.sh");
  const std::string audit_dir = std::filesystem::path(audit_env).parent_path().string();

  // One fresh token for the run; every side wraps the same N keys (sensitive, extractable only
  // by wrapping, as a ceremony leaves them).
  byok::hsm::test::TestToken token("byok-bench");
  {
    auto h = token.open_hsm();
    auto type = byok::hsm::parse_key_type(o.key_type);
    if (!type) throw std::runtime_error("unknown --key-type " + o.key_type);
    for (int i = 0; i < o.n; ++i) {
      byok::hsm::GenerateRequest req;
      req.type = *type;
      req.label = hsm_label(i);
      if (auto k = h->generate_key(req); !k)
        throw std::runtime_error("generating " + req.label + ": " + k.error().message);
    }
  }
  token.export_to_environment();  // the operator and the baseline open the HSM from here
  const char* kept = std::getenv("BYOK_BENCH_LOG_DIR");  // the operators' logs, kept after the run
  const std::string log_dir = kept && *kept ? kept : token.dir();

  std::printf(
      "ImportedKeys %d, concurrency %d (baseline threads = operator workers), key type %s,"
      " HSM %s (%s)\n",
      o.n, o.concurrency, o.key_type.c_str(), byok::hsm::test::TestToken::manufacturer().c_str(),
      byok::hsm::test::TestToken::module_path().c_str());
  std::fflush(stdout);

  struct Row {
    std::string server;
    SideRun before, op;
    std::optional<SideRun> after;
  };
  std::vector<Row> rows;
  bool ok = true;
  for (const auto& server : o.servers) {
    ServerLog log(server, server_log_path(server));
    std::printf("\n%s\n", server == "aws" ? "AWS KMS (moto 5.2.1 + tests/fakes/aws import calls)"
                                          : "Vault transit");
    run_baseline(o, std::min(o.n, 20), server, log, "warmup-" + server);  // untimed
    Row row{server, run_baseline(o, o.n, server, log, "before-" + server), {}, {}};
    print_side("baseline", row.before, o.n);
    print_calls("baseline", row.before, o.n);
    std::fflush(stdout);
    row.op = run_operator(*admin, o, server, log, log_dir, audit_dir);
    print_side("operator", row.op, o.n);
    print_calls("operator", row.op, o.n);
    std::fflush(stdout);
    if (o.baseline_again) {
      row.after = run_baseline(o, o.n, server, log, "after-" + server);
      print_side("baseline again", *row.after, o.n);
      std::printf("    drift %+.0f%% against the baseline before\n",
                  100.0 * (row.after->seconds - row.before.seconds) / row.before.seconds);
      std::fflush(stdout);
    }
    ok = ok && row.before.complete && row.op.complete && (!row.after || row.after->complete);
    rows.push_back(std::move(row));
  }

  std::printf("\nsummary (N=%d, concurrency %d, %s)\n", o.n, o.concurrency, o.key_type.c_str());
  for (const auto& r : rows) {
    const double base = r.after ? (r.before.seconds + r.after->seconds) / 2 : r.before.seconds;
    std::printf(
        "  %-8s baseline %.2f s%s | operator %.2f s%s = %.0f%% of the baseline's rate (goal >= "
        "80%%)"
        " | KMS calls/key %.2f vs %.2f, HTTP requests/key %.2f vs %.2f (baseline vs operator)\n",
        r.server.c_str(), base, r.after ? " (mean of before and after)" : "", r.op.seconds,
        r.op.complete ? "" : " INCOMPLETE", 100.0 * base / r.op.seconds,
        r.before.calls.kms_total / o.n, r.op.calls.kms_total / o.n,
        static_cast<double>(total(r.before.http)) / o.n,
        static_cast<double>(total(r.op.http)) / o.n);
  }
  return ok ? 0 : 1;
}
