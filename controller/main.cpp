// byok-operator: wires the runtime to the reconcilers. The only file in controller/ that knows
// the reconcilers exist.

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <tuple>
#include <unistd.h>
#include <vector>

#include "common/file_read.h"
#include "common/process_init.h"
#include "controller/runtime/memory_release.h"
#include "common/clock.h"
#include "common/random.h"
#include "common/duration.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/stop_signal.h"
#include "common/uuid.h"
#include "controller/kube/cluster_config.h"
#include "controller/kube/rest_client.h"
#include "controller/observability/endpoints.h"
#include "controller/observability/health.h"
#include "controller/runtime/events.h"
#include "controller/runtime/leader_election.h"
#include "controller/runtime/manager.h"
#include "kms/metered_provider.h"
#include "kms/provider_factory.h"
#include "kms/retry.h"
#include "reconcilers/customer_managed_key/cmk_reconciler.h"
#include "reconcilers/customer_managed_key/cmk_types.h"
#include "reconcilers/customer_managed_key/cmk_verification.h"
#include "reconcilers/imported_key/ik_reconciler.h"
#include "reconcilers/imported_key/operator_hsm.h"
#include "reconcilers/kms_provider/provider_users.h"
#include "reconcilers/kms_provider/kms_provider_reconciler.h"
#include "reconcilers/kms_provider/provider_registry.h"

namespace {

struct Options {
  std::string kubeconfig;
  std::string watch_namespace;  // "a" or "a,b,c"; "" = all namespaces
  int workers = 4;
  int resync_seconds = 600;
  std::string log_format = "text";
  std::string log_level = "info";
  std::string metrics_bind = ":8080";  // "0" disables
  std::string probe_bind = ":8081";
  bool leader_elect = false;
  std::string leader_election_namespace;  // "": $POD_NAMESPACE, else --namespace, else default
  std::string leader_election_id = "byok-operator-leader";
  std::string hsm_config;  // YAML: module, token, pinFile (overrides the BYOK_* environment)
  // Where ClusterKmsProviders' Secrets are, and the admin's copy of export Events: "" means
  // $POD_NAMESPACE.
  std::string cluster_resource_namespace;
  // Endpoints a namespaced KmsProvider may name (kms/endpoint_policy.h); empty: the providers'
  // official public endpoints.
  std::vector<std::string> kms_endpoint_allow;
  std::string min_verify_interval = "60s";         // the floor of byok.dev/verify-interval
  std::string kms_request_timeout = "60s";         // a whole KMS request, answer included
  std::string gcp_attestation_manufacturer_roots;  // PEM files: roots ImportJob attestations
  std::string gcp_attestation_owner_roots;         // chain to (the HSM maker's, Google's)
};

const char kUsage[] =
    "usage: byok-operator [--kubeconfig PATH] [--namespace NS] [--workers N]\n"
    "                     [--resync-seconds N] [--log-format text|json]\n"
    "                     [--log-level debug|info|warn|error]\n"
    "                     [--metrics-bind-address ADDR] [--health-probe-bind-address ADDR]\n"
    "                     [--leader-elect[=true|false]] [--leader-election-namespace NS]\n"
    "                     [--leader-election-id NAME] [--hsm-config FILE]\n"
    "                     [--cluster-resource-namespace NS] [--kms-endpoint-allow PATTERN]...\n"
    "                     [--min-verify-interval DURATION] [--kms-request-timeout DURATION]\n"
    "                     [--gcp-attestation-manufacturer-roots FILE] "
    "[--gcp-attestation-owner-roots FILE]\n"
    "Without --kubeconfig: $KUBECONFIG, ~/.kube/config, then the in-cluster service account.\n"
    "--namespace: the namespace to watch, or several as a,b,c (default: every namespace).\n"
    "ADDR is [host]:port (\":8080\" = all interfaces) or 0 to disable: /metrics on\n"
    "--metrics-bind-address (default :8080), /healthz and /readyz on\n"
    "--health-probe-bind-address (default :8081).\n"
    "--leader-elect: only the replica holding the Lease NAME (default byok-operator-leader) in\n"
    "NS (default $POD_NAMESPACE, else the first --namespace, else default) reconciles.\n"
    "--cluster-resource-namespace: where ClusterKmsProviders' Secrets are (default\n"
    "$POD_NAMESPACE).\n"
    "--kms-endpoint-allow: an endpoint namespaced KmsProviders may name, scheme://host[:port]\n"
    "with '*' inside a host label or as the port, {region} for a region label, or the word\n"
    "public for the providers' official public https endpoints (repeat it, or separate with\n"
    "commas). Default: public. http:// only where a pattern says so.\n"
    "--min-verify-interval: the shortest byok.dev/verify-interval an object may ask for\n"
    "(default 60s; a shorter annotation is raised to it).\n"
    "--kms-request-timeout: the longest one KMS request may take, answer included (default\n"
    "60s): a KMS that answers a byte at a time is cut off (KmsRequestTimeout).\n"
    "--gcp-attestation-manufacturer-roots, --gcp-attestation-owner-roots: PEM roots (the HSM\n"
    "manufacturer's, Google's) that Google Cloud ImportJob attestations must chain to, for\n"
    "HsmKeyPolicy destinations with requireAttestation.\n"
    "Flags also take --flag=value.\n";

// The flags that take a text value, and where it goes.
const std::pair<const char*, std::string Options::*> kTextFlags[] = {
    {"--kubeconfig", &Options::kubeconfig},
    {"--namespace", &Options::watch_namespace},
    {"--log-format", &Options::log_format},
    {"--log-level", &Options::log_level},
    {"--metrics-bind-address", &Options::metrics_bind},
    {"--health-probe-bind-address", &Options::probe_bind},
    {"--leader-election-namespace", &Options::leader_election_namespace},
    {"--leader-election-id", &Options::leader_election_id},
    {"--hsm-config", &Options::hsm_config},
    {"--cluster-resource-namespace", &Options::cluster_resource_namespace},
    {"--min-verify-interval", &Options::min_verify_interval},
    {"--kms-request-timeout", &Options::kms_request_timeout},
    {"--gcp-attestation-manufacturer-roots", &Options::gcp_attestation_manufacturer_roots},
    {"--gcp-attestation-owner-roots", &Options::gcp_attestation_owner_roots},
};

// "a,b,,c" -> {a, b, c}.
std::vector<std::string> comma_list(const std::string& v) {
  std::vector<std::string> out;
  for (size_t start = 0; start <= v.size();) {
    size_t comma = v.find(',', start);
    std::string one =
        v.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!one.empty()) out.push_back(one);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

bool parse_args(int argc, char** argv, Options& o, std::string& err) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    std::optional<std::string> inline_value;  // --flag=value
    if (auto eq = a.find('='); a.rfind("--", 0) == 0 && eq != std::string::npos) {
      inline_value = a.substr(eq + 1);
      a = a.substr(0, eq);
    }
    auto value = [&](std::string& out) {
      if (inline_value) {
        out = *inline_value;
        return true;
      }
      if (i + 1 >= argc) {
        err = a + " needs a value";
        return false;
      }
      out = argv[++i];
      return true;
    };
    auto text = std::find_if(std::begin(kTextFlags), std::end(kTextFlags),
                             [&](const auto& f) { return a == f.first; });
    std::string v;
    if (a == "--help" || a == "-h") {
      std::cout << kUsage;
      std::exit(0);
    } else if (text != std::end(kTextFlags)) {
      if (!value(o.*(text->second))) return false;
    } else if (a == "--kms-endpoint-allow") {
      if (!value(v)) return false;
      for (auto& one : comma_list(v)) o.kms_endpoint_allow.push_back(std::move(one));
    } else if (a == "--workers") {
      if (!value(v)) return false;
      o.workers = std::stoi(v);
    } else if (a == "--resync-seconds") {
      if (!value(v)) return false;
      o.resync_seconds = std::stoi(v);
    } else if (a == "--leader-elect") {
      std::string b = inline_value.value_or("true");
      if (b != "true" && b != "false") {
        err = "--leader-elect is true or false";
        return false;
      }
      o.leader_elect = b == "true";
    } else {
      err = "unknown argument " + a;
      return false;
    }
  }
  if (o.workers < 1 || o.workers > 64) {
    err = "--workers must be between 1 and 64";
    return false;
  }
  return true;
}

std::string instance_name() {
  if (const char* pod = std::getenv("POD_NAME")) return pod;
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  return host;
}

std::string leader_election_namespace(const Options& o) {
  if (!o.leader_election_namespace.empty()) return o.leader_election_namespace;
  if (const char* ns = std::getenv("POD_NAMESPACE"); ns && *ns) return ns;
  auto watched = comma_list(o.watch_namespace);
  return watched.empty() ? "default" : watched.front();
}

}  // namespace

int main(int argc, char** argv) {
  byok::skip_openssl_atexit_cleanup();   // before anything touches OpenSSL
  byok::disable_core_dumps();            // it holds the HSM PIN and tenants' credentials
  byok::runtime::limit_malloc_arenas();  // before any thread
  Options opts;
  std::string err;
  try {
    if (!parse_args(argc, argv, opts, err)) {
      std::cerr << "byok-operator: " << err << "\n" << kUsage;
      return 2;
    }
  } catch (const std::exception&) {
    std::cerr << "byok-operator: a numeric flag has a value that is not a number\n" << kUsage;
    return 2;
  }
  byok::Logger::Format format;
  byok::Logger::Level level;
  if (!byok::Logger::parse_format(opts.log_format, format) ||
      !byok::Logger::parse_level(opts.log_level, level)) {
    std::cerr << "byok-operator: --log-format is text|json, --log-level debug|info|warn|error\n";
    return 2;
  }
  byok::Logger log(std::cerr, format, level);
  // The audit trail of HSM exports: its own logger (always JSON, always info), same stream.
  byok::Logger audit_log(std::cerr, byok::Logger::Format::Json, byok::Logger::Level::Info);
  auto tenant_endpoints = byok::kms::EndpointPolicy::parse(opts.kms_endpoint_allow.empty()
                                                               ? std::vector<std::string>{"public"}
                                                               : opts.kms_endpoint_allow);
  if (!tenant_endpoints) {
    std::cerr << "byok-operator: --kms-endpoint-allow: " << tenant_endpoints.error().message
              << "\n";
    return 2;
  }
  auto min_verify = byok::parse_duration(opts.min_verify_interval);
  if (!min_verify || min_verify->count() < 1) {
    std::cerr << "byok-operator: --min-verify-interval is a duration such as 60s or 5m\n";
    return 2;
  }
  auto kms_request_timeout = byok::parse_duration(opts.kms_request_timeout);
  if (!kms_request_timeout || kms_request_timeout->count() < 1) {
    std::cerr << "byok-operator: --kms-request-timeout is a duration such as 60s or 2m\n";
    return 2;
  }
  // A PEM file of at most 1 MiB, or "" when not given; false when unreadable.
  auto read_roots = [](const std::string& path, std::string& out) {
    if (path.empty()) return true;
    auto read = byok::read_file_capped(path, 1024 * 1024);
    if (!read || read->empty()) return false;
    out = std::move(*read);
    return true;
  };
  std::string manufacturer_roots, owner_roots;
  for (auto [flag, path, out] :
       {std::tuple{"--gcp-attestation-manufacturer-roots", &opts.gcp_attestation_manufacturer_roots,
                   &manufacturer_roots},
        std::tuple{"--gcp-attestation-owner-roots", &opts.gcp_attestation_owner_roots,
                   &owner_roots}}) {
    if (!read_roots(*path, *out)) {
      std::cerr << "byok-operator: " << flag << " " << *path
                << " is not a readable PEM file of at most 1 MiB\n";
      return 2;
    }
  }
  std::string cluster_ns = opts.cluster_resource_namespace;
  if (cluster_ns.empty())
    if (const char* pod_ns = std::getenv("POD_NAMESPACE")) cluster_ns = pod_ns;

  // SIGTERM/SIGINT are taken on a thread of their own so shutdown runs as ordinary code.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  // Its threads start here and inherit the mask: one that took SIGTERM would end the process
  // before shutdown ran.
  byok::kube::limit_http_client_threads(4);

  auto config = opts.kubeconfig.empty() ? byok::kube::load_default_config()
                                        : byok::kube::load_kubeconfig(opts.kubeconfig);
  if (!config) {
    log.error("cannot load cluster configuration", {{"error", config.error().message}});
    return 1;
  }
  byok::kube::RestKubeClient client(*config);
  byok::RealClock clock;
  // The process's one source of randomness (backoff jitter, Event names): seeded once here.
  byok::SeededRandom random{std::random_device{}()};
  byok::StopSignal stop;

  std::thread signal_thread([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    log.info("shutting down", {{"signal", strsignal(sig)}});
    stop.request_stop();
    byok::kms::stop_waiting();  // a worker in a KMS backoff or poll gives up now
  });
  signal_thread.detach();

  byok::runtime::KubeEventRecorder events(client, clock, random, log, "byok.dev/operator",
                                          instance_name());
  // Export audit records are never held back as repeats: two identical exports are two records.
  byok::runtime::KubeEventRecorder audit_events(client, clock, random, log, "byok.dev/operator",
                                                instance_name(), std::chrono::seconds(0));
  // Reconcilers' Events go out from a thread of their own (bounded, repeats aggregated), so a
  // worker never waits on an Event's POST; the export audit records them on `audit_events`
  // directly.
  byok::runtime::AsyncEventRecorder async_events(events, log);
  // The registry /metrics serves (every informer, controller, queue and the KMS/HSM decorators
  // below record into it), and the named checks /readyz runs: register more with
  // health.add_readiness_check(name, [] { return byok::Status{}; }).
  byok::metrics::Registry metrics;
  byok::kms::kms_metrics(metrics);  // the KMS families show before the first call
  byok::observability::HealthChecks health;

  byok::runtime::ManagerOptions manager_options;
  // Every namespace (one watch per kind), or the ones --namespace names (one watch each).
  manager_options.namespaces = comma_list(opts.watch_namespace);
  manager_options.workers = opts.workers;
  manager_options.resync = std::chrono::seconds(opts.resync_seconds);
  // Tenants share the workers: a namespace whose reconciles hang on a slow or hostile KMS may hold
  // at most half of each kind's workers (work_queue.h), so other namespaces keep moving.
  manager_options.queue.max_slow_per_namespace = std::max(1, opts.workers / 2);
  manager_options.metrics = &metrics;
  byok::runtime::Manager manager(client, clock, random, log, std::move(manager_options));
  const auto cmks = byok::cmk::customer_managed_keys();
  const auto imported_keys = byok::importedkey::imported_keys();
  const auto kms_providers = byok::kmsprovider::kms_providers();

  // ImportedKey: the HSM (when configured) wraps key material for the KMS's wrapping key.
  auto operator_hsm =
      byok::importedkey::OperatorHsm::from_environment(opts.hsm_config, log, &metrics);
  if (!operator_hsm) {
    log.error("cannot configure the HSM", {{"error", operator_hsm.error().message}});
    return 2;
  }
  // KMS clients per KmsProvider, rebuilt when it or its Secrets change.
  byok::kmsprovider::ProviderRegistry providers(
      client,
      [&](const byok::kms::ProviderConfig& c) {
        return byok::kms::make_provider(c, clock, &metrics, *kms_request_timeout);
      },
      byok::kmsprovider::ProviderTrust{*tenant_endpoints, cluster_ns, manufacturer_roots,
                                       owner_roots});

  providers.use_cache(manager.store(kms_providers));
  // KmsProvider: one worker is plenty for asking each KMS who the credentials are.
  byok::kmsprovider::KmsProviderReconciler provider_reconciler(client, manager.store(kms_providers),
                                                               providers, async_events, clock);
  manager.controller(
      kms_providers, [&](const std::string& key) { return provider_reconciler.reconcile(key); }, 1);

  // CustomerManagedKey: its default and status depend on its namespace's other CMKs, and a
  // KmsProvider's change re-verifies the CMKs that use it.
  const auto& cmk_store = manager.store(cmks);
  manager.add_index(cmks, byok::cmk::kPeerIndex, byok::cmk::peer_index_values);
  manager.add_index(cmks, byok::cmk::kDefaultClaimerIndex, byok::cmk::default_claimer_index_values);
  manager.add_index(cmks, byok::kmsprovider::kProviderRefIndex,
                    byok::kmsprovider::provider_ref_index_values);
  byok::cmk::CmkReconciler cmk_reconciler(client, cmk_store, providers, async_events, clock, log,
                                          [] { return byok::random_uuid(); });
  cmk_reconciler.set_min_verify_interval(*min_verify);
  manager.controller(cmks, [&](const std::string& key) { return cmk_reconciler.reconcile(key); })
      .watches(cmks,
               [&](const byok::runtime::Json* old, const byok::runtime::Json* now) {
                 return byok::cmk::related_cmk_keys(old, now, cmk_store);
               })
      .watches(kms_providers, byok::kmsprovider::users_of_provider(cmk_store));

  log.info("starting", {{"namespace", opts.watch_namespace.empty() ? "*" : opts.watch_namespace},
                        {"clusterResourceNamespace", cluster_ns},
                        {"kmsEndpointAllow",
                         opts.kms_endpoint_allow.empty()
                             ? "public endpoints"
                             : std::to_string(opts.kms_endpoint_allow.size()) + " patterns"},
                        {"workers", std::to_string(opts.workers)},
                        {"server", config->server}});
  // ImportedKey: re-tried when its KmsProvider changes.
  byok::hsmpolicy::ExportAuthorizer export_authorizer(client);
  byok::importedkey::ExportAudit export_audit(audit_log, audit_events, cluster_ns);
  const auto& ik_store = manager.store(imported_keys);
  manager.add_index(imported_keys, byok::kmsprovider::kProviderRefIndex,
                    byok::kmsprovider::provider_ref_index_values);
  // Its Events go out from the worker: some are the tenant's only trace of what happened to its
  // key (Adopted after a crash, KeyDeletionScheduled), which the asynchronous recorder, shared
  // with every tenant's CMKs, may drop. The export audit's records are on `audit_events`.
  byok::importedkey::ImportedKeyReconciler ik_reconciler(
      client, ik_store, providers, (*operator_hsm)->access(), export_authorizer, export_audit,
      events, clock, log);
  ik_reconciler.set_min_verify_interval(*min_verify);
  manager
      .controller(imported_keys,
                  [&](const std::string& key) { return ik_reconciler.reconcile(key); })
      .watches(kms_providers, byok::kmsprovider::users_of_provider(ik_store));
  if ((*operator_hsm)->configured())
    health.add_readiness_check("hsm", [&] { return (*operator_hsm)->check(); });

  // Probes and /metrics first; /readyz turns 200 once every cache has its first list.
  manager.add_readiness_checks(health);
  byok::observability::Endpoints endpoints(metrics, health, log);
  if (auto st = endpoints.start(opts.metrics_bind, opts.probe_bind); !st) {
    log.error("cannot serve metrics and probes", {{"error", st.error().message}});
    return 1;
  }

  // Informers run on every replica (a follower's caches are warm when it takes over); the
  // workers only on the leader.
  manager.start_informers(stop);

  // Lease requests time out well within the renew deadline.
  std::optional<byok::kube::RestKubeClient> lease_client;
  std::unique_ptr<byok::runtime::LeaderElector> elector;
  byok::StopSignal renewing_done;
  std::thread renew_thread;
  std::thread deadline_thread;
  bool leading = true;
  if (opts.leader_elect) {
    lease_client.emplace(*config, std::chrono::seconds(4));
    elector = std::make_unique<byok::runtime::LeaderElector>(
        *lease_client, clock, log,
        byok::runtime::LeaderElectionConfig{leader_election_namespace(opts),
                                            opts.leader_election_id,
                                            instance_name() + "_" + byok::random_uuid()},
        &metrics);
    leading = elector->acquire(stop);
    if (leading) {
      // As controller-runtime: a replica that may no longer lead stops reconciling at once,
      // without finishing anything, and the Deployment restarts it as a follower. The watchdog
      // keeps the renew deadline while a renewal request hangs.
      renew_thread = std::thread([&] {
        if (elector->keep_renewing(renewing_done)) return;
        log.error("leader election lost, exiting");
        std::_Exit(1);
      });
      deadline_thread = std::thread([&] {
        if (elector->watch_renew_deadline(renewing_done)) return;
        log.error("leader election lost, exiting");
        std::_Exit(1);
      });
    }
  }

  if (leading) manager.run_controllers(stop);
  // The workers have stopped: only now may another replica take over.
  renewing_done.request_stop();
  if (renew_thread.joinable()) renew_thread.join();
  if (deadline_thread.joinable()) deadline_thread.join();
  if (elector) elector->release();
  manager.join_informers();
  endpoints.stop();
  log.info("stopped", {{"reconciled", std::to_string(manager.reconciled())}});
  // All that matters is done: the workers and informers have stopped, the Lease is released,
  // and the logs (std::cerr) are unbuffered. Leave without running destructors: cpprestsdk's
  // pooled connections and thread pool outlive main's objects, and tearing everything down beside
  // them now and then corrupted the heap (a segfault in free() after "stopped", seen under load);
  // the process's memory goes back to the system either way.
  std::fflush(nullptr);
  std::_Exit(0);
}
