#include "controller/runtime/events.h"

#include <cstdio>

namespace byok::runtime {

std::string format_micro_time(SystemTime t) {
  auto secs = std::chrono::time_point_cast<std::chrono::seconds>(t);
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(t - secs).count();
  std::string base = format_rfc3339(secs);  // ends in 'Z'
  char frac[16];
  std::snprintf(frac, sizeof frac, ".%06lldZ", static_cast<long long>(micros));
  return base.substr(0, base.size() - 1) + frac;
}

KubeEventRecorder::KubeEventRecorder(kube::KubeClient& client, const Clock& clock, Random& random,
                                     Logger& log, std::string controller, std::string instance,
                                     std::chrono::seconds suppress)
    : client_(client),
      clock_(clock),
      random_(random),
      log_(log),
      controller_(std::move(controller)),
      instance_(std::move(instance)),
      suppress_(suppress),
      salt_(std::to_string(random_.next()) + '\0') {}

void KubeEventRecorder::record(const nlohmann::json& regarding, const EventSpec& event) {
  const auto& md = regarding.at("metadata");
  std::string ns = md.value("namespace", "default");
  std::string uid = md.value("uid", "");
  if (suppress_.count() > 0) {
    const std::uint64_t dedup = std::hash<std::string>{}(salt_ + uid + '\0' + event.type + '\0' +
                                                         event.reason + '\0' + event.note);
    std::lock_guard<std::mutex> lock(mu_);
    auto now = clock_.steady_now();
    auto it = last_sent_.find(dedup);
    if (it != last_sent_.end() && now - it->second < suppress_) return;
    last_sent_[dedup] = now;
    // Bounded memory: past the bound, forget what is outside the window; unless that freed a
    // quarter (a burst inside the window), forget all, which costs at worst one repeat each.
    // Either way the next scan is a quarter of the bound away.
    constexpr std::size_t kMaxRemembered = 100000;
    if (last_sent_.size() > kMaxRemembered) {
      std::erase_if(last_sent_, [&](const auto& e) { return now - e.second >= suppress_; });
      if (last_sent_.size() > kMaxRemembered * 3 / 4) last_sent_.clear();
    }
  }
  char suffix[17];
  std::snprintf(suffix, sizeof suffix, "%016llx", static_cast<unsigned long long>(random_.next()));
  nlohmann::json ev = {
      {"apiVersion", "events.k8s.io/v1"},
      {"kind", "Event"},
      {"metadata", {{"name", md.value("name", "object") + "." + suffix}, {"namespace", ns}}},
      {"eventTime", format_micro_time(clock_.now())},
      {"reportingController", controller_},
      {"reportingInstance", instance_},
      {"action", event.action},
      {"reason", event.reason},
      {"type", event.type},
      {"note", event.note.substr(0, 1024)},
      {"regarding",
       {{"apiVersion", regarding.value("apiVersion", "")},
        {"kind", regarding.value("kind", "")},
        {"name", md.value("name", "")},
        {"namespace", ns},
        {"uid", uid},
        {"resourceVersion", md.value("resourceVersion", "")}}},
  };
  auto r = client_.create(kube::resources::events(), ns, ev);
  if (!r) log_.warn("event not recorded", {{"reason", event.reason}, {"error", r.error().message}});
}

namespace {

std::string dedup_key(const nlohmann::json& md, const EventSpec& e) {
  return md.value("uid", "") + "|" + md.value("namespace", "") + "/" + md.value("name", "") + "|" +
         e.type + "|" + e.reason + "|" + e.note;
}

// What an Event reads of the object it regards; the rest of a cached object is not kept alive.
nlohmann::json slim_regarding(const nlohmann::json& o) {
  nlohmann::json md = nlohmann::json::object();
  if (o.contains("metadata") && o["metadata"].is_object())
    for (const char* f : {"name", "namespace", "uid", "resourceVersion"})
      if (o["metadata"].contains(f)) md[f] = o["metadata"][f];
  nlohmann::json out = {{"metadata", std::move(md)}};
  for (const char* f : {"apiVersion", "kind"})
    if (o.contains(f)) out[f] = o[f];
  return out;
}

}  // namespace

AsyncEventRecorder::AsyncEventRecorder(EventRecorder& sink, Logger& log, size_t capacity)
    : sink_(sink), log_(log), capacity_(capacity), thread_([this] { run(); }) {}

AsyncEventRecorder::~AsyncEventRecorder() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void AsyncEventRecorder::record(const nlohmann::json& regarding, const EventSpec& event) {
  nlohmann::json slim = slim_regarding(regarding);
  std::string dedup = dedup_key(slim["metadata"], event);
  bool first_drop = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    if (pending_.count(dedup)) {
      aggregated_++;
      return;
    }
    if (queue_.size() >= capacity_) {
      first_drop = dropped_++ == 0;
    } else {
      pending_.insert(dedup);
      queue_.push_back(Pending{std::move(slim), event, std::move(dedup)});
    }
  }
  if (first_drop)
    log_.warn("event queue full, dropping events",
              {{"reason", event.reason}, {"capacity", std::to_string(capacity_)}});
  wake_.notify_one();
}

void AsyncEventRecorder::run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (stopping_) break;
    Pending next = std::move(queue_.front());
    queue_.pop_front();
    pending_.erase(next.dedup);
    sending_ = true;
    lock.unlock();
    try {
      sink_.record(next.regarding, next.event);
    } catch (const std::exception& e) {
      log_.warn("event not recorded", {{"reason", next.event.reason}, {"error", e.what()}});
    }
    lock.lock();
    sending_ = false;
    if (queue_.empty()) idle_.notify_all();
  }
  queue_.clear();
  pending_.clear();
  idle_.notify_all();
}

void AsyncEventRecorder::flush() {
  std::unique_lock<std::mutex> lock(mu_);
  idle_.wait(lock, [this] { return stopping_ || (queue_.empty() && !sending_); });
}

uint64_t AsyncEventRecorder::dropped() const {
  std::lock_guard<std::mutex> lock(mu_);
  return dropped_;
}

uint64_t AsyncEventRecorder::aggregated() const {
  std::lock_guard<std::mutex> lock(mu_);
  return aggregated_;
}

size_t AsyncEventRecorder::waiting() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

}  // namespace byok::runtime
