// The fault suite's scenarios (label faults): the real operator process importing keys into all
// six KMS servers at once, each behind a fault proxy (tests/faults/fault_proxy.py) that
// throttles, fails, delays, resets and black-holes in that service's own words, while the test
// kills the operator with SIGKILL at seeded random moments. Then the invariants: every
// ImportedKey converges to Ready, each KMS holds exactly the known material under the key the
// status names (the servers' own evidence), AWS holds exactly one key per owner and imported
// its material once, no hot loop (requests per key bounded), and the operator's memory stays
// under a bound. The figures are printed.

#include <cctype>
#include <fstream>
#include <iostream>
#include <random>
#include <thread>

#include "kms/aws/aws_kms_client.h"
#include "tests/integration/operations/operations_support.h"
#include "tests/integration/reconcilers/ik_test_support.h"

using namespace byok;
using namespace byok::iktest;

namespace {

// A fault proxy in front of one fixture's server, terminating TLS with that server's own
// certificate (so the operator trusts it with the same CA).
struct FaultProxy {
  std::string provider;
  int port = 0, control = 0;
  std::unique_ptr<testing::ChildProcess> process;
  std::string upstream;

  FaultProxy(const std::string& p, const std::string& upstream_url, const std::string& pki,
             const std::string& cert, const std::string& key, const std::string& ca, int seed)
      : provider(p), upstream(upstream_url) {
    port = testing::free_loopback_port();
    control = testing::free_loopback_port();
    const std::string dialect = p;
    process = std::make_unique<testing::ChildProcess>(
        "/usr/bin/env",
        std::vector<std::string>{
            "python3",        std::string(BYOK_SOURCE_DIR) + "/tests/faults/fault_proxy.py",
            "--port",         std::to_string(port),
            "--upstream",     upstream_url,
            "--upstream-ca",  pki + "/" + ca,
            "--cert",         pki + "/" + cert,
            "--key",          pki + "/" + key,
            "--dialect",      dialect,
            "--control-port", std::to_string(control),
            "--seed",         std::to_string(seed),
            "--max-hold",     "40"},
        "/tmp/byok-fault-proxy-" + p + "-" + std::to_string(port) + ".log");
    REQUIRE(testing::wait_until([&] { return call("GET", "/stats").is_object(); }, 20s));
  }
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port); }

  Json call(const std::string& method, const std::string& path, const Json& body = nullptr) {
    static auto transport = kms::make_http_transport({std::chrono::seconds(5), ""});
    kms::HttpRequest req{method,
                         "http://127.0.0.1:" + std::to_string(control) + path,
                         {{"Content-Type", "application/json"}},
                         body.is_null() ? "" : body.dump()};
    auto resp = transport->send(req);
    if (!resp || resp->status != 200) return nullptr;
    return Json::parse(resp->body, nullptr, false);
  }
  void plan(const Json& rules) { REQUIRE(call("PUT", "/plan", {{"rules", rules}}).is_object()); }
  Json stats() { return call("GET", "/stats"); }
};

// Where each fixture keeps the certificate its server presents: beside the CA its env names.
struct ServerPki {
  std::string dir, cert, key, ca;
};
ServerPki pki_of(const std::string& provider) {
  std::string upper = provider;
  for (auto& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  const std::string ca_file =
      testing::ServerEnv::for_provider(provider)["BYOK_" + upper + "_CA_FILE"];
  const std::string dir = ca_file.substr(0, ca_file.rfind('/'));
  const std::string ca = ca_file.substr(ca_file.rfind('/') + 1);
  if (provider == "transit") return {dir, "vault-cert.pem", "vault-key.pem", ca};  // Vault -dev-tls
  return {dir, "server.crt", "server.key", ca};
}

// The config with every URL of the server replaced by the proxy's.
kms::ProviderConfig through(kms::ProviderConfig c, const std::string& from, const std::string& to) {
  auto swap = [&](std::string& s) {
    if (!from.empty() && s.rfind(from, 0) == 0) s = to + s.substr(from.size());
  };
  swap(c.endpoint);
  for (auto& [k, v] : c.settings) swap(v);
  return c;
}

std::string upstream_of(const kms::ProviderConfig& c) {
  return c.type == "oci" ? c.settings.at("managementEndpoint") : c.endpoint;
}

// tests/harness/control-plane.sh COMMAND on the fixture's control plane; its stdout.
std::string control_plane(const std::string& command) {
  std::string dir = testing::kubeconfig_path();
  dir = dir.substr(0, dir.rfind('/'));
  const std::string cmd =
      std::string(BYOK_SOURCE_DIR) + "/tests/harness/control-plane.sh " + command + " " + dir;
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p);
  char buf[256];
  while (fgets(buf, sizeof buf, p)) out += buf;
  REQUIRE(pclose(p) == 0);
  return out;
}

int count_lines_with(const std::string& path, const std::string& needle) {
  std::ifstream in(path);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) n += line.find(needle) != std::string::npos;
  return n;
}

// AWS imported each AWS key's material exactly once (moto's import log: a line per import),
// whichever process or replica did it. Keys are named "...-aws".
void check_aws_imported_once(const std::map<std::string, Json>& statuses) {
  auto env = testing::ServerEnv::for_provider("aws");
  std::map<std::string, int> imports;
  std::ifstream log(env["BYOK_AWS_IMPORT_LOG"]);
  std::string id, material, digest;
  while (log >> id >> material >> digest) ++imports[id];
  for (const auto& [name, st] : statuses) {
    if (name.find("-aws") == std::string::npos) continue;
    INFO("ImportedKey " << name);
    CHECK(imports[last_segment(st.value("keyId", ""))] == 1);
  }
}

long peak_rss_kib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  return 0;
}

}  // namespace

TEST_CASE(
    "faults: six KMSes throttling, failing, resetting and black-holed while the operator is "
    "killed, every key imported exactly once",
    "[faults]") {
  const std::vector<std::string> providers = {"aws", "gcp", "azure", "oci", "transit", "thalassa"};
  const int keys_per_provider = 6;
  const int kills = 6;
  const std::size_t rss_bound_kib = 150 * 1024;

  IkFixture f("faults");
  // AWS names a key after creating it, so a key whose create was cut short by a kill is looked
  // for by a scan of the account (a request per key there): the request bound allows that.
  std::size_t aws_account_keys = 0;
  {
    static RealClock clock;
    auto config = testing::provider_config_from_env("aws");
    auto transport = kms::make_http_transport({std::chrono::seconds(10), config.extra_ca_pem});
    auto built = kms::aws::AwsKmsClient::from_config(config, *transport, clock);
    REQUIRE(built.ok());
    auto ids = (*built)->list_keys();
    REQUIRE(ids.ok());
    aws_account_keys = ids->size();
  }
  std::map<std::string, std::unique_ptr<FaultProxy>> proxies;
  int seed = 11;
  for (const auto& p : providers) {
    auto config = testing::provider_config_from_env(p);
    const std::string upstream = upstream_of(config);
    auto pki = pki_of(p);
    auto proxy =
        std::make_unique<FaultProxy>(p, upstream, pki.dir, pki.cert, pki.key, pki.ca, seed++);
    auto routed = through(config, upstream, proxy->url());
    testing::apply_cluster_kms_provider(f.c, f.ns, f.cluster_provider(p), routed, f.ns);
    testing::apply_hsm_key_policy(f.c, f.cluster_provider(p), f.ns, "*", f.cluster_provider(p));
    proxies[p] = std::move(proxy);
  }

  // Names interleave the providers, so the queue (which a restart refills in name order) meets
  // every KMS early.
  std::vector<std::pair<std::string, std::string>> objects;  // (name, provider)
  for (int i = 0; i < keys_per_provider; ++i) {
    for (const auto& p : providers) {
      const std::string type = p == "azure" ? "rsa-2048" : "aes256-gcm96";
      const std::string name = "k" + std::to_string(i) + "-" + p;
      f.add_key(name, type);
      f.create(
          imported_key(name, p, type, name, {{"kmsKeyName", testing::unique_name("flt-" + name)}}));
      objects.emplace_back(name, p);
    }
  }

  // Kills at seeded random moments while the imports run.
  std::mt19937 rng(20261204);
  std::uniform_int_distribution<int> pause_ms(2000, 6000);
  const auto started = std::chrono::steady_clock::now();
  long peak_kib = 0;
  // Four workers, and a KMS request may take 8 s (a black hole holds a worker that long).
  const std::vector<std::string> flags{"--workers", "4", "--kms-request-timeout", "8s"};
  f.start(flags);
  // The world fails as soon as the operator runs: every KMS throttles (Retry-After 1 s), fails,
  // resets answers mid-body and is slow at random; Google is a black hole from 1 s to 16 s.
  const Json noisy = Json::array({
      {{"fault", "throttle"}, {"rate", 0.15}, {"retry_after", 1}},
      {{"fault", "unavailable"}, {"rate", 0.08}},
      {{"fault", "reset"}, {"rate", 0.05}},
      {{"fault", "latency"}, {"rate", 0.2}, {"ms", 150}},
  });
  for (auto& [p, proxy] : proxies) {
    Json rules = noisy;
    if (p == "gcp")
      rules.insert(rules.begin(),
                   Json{{"fault", "blackhole"}, {"after", 1}, {"until", 16}, {"seconds", 40}});
    proxy->plan(rules);
  }
  for (int k = 0; k < kills; ++k) {
    std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms(rng)));
    peak_kib = std::max(peak_kib, peak_rss_kib(f.op->pid()));
    f.op->kill_hard();
    f.start(flags);
  }

  // The last fault: the proxies forward everything from now on; time to converge from here.
  Json injected = Json::object();
  for (auto& [p, proxy] : proxies) {
    auto s = proxy->stats();
    for (auto& [kind, n] : s["injected"].items())
      injected[kind] = injected.value(kind, 0) + n.get<int>();
    proxy->plan(Json::array());
  }
  // Every kind of fault met the operator (else the scenario proved less than it says).
  for (const char* kind : {"throttle", "unavailable", "reset", "latency", "blackhole"}) {
    INFO("fault " << kind << " injected " << injected.value(kind, 0) << " times");
    CHECK(injected.value(kind, 0) > 0);
  }
  const auto calm = std::chrono::steady_clock::now();
  std::map<std::string, Json> statuses;
  for (const auto& [name, p] : objects) {
    auto st = f.try_wait(name, "", 240s);
    REQUIRE(st);
    statuses[name] = *st;
  }
  const double converge_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - calm).count();
  const double total_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  peak_kib = std::max(peak_kib, peak_rss_kib(f.op->pid()));

  // What each KMS holds: the known material, under the key the status names.
  for (const auto& [name, p] : objects) check_kms_holds(p, statuses[name], f.keys.at(name));

  // AWS: one key per owner, its material imported once (moto's import log, one line per import).
  check_aws_imported_once(statuses);

  // No hot loop: requests per key bounded, with the faults and the kills counted in.
  int requests = 0;
  std::string per_provider;
  for (auto& [p, proxy] : proxies) {
    int n = proxy->stats().value("requests", 0);
    requests += n;
    per_provider += (per_provider.empty() ? "" : ", ") + p + " " + std::to_string(n);
    // Per kill, each of the 4 workers may have cut a create short: one scan each on restart.
    const std::size_t scans = p == "aws" ? kills * 4 * (aws_account_keys + objects.size()) : 0;
    INFO(p << ": " << n << " requests for " << keys_per_provider
           << " keys (AWS account: " << aws_account_keys << " keys before the test)");
    CHECK(static_cast<std::size_t>(n) < keys_per_provider * 60 + scans);
  }
  CHECK(peak_kib < static_cast<long>(rss_bound_kib));

  std::cout << "[faults] " << objects.size() << " ImportedKeys on " << providers.size()
            << " KMSes, " << kills << " SIGKILLs, faults injected " << injected.dump() << ", "
            << requests << " KMS requests (" << per_provider << "), converged " << converge_s
            << " s after the last fault (" << total_s << " s in all), operator peak RSS "
            << peak_kib / 1024 << " MiB\n";
  f.op->terminate();
}

TEST_CASE(
    "faults: the apiserver restarted and etcd compacted while keys import, the watches "
    "relist after 410 Gone and nothing is lost or imported twice",
    "[faults]") {
  IkFixture f("faults-api");
  f.provider("aws");
  f.provider("transit");
  auto create_batch = [&](int from, int to) {
    for (int i = from; i < to; ++i) {
      const std::string p = i % 2 ? "transit" : "aws";
      const std::string name = "k" + std::to_string(i) + "-" + p;
      f.add_key(name, "aes256-gcm96");
      auto object = imported_key(name, p, "aes256-gcm96", name,
                                 {{"kmsKeyName", testing::unique_name("api-" + name)}});
      object["spec"]["providerRef"] = {{"kind", "ClusterKmsProvider"},
                                       {"name", f.cluster_provider(p)}};
      // This client's pooled connection may be the one the restart cut: try again (a 409 says
      // an earlier try landed though its answer was lost).
      bool created = testing::wait_until(
          [&] {
            auto r = f.c.create(kIk, f.ns, object);
            return r.ok() || r.error().kind == ErrorKind::AlreadyExists ||
                   r.error().kind == ErrorKind::Conflict;
          },
          30s);
      REQUIRE(created);
    }
  };
  create_batch(0, 12);
  const auto started = std::chrono::steady_clock::now();
  f.start(std::vector<std::string>{"--workers", "4"});
  std::this_thread::sleep_for(2s);

  // 1: the apiserver goes away mid-import and comes back; every watch ends.
  control_plane("restart-apiserver");
  create_batch(12, 18);
  // 2: the operator's watches fall behind a compaction: stop the apiserver's side of the story
  // by restarting it after etcd forgot the history, so a watch resuming from its last
  // resourceVersion is answered 410 Gone and must relist (the keys created meanwhile included).
  std::this_thread::sleep_for(2s);
  create_batch(18, 24);
  const std::string revision = control_plane("compact");
  control_plane("restart-apiserver");

  std::map<std::string, Json> statuses;
  for (int i = 0; i < 24; ++i) {
    const std::string p = i % 2 ? "transit" : "aws";
    const std::string name = "k" + std::to_string(i) + "-" + p;
    auto st = f.try_wait(name, "", 180s);
    REQUIRE(st);
    check_kms_holds(p, *st, f.keys.at(name));
    statuses[name] = *st;
  }
  const double total_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  CHECK(f.op->running());  // the operator rode it out; no restart
  const int relists = count_lines_with(f.log_path, "watch expired, relisting");
  CHECK(relists > 0);

  // AWS: each key's material imported once.
  check_aws_imported_once(statuses);
  std::cout
      << "[faults] 24 ImportedKeys (AWS, Vault transit), 2 apiserver restarts, etcd compacted at "
      << "revision " << revision.substr(0, revision.find('\n')) << ", " << relists
      << " watch relists after 410 Gone, all Ready " << total_s
      << " s after the operator started\n";
  f.op->terminate();
}

TEST_CASE(
    "faults: the leader's Lease stolen while two replicas import, the leader stops at once "
    "and no key is reconciled by two replicas at a time",
    "[faults]") {
  IkFixture f("faults-lease");
  f.provider("aws");
  f.provider("transit");
  for (int i = 0; i < 16; ++i) {
    const std::string p = i % 2 ? "transit" : "aws";
    const std::string name = "k" + std::to_string(i) + "-" + p;
    f.add_key(name, "aes256-gcm96");
    f.create(imported_key(name, p, "aes256-gcm96", name,
                          {{"kmsKeyName", testing::unique_name("lease-" + name)}}));
  }
  f.token.export_to_environment();
  const std::vector<std::string> flags{"--leader-elect", "--workers", "4"};
  testing::RunningOperator a(f.ns, "a", flags);
  REQUIRE(testing::wait_until(
      [&] { return !a.records("acquired the leader election lease").empty(); }, 30s));
  testing::RunningOperator b(f.ns, "b", flags);
  std::this_thread::sleep_for(1500ms);  // imports under way

  // A thief writes itself into the Lease, as a misconfigured second deployment would.
  const auto lease = kube::resources::leases();
  // (MicroTime: six fraction digits; a renewal racing the theft is a conflict: read, try again.)
  std::string now = format_rfc3339(std::chrono::system_clock::now());
  now.insert(now.size() - 1, ".000000");
  std::string why;
  const bool stolen = testing::wait_until(
      [&] {
        auto current = f.c.get(lease, f.ns, "byok-operator-leader");
        if (!current) return false;
        auto r = f.c.patch(
            lease, f.ns, "byok-operator-leader", kube::PatchType::Merge,
            {{"metadata", {{"resourceVersion", (*current)["metadata"]["resourceVersion"]}}},
             {"spec", {{"holderIdentity", "thief"}, {"renewTime", now}, {"acquireTime", now}}}});
        if (!r) why = r.error().message;
        return r.ok();
      },
      10s);
  INFO("stealing the Lease: " << why);
  REQUIRE(stolen);
  const auto stolen_at = std::chrono::steady_clock::now();

  // The leader notices at its next renewal and exits (its pod would be restarted); nobody leads
  // until the thief's lease runs out, then the follower takes over and finishes the work.
  REQUIRE(testing::wait_until([&] { return !a.process->running(); }, 30s));
  const double stopped_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - stolen_at).count();
  CHECK_FALSE(a.records("leader election lost").empty());
  REQUIRE(testing::wait_until(
      [&] { return !b.records("acquired the leader election lease").empty(); }, 60s));
  std::map<std::string, Json> statuses;
  for (int i = 0; i < 16; ++i) {
    const std::string p = i % 2 ? "transit" : "aws";
    const std::string name = "k" + std::to_string(i) + "-" + p;
    auto st = f.try_wait(name, "", 120s);
    REQUIRE(st);
    check_kms_holds(p, *st, f.keys.at(name));
    statuses[name] = *st;
  }
  const double converged_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - stolen_at).count();

  // No key reconciled by two replicas at a time: every reconcile of A's ended before B held the
  // Lease (the log's times, to the resolution they carry), and B reconciled nothing before.
  SystemTime a_last{}, b_acquired{};
  for (const auto& r : a.records("reconciling")) {
    SystemTime t;
    if (parse_rfc3339(r.value("ts", ""), t) && t > a_last) a_last = t;
  }
  REQUIRE(parse_rfc3339(b.records("acquired the leader election lease").front().value("ts", ""),
                        b_acquired));
  CHECK(a_last < b_acquired);
  const auto b_all = b.records();
  long b_first_reconcile = -1, b_acquire = -1;
  for (std::size_t i = 0; i < b_all.size(); ++i) {
    const std::string msg = b_all[i].value("msg", "");
    if (msg == "acquired the leader election lease" && b_acquire < 0)
      b_acquire = static_cast<long>(i);
    if (msg == "reconciling" && b_first_reconcile < 0) b_first_reconcile = static_cast<long>(i);
  }
  CHECK(b_acquire >= 0);
  CHECK(b_acquire < b_first_reconcile);

  // AWS: each key's material imported once, across both replicas.
  check_aws_imported_once(statuses);
  std::cout
      << "[faults] Lease stolen from the leader of 2 replicas with 16 ImportedKeys: leader stopped "
      << stopped_s << " s later, all Ready " << converged_s << " s after the theft\n";
  b.process->terminate();
}

TEST_CASE(
    "faults: a KMS's Retry-After longer than a call may wait is honoured by the work queue, "
    "and the key imports after it",
    "[faults]") {
  IkFixture f("faults-retry-after");
  auto config = testing::provider_config_from_env("transit");
  auto pki = pki_of("transit");
  FaultProxy proxy("transit", config.endpoint, pki.dir, pki.cert, pki.key, pki.ca, 5);
  auto routed = through(config, config.endpoint, proxy.url());
  testing::apply_cluster_kms_provider(f.c, f.ns, f.cluster_provider("transit"), routed, f.ns);
  testing::apply_hsm_key_policy(f.c, f.cluster_provider("transit"), f.ns, "*",
                                f.cluster_provider("transit"));
  const std::string kms_name = testing::unique_name("ra");
  // Vault's rate-limit answer on this key's first request, asking for 5 s: longer than the
  // client's in-call retries may wait (2 s), so the error goes to the work queue, which must not
  // come back sooner.
  const int asked = 5;
  proxy.plan(Json::array({{{"fault", "throttle"},
                           {"match", "/keys/" + kms_name},
                           {"first", 1},
                           {"retry_after", asked}}}));
  f.add_key("ra", "aes256-gcm96");
  f.create(imported_key("ra", "transit", "aes256-gcm96", "ra", {{"kmsKeyName", kms_name}}));
  f.start();
  auto st = f.wait_for("ra", "", 60s);
  check_kms_holds("transit", st, f.keys.at("ra"));

  Json log = proxy.call("GET", "/log");
  REQUIRE(log.is_array());
  std::optional<double> throttled_at, next_at;
  for (const auto& e : log) {
    if (e["op"].get<std::string>().find("/keys/" + kms_name) == std::string::npos) continue;
    if (!throttled_at) {
      REQUIRE(e["fault"] == "throttle");
      throttled_at = e["t"].get<double>();
    } else if (!next_at) {
      next_at = e["t"].get<double>();
    }
  }
  REQUIRE(throttled_at);
  REQUIRE(next_at);
  const double gap = *next_at - *throttled_at;
  INFO("the next request for the key came " << gap << " s after the throttled one");
  CHECK(gap >= asked - 0.05);
  CHECK(gap < asked + 5);  // and not much later: the backoff starts from the asked wait
  std::cout << "[faults] Retry-After " << asked << " s on a transit import: the next request came "
            << gap << " s later, the key imported\n";
  f.op->terminate();
}
