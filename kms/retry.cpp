#include "kms/retry.h"

#include <memory>
#include <mutex>
#include <random>
#include <thread>

namespace byok::kms {

RetryEnvironment default_retry_environment() {
  auto gen = std::make_shared<std::mt19937_64>(std::random_device{}());
  auto mu = std::make_shared<std::mutex>();
  return RetryEnvironment{
      [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); },
      [gen, mu] {
        std::lock_guard<std::mutex> lock(*mu);
        return std::uniform_real_distribution<double>(0.0, 1.0)(*gen);
      }};
}

}  // namespace byok::kms
