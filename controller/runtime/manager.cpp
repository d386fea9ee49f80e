#include "controller/runtime/manager.h"

#include <cctype>

#include "controller/runtime/change_filter.h"

namespace byok::runtime {

Manager::Builder& Manager::Builder::watches(const kube::ResourceType& kind, MapFn map) {
  WorkQueue& queue = queue_;
  manager_.informer(kind).add_handler(
      [&queue, map = std::move(map)](const Json* old, const Json* now) {
        for (const auto& key : map(old, now)) queue.add(key);
      });
  return *this;
}

Manager::Manager(kube::KubeClient& client, const Clock& clock, Random& random, Logger& log,
                 ManagerOptions options)
    : client_(client), clock_(clock), random_(random), log_(log), options_(std::move(options)) {}

Manager::~Manager() { join_informers(); }

Informer& Manager::informer(const kube::ResourceType& kind) {
  auto& slot = informers_[kind.group + "/" + kind.plural];
  if (!slot)
    slot = std::make_unique<Informer>(client_, kind, options_.namespaces, clock_, random_, log_,
                                      InformerOptions{options_.metrics, {}});
  return *slot;
}

const Store& Manager::store(const kube::ResourceType& kind) { return informer(kind).store(); }

void Manager::add_index(const kube::ResourceType& kind, const std::string& name, IndexFn fn) {
  informer(kind).add_index(name, std::move(fn));
}

Manager::Builder Manager::controller(const kube::ResourceType& kind,
                                     Controller::ReconcileFn reconcile, int workers) {
  std::string name;
  for (char c : kind.kind) name += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto& queue = *queues_.emplace_back(std::make_unique<WorkQueue>(clock_, options_.queue));
  ControllerOptions controller_options;
  controller_options.metrics = options_.metrics;
  controller_options.new_reconcile_id = options_.new_reconcile_id;
  controllers_.push_back(std::make_unique<Controller>(name, queue, std::move(reconcile),
                                                      workers > 0 ? workers : options_.workers,
                                                      options_.resync, log_, controller_options));
  informer(kind).add_handler([&queue](const Json* old, const Json* now) {
    if (wakes_reconcile(old, now)) queue.add(object_key(*now));
  });
  return Builder(*this, queue);
}

void Manager::add_readiness_checks(observability::HealthChecks& health) {
  for (auto& [_, informer] : informers_) {
    const Informer* i = informer.get();
    health.add_readiness_check("informer-" + i->type().plural, [i]() -> Status {
      if (i->synced()) return {};
      return make_error(ErrorKind::Unavailable, "first list not done yet");
    });
  }
}

void Manager::start_informers(StopSignal& stop) {
  for (auto& [_, informer] : informers_)
    informer_threads_.emplace_back([i = informer.get(), &stop] { i->run(stop); });
}

void Manager::run_controllers(StopSignal& stop) {
  std::vector<std::thread> threads;
  for (auto& controller : controllers_)
    threads.emplace_back([c = controller.get(), &stop] { c->run(stop); });
  for (auto& t : threads) t.join();
}

void Manager::join_informers() {
  for (auto& t : informer_threads_)
    if (t.joinable()) t.join();
  informer_threads_.clear();
}

uint64_t Manager::reconciled() const {
  uint64_t n = 0;
  for (const auto& c : controllers_) n += c->counters().success.load();
  return n;
}

}  // namespace byok::runtime
