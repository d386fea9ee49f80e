#pragma once
// The retry knobs every KMS client shares: how often an idempotent read is tried, and the
// injected waiting and randomness, so retry tests neither sleep nor depend on chance. Writes are
// never retried blindly (see kms_provider.h).

#include <chrono>
#include <functional>

namespace byok::kms {

struct RetryPolicy {
  int max_attempts = 3;  // for idempotent reads; 1 means no retry
  std::chrono::milliseconds base_delay{100};
  std::chrono::milliseconds max_delay{2000};
};

struct RetryEnvironment {
  std::function<void(std::chrono::milliseconds)> sleep;  // required
  std::function<double()> random01;                      // uniform in [0, 1); required
};
// Real sleeping and a random_device-seeded generator. The sleep ends early once stop_waiting()
// is called, so no worker sits out a backoff or a poll interval during shutdown.
RetryEnvironment default_retry_environment();

// Process-wide: wakes every default sleep now and later (main calls it on SIGTERM); the retry
// loop and the pollers then give up instead of trying again. resume_waiting() is for tests.
void stop_waiting();
bool waiting_stopped();
void resume_waiting();

}  // namespace byok::kms
