// The one error policy: every ErrorKind's recovery, and the results reconcilers build from it
// (common/result.h, controller/runtime/error_policy.h).
#include <catch2/catch.hpp>

#include "controller/runtime/error_policy.h"

using namespace byok;
using namespace byok::runtime;
using A = ReconcileResult::Action;

TEST_CASE("error policy: each error kind's recovery and the action an unreported error gets",
          "[controller][policy]") {
  struct Row {
    ErrorKind kind;
    Recovery recovery;
    A action;
  };
  const Row table[] = {
      {ErrorKind::Unavailable, Recovery::Backoff, A::RetryBackoff},
      {ErrorKind::Throttled, Recovery::Backoff, A::RetryBackoff},
      {ErrorKind::DeadlineExceeded, Recovery::Backoff, A::RetryBackoff},
      {ErrorKind::Internal, Recovery::Backoff, A::RetryBackoff},
      {ErrorKind::Conflict, Recovery::Refetch, A::RequeueNow},
      {ErrorKind::Gone, Recovery::Refetch, A::RequeueNow},
      {ErrorKind::NotFound, Recovery::Lasting, A::Terminal},
      {ErrorKind::InvalidArgument, Recovery::Lasting, A::Terminal},
      {ErrorKind::FailedPrecondition, Recovery::Lasting, A::Terminal},
      {ErrorKind::AlreadyExists, Recovery::Lasting, A::Terminal},
      {ErrorKind::Unauthenticated, Recovery::Lasting, A::Terminal},
      {ErrorKind::PermissionDenied, Recovery::Lasting, A::Terminal},
      {ErrorKind::Unsupported, Recovery::Lasting, A::Terminal},
  };
  for (const auto& row : table) {
    INFO(to_string(row.kind));
    CHECK(recovery_for(row.kind) == row.recovery);
    CHECK(transient(row.kind) == (row.recovery == Recovery::Backoff));
    auto r = result_for(Error{row.kind, "why"});
    CHECK(r.action == row.action);
    CHECK(r.error == "why");
  }
  CHECK(result_for(Status{}).action == A::Done);
}

TEST_CASE(
    "error policy: a reported failure backs off when transient, else comes back after the "
    "lasting delay",
    "[controller][policy]") {
  auto soon = reported_failure(true, "KMS down", std::chrono::minutes(5));
  CHECK(soon.action == A::RetryBackoff);
  CHECK(soon.error == "KMS down");
  auto later = reported_failure(false, "key missing", std::chrono::minutes(5));
  CHECK(later.action == A::RequeueAfter);
  CHECK(later.after == std::chrono::minutes(5));
  CHECK(later.error == "key missing");
  CHECK(retry_with_backoff("x").action == A::RetryBackoff);
  CHECK(retry_with_backoff("x").after == Millis(0));
  CHECK(requeue_after(std::chrono::seconds(3)).after == std::chrono::seconds(3));
  CHECK(done().action == A::Done);
}

TEST_CASE(
    "error policy: a server's Retry-After becomes the least the backoff waits, at most an hour",
    "[controller][policy]") {
  Error throttled{ErrorKind::Throttled, "slow down", std::chrono::seconds(30)};
  auto r = result_for(throttled);
  CHECK(r.action == A::RetryBackoff);
  CHECK(r.after == std::chrono::seconds(30));
  auto reported =
      reported_failure(true, "slow down", std::chrono::minutes(5), std::chrono::seconds(30));
  CHECK(reported.after == std::chrono::seconds(30));
  // ... but never later than the reconciler's own next look.
  CHECK(reported_failure(true, "slow down", std::chrono::seconds(10), std::chrono::seconds(30))
            .after == std::chrono::seconds(10));
  // Only the backoff honours it: a lasting failure keeps its own delay.
  CHECK(reported_failure(false, "gone", std::chrono::minutes(5), std::chrono::seconds(30)).after ==
        std::chrono::minutes(5));
  // A server asking for days gets an hour; none or a nonsense value, nothing.
  CHECK(honoured_retry_after(std::chrono::seconds(86400 * 30)) == std::chrono::hours(1));
  CHECK(honoured_retry_after(std::nullopt) == Millis(0));
  CHECK(honoured_retry_after(std::chrono::seconds(-5)) == Millis(0));
}

TEST_CASE(
    "error policy: the lasting-failure delay grows with the failure, within a minute and an "
    "hour",
    "[controller][policy]") {
  using std::chrono::seconds;
  CHECK(lasting_failure_delay(seconds(0)) == seconds(60));
  CHECK(lasting_failure_delay(seconds(-5)) == seconds(60));
  CHECK(lasting_failure_delay(seconds(900)) == seconds(900));
  CHECK(lasting_failure_delay(std::chrono::hours(30)) == seconds(3600));
}
