#include "controller/runtime/work_queue.h"

#include <algorithm>
#include <set>
#include <string_view>

namespace byok::runtime {
namespace {
std::string_view namespace_of(const std::string& key) {
  auto slash = key.find('/');
  return slash == std::string::npos ? std::string_view() : std::string_view(key).substr(0, slash);
}

double seconds_between(SteadyTime from, SteadyTime to) {
  return std::chrono::duration<double>(to - from).count();
}
}  // namespace

WorkQueue::WorkQueue(const Clock& clock, WorkQueueOptions options)
    : clock_(clock), options_(options), bucket_(options.qps, options.burst) {
  delay_thread_ = std::thread([this] { delay_loop(); });
}

WorkQueue::~WorkQueue() {
  shut_down();
  if (delay_thread_.joinable()) delay_thread_.join();
}

std::optional<SteadyTime> WorkQueue::held_until_locked(const std::string& key) {
  auto it = held_until_.find(key);
  if (it == held_until_.end()) return std::nullopt;
  if (it->second <= clock_.steady_now()) {
    held_until_.erase(it);
    return std::nullopt;
  }
  return it->second;
}

void WorkQueue::add_locked(const std::string& key) {
  if (shutting_down_) return;
  // A key a server asked us to leave alone waits out the hold, whoever asks for it meanwhile.
  if (auto hold = held_until_locked(key); hold && !processing_at_.count(key))
    return schedule_locked(key, *hold);
  stats_.adds++;
  if (dirty_.count(key)) return;
  dirty_.insert(key);
  if (metrics_) {
    metrics_->adds->inc();
    queued_at_.emplace(key, clock_.steady_now());
  }
  if (processing_at_.count(key)) return;  // queued again by done()
  queue_.push_back(key);
  if (metrics_) metrics_->depth->set(static_cast<double>(queue_.size()));
  ready_cv_.notify_one();
}

void WorkQueue::count_retry_locked() {
  stats_.retries++;
  if (metrics_) metrics_->retries->inc();
}

void WorkQueue::instrument(const std::string& name, metrics::Registry& registry) {
  std::lock_guard<std::mutex> lock(mu_);
  // client-go's buckets: 10 ns .. 10 s in decades.
  auto buckets = metrics::exponential_buckets(10e-9, 10, 10);
  metrics_ = Metrics{
      &registry.gauge("workqueue_depth", "Current depth of workqueue", {"name"}).with({name}),
      &registry
           .counter("workqueue_adds_total", "Total number of adds handled by workqueue", {"name"})
           .with({name}),
      &registry
           .counter("workqueue_retries_total", "Total number of retries handled by workqueue",
                    {"name"})
           .with({name}),
      &registry
           .histogram("workqueue_queue_duration_seconds",
                      "How long in seconds an item stays in workqueue before being requested",
                      {"name"}, buckets)
           .with({name}),
      &registry
           .histogram("workqueue_work_duration_seconds",
                      "How long in seconds processing an item from workqueue takes", {"name"},
                      buckets)
           .with({name}),
  };
  metrics_->depth->set(static_cast<double>(queue_.size()));
}

void WorkQueue::add(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  add_locked(key);
}

void WorkQueue::add_after(const std::string& key, Millis delay) {
  if (delay <= Millis(0)) return add(key);
  std::lock_guard<std::mutex> lock(mu_);
  schedule_locked(key, clock_.steady_now() + delay);
}

void WorkQueue::schedule_locked(const std::string& key, SteadyTime deadline) {
  if (shutting_down_) return;
  auto hold = held_until_locked(key);
  if (hold) deadline = std::max(deadline, *hold);
  auto it = waiting_deadline_.find(key);
  if (it != waiting_deadline_.end()) {
    // The earlier deadline wins, unless it falls inside a hold (a resync due before the
    // server's Retry-After has run out).
    if (it->second <= deadline && (!hold || it->second >= *hold)) return;
    for (auto w = waiting_.lower_bound(it->second); w != waiting_.end() && w->first == it->second;
         ++w)
      if (w->second == &it->first) {
        waiting_.erase(w);
        break;
      }
  }
  auto slot = waiting_deadline_.insert_or_assign(key, deadline).first;
  waiting_.emplace(deadline, &slot->first);
  delay_cv_.notify_one();
}

void WorkQueue::add_rate_limited(const std::string& key, Millis at_least) {
  Millis delay;
  {
    std::lock_guard<std::mutex> lock(mu_);
    int n = failures_[key]++;
    count_retry_locked();
    auto now_ms =
        std::chrono::duration_cast<Millis>(clock_.steady_now().time_since_epoch()).count();
    delay = std::max({exponential_backoff(n, options_.base_delay, options_.max_delay),
                      bucket_.reserve(now_ms), at_least});
    if (at_least > Millis(0)) {
      auto& hold = held_until_[key];
      hold = std::max(hold, clock_.steady_now() + at_least);
    }
  }
  add_after(key, delay);
}

void WorkQueue::add_backoff(const std::string& key) {
  Millis delay;
  {
    std::lock_guard<std::mutex> lock(mu_);
    count_retry_locked();
    delay = exponential_backoff(failures_[key]++, options_.base_delay, options_.max_delay);
  }
  add_after(key, delay);
}

void WorkQueue::forget(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  failures_.erase(key);
}

int WorkQueue::failures(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

std::deque<std::string>::iterator WorkQueue::next_eligible_locked(SteadyTime now) {
  if (options_.max_slow_per_namespace <= 0 || queue_.empty()) return queue_.begin();
  // A namespace is slow while one of its keys has been in process for slow_after, and for
  // slow_memory after one of its reconciles took that long. A slow namespace may hold at
  // most its share of workers, counting all its keys in process: keys handed out in the same
  // moment cannot all become slow together after the first wave.
  std::map<std::string_view, int> in_process;
  std::set<std::string_view> slow;
  for (const auto& [key, since] : processing_at_) {
    ++in_process[namespace_of(key)];
    if (now - since >= options_.slow_after) slow.insert(namespace_of(key));
  }
  std::erase_if(slow_namespaces_,
                [&](const auto& entry) { return now - entry.second >= options_.slow_memory; });
  for (const auto& entry : slow_namespaces_) slow.insert(entry.first);
  std::erase_if(slow, [&](std::string_view ns) {
    auto n = in_process.find(ns);
    return n == in_process.end() || n->second < options_.max_slow_per_namespace;
  });
  if (slow.empty()) return queue_.begin();
  return std::find_if(queue_.begin(), queue_.end(),
                      [&](const std::string& key) { return !slow.count(namespace_of(key)); });
}

std::optional<std::string> WorkQueue::get() {
  std::unique_lock<std::mutex> lock(mu_);
  std::deque<std::string>::iterator it;
  for (;;) {
    if (queue_.empty() && shutting_down_) return std::nullopt;
    it = next_eligible_locked(clock_.steady_now());
    if (it != queue_.end()) break;
    if (shutting_down_) return std::nullopt;
    // Only held-back keys (or none): done() and add() wake us; a slow worker becoming slow does
    // not, so look again after slow_after.
    if (queue_.empty())
      ready_cv_.wait(lock);
    else
      ready_cv_.wait_for(lock, options_.slow_after);
  }
  std::string key = std::move(*it);
  queue_.erase(it);
  auto now = clock_.steady_now();
  processing_at_[key] = now;
  dirty_.erase(key);
  if (metrics_) {
    metrics_->depth->set(static_cast<double>(queue_.size()));
    if (auto it = queued_at_.find(key); it != queued_at_.end()) {
      metrics_->queue_duration->observe(seconds_between(it->second, now));
      queued_at_.erase(it);
    }
  }
  return key;
}

void WorkQueue::done(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = processing_at_.find(key); it != processing_at_.end()) {
    auto took = clock_.steady_now() - it->second;
    if (metrics_) metrics_->work_duration->observe(std::chrono::duration<double>(took).count());
    if (options_.max_slow_per_namespace > 0 && took >= options_.slow_after)
      slow_namespaces_[std::string(namespace_of(key))] = clock_.steady_now();
    processing_at_.erase(it);
  }
  // A held-back namespace may be eligible again.
  if (options_.max_slow_per_namespace > 0 && !queue_.empty()) ready_cv_.notify_all();
  if (dirty_.count(key) && !shutting_down_) {
    if (auto hold = held_until_locked(key)) {  // asked for again while a server holds it off
      dirty_.erase(key);
      queued_at_.erase(key);
      return schedule_locked(key, *hold);
    }
    queue_.push_back(key);
    if (metrics_) metrics_->depth->set(static_cast<double>(queue_.size()));
    ready_cv_.notify_one();
  }
}

void WorkQueue::shut_down() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    shutting_down_ = true;
  }
  ready_cv_.notify_all();
  delay_cv_.notify_all();
}

WorkQueueStats WorkQueue::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  WorkQueueStats s = stats_;
  s.depth = queue_.size();
  return s;
}

// Moves keys whose deadline passed into the queue. Waits on the real clock; tests of delays use
// short real durations.
void WorkQueue::delay_loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!shutting_down_) {
    if (waiting_.empty()) {
      delay_cv_.wait(lock);
      continue;
    }
    auto now = clock_.steady_now();
    auto first = waiting_.begin();
    if (first->first <= now) {
      std::string key = *first->second;
      waiting_.erase(first);
      waiting_deadline_.erase(key);
      add_locked(key);
      continue;
    }
    delay_cv_.wait_for(lock, first->first - now);
  }
}

}  // namespace byok::runtime
