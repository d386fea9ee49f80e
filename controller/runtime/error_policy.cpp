#include "controller/runtime/error_policy.h"

#include <algorithm>

namespace byok::runtime {

ReconcileResult result_for(const Status& outcome) {
  using A = ReconcileResult::Action;
  if (outcome.ok()) return done();
  const auto& e = outcome.error();
  switch (recovery_for(e.kind)) {
    case Recovery::Backoff: return {A::RetryBackoff, Millis(0), e.message};
    case Recovery::Refetch: return {A::RequeueNow, Millis(0), e.message};
    case Recovery::Lasting: break;
  }
  return {A::Terminal, Millis(0), e.message};
}

ReconcileResult reported_failure(bool transient, std::string message, Millis lasting_delay) {
  if (transient) return retry_with_backoff(std::move(message));
  return {ReconcileResult::Action::RequeueAfter, lasting_delay, std::move(message)};
}

std::chrono::seconds lasting_failure_delay(std::chrono::seconds failing_for) {
  return std::clamp(failing_for, kLastingFailureMin, kLastingFailureMax);
}

}  // namespace byok::runtime
