// byok-operator: wires the runtime to the reconcilers. The only file in controller/ that knows
// the reconcilers exist.

#include <csignal>
#include <cstring>
#include <iostream>
#include <string>
#include <thread>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/stop_signal.h"
#include "common/uuid.h"
#include "controller/kube/cluster_config.h"
#include "controller/kube/rest_client.h"
#include "controller/runtime/controller.h"
#include "controller/runtime/events.h"
#include "controller/runtime/informer.h"
#include "controller/runtime/work_queue.h"
#include "kms/provider_factory.h"
#include "reconcilers/customer_managed_key/cmk_reconciler.h"
#include "reconcilers/kms_provider/kms_provider_reconciler.h"
#include "reconcilers/kms_provider/provider_registry.h"

namespace {

struct Options {
  std::string kubeconfig;
  std::string watch_namespace;  // "" = all namespaces
  int workers = 4;
  int resync_seconds = 600;
  std::string log_format = "text";
  std::string log_level = "info";
};

const char kUsage[] =
    "usage: byok-operator [--kubeconfig PATH] [--namespace NS] [--workers N]\n"
    "                     [--resync-seconds N] [--log-format text|json]\n"
    "                     [--log-level debug|info|warn|error]\n"
    "Without --kubeconfig: $KUBECONFIG, ~/.kube/config, then the in-cluster service account.\n";

bool parse_args(int argc, char** argv, Options& o, std::string& err) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= argc) {
        err = a + " needs a value";
        return false;
      }
      out = argv[++i];
      return true;
    };
    std::string v;
    if (a == "--help" || a == "-h") {
      std::cout << kUsage;
      std::exit(0);
    } else if (a == "--kubeconfig") {
      if (!value(o.kubeconfig)) return false;
    } else if (a == "--namespace") {
      if (!value(o.watch_namespace)) return false;
    } else if (a == "--workers") {
      if (!value(v)) return false;
      o.workers = std::stoi(v);
    } else if (a == "--resync-seconds") {
      if (!value(v)) return false;
      o.resync_seconds = std::stoi(v);
    } else if (a == "--log-format") {
      if (!value(o.log_format)) return false;
    } else if (a == "--log-level") {
      if (!value(o.log_level)) return false;
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

}  // namespace

int main(int argc, char** argv) {
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

  // SIGTERM/SIGINT are taken on a thread of their own so shutdown runs as ordinary code.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto config = opts.kubeconfig.empty() ? byok::kube::load_default_config()
                                        : byok::kube::load_kubeconfig(opts.kubeconfig);
  if (!config) {
    log.error("cannot load cluster configuration", {{"error", config.error().message}});
    return 1;
  }
  byok::kube::RestKubeClient client(*config);
  byok::RealClock clock;
  byok::StopSignal stop;

  std::thread signal_thread([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    log.info("shutting down", {{"signal", strsignal(sig)}});
    stop.request_stop();
  });
  signal_thread.detach();

  byok::runtime::KubeEventRecorder events(client, clock, log, "byok.dev/operator", instance_name());

  // CustomerManagedKey
  byok::runtime::Informer cmk_informer(client, byok::kube::resources::customer_managed_keys(),
                                       opts.watch_namespace, log);
  byok::runtime::WorkQueue cmk_queue(clock);
  cmk_informer.add_handler([&](const byok::runtime::Json* old, const byok::runtime::Json* now) {
    if (now) cmk_queue.add(byok::runtime::object_key(*now));
    for (const auto& key : byok::cmk::related_cmk_keys(old, now, cmk_informer.store()))
      cmk_queue.add(key);
  });
  // KMS clients per KmsProvider, rebuilt when it or its Secrets change. A KmsProvider's change
  // re-verifies the CMKs that use it.
  byok::kmsprovider::ProviderRegistry providers(
      client, [&clock](const byok::kms::ProviderConfig& c) { return byok::kms::make_provider(c, clock); });
  byok::runtime::Informer provider_informer(client, byok::kube::resources::kms_providers(),
                                            opts.watch_namespace, log);
  byok::runtime::WorkQueue provider_queue(clock);
  provider_informer.add_handler([&](const byok::runtime::Json* old, const byok::runtime::Json* now) {
    if (now) provider_queue.add(byok::runtime::object_key(*now));
    const byok::runtime::Json* o = now ? now : old;
    if (old && now && old->at("metadata").value("generation", 0) == now->at("metadata").value("generation", 0))
      return;  // a status-only change: nothing the CMKs depend on
    const auto& md = o->at("metadata");
    for (const auto& key : byok::cmk::cmk_keys_using_provider(
             cmk_informer.store(), md.value("namespace", ""), md.value("name", "")))
      cmk_queue.add(key);
  });
  byok::kmsprovider::KmsProviderReconciler provider_reconciler(client, provider_informer.store(),
                                                              providers, events, clock);
  byok::runtime::Controller provider_controller(
      "kmsprovider", provider_queue,
      [&](const std::string& key) { return provider_reconciler.reconcile(key); }, 1,
      std::chrono::seconds(opts.resync_seconds), log);
  byok::cmk::CmkReconciler cmk_reconciler(client, cmk_informer.store(), providers, events, clock,
                                          log, [] { return byok::random_uuid(); });
  byok::runtime::Controller cmk_controller(
      "customermanagedkey", cmk_queue,
      [&](const std::string& key) { return cmk_reconciler.reconcile(key); }, opts.workers,
      std::chrono::seconds(opts.resync_seconds), log);

  log.info("starting", {{"namespace", opts.watch_namespace.empty() ? "*" : opts.watch_namespace},
                        {"workers", std::to_string(opts.workers)},
                        {"server", config->server}});
  std::thread informer_thread([&] { cmk_informer.run(stop); });
  std::thread provider_informer_thread([&] { provider_informer.run(stop); });
  std::thread provider_controller_thread([&] { provider_controller.run(stop); });
  cmk_controller.run(stop);
  provider_controller_thread.join();
  informer_thread.join();
  provider_informer_thread.join();
  log.info("stopped", {{"reconciled", std::to_string(cmk_controller.counters().success.load())}});
  return 0;
}
