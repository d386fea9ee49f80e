#include "kms/retry.h"

#include <condition_variable>
#include <memory>
#include <mutex>
#include <random>

namespace byok::kms {

namespace {
struct Waiting {
  std::mutex mu;
  std::condition_variable woken;
  bool stopped = false;
};
Waiting& waiting() {
  static Waiting w;
  return w;
}
}  // namespace

void stop_waiting() {
  auto& w = waiting();
  {
    std::lock_guard<std::mutex> lock(w.mu);
    w.stopped = true;
  }
  w.woken.notify_all();
}

bool waiting_stopped() {
  auto& w = waiting();
  std::lock_guard<std::mutex> lock(w.mu);
  return w.stopped;
}

void resume_waiting() {
  auto& w = waiting();
  std::lock_guard<std::mutex> lock(w.mu);
  w.stopped = false;
}

RetryEnvironment default_retry_environment() {
  auto gen = std::make_shared<std::mt19937_64>(std::random_device{}());
  auto mu = std::make_shared<std::mutex>();
  return RetryEnvironment{[](std::chrono::milliseconds d) {
                            auto& w = waiting();
                            std::unique_lock<std::mutex> lock(w.mu);
                            w.woken.wait_for(lock, d, [&] { return w.stopped; });
                          },
                          [gen, mu] {
                            std::lock_guard<std::mutex> lock(*mu);
                            return std::uniform_real_distribution<double>(0.0, 1.0)(*gen);
                          }};
}

}  // namespace byok::kms
