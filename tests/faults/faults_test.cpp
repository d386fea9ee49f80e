// The fault suite's scenarios (label faults): the real operator process importing keys into all
// six KMS servers at once, each behind a fault proxy (tests/faults/fault_proxy.py) that
// throttles, fails, delays, resets and black-holes in that service's own words, while the test
// kills the operator with SIGKILL at seeded random moments. Then the invariants: every
// ImportedKey converges to Ready, each KMS holds exactly the known material under the key the
// status names (the servers' own evidence), AWS holds exactly one key per owner and imported
// its material once, no hot loop (requests per key bounded), and the operator's memory stays
// under a bound. The figures are printed.

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iostream>
#include <random>
#include <thread>

#include "kms/aws/aws_kms_client.h"
#include "kms/oci/oci_kms_client.h"
#include "reconcilers/customer_managed_key/cmk_types.h"
#include "tests/integration/operations/operations_support.h"
#include "tests/integration/reconcilers/ik_test_support.h"

using namespace byok;
using namespace byok::iktest;

namespace {

const auto kCmkType = byok::cmk::customer_managed_keys();

// A fault proxy in front of one fixture's server, terminating TLS with that server's own
// certificate (so the operator trusts it with the same CA).
struct FaultProxy {
  std::string provider;
  int port = 0, control = 0;
  std::unique_ptr<testing::ChildProcess> process;
  std::string upstream;

  // `p`: the dialect (a provider, or "kube"); `extra`: more flags (the apiserver's client
  // certificate for the upstream).
  FaultProxy(const std::string& p, const std::string& upstream_url, const std::string& pki,
             const std::string& cert, const std::string& key, const std::string& ca, int seed,
             const std::vector<std::string>& extra = {})
      : provider(p), upstream(upstream_url) {
    port = testing::free_loopback_port();
    control = testing::free_loopback_port();
    std::vector<std::string> args{
        "python3",        std::string(BYOK_SOURCE_DIR) + "/tests/faults/fault_proxy.py",
        "--port",         std::to_string(port),
        "--upstream",     upstream_url,
        "--upstream-ca",  pki + "/" + ca,
        "--cert",         pki + "/" + cert,
        "--key",          pki + "/" + key,
        "--dialect",      p,
        "--control-port", std::to_string(control),
        "--seed",         std::to_string(seed),
        "--max-hold",     "40"};
    args.insert(args.end(), extra.begin(), extra.end());
    process = std::make_unique<testing::ChildProcess>(
        "/usr/bin/env", args, "/tmp/byok-fault-proxy-" + p + "-" + std::to_string(port) + ".log");
    REQUIRE(testing::wait_until([&] { return call("GET", "/stats").is_object(); }, 20s));
  }
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port); }

  Json call(const std::string& method, const std::string& path, const Json& body = nullptr) const {
    static auto transport = kms::make_http_transport({std::chrono::seconds(5), ""});
    kms::HttpRequest req{method,
                         "http://127.0.0.1:" + std::to_string(control) + path,
                         {{"Content-Type", "application/json"}},
                         body.is_null() ? "" : body.dump()};
    auto resp = transport->send(req);
    if (!resp || resp->status != 200) return nullptr;
    return Json::parse(resp->body, nullptr, false);
  }
  void plan(const Json& rules) const {
    REQUIRE(call("PUT", "/plan", {{"rules", rules}}).is_object());
  }
  Json stats() const { return call("GET", "/stats"); }
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

// A fault proxy in front of the fixture's apiserver (the Kubernetes dialect), presenting the
// apiserver's own certificate and the cluster admin's client certificate upstream, and a
// kubeconfig that sends an operator through it.
struct ApiserverProxy {
  std::unique_ptr<FaultProxy> proxy;
  std::string kubeconfig;

  explicit ApiserverProxy(int seed) {
    const std::string original = testing::kubeconfig_path();
    const std::string dir = original.substr(0, original.rfind('/'));
    const std::string pki = dir + "/pki";
    std::string text = testing::read_file(original);
    const auto at = text.find("server: ");
    REQUIRE(at != std::string::npos);
    const auto eol = text.find('\n', at);
    const std::string upstream = text.substr(at + 8, eol - at - 8);
    proxy = std::make_unique<FaultProxy>(
        "kube", upstream, pki, "apiserver.crt", "apiserver.key", "ca.crt", seed,
        std::vector<std::string>{"--upstream-cert", pki + "/admin.crt", "--upstream-key",
                                 pki + "/admin.key"});
    text.replace(at + 8, eol - at - 8, proxy->url());
    kubeconfig = dir + "/kubeconfig-proxied-" + std::to_string(proxy->port);
    std::ofstream(kubeconfig) << text;
  }
  ~ApiserverProxy() { std::remove(kubeconfig.c_str()); }
};

// The times (seconds since its plan was set) of the requests the proxy saw whose op contains
// `needle`, and what was done to each.
std::vector<std::pair<double, std::string>> requests_matching(FaultProxy& proxy,
                                                              const std::string& needle) {
  std::vector<std::pair<double, std::string>> out;
  Json log = proxy.call("GET", "/log");
  REQUIRE(log.is_array());
  for (const auto& e : log)
    if (e["op"].get<std::string>().find(needle) != std::string::npos)
      out.emplace_back(e["t"].get<double>(),
                       e["fault"].is_string() ? e["fault"].get<std::string>() : std::string());
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

// No orphans: each ImportedKey owns exactly one live key in the KMSes where a key's name does not
// make it unique (AWS: keys carry the owner's uid in a tag; OCI: display names may repeat), so a
// create cut short by a kill never led to a second key. `kms_names`: ImportedKey -> the name
// its spec asked for. Asked of the servers directly, not through the proxies.
void check_no_orphans(kube::KubeClient& c, const std::string& ns,
                      const std::vector<std::pair<std::string, std::string>>& objects,
                      const std::map<std::string, std::string>& kms_names) {
  static RealClock clock;
  std::map<std::string, std::string> aws_owner_of;  // uid -> ImportedKey
  std::map<std::string, int> aws_keys, oci_keys;    // per ImportedKey
  for (const auto& [name, p] : objects) {
    if (p == "aws") {
      auto o = c.get(kIk, ns, name);
      REQUIRE(o.ok());
      aws_owner_of[(*o)["metadata"]["uid"].get<std::string>()] = name;
      aws_keys[name] = 0;
    } else if (p == "oci") {
      oci_keys[name] = 0;
    }
  }
  {
    auto config = testing::provider_config_from_env("aws");
    auto transport = kms::make_http_transport({std::chrono::seconds(10), config.extra_ca_pem});
    auto aws = kms::aws::AwsKmsClient::from_config(config, *transport, clock);
    REQUIRE(aws.ok());
    auto ids = (*aws)->list_keys(100000);
    REQUIRE(ids.ok());
    for (const auto& id : *ids) {
      auto tags = (*aws)->list_resource_tags(id);
      REQUIRE(tags.ok());
      auto owner = tags->find("byok.dev/owner");
      if (owner == tags->end()) continue;
      auto mine = aws_owner_of.find(owner->second);
      if (mine != aws_owner_of.end()) ++aws_keys[mine->second];
    }
  }
  {
    auto config = testing::provider_config_from_env("oci");
    auto transport = kms::make_http_transport({std::chrono::seconds(10), config.extra_ca_pem});
    auto oci = kms::oci::OciKmsClient::from_config(config, *transport, clock);
    REQUIRE(oci.ok());
    auto keys = (*oci)->list_keys();
    REQUIRE(keys.ok());
    // Through a ClusterKmsProvider the name gets a suffix of the owner's digest
    // (shared_kms_key_name): "<kmsKeyName>-<12 hex>"; the test's names are unique stems.
    std::map<std::string, std::string> by_stem;
    for (const auto& [name, count] : oci_keys) by_stem[kms_names.at(name) + "-"] = name;
    for (const auto& k : *keys) {
      if (k.lifecycle_state == "DELETED" || k.lifecycle_state == "DELETING") continue;
      if (k.display_name.size() < 13) continue;
      auto mine = by_stem.find(k.display_name.substr(0, k.display_name.size() - 12));
      if (mine != by_stem.end()) ++oci_keys[mine->second];
    }
  }
  for (const auto& [name, n] : aws_keys) {
    INFO("AWS keys owned by ImportedKey " << name);
    CHECK(n == 1);
  }
  for (const auto& [name, n] : oci_keys) {
    INFO("OCI keys named for ImportedKey " << name);
    CHECK(n == 1);
  }
}

long peak_rss_kib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  return 0;
}

// The two Lease scenarios' keys: 16 ImportedKeys alternating between AWS and Vault transit.
const int kLeaseKeys = 16;
std::string lease_key_provider(int i) { return i % 2 ? "transit" : "aws"; }
std::string lease_key_name(int i) { return "k" + std::to_string(i) + "-" + lease_key_provider(i); }

void create_lease_keys(IkFixture& f, const std::string& stem) {
  f.provider("aws");
  f.provider("transit");
  for (int i = 0; i < kLeaseKeys; ++i) {
    const std::string name = lease_key_name(i);
    f.add_key(name, "aes256-gcm96");
    f.create(imported_key(name, lease_key_provider(i), "aes256-gcm96", name,
                          {{"kmsKeyName", testing::unique_name(stem + name)}}));
  }
}

// Every key Ready with the known material in its KMS, and AWS imported each key once, across
// both replicas.
void wait_lease_keys(IkFixture& f) {
  std::map<std::string, Json> statuses;
  for (int i = 0; i < kLeaseKeys; ++i) {
    const std::string name = lease_key_name(i);
    auto st = f.try_wait(name, "", 120s);
    REQUIRE(st);
    check_kms_holds(lease_key_provider(i), *st, f.keys.at(name));
    statuses[name] = *st;
  }
  check_aws_imported_once(statuses);
}

// No key reconciled by two replicas at a time: every reconcile of the old leader's ended before
// the new one held the Lease (the log's times, to the resolution they carry), and the new one
// reconciled nothing before it did.
void check_no_overlap(const testing::RunningOperator& old_leader,
                      const testing::RunningOperator& new_leader) {
  SystemTime old_last{}, new_acquired{};
  for (const auto& r : old_leader.records("reconciling")) {
    SystemTime t;
    if (parse_rfc3339(r.value("ts", ""), t) && t > old_last) old_last = t;
  }
  const auto acquired = new_leader.records("acquired the leader election lease");
  REQUIRE_FALSE(acquired.empty());
  REQUIRE(parse_rfc3339(acquired.front().value("ts", ""), new_acquired));
  CHECK(old_last < new_acquired);
  const auto all = new_leader.records();
  long first_reconcile = -1, acquire = -1;
  for (std::size_t i = 0; i < all.size(); ++i) {
    const std::string msg = all[i].value("msg", "");
    if (msg == "acquired the leader election lease" && acquire < 0) acquire = static_cast<long>(i);
    if (msg == "reconciling" && first_reconcile < 0) first_reconcile = static_cast<long>(i);
  }
  CHECK(acquire >= 0);
  CHECK(acquire < first_reconcile);
}

}  // namespace

TEST_CASE(
    "faults: six KMSes throttling, failing, resetting and one black-holed for a minute while the "
    "operator is killed, every key imported exactly once and every CMK verified",
    "[faults]") {
  const std::vector<std::string> providers = {"aws", "gcp", "azure", "oci", "transit", "thalassa"};
  const std::vector<std::string> cmk_providers = {"aws", "gcp", "azure", "oci"};
  const int keys_per_provider = 25;
  const int cmks_per_provider = 37;
  const int kills = 10;
  const int blackhole_s = 60;  // Google answers nothing for a full minute
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
  // Each KMS behind its proxy: a ClusterKmsProvider for the imports, and a namespaced
  // KmsProvider for the CustomerManagedKeys (the only kind a CMK may name), both through it.
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
    if (std::count(cmk_providers.begin(), cmk_providers.end(), p))
      testing::apply_kms_provider(f.c, f.ns, "cmk-" + p, routed);
    proxies[p] = std::move(proxy);
  }
  auto key_type = [](const std::string& p) { return p == "azure" ? "rsa-2048" : "aes256-gcm96"; };

  // Keys for the CMKs to name: one imported per CMK provider before the faults begin (the
  // project's own way to make a key in each KMS), its status naming it.
  const std::vector<std::string> flags{"--workers", "4", "--kms-request-timeout", "8s"};
  for (const auto& p : cmk_providers) {
    const std::string name = "seed-" + p;
    f.add_key(name, key_type(p));
    f.create(imported_key(name, p, key_type(p), name,
                          {{"kmsKeyName", testing::unique_name("flt-" + name)}}));
  }
  f.start(flags);
  std::map<std::string, std::string> cmk_resource;  // provider -> spec.resource
  for (const auto& p : cmk_providers) {
    auto st = f.try_wait("seed-" + p, "", 120s);
    REQUIRE(st);
    std::string id = st->value("keyId", "");
    id = id.substr(0, id.find("/cryptoKeyVersions/"));  // Google: the key, not its version
    cmk_resource[p] = id;
  }

  // Names interleave the providers, so the queue (which a restart refills in name order) meets
  // every KMS early.
  std::vector<std::pair<std::string, std::string>> objects;  // (name, provider)
  std::map<std::string, std::string> kms_names;              // name -> spec's kmsKeyName
  for (int i = 0; i < keys_per_provider; ++i) {
    for (const auto& p : providers) {
      const std::string name = "k" + std::to_string(i) + "-" + p;
      kms_names[name] = testing::unique_name("flt-" + name);
      f.add_key(name, key_type(p));
      f.create(imported_key(name, p, key_type(p), name, {{"kmsKeyName", kms_names[name]}}));
      objects.emplace_back(name, p);
    }
  }
  std::vector<std::string> cmks;
  for (int i = 0; i < cmks_per_provider; ++i) {
    for (const auto& p : cmk_providers) {
      const std::string name = "c" + std::to_string(i) + "-" + p;
      REQUIRE(f.c.create(kCmkType, f.ns,
                         {{"apiVersion", "byok.dev/v1alpha1"},
                          {"kind", "CustomerManagedKey"},
                          {"metadata", {{"name", name}}},
                          {"spec",
                           {{"provider", p},
                            {"resource", cmk_resource[p]},
                            {"providerRef", {{"name", "cmk-" + p}}}}}})
                  .ok());
      cmks.push_back(name);
    }
  }

  // The world fails at once: every KMS throttles (Retry-After 1 s), fails, resets answers
  // mid-body and is slow at random; Google is a black hole for a minute from 1 s on.
  std::mt19937 rng(20261204);
  std::uniform_int_distribution<int> pause_ms(2000, 6000);
  const auto started = std::chrono::steady_clock::now();
  long peak_kib = 0;
  const Json noisy = Json::array({
      {{"fault", "throttle"}, {"rate", 0.15}, {"retry_after", 1}},
      {{"fault", "unavailable"}, {"rate", 0.08}},
      {{"fault", "reset"}, {"rate", 0.05}},
      {{"fault", "latency"}, {"rate", 0.2}, {"ms", 150}},
  });
  for (auto& [p, proxy] : proxies) {
    Json rules = noisy;
    if (p == "gcp")
      rules.insert(
          rules.begin(),
          Json{{"fault", "blackhole"}, {"after", 1}, {"until", 1 + blackhole_s}, {"seconds", 40}});
    proxy->plan(rules);
  }
  // Kills at seeded random moments while the imports and verifications run.
  for (int k = 0; k < kills; ++k) {
    std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms(rng)));
    peak_kib = std::max(peak_kib, peak_rss_kib(f.op->pid()));
    f.op->kill_hard();
    f.start(flags);
  }
  // The noise lasts until Google comes back.
  while (std::chrono::steady_clock::now() - started < std::chrono::seconds(1 + blackhole_s)) {
    std::this_thread::sleep_for(1s);
    peak_kib = std::max(peak_kib, peak_rss_kib(f.op->pid()));
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
  for (const auto& name : cmks) {
    Json st;
    const bool current = testing::wait_until(
        [&] {
          st = testing::status_of(f.c, kCmkType, f.ns, name);
          return st.value("status", "") == "current" &&
                 testing::condition_field(st, "Ready", "status") == "True";
        },
        120s);
    INFO("CustomerManagedKey " << name << ": " << st.dump());
    REQUIRE(current);
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
  check_no_orphans(f.c, f.ns, objects, kms_names);

  // No hot loop: requests per object bounded, with the faults and the kills counted in.
  int requests = 0;
  std::string per_provider;
  for (auto& [p, proxy] : proxies) {
    int n = proxy->stats().value("requests", 0);
    requests += n;
    per_provider += (per_provider.empty() ? "" : ", ") + p + " " + std::to_string(n);
    // Per kill, each of the 4 workers may have cut a create short: one scan each on restart.
    const std::size_t scans =
        p == "aws" ? kills * 4 * (aws_account_keys + objects.size() + cmk_providers.size()) : 0;
    const int objects_here =
        keys_per_provider + 1 +
        (std::count(cmk_providers.begin(), cmk_providers.end(), p) ? cmks_per_provider : 0);
    INFO(p << ": " << n << " requests for " << objects_here
           << " objects (AWS account: " << aws_account_keys << " keys before the test)");
    CHECK(static_cast<std::size_t>(n) < objects_here * 60 + scans);
  }
  CHECK(peak_kib < static_cast<long>(rss_bound_kib));

  std::cout << "[faults] " << objects.size() + cmk_providers.size() << " ImportedKeys on "
            << providers.size() << " KMSes and " << cmks.size() << " CustomerManagedKeys on "
            << cmk_providers.size() << ", " << kills << " SIGKILLs, Google black-holed for "
            << blackhole_s << " s, faults injected " << injected.dump() << ", " << requests
            << " KMS requests (" << per_provider << "), converged " << converge_s
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
  create_lease_keys(f, "lease-");
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
  wait_lease_keys(f);
  const double converged_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - stolen_at).count();
  check_no_overlap(a, b);
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

TEST_CASE(
    "faults: the leader's Lease renewals delayed past the renew deadline, the leader stops, the "
    "follower takes over, and no key is reconciled by two replicas at a time",
    "[faults]") {
  IkFixture f("faults-renew");
  create_lease_keys(f, "renew-");
  f.token.export_to_environment();
  // Replica A reaches the apiserver through the proxy; B directly.
  ApiserverProxy api(31);
  const std::vector<std::string> flags{"--leader-elect", "--workers", "4"};
  std::vector<std::string> a_flags = flags;
  a_flags.insert(a_flags.end(), {"--kubeconfig", api.kubeconfig});
  testing::RunningOperator a(f.ns, "a", a_flags);
  REQUIRE(testing::wait_until(
      [&] { return !a.records("acquired the leader election lease").empty(); }, 30s));
  testing::RunningOperator b(f.ns, "b", flags);
  std::this_thread::sleep_for(1500ms);  // imports under way

  // From now on every Lease request of A's takes 14 s to reach the apiserver (a congested path,
  // a stalled apiserver): longer than the renew deadline (10 s), so A cannot renew in time.
  const int delay_ms = 14000;
  api.proxy->plan(Json::array(
      {{{"fault", "latency"}, {"match", "leases/byok-operator-leader"}, {"ms", delay_ms}}}));
  const auto delayed_at = std::chrono::steady_clock::now();
  REQUIRE(testing::wait_until([&] { return !a.process->running(); }, 40s));
  const double stopped_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - delayed_at).count();
  CHECK_FALSE(a.records("leader election lost").empty());
  CHECK(stopped_s < 14);  // at the renew deadline, not when a slow answer finally came
  REQUIRE(testing::wait_until(
      [&] { return !b.records("acquired the leader election lease").empty(); }, 60s));
  wait_lease_keys(f);
  const double converged_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - delayed_at).count();
  const int delayed = api.proxy->stats()["injected"].value("latency", 0);
  CHECK(delayed > 0);
  check_no_overlap(a, b);
  std::cout << "[faults] Lease renewals of the leader of 2 replicas delayed " << delay_ms / 1000
            << " s (" << delayed << " requests held) with 16 ImportedKeys: the leader stopped "
            << stopped_s << " s later, all Ready " << converged_s << " s after the delay began\n";
  b.process->terminate();
}

TEST_CASE(
    "faults: the apiserver throttles the operator's status writes with Retry-After, and the "
    "operator comes back no sooner than asked",
    "[faults]") {
  IkFixture f("faults-api-429");
  f.provider("transit");
  ApiserverProxy api(41);
  const int asked = 4;
  // The apiserver's 429 (its max-in-flight or priority-and-fairness answer) on the first status
  // write for this key.
  api.proxy->plan(Json::array(
      {{{"fault", "throttle"},
        {"match", "PATCH /apis/byok.dev/v1alpha1/namespaces/" + f.ns + "/importedkeys/ra/status"},
        {"first", 1},
        {"retry_after", asked}}}));
  f.add_key("ra", "aes256-gcm96");
  f.create(imported_key("ra", "transit", "aes256-gcm96", "ra",
                        {{"kmsKeyName", testing::unique_name("api429")}}));
  f.start(std::vector<std::string>{"--kubeconfig", api.kubeconfig});
  auto st = f.wait_for("ra", "", 60s);
  check_kms_holds("transit", st, f.keys.at("ra"));

  auto writes = requests_matching(*api.proxy, "/importedkeys/ra/status");
  REQUIRE(writes.size() >= 2);
  REQUIRE(writes[0].second == "throttle");
  const double gap = writes[1].first - writes[0].first;
  INFO("the next status write came " << gap << " s after the throttled one");
  CHECK(gap >= asked - 0.05);
  CHECK(gap < asked + 5);
  std::cout << "[faults] the apiserver's 429 with Retry-After " << asked
            << " s on a status write: the next write came " << gap
            << " s later, the key imported\n";
  f.op->terminate();
}
