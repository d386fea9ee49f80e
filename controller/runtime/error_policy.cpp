#include "controller/runtime/error_policy.h"

#include <algorithm>

namespace byok::runtime {

ReconcileResult result_for(const Status& outcome) {
  using A = ReconcileResult::Action;
  if (outcome.ok()) return done();
  const auto& e = outcome.error();
  switch (recovery_for(e.kind)) {
    case Recovery::Backoff:
      return retry_with_backoff(e.message, honoured_retry_after(e.retry_after));
    case Recovery::Refetch:
      return {A::RequeueNow, Millis(0), e.message};
    case Recovery::Lasting:
      break;
  }
  return {A::Terminal, Millis(0), e.message};
}

Millis honoured_retry_after(const std::optional<std::chrono::seconds>& asked) {
  if (!asked || asked->count() <= 0) return Millis(0);
  return std::chrono::duration_cast<Millis>(
      std::min<std::chrono::seconds>(*asked, kLastingFailureMax));
}

ReconcileResult reported_failure(bool transient, std::string message, Millis lasting_delay,
                                 const std::optional<std::chrono::seconds>& retry_after) {
  // A server's Retry-After is honoured up to the delay a lasting failure would get: never later
  // than the reconciler's own next look.
  if (transient)
    return retry_with_backoff(std::move(message),
                              std::min(honoured_retry_after(retry_after), lasting_delay));
  return {ReconcileResult::Action::RequeueAfter, lasting_delay, std::move(message)};
}

std::chrono::seconds lasting_failure_delay(std::chrono::seconds failing_for) {
  return std::clamp(failing_for, kLastingFailureMin, kLastingFailureMax);
}

}  // namespace byok::runtime
