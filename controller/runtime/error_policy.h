#pragma once
// How a reconcile's outcome becomes the work queue's next step: the one place that turns an
// error's kind (recovery_for, common/result.h) into per-item backoff, an immediate requeue, or a
// look after a lasting-failure delay. Reconcilers build every result with these functions, never
// field by field, so the policy changes in one edit and is tested as one table.

#include <chrono>
#include <optional>
#include <string>

#include "common/result.h"
#include "controller/runtime/backoff.h"

namespace byok::runtime {

struct ReconcileResult {
  enum class Action {
    Done,          // nothing more until something changes or the resync period passes
    RequeueAfter,  // look again after `after` (polling an operation in progress)
    RetryBackoff,  // transient failure: per-item exponential backoff
    RequeueNow,    // conflict: the object changed under us; read it again after a short backoff
    Terminal,      // invalid input: reported in a condition, retried only on a change/resync
  };
  Action action = Action::Done;
  Millis after{0};    // RequeueAfter: the delay; RetryBackoff: the least the backoff may wait
  std::string error;  // for the log, when not Done
};

// A lasting failure is looked at again after at least a minute and at most an hour.
inline constexpr std::chrono::seconds kLastingFailureMin{60};
inline constexpr std::chrono::seconds kLastingFailureMax{3600};

// Done: come back after the resync period (or on a change).
inline ReconcileResult done() { return {}; }
// A transient failure (transient(), common/result.h): per-item exponential backoff, and never
// sooner than `at_least` (what the server asked in a Retry-After; see honoured_retry_after).
inline ReconcileResult retry_with_backoff(std::string why, Millis at_least = Millis(0)) {
  return {ReconcileResult::Action::RetryBackoff, at_least, std::move(why)};
}
// The wait a server's Retry-After asks of the work queue: as asked, but at most
// kLastingFailureMax, so a hostile or broken server cannot park a key for days.
Millis honoured_retry_after(const std::optional<std::chrono::seconds>& asked);
// Look again after `after`: the next periodic check, an operation in progress.
inline ReconcileResult requeue_after(Millis after) {
  return {ReconcileResult::Action::RequeueAfter, after, ""};
}
// An error nobody reported yet (an apiserver call, an object that does not parse), by
// recovery_for: Backoff -> RetryBackoff; Refetch -> RequeueNow; Lasting -> Terminal (logged,
// looked at again on a change or the resync). Success -> Done.
ReconcileResult result_for(const Status& outcome);
// A failure the reconciler already shows in a condition: transient -> RetryBackoff; lasting ->
// look again after `lasting_delay`, since its fix may be in something the operator does not
// watch (a Secret, a key in the KMS or the HSM).
// `retry_after`: the server's Retry-After, honoured by the backoff (see retry_with_backoff).
ReconcileResult reported_failure(
    bool transient, std::string message, Millis lasting_delay,
    const std::optional<std::chrono::seconds>& retry_after = std::nullopt);
// How long to wait after a failure that has lasted `failing_for`: as long again, within
// kLastingFailureMin..kLastingFailureMax. A retry can have side effects (Google keeps every
// ImportJob), so a failure that lasts is retried less and less often.
std::chrono::seconds lasting_failure_delay(std::chrono::seconds failing_for);

}  // namespace byok::runtime
