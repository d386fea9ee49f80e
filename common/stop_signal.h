#pragma once
// A shutdown request shared by threads: long waits (backoff sleeps, open watch streams) end as
// soon as it fires instead of at their next timeout.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>

namespace byok {

class StopSignal {
 public:
  void request_stop() {
    std::map<int, std::function<void()>> callbacks;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopped_) return;
      stopped_ = true;
      callbacks.swap(callbacks_);
    }
    cv_.notify_all();
    for (auto& [id, cb] : callbacks) cb();
  }
  bool stop_requested() const {
    std::lock_guard<std::mutex> lock(mu_);
    return stopped_;
  }
  // Sleeps up to `d`; returns true if the stop came first.
  template <typename Duration>
  bool wait_for(Duration d) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, d, [this] { return stopped_; });
  }

  // Runs `cb` on stop (at once if already stopped) until the returned registration is dropped.
  class Registration {
   public:
    Registration(StopSignal* s, int id) : s_(s), id_(id) {}
    Registration(const Registration&) = delete;
    Registration& operator=(const Registration&) = delete;
    ~Registration() {
      if (s_) s_->remove(id_);
    }

   private:
    StopSignal* s_;
    int id_;
  };
  [[nodiscard]] Registration on_stop(std::function<void()> cb) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!stopped_) {
        int id = next_id_++;
        callbacks_[id] = std::move(cb);
        return Registration(this, id);
      }
    }
    cb();
    return Registration(nullptr, 0);
  }

 private:
  void remove(int id) {
    std::lock_guard<std::mutex> lock(mu_);
    callbacks_.erase(id);
  }

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopped_ = false;
  int next_id_ = 0;
  std::map<int, std::function<void()>> callbacks_;
};

}  // namespace byok
