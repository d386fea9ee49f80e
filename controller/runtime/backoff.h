#pragma once
// Pure backoff arithmetic, so queues and watchers share one definition and tests need no clock.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <random>

namespace byok::runtime {

using Millis = std::chrono::milliseconds;

// base * 2^failures, capped. client-go's per-item default is 5 ms .. 1000 s.
inline Millis exponential_backoff(int failures, Millis base, Millis cap) {
  if (failures <= 0) return base;
  double d = static_cast<double>(base.count()) * std::pow(2.0, std::min(failures, 62));
  if (d >= static_cast<double>(cap.count())) return cap;
  return Millis(static_cast<int64_t>(d));
}

// Exponential backoff with full jitter in [d/2, d]: reconnecting watchers do not stampede.
template <typename Rng>
Millis jittered_backoff(int failures, Millis base, Millis cap, Rng& rng) {
  Millis d = exponential_backoff(failures, base, cap);
  std::uniform_int_distribution<int64_t> dist(d.count() / 2, std::max<int64_t>(d.count(), 1));
  return Millis(dist(rng));
}

// An overall token bucket (qps, burst): returns how long the next take must wait from `now_ms`.
// Not thread-safe on its own; the work queue holds its lock around it.
class TokenBucket {
 public:
  TokenBucket(double qps, double burst) : qps_(qps), burst_(burst), tokens_(burst) {}
  // Reserves one token and says how long until it is available.
  Millis reserve(int64_t now_ms) {
    if (last_ms_ < 0) last_ms_ = now_ms;
    tokens_ = std::min(burst_, tokens_ + (now_ms - last_ms_) * qps_ / 1000.0);
    last_ms_ = now_ms;
    tokens_ -= 1.0;
    if (tokens_ >= 0) return Millis(0);
    return Millis(static_cast<int64_t>(std::ceil(-tokens_ * 1000.0 / qps_)));
  }

 private:
  double qps_, burst_, tokens_;
  int64_t last_ms_ = -1;
};

}  // namespace byok::runtime
